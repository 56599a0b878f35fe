package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/strait-replicator/strait/checkpoint"
	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/internal/kafkatest"
	"github.com/strait-replicator/strait/replicator"
)

// demo is the state of one `strait demo` run.
type demo struct {
	out      io.Writer
	records  int
	duration time.Duration
	clusters map[string]*kfake.Cluster
	aliases  []string
}

func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("strait demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	records := fs.Int("records", 50000, "records to produce to orders on each cluster")
	duration := fs.Duration("duration", 8*time.Second, "how long to spread the traffic over")
	keep := fs.Bool("keep", false, "keep the clusters and replication running after the summary, until Ctrl-C")
	logLevel := fs.String("log-level", "warn", "log level of the replicator: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	if *records < 1 || *duration <= 0 {
		fmt.Fprintln(stderr, "strait demo: --records and --duration must be positive")
		return exitConfig
	}
	log, err := newLogger("text", *logLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "strait demo:", err)
		return exitConfig
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	d := &demo{out: stdout, records: *records, duration: *duration, clusters: map[string]*kfake.Cluster{}, aliases: []string{"A", "B"}}
	defer d.close()
	for _, a := range d.aliases {
		c, err := kafkatest.NewCluster(a, 3)
		if err != nil {
			fmt.Fprintln(stderr, "strait demo:", err)
			return exitFailed
		}
		d.clusters[a] = c
		if err := c.CreateTopic("orders", 8, nil); err != nil {
			fmt.Fprintln(stderr, "strait demo: create orders:", err)
			return exitFailed
		}
		fmt.Fprintf(stdout, "cluster %s: 3 brokers at %s, topic orders with 8 partitions\n", a, strings.Join(c.ListenAddrs(), ","))
	}

	cfg, _, err := configs.Parse([]byte(d.properties()), configs.Properties, nil)
	if err != nil {
		fmt.Fprintln(stderr, "strait demo: config:", err)
		return exitFailed
	}
	w, _, err := replicator.New(cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "strait demo:", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "replicating A<->B active/active with Strait; producing %d records to orders on each cluster over %s\n", d.records, d.duration)

	workerCtx, stopWorker := context.WithCancel(ctx)
	defer stopWorker()
	var worker errgroup.Group
	worker.Go(func() error { return w.Run(workerCtx) })

	start := time.Now()
	if err := d.produceAndWatch(ctx, w); err != nil {
		stopWorker()
		werr := worker.Wait()
		fmt.Fprintln(stderr, "strait demo:", errors.Join(err, werr))
		return exitFailed
	}
	fmt.Fprintf(stdout, "all records replicated after %s; reading both clusters back to check\n", time.Since(start).Round(100*time.Millisecond))

	ok := d.summary(ctx)
	if ok {
		ok = d.failover(ctx, cfg)
	}
	if ok {
		fmt.Fprintln(stdout, "result: OK, every record copied exactly, the group moved to B with lost = 0")
	} else {
		fmt.Fprintln(stdout, "result: FAILED")
	}
	if *keep {
		fmt.Fprintln(stdout, "\n--keep: clusters and replication keep running; Ctrl-C to stop. Try:")
		for _, a := range d.aliases {
			fmt.Fprintf(stdout, "  kcat -b %s -L\n", d.clusters[a].ListenAddrs()[0])
		}
		<-ctx.Done()
	}
	stopWorker()
	if err := worker.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "strait demo: replication:", err)
		return exitFailed
	}
	if !ok {
		return exitFailed
	}
	return exitOK
}

func (d *demo) close() {
	for _, c := range d.clusters {
		c.Close()
	}
}

func (d *demo) seeds(alias string) []string { return d.clusters[alias].ListenAddrs() }

func (d *demo) properties() string {
	var b strings.Builder
	fmt.Fprintf(&b, "clusters = %s\n", strings.Join(d.aliases, ", "))
	for _, a := range d.aliases {
		fmt.Fprintf(&b, "%s.bootstrap.servers = %s\n", a, strings.Join(d.seeds(a), ","))
	}
	b.WriteString(`A->B.enabled = true
B->A.enabled = true
topics = orders
tasks.max = 2
refresh.topics.interval.seconds = 1
sync.topic.configs.interval.seconds = 5
offset.flush.interval.ms = 1000
emit.checkpoints.interval.seconds = 1
`)
	return b.String()
}

