package e2e

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/checkpoint"
	"github.com/strait-replicator/strait/internal/kafkatest"
)

// consumeGroup consumes up to limit records of topics on c in group,
// commits exactly what it consumed and leaves the group. It returns the
// digests consumed. Partitions without a commit start at their start: use
// it for the group's life before a failover, and consumeCommitted after.
func consumeGroup(t *testing.T, c *cluster, group string, limit int, topics ...string) map[kafkatest.Digest]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	seen, err := kafkatest.ConsumeGroup(ctx, c.ListenAddrs(), group, limit, topics...)
	if err != nil {
		t.Fatalf("cluster %s: %v", c.alias, err)
	}
	return seen
}

// commitStarts commits each partition's log start offset of topics for
// group on c, as a group that has just begun reading them would have: every
// partition then has a commit to translate, and a consumer after the
// failover has an offset to start from on every partition.
func commitStarts(t *testing.T, c *cluster, group string, topics ...string) {
	t.Helper()
	ctx := context.Background()
	starts, err := c.admin(t).ListStartOffsets(ctx, topics...)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		t.Fatalf("list start offsets of %v on %s: %v", topics, c.alias, err)
	}
	var os kadm.Offsets
	starts.Each(func(o kadm.ListedOffset) {
		os.Add(kadm.Offset{Topic: o.Topic, Partition: o.Partition, At: o.Offset, LeaderEpoch: -1})
	})
	resp, err := c.admin(t).CommitOffsets(ctx, group, os)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("commit start offsets of %v for %s on %s: %v", topics, group, c.alias, err)
	}
}

// consumeCommitted consumes topics on c in group from the group's
// committed offsets to the end offsets as of the call, and never from
// anywhere else: a partition without a commit fails the test (kgo's
// AtCommitted is auto.offset.reset=none), and the first record read of
// each partition must be the one at its committed offset. It returns how
// often each record (by digest) was consumed.
func consumeCommitted(t *testing.T, c *cluster, group string, topics ...string) map[kafkatest.Digest]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	from := committed(t, c, group)
	ends, err := c.admin(t).ListEndOffsets(ctx, topics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("list end offsets of %v on %s: %v", topics, c.alias, err)
	}
	want := map[checkpoint.TopicPartition]int64{} // partition -> end offset, while records remain
	ends.Each(func(o kadm.ListedOffset) {
		tp := checkpoint.TopicPartition{Topic: o.Topic, Partition: o.Partition}
		at, ok := from[tp]
		if !ok {
			t.Fatalf("group %s has no committed offset for %s/%d on %s: a consumer there would start at its reset offset", group, o.Topic, o.Partition, c.alias)
		}
		if at < o.Offset {
			want[tp] = o.Offset
		}
	})
	cl := c.client(t, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topics...), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtCommitted()), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	seen := map[kafkatest.Digest]int{}
	first := map[checkpoint.TopicPartition]bool{}
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consume %v in %s on %s: partitions not read to their end: %v", topics, group, c.alias, slices.Collect(maps.Keys(want)))
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.Fatalf("consume %s/%d in %s on %s: %v", topic, p, group, c.alias, err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			tp := checkpoint.TopicPartition{Topic: r.Topic, Partition: r.Partition}
			if !first[tp] {
				first[tp] = true
				if r.Offset != from[tp] {
					t.Fatalf("%s/%d on %s: group %s read first offset %d, not its committed offset %d", r.Topic, r.Partition, c.alias, group, r.Offset, from[tp])
				}
			}
			if !r.Attrs.IsControl() {
				seen[kafkatest.DigestOf(r)]++
			}
			if end, ok := want[tp]; ok && r.Offset+1 >= end {
				delete(want, tp)
			}
		})
	}
	return seen
}

