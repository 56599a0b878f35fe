package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/strait-replicator/strait/checkpoint"
	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/replicator"
)

// runLag prints, per flow and partition, how far the target is behind the
// source; with --group, that group's lag on the source and, through its
// checkpoints, on the target.
func runLag(args []string, stdout, stderr io.Writer) int {
	var group *string
	cfg, code := configCommand("lag", args, stderr, func(fs *flag.FlagSet) {
		group = fs.String("group", "", "also show this consumer group's lag on both sides")
	})
	if cfg == nil {
		return code
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FLOW\tTOPIC\tPARTITION\tSOURCE END\tNEXT TO COPY\tLAG\tBEHIND")
	for _, f := range cfg.Flows {
		src, _ := cfg.Cluster(f.Source)
		tgt, _ := cfg.Cluster(f.Target)
		lags, err := replicator.Lag(ctx, f, src, tgt)
		if err != nil {
			fmt.Fprintf(stderr, "strait lag: flow %s: %v\n", f.Name(), err)
			code = exitFailed
			continue
		}
		for _, l := range lags {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\n", l.Flow, l.Topic, l.Partition, l.End, l.Next, l.Records, l.Behind.Round(time.Millisecond))
		}
	}
	tw.Flush()
	if *group == "" {
		return code
	}
	fmt.Fprintln(stdout)
	tw = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tGROUP\tTOPIC\tPARTITION\tCOMMITTED\tEND\tLAG")
	for _, c := range cfg.Clusters {
		if err := groupLag(ctx, tw, cfg, c, *group); err != nil {
			fmt.Fprintf(stderr, "strait lag: cluster %s: %v\n", c.Alias, err)
			code = exitFailed
		}
	}
	tw.Flush()
	return code
}

// groupLag prints group's committed offsets and lag on cluster c, and, for
// every flow into c, the lag its checkpoints would give it there.
func groupLag(ctx context.Context, w io.Writer, cfg *configs.Config, c configs.Cluster, group string) error {
	opts, adm, err := adminFor(c)
	if err != nil {
		return err
	}
	defer adm.Close()
	row := func(label, topic string, p int32, committed int64) {
		ends, err := adm.ListEndOffsets(ctx, topic)
		end := int64(-1)
		if err == nil {
			if o, ok := ends.Lookup(topic, p); ok && o.Err == nil {
				end = o.Offset
			}
		}
		lag := "unknown"
		if end >= 0 {
			lag = fmt.Sprint(max(end-committed, 0))
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%d\t%s\n", c.Alias, label, topic, p, committed, end, lag)
	}
	if offsets, err := adm.FetchOffsets(ctx, group); err == nil {
		offsets.Each(func(o kadm.OffsetResponse) {
			if o.Err == nil && o.At >= 0 {
				row(group, o.Topic, o.Partition, o.At)
			}
		})
	}
	for _, f := range cfg.Flows {
		if f.Target != c.Alias {
			continue
		}
		cps, _, err := checkpoint.ReadGroup(ctx, adm, opts, f.Policy.CheckpointsTopic(f.Source), group)
		if err != nil {
			return err
		}
		for tp, cp := range cps {
			row(group+" (checkpoint from "+f.Source+")", tp.Topic, tp.Partition, cp.Downstream)
		}
	}
	return nil
}

// configCommand parses the flags of command "strait <name>": -c FILE and
// those register adds; then it loads the configuration. On a problem it
// reports on stderr and returns a nil config with the exit code.
func configCommand(name string, args []string, stderr io.Writer, register func(*flag.FlagSet)) (*configs.Config, int) {
	fs := flag.NewFlagSet("strait "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("c", "", "configuration file (MM2 properties or YAML)")
	allowUnknown := fs.Bool(flagAllowUnknownKeys, false, allowUnknownKeysUsage)
	if register != nil {
		register(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, exitConfig
	}
	if *file == "" {
		fmt.Fprintf(stderr, "strait %s: -c FILE is required\n", name)
		return nil, exitConfig
	}
	cfg, _, err := configs.Load(*file, os.Environ(), loadOptions(*allowUnknown)...)
	if err != nil {
		fmt.Fprintf(stderr, "strait: %s: %v\n", *file, err)
		return nil, exitConfig
	}
	return cfg, exitOK
}
