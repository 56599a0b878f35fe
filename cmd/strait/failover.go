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

// defaultMaxAge is how old a group's checkpoints, and the newest heartbeat
// replicated from the group's cluster, may be before failover refuses
// without --force: five default checkpoint intervals. The checkpoint task
// rewrites the checkpoints of a group that does not move every minute
// (checkpoint.DefaultRefresh), so an older one means the checkpoint flow
// stopped (or the group moved where replication has not copied yet); an
// older heartbeat, that replication stopped.
const defaultMaxAge = checkpoint.DefaultMaxAge

// clockOffsetEnv names a duration (Go syntax) that translate and failover
// add to their clock: how tests simulate minutes passing. Not for
// operators; not in the usage.
const clockOffsetEnv = "STRAIT_CLOCK_OFFSET"

type groupFlags struct {
	file, group, from, to string
	json                  bool
	allowUnknownKeys      bool
	allGroups             bool // failover only: every group the checkpoints cover
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
	if g.file == "" || (g.group == "") == !g.allGroups || g.from == "" || g.to == "" {
		msg := "strait: -c FILE, --group, --from and --to are required"
		if g.allGroups {
			msg = "strait: -c FILE, --from and --to are required, and --all-groups excludes --group"
		}
		fmt.Fprintln(stderr, msg)
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
	if v, ok := os.LookupEnv(clockOffsetEnv); ok {
		offset, err := time.ParseDuration(v)
		if err != nil {
			closeFailover(f)
			fmt.Fprintf(stderr, "strait: %s=%q: %v\n", clockOffsetEnv, v, err)
			return nil, exitConfig
		}
		f.Now = func() time.Time { return time.Now().Add(offset) }
	}
	return f, exitOK
}

// newFailover builds clients for clusters from and to of cfg (they connect
// on first use) and takes the policy, admin.timeout.ms and offset syncs of
// the flow from->to (and the syncs of to->from, if it runs); without that
// flow, the default policy, only the command's deadline, and no syncs.
func newFailover(cfg *configs.Config, from, to string) (*checkpoint.Failover, error) {
	fc, ok1 := cfg.Cluster(from)
	tc, ok2 := cfg.Cluster(to)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("--from %q and --to %q must both be clusters of the configuration", from, to)
	}
	f := &checkpoint.Failover{From: from, To: to, Policy: policy.Default{}}
	var err error
	var fromOpts []kgo.Opt
	if fromOpts, f.FromAdmin, err = adminFor(fc); err != nil {
		return nil, err
	}
	if f.ToOpts, f.ToAdmin, err = adminFor(tc); err != nil {
		f.FromAdmin.Close()
		return nil, err
	}
	// syncsOf is where flow fl writes its offset syncs: on its target
	// (ourTo for from->to) or its source.
	syncsOf := func(fl configs.Flow) *checkpoint.Syncs {
		if !fl.EmitOffsetSyncs {
			return nil
		}
		topic, onTarget := fl.OffsetSyncsTopic()
		if onTarget == (fl.Target == to) {
			return &checkpoint.Syncs{Topic: topic, Admin: f.ToAdmin, Opts: f.ToOpts}
		}
		return &checkpoint.Syncs{Topic: topic, Admin: f.FromAdmin, Opts: fromOpts}
	}
	if flow, ok := cfg.Flow(from, to); ok {
		f.Policy, f.AdminTimeout = flow.Policy, flow.AdminTimeout
		f.Syncs = syncsOf(flow)
		if back, ok := cfg.Flow(to, from); ok {
			f.Reverse = syncsOf(back)
		}
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
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tOFFSET\tSOURCE OFFSET\tRE-READ\tBEHIND SOURCE\tCHECKPOINT AGE")
	for _, t := range trs {
		behind := "unknown"
		if t.Behind >= 0 {
			behind = fmt.Sprint(t.Behind)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%ds\n", t.Topic, t.Partition, t.Offset, t.Upstream, reread(t), behind, t.AgeSeconds)
	}
	tw.Flush()
}

// reread is the RE-READ column: the records the group reads again after
// the failover ("at least" when the source could not tell where the group
// is; "skips" when the translation is past the group's records).
func reread(t checkpoint.Translation) string {
	switch {
	case t.Reread == nil:
		return "unknown"
	case *t.Reread < 0:
		return fmt.Sprintf("skips %d", -*t.Reread)
	case t.Behind < 0:
		return fmt.Sprintf("at least %d", *t.Reread)
	default:
		return fmt.Sprint(*t.Reread)
	}
}

// nowOf reads f's clock.
func nowOf(f *checkpoint.Failover) time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// liveness reads the newest heartbeat replicated from f.From to f.To and
// prints on w how fresh that and trs' checkpoints are; the zero time when
// no heartbeat could be read, with a line that says so.
func liveness(ctx context.Context, w io.Writer, name string, f *checkpoint.Failover, trs []checkpoint.Translation) time.Time {
	now := nowOf(f)
	oldest := trs[0].WrittenAt
	for _, tr := range trs {
		if tr.WrittenAt.Before(oldest) {
			oldest = tr.WrittenAt
		}
	}
	hb, err := f.NewestHeartbeat(ctx)
	switch {
	case err != nil:
		fmt.Fprintf(w, "strait %s: cannot tell whether replication from %s to %s runs: %v\n", name, f.From, f.To, err)
	case hb.IsZero():
		fmt.Fprintf(w, "strait %s: cannot tell whether replication from %s to %s runs: no heartbeat from %s on %s (%s); are heartbeats emitted into %s and replicated?\n",
			name, f.From, f.To, f.From, f.To, f.HeartbeatsTopic(), f.From)
	default:
		fmt.Fprintf(w, "replication %s->%s: newest heartbeat from %s on %s is %s old\n", f.From, f.To, f.From, f.To, now.Sub(hb).Round(time.Second))
	}
	fmt.Fprintf(w, "checkpoint flow %s->%s: the oldest of the group's %d checkpoints was written %s ago\n", f.From, f.To, len(trs), now.Sub(oldest).Round(time.Second))
	return hb
}

// groupCommand parses the flags of "strait <name>" (the group flags and
// those register adds) and builds the failover; on a problem it reports
// on stderr and returns a nil failover with the exit code.
func groupCommand(name string, args []string, stderr io.Writer, register func(*flag.FlagSet, *groupFlags)) (*checkpoint.Failover, groupFlags, int) {
	fs := flag.NewFlagSet("strait "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var g groupFlags
	g.register(fs)
	if register != nil {
		register(fs, &g)
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
	liveness(ctx, stderr, "translate", f, trs)
	return exitOK
}

func runFailover(args []string, stdout, stderr io.Writer) int {
	var dryRun, force *bool
	var maxAge *time.Duration
	f, g, code := groupCommand("failover", args, stderr, func(fs *flag.FlagSet, g *groupFlags) {
		fs.BoolVar(&g.allGroups, "all-groups", false, "move every group that the checkpoints of --from -> --to cover, each with the same checks; exits 1 if any is refused")
		dryRun = fs.Bool("dry-run", false, "print what would be committed, commit nothing")
		force = fs.Bool("force", false, "commit even when the checkpoints may not hold (see --max-age)")
		maxAge = fs.Duration("max-age", defaultMaxAge, "refuse when a checkpoint of the group, or the newest heartbeat replicated from --from, is older than this: the checkpoint flow or replication looks stopped")
	})
	if f != nil && g.allGroups {
		defer closeFailover(f)
		return failoverAll(f, g, failoverOpts{dryRun: *dryRun, force: *force, maxAge: *maxAge}, stdout, stderr)
	}
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
	hb := liveness(ctx, stderr, "failover", f, trs)
	if err := f.Judge(g.group, trs, hb, nowOf(f), *maxAge); err != nil {
		if !*force {
			fmt.Fprintf(stderr, "strait failover: %v. Use --force to commit anyway\n", err)
			return exitFailed
		}
		fmt.Fprintf(stderr, "strait failover: --force: %v\n", err)
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

// failoverOpts are the flags of strait failover that judge and commit.
type failoverOpts struct {
	dryRun, force bool
	maxAge        time.Duration
}

// groupResult is one group's line of strait failover --all-groups.
type groupResult struct {
	Group      string `json:"group"`
	Partitions int    `json:"partitions"`
	// Result is committed, dry-run (would commit), forced (committed past a
	// refusal), refused (stale checkpoints or active members) or failed.
	Result       string                   `json:"result"`
	Reason       string                   `json:"reason,omitempty"`
	Translations []checkpoint.Translation `json:"translations,omitempty"`
}

// failoverAll moves every group the checkpoints of f cover, each with the
// checks and commit of a single group's failover; it prints one line per
// group and exits 1 when any group was refused or failed.
func failoverAll(f *checkpoint.Failover, g groupFlags, o failoverOpts, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	groups, err := f.Groups(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "strait failover:", err)
		return exitFailed
	}
	if len(groups) == 0 {
		fmt.Fprintf(stderr, "strait failover: no checkpoints from %s on cluster %s (%s): nothing to commit\n", g.from, g.to, f.Policy.CheckpointsTopic(f.From))
		return exitFailed
	}
	hb, err := f.NewestHeartbeat(ctx)
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "strait failover: cannot tell whether replication from %s to %s runs: %v\n", f.From, f.To, err)
	case hb.IsZero():
		fmt.Fprintf(stderr, "strait failover: cannot tell whether replication from %s to %s runs: no heartbeat from %s on %s (%s)\n", f.From, f.To, f.From, f.To, f.HeartbeatsTopic())
	default:
		fmt.Fprintf(stderr, "replication %s->%s: newest heartbeat from %s on %s is %s old\n", f.From, f.To, f.From, f.To, nowOf(f).Sub(hb).Round(time.Second))
	}
	results := make([]groupResult, 0, len(groups))
	code := exitOK
	for _, group := range groups {
		r := failoverOne(ctx, f, group, hb, o)
		if r.Result == "refused" || r.Result == "failed" {
			code = exitFailed
		}
		results = append(results, r)
	}
	if g.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(results)
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "GROUP\tPARTITIONS\tRESULT\tREASON")
		for _, r := range results {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", r.Group, r.Partitions, r.Result, r.Reason)
		}
		tw.Flush()
	}
	if o.dryRun {
		fmt.Fprintln(stderr, "dry run: nothing committed")
	}
	return code
}

// failoverOne runs the checks and commit of strait failover --group for
// group, hb being the newest heartbeat replicated from f.From.
func failoverOne(ctx context.Context, f *checkpoint.Failover, group string, hb time.Time, o failoverOpts) groupResult {
	r := groupResult{Group: group}
	if err := f.EnsureInactive(ctx, group); err != nil {
		r.Result, r.Reason = "refused", err.Error()
		return r
	}
	trs, err := f.Translations(ctx, group)
	if err != nil {
		r.Result, r.Reason = "failed", err.Error()
		return r
	}
	r.Partitions, r.Translations = len(trs), trs
	if len(trs) == 0 { // its checkpoints were read a moment ago: deleted since
		r.Result, r.Reason = "failed", "no checkpoints"
		return r
	}
	result := "committed"
	if err := f.Judge(group, trs, hb, nowOf(f), o.maxAge); err != nil {
		if !o.force {
			r.Result, r.Reason = "refused", err.Error()
			return r
		}
		result, r.Reason = "forced", err.Error()
	}
	if o.dryRun {
		r.Result = "dry-run"
		return r
	}
	if err := f.Commit(ctx, group, trs); err != nil {
		r.Result, r.Reason = "failed", err.Error()
		return r
	}
	r.Result = result
	return r
}