// checkResumed checks what a group consumed before (onA) and after (onB) a
// failover against the source records (of every source in srcs): none
// lost (consumed in neither), none re-read (consumed in both, or twice on
// B), and nothing on B that is not a source record.
func checkResumed(t *testing.T, srcs []map[int32][]kafkatest.Digest, onA, onB map[kafkatest.Digest]int) {
	t.Helper()
	lost, reread, foreign, twice := 0, 0, 0, 0
	all := map[kafkatest.Digest]bool{}
	for _, src := range srcs {
		l, r := kafkatest.Tally(src, onA, onB)
		lost, reread = lost+l, reread+r
		for _, part := range src {
			for _, d := range part {
				all[d] = true
			}
		}
	}
	for d, n := range onB {
		if !all[d] {
			foreign++
		}
		if n > 1 {
			twice += n - 1
		}
	}
	t.Logf("failover: consumed %d records on A, %d on B: lost %d, re-read %d (and %d twice on B), %d not source records", len(onA), len(onB), lost, reread, twice, foreign)
	if lost != 0 || reread != 0 || twice != 0 || foreign != 0 {
		t.Errorf("lost %d, re-read %d, read twice on B %d, not source records %d; want 0 each", lost, reread, twice, foreign)
	}
}

// sourceOffsets reads topic on c read_committed and returns, per partition,
// the offsets of its records in order: a compacted topic's removed records,
// aborted records and transaction markers are the gaps between them.
func sourceOffsets(t *testing.T, c *cluster, topic string) map[int32][]int64 {
	t.Helper()
	out := map[int32][]int64{}
	for _, r := range c.committedRecords(t, topic) {
		out[r.Partition] = append(out[r.Partition], r.Offset)
	}
	return out
}

// below counts the offsets in sorted that are below at: on a remote topic
// that is an exact copy of its source (one copy of each record, from offset
// 0), the offset that follows the records a group at upstream offset at
// has consumed.
func below(sorted []int64, at int64) int64 {
	i, _ := slices.BinarySearch(sorted, at)
	return int64(i)
}

// upDown is a checkpoint's upstream offset (the group's on the source) and
// downstream offset (where the group resumes on the target).
type upDown struct{ up, down int64 }

// waitCheckpoints waits until group's checkpoints on dst are exactly want
// (remote topic-partition -> upstream and downstream offsets) for every
// partition of want.
//
// Why wait for the downstream offset too: a group caught up at a
// partition's end translates exactly only once the offset sync of the
// partition's last record is written, and that sync is delayed until the
// next position flush (MM2's delayed sync); until then the checkpoint is
// one past the previous sync, a known re-read tracked by its own issue.
// The checkpoint is written again when its downstream offset moves up, so
// waiting for the exact one makes the failover's answer knowable.
func waitCheckpoints(t *testing.T, dst *cluster, src, group string, want map[checkpoint.TopicPartition]upDown) map[checkpoint.TopicPartition]checkpoint.Written {
	t.Helper()
	var got map[checkpoint.TopicPartition]checkpoint.Written
	waitFor(t, 30*time.Second, func() (bool, string) {
		var err error
		got, _, err = checkpoint.ReadGroup(context.Background(), dst.admin(t), []kgo.Opt{kgo.SeedBrokers(dst.ListenAddrs()...)}, src+".checkpoints.internal", group)
		if err != nil {
			return false, err.Error()
		}
		for tp, w := range want {
			if c, ok := got[tp]; !ok || c.Upstream != w.up || c.Downstream != w.down {
				return false, fmt.Sprintf("checkpoint of %s for %v: %d->%d (present %v), want %d->%d", group, tp, c.Upstream, c.Downstream, ok, w.up, w.down)
			}
		}
		return true, ""
	})
	return got
}

// committed reads group's committed offsets on c as remote topic-partition
// -> offset.
func committed(t *testing.T, c *cluster, group string) map[checkpoint.TopicPartition]int64 {
	t.Helper()
	out := map[checkpoint.TopicPartition]int64{}
	resp, err := c.admin(t).FetchOffsets(context.Background(), group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Err == nil && o.At >= 0 {
			out[checkpoint.TopicPartition{Topic: o.Topic, Partition: o.Partition}] = o.At
		}
	})
	return out
}

// failover waits until group's checkpoints on b are want, runs `strait
// failover` from A to B and checks that it committed on B exactly the
// checkpoints' downstream offsets, on every partition of want and no other.
func failover(t *testing.T, b *cluster, text, group string, want map[checkpoint.TopicPartition]upDown) {
	t.Helper()
	waitCheckpoints(t, b, "A", group, want)
	p := startProcess(t, "failover", "-c", writeFile(t, "mm2.properties", text), "--group", group, "--from", "A", "--to", "B")
	if code := p.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("failover exit %d:\n%s", code, p.output)
	}
	checkCommitted(t, b, group, want)
}

