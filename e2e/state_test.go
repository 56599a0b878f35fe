package e2e

import (
	"context"
	"fmt"
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

// TestStateTopicsMM2Format: the internal topics exist as MM2 creates them,
// positions are in Connect's offsets format under MM2's key, and offset
// syncs decode with MM2's layout, ending at the last record of each
// partition once the delayed syncs are flushed.
func TestStateTopicsMM2Format(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 2, nil)
	a.produce(t, "orders", 2, 0, 300, "state")
	startWorker(t, props([]*cluster{a, b}, "A->B.enabled = true"))
	waitCopied(t, b, "A.orders", 600, 30*time.Second)

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
	waitFor(t, 10*time.Second, func() (bool, string) {
		latest := map[string]string{}
		for _, r := range b.rawRecords(t, "mm2-offsets.A.internal") {
			latest[string(r.Key)] = string(r.Value)
		}
		for p := range 2 {
			key := fmt.Sprintf(`["MirrorSourceConnector",{"cluster":"A","partition":%d,"topic":"orders"}]`, p)
			if latest[key] != `{"offset":299}` {
				return false, fmt.Sprintf("position %s = %q, want {\"offset\":299}; have %v", key, latest[key], latest)
			}
		}
		return true, ""
	})

	// Offset syncs: partition 0 of the topic on the source, the first one
	// at 0 -> 0 and, after the delayed sync is flushed, the last at 299.
	waitFor(t, 10*time.Second, func() (bool, string) {
		first, last := map[int32]checkpoint.OffsetSync{}, map[int32]checkpoint.OffsetSync{}
		for _, r := range a.rawRecords(t, "mm2-offset-syncs.B.internal") {
			if r.Partition != 0 {
				t.Fatalf("offset sync on partition %d", r.Partition)
			}
			s, err := checkpoint.DecodeOffsetSync(r.Key, r.Value)
			if err != nil {
				t.Fatal(err)
			}
			if s.Topic == "heartbeats" { // replicated too, from the B->A heartbeats
				continue
			}
			if s.Topic != "orders" {
				t.Fatalf("offset sync names topic %q, want the upstream name orders", s.Topic)
			}
			if _, ok := first[s.Partition]; !ok {
				first[s.Partition] = s
			} else if prev := last[s.Partition]; s.Upstream < prev.Upstream {
				// A sync going back makes readers start the partition's
				// history anew (the task did not restart here).
				t.Fatalf("partition %d: sync %v written after %v", s.Partition, s, prev)
			}
			last[s.Partition] = s
		}
		for p := range int32(2) {
			if f := first[p]; f.Upstream != 0 || f.Downstream != 0 {
				return false, fmt.Sprintf("first sync of partition %d: %v", p, f)
			}
			if l := last[p]; l.Upstream != 299 || l.Downstream != 299 {
				return false, fmt.Sprintf("last sync of partition %d: %v", p, l)
			}
		}
		return true, ""
	})
}

// TestOffsetSyncsInOrder copies under continuous production, with position
// flushes (and their delayed syncs) racing the syncs the acknowledgements
// make due: the offset syncs of each partition reach the topic in upstream
// order, as the checkpoint flow's exact translation needs.
func TestOffsetSyncsInOrder(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 4, nil)
	startWorker(t, props([]*cluster{a, b}, "A->B.enabled = true", "offset.flush.interval.ms = 50", "offset.lag.max = 10"))
	bg := produceInBackground(t, a, "orders", 4, 5, 10*time.Millisecond) // 2,000 records/s
	waitFor(t, 60*time.Second, func() (bool, string) {
		n := b.endOffsets(t, "A.orders")
		return n >= 6000, fmt.Sprintf("A.orders has %d records, want 6000", n)
	})
	bg.stop(t)
	last := map[int32]int64{}
	n := 0
	for _, r := range a.rawRecords(t, "mm2-offset-syncs.B.internal") {
		s, err := checkpoint.DecodeOffsetSync(r.Key, r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if s.Topic != "orders" {
			continue
		}
		n++
		if prev, ok := last[s.Partition]; ok && s.Upstream < prev {
			t.Fatalf("orders/%d: sync at upstream %d written after one at %d", s.Partition, s.Upstream, prev)
		}
		last[s.Partition] = s.Upstream
	}
	t.Logf("%d offset syncs, each partition's in upstream order", n)
}
