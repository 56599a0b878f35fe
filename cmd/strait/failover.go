package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/checkpoint"
	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/policy"
	"github.com/strait-replicator/strait/replicator"
)

// defaultMaxAge is how old the newest checkpoint of a group may be before
// failover refuses without --force: five default checkpoint intervals. An
// older one means replication or the checkpoint flow has stopped, and the
// group would re-read everything consumed since.
const defaultMaxAge = 5 * time.Minute

// translation is one partition's translated position, as printed.
type translation struct {
	Topic      string `json:"topic"`
	Partition  int32  `json:"partition"`
	Offset     int64  `json:"offset"`          // where the group resumes on the target
	Upstream   int64  `json:"upstream_offset"` // the source offset it was translated from
	Metadata   string `json:"metadata"`
	AgeSeconds int64  `json:"checkpoint_age_seconds"`
	// Behind is how many offsets the source group has moved past the
	// checkpointed one: what the group will re-read beyond the
	// translation; -1 when the source cannot be asked.
	Behind int64 `json:"behind_source"`
}

type groupFlags struct {
	file, group, from, to string
	json                  bool
}

func (g *groupFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&g.file, "c", "", "configuration file (MM2 properties or YAML)")
	fs.StringVar(&g.group, "group", "", "consumer group")
	fs.StringVar(&g.from, "from", "", "alias of the cluster the group consumed on")
	fs.StringVar(&g.to, "to", "", "alias of the cluster the group moves to")
	fs.BoolVar(&g.json, "json", false, "print JSON instead of a table")
}

// translator holds what translate and failover share.
type translator struct {
	from, to  configs.Cluster
	policy    policy.Policy
	toOpts    []kgo.Opt
	fromOpts  []kgo.Opt
	toAdmin   *kadm.Client
	fromAdmin *kadm.Client
}

func (t *translator) close() {
	t.toAdmin.Close()
	t.fromAdmin.Close()
}

// loadTranslator reads the configuration file named by g and builds a
// translator, reporting problems on stderr with an exit code.
func loadTranslator(g groupFlags, stderr io.Writer) (*translator, int) {
	if g.file == "" || g.group == "" || g.from == "" || g.to == "" {
		fmt.Fprintln(stderr, "strait: -c FILE, --group, --from and --to are required")
		return nil, exitConfig
	}
	cfg, _, err := configs.Load(g.file, os.Environ())
	if err != nil {
		fmt.Fprintf(stderr, "strait: %s: %v\n", g.file, err)
		return nil, exitConfig
	}
	t, err := newTranslator(cfg, g.from, g.to)
	if err != nil {
		fmt.Fprintf(stderr, "strait: %s: %v\n", g.file, err)
		return nil, exitConfig
	}
	return t, exitOK
}

// newTranslator builds clients for clusters from and to of cfg; they
// connect on first use.
func newTranslator(cfg *configs.Config, from, to string) (*translator, error) {
	fc, ok1 := cfg.Cluster(from)
	tc, ok2 := cfg.Cluster(to)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("--from %q and --to %q must both be clusters of the configuration", from, to)
	}
	t := &translator{from: fc, to: tc, policy: policy.Default{}}
	for _, f := range cfg.Flows {
		if f.Source == from && f.Target == to {
			t.policy = f.Policy
		}
	}
	var err error
	if t.fromOpts, t.fromAdmin, err = adminFor(fc); err != nil {
		return nil, err
	}
	if t.toOpts, t.toAdmin, err = adminFor(tc); err != nil {
		t.fromAdmin.Close()
		return nil, err
	}
	return t, nil
}

func adminFor(c configs.Cluster) ([]kgo.Opt, *kadm.Client, error) {
	opts, err := replicator.ClientOpts(c, "strait-failover")
	if err != nil {
		return nil, nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster %s: %w", c.Alias, err)
	}
	return opts, kadm.NewClient(cl), nil
}