// checkCommitted checks that group's committed offsets on c are want's
// downstream offsets, partition for partition.
func checkCommitted(t *testing.T, c *cluster, group string, want map[checkpoint.TopicPartition]upDown) {
	t.Helper()
	got := committed(t, c, group)
	for tp, w := range want {
		if at, ok := got[tp]; !ok || at != w.down {
			t.Errorf("group %s on %s: committed %d (present %v) for %s/%d, want the checkpoint's downstream offset %d", group, c.alias, at, ok, tp.Topic, tp.Partition, w.down)
		}
	}
	for tp, at := range got {
		if _, ok := want[tp]; !ok {
			t.Errorf("group %s on %s: committed %d for %s/%d, which has no checkpoint", group, c.alias, at, tp.Topic, tp.Partition)
		}
	}
}

// TestFailoverExact: a group consumes 12,345 of 20,000 records on A; after
// checkpoints, `strait failover` moves it to B, committing there exactly
// the checkpoints' downstream offsets, and a consumer of A.orders in the
// same group, starting from them, reads every remaining record: 0 lost,
// and 0 re-read on this gap-free topic (MM2 would re-read up to
// offset.lag.max per partition).
func TestFailoverExact(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 8, nil)
	for i := 0; i < 2500; i += 100 { // batches of 100, so a fetch can stop mid-partition
		a.produce(t, "orders", 8, i, 100, "failover")
	}
	text := props([]*cluster{a, b}, "A->B.enabled = true", "emit.checkpoints.interval.seconds = 1")
	startWorker(t, text)
	waitCopied(t, b, "A.orders", 20000, 60*time.Second)
	// Exactness below assumes one copy of each record: say so if not.
	if an, err := analyse(a.read(t, "orders"), b.read(t, "A.orders")); err != nil || an.dups != 0 {
		t.Fatalf("before the failover, the target has %d duplicates (%v)", an.dups, err)
	}

	commitStarts(t, a, "app", "orders")
	onA := consumeGroup(t, a, "app", 12345, "orders")
	if len(onA) != 12345 {
		t.Fatalf("consumed %d distinct records on A, want 12345", len(onA))
	}
	// orders has no gaps and A.orders is its exact copy: each offset
	// translates to itself.
	want := map[checkpoint.TopicPartition]upDown{}
	for tp, off := range committed(t, a, "app") {
		want[checkpoint.TopicPartition{Topic: "A." + tp.Topic, Partition: tp.Partition}] = upDown{off, off}
	}
	if len(want) != 8 {
		t.Fatalf("group app has commits on %d partitions of orders on A, want 8", len(want))
	}
	waitCheckpoints(t, b, "A", "app", want)

	cfg := writeFile(t, "mm2.properties", text)
	dry := startProcess(t, "failover", "-c", cfg, "--group", "app", "--from", "A", "--to", "B", "--dry-run", "--json")
	if code := dry.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("failover --dry-run exit %d:\n%s", code, dry.output)
	}
	if got := committed(t, b, "app"); len(got) != 0 {
		t.Fatalf("--dry-run committed %v", got)
	}
	var planned []struct {
		Topic     string `json:"topic"`
		Partition int32  `json:"partition"`
		Offset    int64  `json:"offset"`
		Behind    int64  `json:"behind_source"`
	}
	out := dry.output.String()
	if err := json.Unmarshal([]byte(out[:strings.LastIndex(out, "]")+1]), &planned); err != nil {
		t.Fatalf("dry-run output: %v\n%s", err, out)
	}
	if len(planned) != len(want) {
		t.Fatalf("dry run planned %d partitions, want the %d the group committed on A", len(planned), len(want))
	}
	for _, p := range planned {
		if w := want[checkpoint.TopicPartition{Topic: p.Topic, Partition: p.Partition}]; p.Offset != w.down {
			t.Errorf("%s/%d: dry run planned %d, want the checkpoint's %d", p.Topic, p.Partition, p.Offset, w.down)
		}
		if p.Behind != 0 {
			t.Errorf("%s/%d: behind source %d, want 0 (the group is idle)", p.Topic, p.Partition, p.Behind)
		}
	}
	failover(t, b, text, "app", want)

	// The consumer on B starts at the committed offsets: reading the rest
	// of every partition, a translation too early would re-read, one too
	// late would lose.
	onB := consumeCommitted(t, b, "app", "A.orders")
	checkResumed(t, []map[int32][]kafkatest.Digest{a.read(t, "orders")}, onA, onB)
	if len(onB) != 20000-12345 {
		t.Errorf("consumed %d records on B, want %d", len(onB), 20000-12345)
	}
}

