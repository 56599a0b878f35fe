package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/checkpoint"
)

// rawRecords reads every record of topic from the start to the end offsets
// as of the call.
func (c *cluster) rawRecords(t *testing.T, topic string) []*kgo.Record {
	t.Helper()
	want := c.endOffsets(t, topic)
	if want <= 0 {
		return nil
	}
	cl := c.client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []*kgo.Record
	for int64(len(out)) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s on %s: %d of %d records", topic, c.alias, len(out), want)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// mm2Syncs returns the upstream offsets of the offset syncs MM2's rules
// (MM2.md §5.2) write for a gap-free partition of n records (offsets 0 to
// n-1) copied in one task run during which no position flush falls: the
// first record of the run; each record whose downstream offset is
// offset.lag.max or more past the last sync's + 1; and the last record as
// the delayed sync, sent at the flush when the task stops (unless it was
// a sync already).
func mm2Syncs(n, maxLag int64) []int64 {
	var out []int64
	last := int64(-1)
	for off := range n {
		if last == -1 || off-(last+1) >= maxLag {
			out = append(out, off)
			last = off
		}
	}
	if last != n-1 {
		out = append(out, n-1)
	}
	return out
}

// TestStateTopicsMM2Format: the internal topics exist as MM2 creates them,
// positions are in Connect's offsets format under MM2's key, and offset
// syncs decode with MM2's layout and are exactly those MM2's rules write:
// with offset.lag.max 100 and no position flush until the worker stops,
// 0, 101, 202 and the delayed sync of the last record, 299, per
// partition.
func TestStateTopicsMM2Format(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 2, nil)
	a.produce(t, "orders", 2, 0, 300, "state")
	// No heartbeats: a new topic would change the source task's
	// partitions, and a task restart writes syncs of its own.
	w := startWorker(t, props([]*cluster{a, b}, "A->B.enabled = true", "emit.heartbeats.enabled = false",
		"offset.lag.max = 100", "offset.flush.interval.ms = 600000"))
	waitCopied(t, b, "A.orders", 600, 30*time.Second)
	// Stopping flushes the positions and the delayed syncs, once.
	w.stop(t)

	for _, it := range []struct {
		c          *cluster
		topic      string
		partitions int
	}{
		{b, "mm2-offsets.A.internal", 25},
		{b, "mm2-configs.A.internal", 1},
		{b, "mm2-status.A.internal", 5},
		{a, "mm2-offset-syncs.B.internal", 1},
	} {
		if v, _ := topicConfig(t, it.c, it.topic, "cleanup.policy"); v != "compact" {
			t.Errorf("%s on %s: cleanup.policy = %q, want compact", it.topic, it.c.alias, v)
		}
		if got := len(it.c.read(t, it.topic)); got != it.partitions {
			t.Errorf("%s on %s has %d partitions, want %d", it.topic, it.c.alias, got, it.partitions)
		}
	}

	// Positions: the last record of each partition is offset 299.
	latest := map[string]string{}
	for _, r := range b.rawRecords(t, "mm2-offsets.A.internal") {
		latest[string(r.Key)] = string(r.Value)
	}
	for p := range 2 {
		key := fmt.Sprintf(`["MirrorSourceConnector",{"cluster":"A","partition":%d,"topic":"orders"}]`, p)
		if latest[key] != `{"offset":299}` {
			t.Errorf("position %s = %q, want {\"offset\":299}; have %v", key, latest[key], latest)
		}
	}

	// Offset syncs: partition 0 of the offset-syncs topic on the source,
	// named by the upstream topic, exactly MM2's.
	got := map[int32][]checkpoint.OffsetSync{}
	for _, r := range a.rawRecords(t, "mm2-offset-syncs.B.internal") {
		if r.Partition != 0 {
			t.Fatalf("offset sync on partition %d", r.Partition)
		}
		s, err := checkpoint.DecodeOffsetSync(r.Key, r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if s.Topic != "orders" {
			t.Fatalf("offset sync names topic %q, want the upstream name orders", s.Topic)
		}
		got[s.Partition] = append(got[s.Partition], s)
	}
	want := mm2Syncs(300, 100)
	for p := range int32(2) {
		var ups []int64
		for _, s := range got[p] {
			ups = append(ups, s.Upstream)
			if s.Downstream != s.Upstream {
				t.Errorf("partition %d: sync %v, want downstream = upstream (an exact copy)", p, s)
			}
		}
		if !slices.Equal(ups, want) {
			t.Errorf("partition %d: %d offset syncs at upstream offsets %v, want MM2's %d at %v", p, len(ups), ups, len(want), want)
		}
	}
}

// TestOffsetSyncsInOrder copies under continuous production, with position
// flushes (and their delayed syncs) racing the syncs the acknowledgements
// make due: the offset syncs of each partition reach the topic in upstream
// order, as the checkpoint flow's exact translation needs, and follow
// MM2's rules. How many there are depends on when the flushes fall, so
// the count is checked by the rules: each sync is the first, or due (its
// downstream offset offset.lag.max + 1 past the previous sync's), or a
// delayed one sent at a flush (closer), never further; at most one delayed
// sync per partition per flush; the last at the last record, sent when
// the worker stops.
func TestOffsetSyncsInOrder(t *testing.T) {
	const (
		maxLag = 10
		flush  = 50 * time.Millisecond
	)
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 4, nil)
	// No heartbeats: a new topic would change the source task's
	// partitions, and a task restart writes syncs of its own.
	started := time.Now()
	w := startWorker(t, props([]*cluster{a, b}, "A->B.enabled = true", "emit.heartbeats.enabled = false",
		fmt.Sprintf("offset.flush.interval.ms = %d", flush.Milliseconds()), fmt.Sprintf("offset.lag.max = %d", maxLag)))
	bg := produceInBackground(t, a, "orders", 4, 5, 10*time.Millisecond) // 2,000 records/s
	waitFor(t, 60*time.Second, func() (bool, string) {
		n := b.endOffsets(t, "A.orders")
		return n >= 6000, fmt.Sprintf("A.orders has %d records, want 6000", n)
	})
	bg.stop(t)
	ends := map[int32]int64{}
	total := int64(0)
	for p, offs := range sourceOffsets(t, a, "orders") {
		ends[p] = int64(len(offs))
		total += int64(len(offs))
	}
	waitCopied(t, b, "A.orders", total, 30*time.Second)
	w.stop(t)
	flushes := int(time.Since(started)/flush) + 1 // at most, the one at the stop included

	syncs := map[int32][]checkpoint.OffsetSync{}
	for _, r := range a.rawRecords(t, "mm2-offset-syncs.B.internal") {
		s, err := checkpoint.DecodeOffsetSync(r.Key, r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if s.Topic == "orders" {
			syncs[s.Partition] = append(syncs[s.Partition], s)
		}
	}
	n := 0
	for p := range int32(4) {
		ss := syncs[p]
		n += len(ss)
		if len(ss) == 0 || ss[0].Upstream != 0 || ss[len(ss)-1].Upstream != ends[p]-1 {
			t.Fatalf("orders/%d: %d syncs, want the first at 0 and the last at %d: %v", p, len(ss), ends[p]-1, ss)
		}
		due, delayed, wrong := 0, 0, 0
		for i := 1; i < len(ss); i++ {
			prev, s := ss[i-1], ss[i]
			if s.Upstream < prev.Upstream {
				t.Fatalf("orders/%d: sync at upstream %d written after one at %d", p, s.Upstream, prev.Upstream)
			}
			switch gap := s.Downstream - prev.Downstream; {
			case s.Downstream-s.Upstream != prev.Downstream-prev.Upstream:
				t.Errorf("orders/%d: sync %v after %v: the copy has a gap", p, s, prev)
			case gap == maxLag+1:
				due++
			case gap > 0 && gap < maxLag+1:
				delayed++
			default:
				if wrong++; wrong == 1 {
					t.Errorf("orders/%d: sync %v follows %v: %d records apart, want 1 to %d (a due sync is missing, or a sync repeats)", p, s, prev, gap, maxLag+1)
				}
			}
		}
		if wrong > 1 {
			t.Errorf("orders/%d: %d syncs in all break the rules", p, wrong)
		}
		if delayed > flushes {
			t.Errorf("orders/%d: %d delayed syncs, more than the %d flushes", p, delayed, flushes)
		}
		t.Logf("orders/%d: %d records, %d syncs: the first, %d due, %d delayed (at most %d flushes)", p, ends[p], len(ss), due, delayed, flushes)
	}
	t.Logf("%d offset syncs, each partition's in upstream order and by MM2's rules", n)
}