// produceAndWatch produces the traffic to both clusters while printing
// progress every second, then waits until every record is on the other
// side.
func (d *demo) produceAndWatch(ctx context.Context, w *replicator.Worker) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, a := range d.aliases {
		g.Go(func() error { return d.produce(gctx, a) })
	}
	produced := make(chan error, 1)
	go func() { produced <- g.Wait() }() // owned: drained below before return

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	deadline := time.After(d.duration + 40*time.Second)
	producing := true
	for {
		select {
		case err := <-produced:
			if err != nil {
				return err
			}
			producing = false
		case <-tick.C:
			done, line := d.progress(ctx, w)
			fmt.Fprintln(d.out, line)
			if !producing && done {
				return nil
			}
		case <-deadline:
			if producing {
				<-produced
			}
			return errors.New("replication did not catch up in time")
		case <-ctx.Done():
			if producing {
				<-produced
			}
			return ctx.Err()
		}
	}
}

// produce writes d.records records to orders on cluster alias, evenly over
// d.duration, with keys, headers, explicit timestamps and some null values.
func (d *demo) produce(ctx context.Context, alias string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(d.seeds(alias)...), kgo.DefaultProduceTopic("orders"))
	if err != nil {
		return err
	}
	defer cl.Close()
	const batches = 40
	per := d.records / batches
	for i := range batches {
		n := per
		if i == batches-1 {
			n = d.records - per*(batches-1)
		}
		recs := make([]*kgo.Record, n)
		for j := range recs {
			id := i*per + j
			r := &kgo.Record{
				Key:       []byte("customer-" + strconv.Itoa(id%997)),
				Value:     []byte(fmt.Sprintf(`{"order":%d,"from":%q,"amount":%d}`, id, alias, id%500)),
				Headers:   []kgo.RecordHeader{{Key: "origin", Value: []byte(alias)}},
				Timestamp: time.UnixMilli(1_700_000_000_000 + int64(id)),
			}
			if id%50 == 0 {
				r.Value = nil // deletes happen too
			}
			recs[j] = r
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			return fmt.Errorf("produce to %s: %w", alias, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d.duration / batches):
		}
	}
	return nil
}

// progress prints copied records and lag per flow, and reports whether
// every flow has caught up.
func (d *demo) progress(ctx context.Context, w *replicator.Worker) (bool, string) {
	copied := map[string]int64{}
	for _, s := range w.Status() {
		copied[s.Flow] += s.Copied
	}
	parts := []string{}
	done := true
	for _, flow := range [][2]string{{"A", "B"}, {"B", "A"}} {
		src, err1 := d.endTotal(ctx, flow[0], "orders")
		dst, err2 := d.endTotal(ctx, flow[1], flow[0]+".orders")
		lag := src - dst
		if err1 != nil || err2 != nil || lag != 0 || src < int64(d.records) {
			done = false
		}
		name := flow[0] + "->" + flow[1]
		parts = append(parts, fmt.Sprintf("%s copied %6d lag %6d", name, copied[name], lag))
	}
	return done, "  " + strings.Join(parts, " | ")
}

func (d *demo) endTotal(ctx context.Context, alias, topic string) (int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(d.seeds(alias)...))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			total += o.Offset
		}
	})
	return total, ends.Error()
}

// summary reads both clusters back and compares each remote topic with its
// source record by record.
func (d *demo) summary(ctx context.Context) bool {
	ok := true
	fmt.Fprintln(d.out)
	fmt.Fprintln(d.out, "summary:")
	for _, flow := range [][2]string{{"A", "B"}, {"B", "A"}} {
		src, tgt := flow[0], flow[1]
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		s, err1 := kafkatest.ReadTopic(rctx, d.seeds(src), "orders")
		t, err2 := kafkatest.ReadTopic(rctx, d.seeds(tgt), src+".orders")
		cancel()
		if err := errors.Join(err1, err2); err != nil {
			fmt.Fprintf(d.out, "  %s.orders on %s: read failed: %v\n", src, tgt, err)
			ok = false
			continue
		}
		c := kafkatest.Compare(s, t)
		verdict := "match (key, value, headers, timestamp, partition)"
		if !c.Equal() {
			verdict, ok = "DIFFER: "+c.Problem, false
		}
		fmt.Fprintf(d.out, "  %s.orders on %s: %d/%d records %s\n", src, tgt, c.Matched, c.Source, verdict)
	}
	for _, a := range d.aliases {
		cl, err := kgo.NewClient(kgo.SeedBrokers(d.seeds(a)...))
		if err != nil {
			ok = false
			continue
		}
		topics, err := kadm.NewClient(cl).ListTopics(ctx)
		cl.Close()
		if err != nil {
			ok = false
			continue
		}
		var loops []string
		for _, name := range topics.Names() {
			if strings.HasPrefix(name, "A.B.") || strings.HasPrefix(name, "B.A.") {
				loops = append(loops, name)
			}
		}
		if len(loops) > 0 {
			fmt.Fprintf(d.out, "  cluster %s: replication loop, unexpected topics %v\n", a, loops)
			ok = false
		} else {
			fmt.Fprintf(d.out, "  cluster %s: topics %v, no loops\n", a, userTopics(topics.Names()))
		}
	}
	return ok
}