// TestFailoverActiveActive: a group consuming orders and B.orders on A fails
// over to B, where they are A.orders and orders: translation follows MM2's
// rename rule both ways, the failover commits the checkpoints' offsets on
// B, and the group goes on there from them: nothing lost, nothing re-read.
func TestFailoverActiveActive(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	for _, c := range []*cluster{a, b} {
		c.createTopic(t, "orders", 2, nil)
		c.produce(t, "orders", 2, 0, 500, "aa-fo-"+c.alias)
	}
	text := props([]*cluster{a, b}, "A->B.enabled = true", "B->A.enabled = true", "emit.checkpoints.interval.seconds = 1")
	startWorker(t, text)
	waitAllCopied(t, a, "orders", b, "A.orders", 60*time.Second)
	waitAllCopied(t, b, "orders", a, "B.orders", 60*time.Second)
	// Exactness below assumes one copy of each record.
	for _, c := range []struct {
		src, dst *cluster
		remote   string
	}{{a, b, "A.orders"}, {b, a, "B.orders"}} {
		if cmp := kafkatest.Compare(c.src.read(t, "orders"), c.dst.read(t, c.remote)); !cmp.Equal() {
			t.Fatalf("%s on %s is not an exact copy: %s", c.remote, c.dst.alias, cmp.Problem)
		}
	}

	commitStarts(t, a, "aa", "orders", "B.orders")
	onA := consumeGroup(t, a, "aa", 1234, "orders", "B.orders")
	want := map[checkpoint.TopicPartition]upDown{}
	for tp, off := range committed(t, a, "aa") {
		name := "A." + tp.Topic
		if tp.Topic == "B.orders" {
			name = "orders"
		}
		// B.orders on A is a copy of B's orders: the checkpoint carries
		// the upstream offset on A, as MM2's. Both topics are gap-free
		// exact copies, so each offset translates to itself.
		want[checkpoint.TopicPartition{Topic: name, Partition: tp.Partition}] = upDown{off, off}
	}
	if len(want) != 4 {
		t.Fatalf("group aa has commits on %d partitions on A, want 4", len(want))
	}
	failover(t, b, text, "aa", want)
	onB := consumeCommitted(t, b, "aa", "orders", "A.orders")
	checkResumed(t, []map[int32][]kafkatest.Digest{a.read(t, "orders"), b.read(t, "orders")}, onA, onB)
}