// ensureInactive returns an error when group has active members on the
// target: committing would be refused, and would race its consumers.
func (t *translator) ensureInactive(ctx context.Context, group string) error {
	described, err := t.toAdmin.DescribeGroups(ctx, group)
	if err == nil {
		err = described.Error()
	}
	if errors.Is(err, kerr.GroupIDNotFound) {
		return nil // never used on the target: nothing to stop
	}
	if err != nil {
		return fmt.Errorf("describe group %s on cluster %s: %w", group, t.to.Alias, err)
	}
	if d := described[group]; !checkpoint.Inactive(d.State) {
		return fmt.Errorf("group %s is %s with %d active member(s) on cluster %s: stop its consumers there first", group, d.State, len(d.Members), t.to.Alias)
	}
	return nil
}

// commit commits the translated offsets to group on the target.
func (t *translator) commit(ctx context.Context, group string, trs []translation) error {
	var offsets kadm.Offsets
	for _, tr := range trs {
		offsets.Add(kadm.Offset{Topic: tr.Topic, Partition: tr.Partition, At: tr.Offset, LeaderEpoch: -1, Metadata: tr.Metadata})
	}
	resp, err := t.toAdmin.CommitOffsets(ctx, group, offsets)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return fmt.Errorf("commit offsets of group %s on cluster %s: %w", group, t.to.Alias, err)
	}
	return nil
}

// translations reads the group's checkpoints on the target and compares
// them with the group on the source when the source answers.
func (t *translator) translations(ctx context.Context, group string) ([]translation, error) {
	topic := t.policy.CheckpointsTopic(t.from.Alias)
	cps, _, err := checkpoint.ReadGroup(ctx, t.toAdmin, t.toOpts, topic, group)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", t.to.Alias, err)
	}
	// The source may be down: that is what failover is for.
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	source, serr := t.fromAdmin.FetchOffsets(sctx, group)
	now := time.Now()
	var out []translation
	for _, w := range cps {
		tr := translation{Topic: w.Topic, Partition: w.Partition, Offset: w.Downstream, Upstream: w.Upstream,
			Metadata: w.Metadata, AgeSeconds: int64(now.Sub(w.At).Seconds()), Behind: -1}
		if serr == nil {
			upTopic := t.upstreamTopic(w.Topic)
			if o, ok := source.Lookup(upTopic, w.Partition); ok && o.Err == nil && o.At >= 0 {
				tr.Behind = o.At - w.Upstream
			}
		}
		out = append(out, tr)
	}
	slices.SortFunc(out, func(a, b translation) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return out, nil
}

// upstreamTopic is the source topic a checkpoint's target topic came from:
// A.orders came from orders; orders (on B, from B.orders on A) from B.orders.
func (t *translator) upstreamTopic(target string) string {
	if src, ok := t.policy.TopicSource(target); ok && src == t.from.Alias {
		if up, ok := t.policy.UpstreamTopic(target); ok {
			return up
		}
	}
	return t.policy.FormatRemoteTopic(t.to.Alias, target)
}

func printTranslations(w io.Writer, trs []translation, asJSON bool) {
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
// those register adds) and builds the translator; on a problem it reports
// on stderr and returns a nil translator with the exit code.
func groupCommand(name string, args []string, stderr io.Writer, register func(*flag.FlagSet)) (*translator, groupFlags, int) {
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
	t, code := loadTranslator(g, stderr)
	return t, g, code
}

func runTranslate(args []string, stdout, stderr io.Writer) int {
	t, g, code := groupCommand("translate", args, stderr, nil)
	if t == nil {
		return code
	}
	defer t.close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	trs, err := t.translations(ctx, g.group)
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
	t, g, code := groupCommand("failover", args, stderr, func(fs *flag.FlagSet) {
		dryRun = fs.Bool("dry-run", false, "print what would be committed, commit nothing")
		force = fs.Bool("force", false, "commit even when checkpoints are older than --max-age")
		maxAge = fs.Duration("max-age", defaultMaxAge, "refuse when the newest checkpoint of the group is older than this")
	})
	if t == nil {
		return code
	}
	defer t.close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	if err := t.ensureInactive(ctx, g.group); err != nil {
		fmt.Fprintln(stderr, "strait failover:", err)
		return exitFailed
	}
	trs, err := t.translations(ctx, g.group)
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
	if err := t.commit(ctx, g.group, trs); err != nil {
		fmt.Fprintln(stderr, "strait failover:", err)
		return exitFailed
	}
	fmt.Fprintf(stderr, "committed %d offsets for group %s on cluster %s\n", len(trs), g.group, g.to)
	return exitOK
}
