package e2e

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
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
// digests consumed.
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

// waitCheckpoints waits until group's checkpoints on dst cover want
// (remote topic-partition -> upstream offset).
func waitCheckpoints(t *testing.T, dst *cluster, src, group string, want map[checkpoint.TopicPartition]int64) map[checkpoint.TopicPartition]checkpoint.Written {
	t.Helper()
	var got map[checkpoint.TopicPartition]checkpoint.Written
	waitFor(t, 30*time.Second, func() (bool, string) {
		var err error
		got, _, err = checkpoint.ReadGroup(context.Background(), dst.admin(t), []kgo.Opt{kgo.SeedBrokers(dst.ListenAddrs()...)}, src+".checkpoints.internal", group)
		if err != nil {
			return false, err.Error()
		}
		for tp, up := range want {
			if got[tp].Upstream != up {
				return false, fmt.Sprintf("checkpoint of %v: upstream %d, want %d", tp, got[tp].Upstream, up)
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

// TestFailoverExact: a group consumes 12,345 of 20,000 records on A; after
// checkpoints, `strait failover` moves it to B, where a consumer of
// A.orders in the same group reads every remaining record: 0 lost, and 0
// re-read on this gap-free topic (MM2 would re-read up to offset.lag.max
// per partition).
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

	onA := consumeGroup(t, a, "app", 12345, "orders")
	if len(onA) != 12345 {
		t.Fatalf("consumed %d distinct records on A, want 12345", len(onA))
	}
	want := map[checkpoint.TopicPartition]int64{}
	for tp, off := range committed(t, a, "app") {
		want[checkpoint.TopicPartition{Topic: "A." + tp.Topic, Partition: tp.Partition}] = off
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
	real := startProcess(t, "failover", "-c", cfg, "--group", "app", "--from", "A", "--to", "B")
	if code := real.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("failover exit %d:\n%s", code, real.output)
	}
	t.Logf("failover output:\n%s", real.output)
	got := committed(t, b, "app")
	// kgo fetches whole partitions, so the group committed on the
	// partitions it reached; the others it never read start at the start.
	if len(planned) != len(want) || len(got) != len(want) {
		t.Fatalf("dry run planned %d partitions, failover committed %d; want the %d the group committed on A", len(planned), len(got), len(want))
	}
	for _, p := range planned {
		if c := got[checkpoint.TopicPartition{Topic: p.Topic, Partition: p.Partition}]; c != p.Offset {
			t.Errorf("%s/%d: dry run said %d, failover committed %d", p.Topic, p.Partition, p.Offset, c)
		}
		if p.Behind != 0 {
			t.Errorf("%s/%d: behind source %d, want 0 (the group is idle)", p.Topic, p.Partition, p.Behind)
		}
	}

	// Reading exactly the remaining count: a translation too early would
	// spend it on re-reads and miss the tail, one too late would run dry.
	onB := consumeGroup(t, b, "app", 20000-12345, "A.orders")
	lost, dups := kafkatest.Tally(a.read(t, "orders"), onA, onB)
	t.Logf("failover: %d records consumed on A, %d on B, lost %d, re-read %d", len(onA), len(onB), lost, dups)
	if lost != 0 || dups != 0 || len(onB) != 20000-12345 {
		t.Errorf("lost %d, re-read %d, consumed on B %d; want 0, 0, %d", lost, dups, len(onB), 20000-12345)
	}
}

// TestFailoverActiveActive: a group consuming orders and B.orders on A fails
// over to B, where they are A.orders and orders: translation follows MM2's
// rename rule both ways, and nothing is lost.
func TestFailoverActiveActive(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	for _, c := range []*cluster{a, b} {
		c.createTopic(t, "orders", 2, nil)
		c.produce(t, "orders", 2, 0, 500, "aa-fo-"+c.alias)
	}
	text := props([]*cluster{a, b}, "A->B.enabled = true", "B->A.enabled = true", "emit.checkpoints.interval.seconds = 1")
	startWorker(t, text)
	waitCopied(t, b, "A.orders", 1000, 60*time.Second)
	waitCopied(t, a, "B.orders", 1000, 60*time.Second)

	onA := consumeGroup(t, a, "aa", 1234, "orders", "B.orders")
	want := map[checkpoint.TopicPartition]int64{}
	for tp, off := range committed(t, a, "aa") {
		name := "A." + tp.Topic
		if tp.Topic == "B.orders" {
			name = "orders"
		}
		// B.orders on A is a copy of B's orders: the checkpoint carries
		// the upstream offset on A, as MM2's.
		want[checkpoint.TopicPartition{Topic: name, Partition: tp.Partition}] = off
	}
	waitCheckpoints(t, b, "A", "aa", want)

	p := startProcess(t, "failover", "-c", writeFile(t, "mm2.properties", text), "--group", "aa", "--from", "A", "--to", "B")
	if code := p.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("failover exit %d:\n%s", code, p.output)
	}
	onB := consumeGroup(t, b, "aa", 4000, "orders", "A.orders")
	lostA, dupsA := kafkatest.Tally(a.read(t, "orders"), onA, onB)
	lostB, dupsB := kafkatest.Tally(b.read(t, "orders"), onA, onB)
	lost, dups := lostA+lostB, dupsA+dupsB
	t.Logf("active/active failover: consumed %d on A, %d on B, lost %d, re-read %d", len(onA), len(onB), lost, dups)
	if lost != 0 {
		t.Errorf("%d records lost in the failover", lost)
	}
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
			busy.PollRecords(context.Background(), 1)
			return false, fmt.Sprintf("busy group not stable on B: %v", d["busy"].State)
		}
		return true, ""
	})

	tp := checkpoint.TopicPartition{Topic: "A.orders", Partition: 0}
	waitFor(t, 30*time.Second, func() (bool, string) {
		got := committed(t, b, "idle")[tp]
		return got == 400, fmt.Sprintf("idle on B at %d, want 400", got)
	})
	// Two more sync intervals for the others to be (not) touched.
	waitCheckpoints(t, b, "A", "busy", map[checkpoint.TopicPartition]int64{tp: 400})
	waitCheckpoints(t, b, "A", "ahead", map[checkpoint.TopicPartition]int64{tp: 400})
	deadline := time.Now().Add(2500 * time.Millisecond)
	for time.Now().Before(deadline) { // observe across sync intervals: nothing may change
		if got := committed(t, b, "ahead")[tp]; got != 900 {
			t.Fatalf("ahead lowered on B to %d", got)
		}
		if got, ok := committed(t, b, "busy")[tp]; ok {
			t.Fatalf("active group busy got offset %d on B", got)
		}
		time.Sleep(100 * time.Millisecond) // sampling interval of an observation window
	}
}