// TestGroupOffsetSyncRespectsTarget: sync.group.offsets commits translated
// offsets to a group that is inactive on the target, never to an active
// one, and never lowers an offset the group has on the target.
func TestGroupOffsetSyncRespectsTarget(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 1, nil)
	a.produce(t, "orders", 1, 0, 1000, "gsync")
	startWorker(t, props([]*cluster{a, b}, "A->B.enabled = true", "emit.checkpoints.interval.seconds = 1",
		"sync.group.offsets.enabled = true", "sync.group.offsets.interval.seconds = 1"))
	waitCopied(t, b, "A.orders", 1000, 60*time.Second)
	adm := a.admin(t)
	commit := func(adm *kadm.Client, group, topic string, at int64) {
		t.Helper()
		var os kadm.Offsets
		os.Add(kadm.Offset{Topic: topic, Partition: 0, At: at, LeaderEpoch: -1})
		resp, err := adm.CommitOffsets(context.Background(), group, os)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// idle: inactive on B, gets the translation.
	commit(adm, "idle", "orders", 400)
	// ahead: its offset on B (900) is above the translation (400): kept.
	commit(adm, "ahead", "orders", 400)
	commit(b.admin(t), "ahead", "A.orders", 900)
	// busy: a consumer is active on B: never touched.
	commit(adm, "busy", "orders", 400)
	busy := b.client(t, kgo.ConsumerGroup("busy"), kgo.ConsumeTopics("A.orders"), kgo.DisableAutoCommit())
	waitFor(t, 30*time.Second, func() (bool, string) {
		d, err := b.admin(t).DescribeGroups(context.Background(), "busy")
		if err != nil || d["busy"].State != "Stable" {
			busy.PollRecords(context.Background(), 1) // joins the group; what it reads does not matter
			return false, fmt.Sprintf("busy group not stable on B: %v", d["busy"].State)
		}
		return true, ""
	})

	tp := checkpoint.TopicPartition{Topic: "A.orders", Partition: 0}
	waitFor(t, 30*time.Second, func() (bool, string) {
		got := committed(t, b, "idle")[tp]
		return got == 400, fmt.Sprintf("idle on B at %d, want 400", got)
	})
	waitCheckpoints(t, b, "A", "busy", map[checkpoint.TopicPartition]upDown{tp: {400, 400}})
	waitCheckpoints(t, b, "A", "ahead", map[checkpoint.TopicPartition]upDown{tp: {400, 400}})
	// The signal that a group offset sync ran with busy's and ahead's
	// checkpoints: probe groups, committed on A after those checkpoints
	// were written, reach B. Passes run one after the other, and each takes
	// the checkpoints written before it starts: the pass that commits
	// probe-1 had busy's and ahead's; once probe-2 (committed on A after
	// probe-1 reached B) reaches B, that pass has ended.
	for _, probe := range []string{"probe-1", "probe-2"} {
		commit(adm, probe, "orders", 500)
		waitFor(t, 30*time.Second, func() (bool, string) {
			got := committed(t, b, probe)[tp]
			return got == 500, fmt.Sprintf("%s on B at %d, want 500", probe, got)
		})
	}
	if got := committed(t, b, "ahead")[tp]; got != 900 {
		t.Errorf("ahead lowered on B to %d", got)
	}
	if got, ok := committed(t, b, "busy")[tp]; ok {
		t.Errorf("active group busy got offset %d on B", got)
	}
}

// failoverThroughGaps has group consume part of topic on A, where the
// group's offsets fall on records and on gaps, fails it over to B and
// checks that the failover commits the exact offsets (on a remote topic
// that is an exact copy, the number of source records below the group's
// offset) and that the group goes on from them on B: nothing lost,
// nothing re-read.
func failoverThroughGaps(t *testing.T, a, b *cluster, text, group, topic string, limit int) {
	t.Helper()
	commitStarts(t, a, group, topic)
	onA := consumeGroup(t, a, group, limit, topic)
	offsets := sourceOffsets(t, a, topic)
	want := map[checkpoint.TopicPartition]upDown{}
	for tp, off := range committed(t, a, group) {
		want[checkpoint.TopicPartition{Topic: "A." + tp.Topic, Partition: tp.Partition}] = upDown{off, below(offsets[tp.Partition], off)}
	}
	if len(want) != len(offsets) {
		t.Fatalf("group %s has commits on %d partitions of %s, want %d", group, len(want), topic, len(offsets))
	}
	t.Logf("%s: group %s at %v on A", topic, group, want)
	failover(t, b, text, group, want)
	onB := consumeCommitted(t, b, group, "A."+topic)
	// The group reads A read_uncommitted (kgo's default), so what it
	// consumed there may include aborted records: they are in neither
	// count below.
	checkResumed(t, []map[int32][]kafkatest.Digest{a.read(t, topic)}, onA, onB)
}

// waitSame waits until dstTopic on dst is an exact copy of srcTopic on src.
func waitSame(t *testing.T, src *cluster, srcTopic string, dst *cluster, dstTopic string) {
	t.Helper()
	waitFor(t, 60*time.Second, func() (bool, string) {
		if dst.endOffsets(t, dstTopic) < 0 {
			return false, dstTopic + " does not exist yet"
		}
		c := kafkatest.Compare(src.read(t, srcTopic), dst.read(t, dstTopic))
		return c.Equal(), c.Problem
	})
}