// failover shows a consumer moving from A to B: a group consumes part of
// orders on A, Strait checkpoints it, the group is moved to B with the
// failover logic and consumes the rest of A.orders there. It reports what
// was lost (must be 0) and re-read.
func (d *demo) failover(ctx context.Context, cfg *configs.Config) bool {
	const group = "demo-app"
	part := d.records * 6 / 10
	fmt.Fprintf(d.out, "\nfailover: group %s consumes %d of the %d records of orders on A\n", group, part, d.records)
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	onA, err := kafkatest.ConsumeGroup(cctx, d.seeds("A"), group, part, "orders")
	if err != nil {
		fmt.Fprintln(d.out, "  consume on A:", err)
		return false
	}
	tr, err := newFailover(cfg, "A", "B")
	if err != nil {
		fmt.Fprintln(d.out, "  ", err)
		return false
	}
	defer closeFailover(tr)
	// Wait for the checkpoints of the group's final commits.
	var trs []checkpoint.Translation
	for {
		trs, err = tr.Translations(cctx, group)
		if err == nil && len(trs) > 0 && allCaughtUp(trs) {
			break
		}
		select {
		case <-cctx.Done():
			fmt.Fprintln(d.out, "  no up-to-date checkpoint for the group on B:", err)
			return false
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err := tr.EnsureInactive(cctx, group); err != nil {
		fmt.Fprintln(d.out, "  ", err)
		return false
	}
	if err := tr.Commit(cctx, group, trs); err != nil {
		fmt.Fprintln(d.out, "  ", err)
		return false
	}
	fmt.Fprintf(d.out, "  Strait checkpointed the group; committed its translated offsets on B for %d partitions\n", len(trs))
	onB, err := kafkatest.ConsumeGroup(cctx, d.seeds("B"), group, d.records, "A.orders")
	if err != nil {
		fmt.Fprintln(d.out, "  consume on B:", err)
		return false
	}
	src, err := kafkatest.ReadTopic(cctx, d.seeds("A"), "orders")
	if err != nil {
		fmt.Fprintln(d.out, "  read orders on A:", err)
		return false
	}
	lost, reread := kafkatest.Tally(src, onA, onB)
	fmt.Fprintf(d.out, "  consumed %d on A, then %d on B: lost = %d, duplicates re-read = %d\n", sum(onA), sum(onB), lost, reread)
	return lost == 0
}

// allCaughtUp reports whether every checkpoint covers the group's current
// position on the source, exactly: the group re-reads nothing on B, as far
// as the offset syncs prove it.
func allCaughtUp(trs []checkpoint.Translation) bool {
	for _, t := range trs {
		// Reread > 0 with Behind 0: the checkpoint was translated
		// through a sync before the partition's last one, which the
		// source task writes once the partition is quiet; the next
		// checkpoint is exact. Reread unknown: the syncs read so far do
		// not reach the checkpoint's offset.
		if t.Behind != 0 || t.Reread == nil || *t.Reread != 0 {
			return false
		}
	}
	return true
}

func sum(m map[kafkatest.Digest]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

func userTopics(names []string) []string {
	var out []string
	for _, n := range names {
		if !strings.HasPrefix(n, "mm2-") && !strings.HasPrefix(n, "__") && !strings.HasSuffix(n, ".internal") && !strings.HasSuffix(n, "heartbeats") {
			out = append(out, n)
		}
	}
	return out
}