// failoverAndCount moves group from A to B with `strait failover` and
// consumes the rest of the remote topic on B. It returns the records of
// topic on A (by digest) that the group consumed on neither cluster.
func failoverAndCount(t *testing.T, a, b *cluster, text, group, topic string, onA map[kafkatest.Digest]int) (lost, reread int) {
	t.Helper()
	want := map[checkpoint.TopicPartition]int64{}
	for tp, off := range committed(t, a, group) {
		want[checkpoint.TopicPartition{Topic: "A." + tp.Topic, Partition: tp.Partition}] = off
	}
	waitCheckpoints(t, b, "A", group, want)
	p := startProcess(t, "failover", "-c", writeFile(t, "mm2.properties", text), "--group", group, "--from", "A", "--to", "B")
	if code := p.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("failover exit %d:\n%s", code, p.output)
	}
	onB := consumeGroup(t, b, group, 1<<30, "A."+topic)
	return kafkatest.Tally(a.read(t, topic), onA, onB)
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
// leave offset gaps) loses nothing.
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
		onA := consumeGroup(t, a, "cg", 100, "compacted")
		lost, reread := failoverAndCount(t, a, b, text, "cg", "compacted", onA)
		t.Logf("compacted: consumed %d on A; lost %d, re-read %d", len(onA), lost, reread)
		if lost != 0 {
			t.Errorf("%d records lost", lost)
		}
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
					cl.Produce(ctx, &kgo.Record{Partition: p, Value: []byte(fmt.Sprintf("t%d-%d-%d", p, batch, i))}, nil)
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
		onA := consumeGroup(t, a, "tg", 333, "txn")
		lost, reread := failoverAndCount(t, a, b, text, "tg", "txn", onA)
		t.Logf("transactional: consumed %d on A; lost %d, re-read %d", len(onA), lost, reread)
		if lost != 0 {
			t.Errorf("%d records lost", lost)
		}
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
	if _, err := a.admin(t).CommitOffsets(context.Background(), "bytes-group", os); err != nil {
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