// TestFailoverThroughGaps: translation through a compacted source topic and
// a topic written by a transactional producer (aborted records and markers
// leave offset gaps) is exact: the failover commits offsets that lose and
// re-read nothing.
func TestFailoverThroughGaps(t *testing.T) {
	t.Run("compacted", func(t *testing.T) {
		a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
		a.createTopic(t, "compacted", 2, map[string]string{"cleanup.policy": "compact"})
		cl := a.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic("compacted"))
		for batch := range 20 {
			var recs []*kgo.Record
			for p := range int32(2) {
				for i := range 50 {
					n := batch*50 + i
					recs = append(recs, &kgo.Record{Partition: p, Key: []byte(fmt.Sprintf("k%d", n%37)), Value: []byte(fmt.Sprintf("v%d-%d", p, n))})
				}
			}
			if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		a.Compact()
		text := props([]*cluster{a, b}, "A->B.enabled = true", "emit.checkpoints.interval.seconds = 1")
		startWorker(t, text)
		waitSame(t, a, "compacted", b, "A.compacted")
		failoverThroughGaps(t, a, b, text, "cg", "compacted", 100)
	})
	t.Run("transactional", func(t *testing.T) {
		a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
		a.createTopic(t, "txn", 2, nil)
		cl := a.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic("txn"), kgo.TransactionalID("writer"))
		ctx := context.Background()
		for batch := range 30 {
			if err := cl.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			for p := range int32(2) {
				for i := range 20 {
					cl.Produce(ctx, &kgo.Record{Partition: p, Value: []byte(fmt.Sprintf("t%d-%d-%d", p, batch, i))}, func(_ *kgo.Record, err error) {
						if err != nil {
							t.Errorf("produce to txn: %v", err)
						}
					})
				}
			}
			if err := cl.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			commit := kgo.TryCommit
			if batch%4 == 3 {
				commit = kgo.TryAbort // aborted records are gaps: never copied
			}
			if err := cl.EndTransaction(ctx, commit); err != nil {
				t.Fatal(err)
			}
		}
		text := props([]*cluster{a, b}, "A->B.enabled = true", "emit.checkpoints.interval.seconds = 1")
		startWorker(t, text)
		waitSame(t, a, "txn", b, "A.txn")
		failoverThroughGaps(t, a, b, text, "tg", "txn", 333)
	})
}

// TestCheckpointBytes decodes what Strait wrote to A.checkpoints.internal
// with a decoder written here from MM2.md §2.2, not the package's own.
func TestCheckpointBytes(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 1, nil)
	a.produce(t, "orders", 1, 0, 100, "bytes")
	startWorker(t, props([]*cluster{a, b}, "A->B.enabled = true", "emit.checkpoints.interval.seconds = 1"))
	waitCopied(t, b, "A.orders", 100, 30*time.Second)
	var os kadm.Offsets
	os.Add(kadm.Offset{Topic: "orders", Partition: 0, At: 42, LeaderEpoch: -1, Metadata: "meta"})
	resp, err := a.admin(t).CommitOffsets(context.Background(), "bytes-group", os)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	str := func(b []byte) (string, []byte) {
		n := int(binary.BigEndian.Uint16(b))
		return string(b[2 : 2+n]), b[2+n:]
	}
	waitFor(t, 30*time.Second, func() (bool, string) {
		for _, r := range b.rawRecords(t, "A.checkpoints.internal") {
			if r.Partition != 0 {
				t.Fatalf("checkpoint on partition %d", r.Partition)
			}
			group, rest := str(r.Key)
			topic, rest := str(rest)
			if group != "bytes-group" {
				continue
			}
			partition := int32(binary.BigEndian.Uint32(rest))
			v := r.Value
			version := int16(binary.BigEndian.Uint16(v))
			up := int64(binary.BigEndian.Uint64(v[2:]))
			down := int64(binary.BigEndian.Uint64(v[10:]))
			meta, tail := str(v[18:])
			if topic != "A.orders" || partition != 0 || version != 0 || up != 42 || down != 42 || meta != "meta" || len(tail) != 0 || len(rest) != 4 {
				t.Fatalf("checkpoint bytes decode to %s %s/%d v%d %d->%d %q (tail %d)", group, topic, partition, version, up, down, meta, len(tail))
			}
			return true, ""
		}
		return false, "no checkpoint for bytes-group yet"
	})
}
