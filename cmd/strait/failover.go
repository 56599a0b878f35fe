package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/checkpoint"
	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/internal/kclient"
	"github.com/strait-replicator/strait/policy"
)

// defaultMaxAge is how old the newest checkpoint of a group may be before
// failover refuses without --force: five default checkpoint intervals. An
// older one means replication or the checkpoint flow has stopped, and the
// group would re-read everything consumed since.
const defaultMaxAge = 5 * time.Minute

type groupFlags struct {
	file, group, from, to string
	json                  bool
	allowUnknownKeys      bool
}

func (g *groupFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&g.file, "c", "", "configuration file (MM2 properties or YAML)")
	fs.StringVar(&g.group, "group", "", "consumer group")
	fs.StringVar(&g.from, "from", "", "alias of the cluster the group consumed on")
	fs.StringVar(&g.to, "to", "", "alias of the cluster the group moves to")
	fs.BoolVar(&g.json, "json", false, "print JSON instead of a table")
	fs.BoolVar(&g.allowUnknownKeys, flagAllowUnknownKeys, false, allowUnknownKeysUsage)
}

// loadFailover reads the configuration file named by g and builds the
// failover of g.group's clusters, reporting problems on stderr with an exit
// code; closeFailover closes its clients.
func loadFailover(g groupFlags, stderr io.Writer) (*checkpoint.Failover, int) {
	if g.file == "" || g.group == "" || g.from == "" || g.to == "" {
		fmt.Fprintln(stderr, "strait: -c FILE, --group, --from and --to are required")
		return nil, exitConfig
	}
	cfg, _, err := configs.Load(g.file, os.Environ(), loadOptions(g.allowUnknownKeys)...)
	var f *checkpoint.Failover
	if err == nil {
		f, err = newFailover(cfg, g.from, g.to)
	}
	if err != nil {
		fmt.Fprintf(stderr, "strait: %s: %v\n", g.file, err)
		return nil, exitConfig
	}
	return f, exitOK
}

// newFailover builds clients for clusters from and to of cfg (they connect
// on first use) and takes the policy and admin.timeout.ms of the flow
// from->to; without that flow, the default policy and only the command's
// deadline.
func newFailover(cfg *configs.Config, from, to string) (*checkpoint.Failover, error) {
	fc, ok1 := cfg.Cluster(from)
	tc, ok2 := cfg.Cluster(to)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("--from %q and --to %q must both be clusters of the configuration", from, to)
	}
	f := &checkpoint.Failover{From: from, To: to, Policy: policy.Default{}}
	if flow, ok := cfg.Flow(from, to); ok {
		f.Policy, f.AdminTimeout = flow.Policy, flow.AdminTimeout
	}
	var err error
	if _, f.FromAdmin, err = adminFor(fc); err != nil {
		return nil, err
	}
	if f.ToOpts, f.ToAdmin, err = adminFor(tc); err != nil {
		f.FromAdmin.Close()
		return nil, err
	}
	return f, nil
}

// closeFailover closes the clients newFailover built.
func closeFailover(f *checkpoint.Failover) {
	f.FromAdmin.Close()
	f.ToAdmin.Close()
}

func adminFor(c configs.Cluster) ([]kgo.Opt, *kadm.Client, error) {
	opts, err := kclient.ClusterOpts(c, "strait-failover")
	if err != nil {
		return nil, nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster %s: %w", c.Alias, err)
	}
	return opts, kadm.NewClient(cl), nil
}

func printTranslations(w io.Writer, trs []checkpoint.Translation, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(trs)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tOFFSET\tSOURCE OFFSET\tBEHIND SOURCE\tCHECKPOINT AGE")
	for _, t := range trs {
		behind := "unknown"
		if t.Behind >= 0 {
			behind = fmt.Sprint(t.Behind)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%ds\n", t.Topic, t.Partition, t.Offset, t.Upstream, behind, t.AgeSeconds)
	}
	tw.Flush()
}

// groupCommand parses the flags of "strait <name>" (the group flags and
// those register adds) and builds the failover; on a problem it reports
// on stderr and returns a nil failover with the exit code.
func groupCommand(name string, args []string, stderr io.Writer, register func(*flag.FlagSet)) (*checkpoint.Failover, groupFlags, int) {
	fs := flag.NewFlagSet("strait "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var g groupFlags
	g.register(fs)
	if register != nil {
		register(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, g, exitConfig
	}
	f, code := loadFailover(g, stderr)
	return f, g, code
}

func runTranslate(args []string, stdout, stderr io.Writer) int {
	f, g, code := groupCommand("translate", args, stderr, nil)
	if f == nil {
		return code
	}
	defer closeFailover(f)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	trs, err := f.Translations(ctx, g.group)
	if err != nil {
		fmt.Fprintln(stderr, "strait translate:", err)
		return exitFailed
	}
	if len(trs) == 0 {
		fmt.Fprintf(stderr, "strait translate: no checkpoints for group %s from %s on cluster %s\n", g.group, g.from, g.to)
		return exitFailed
	}
	printTranslations(stdout, trs, g.json)
	return exitOK
}

func runFailover(args []string, stdout, stderr io.Writer) int {
	var dryRun, force *bool
	var maxAge *time.Duration
	f, g, code := groupCommand("failover", args, stderr, func(fs *flag.FlagSet) {
		dryRun = fs.Bool("dry-run", false, "print what would be committed, commit nothing")
		force = fs.Bool("force", false, "commit even when checkpoints are older than --max-age")
		maxAge = fs.Duration("max-age", defaultMaxAge, "refuse when the newest checkpoint of the group is older than this")
	})
	if f == nil {
		return code
	}
	defer closeFailover(f)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	if err := f.EnsureInactive(ctx, g.group); err != nil {
		fmt.Fprintln(stderr, "strait failover:", err)
		return exitFailed
	}
	trs, err := f.Translations(ctx, g.group)
	if err != nil {
		fmt.Fprintln(stderr, "strait failover:", err)
		return exitFailed
	}
	if len(trs) == 0 {
		fmt.Fprintf(stderr, "strait failover: no checkpoints for group %s from %s on cluster %s: nothing to commit\n", g.group, g.from, g.to)
		return exitFailed
	}
	printTranslations(stdout, trs, g.json)
	newest := trs[0].AgeSeconds
	for _, tr := range trs {
		newest = min(newest, tr.AgeSeconds)
	}
	if age := time.Duration(newest) * time.Second; age > *maxAge && !*force {
		fmt.Fprintf(stderr, "strait failover: the newest checkpoint of group %s is %s old, more than --max-age %s: is replication from %s running? Use --force to commit anyway\n",
			g.group, age, *maxAge, g.from)
		return exitFailed
	}
	if *dryRun {
		fmt.Fprintln(stderr, "dry run: nothing committed")
		return exitOK
	}
	if err := f.Commit(ctx, g.group, trs); err != nil {
		fmt.Fprintln(stderr, "strait failover:", err)
		return exitFailed
	}
	fmt.Fprintf(stderr, "committed %d offsets for group %s on cluster %s\n", len(trs), g.group, g.to)
	return exitOK
}
