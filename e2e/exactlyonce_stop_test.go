package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/replicator"
)

// copiedCount is the record-count metric of the worker s watches, summed
// over the partitions of remote: the records it counts as copied there.
func (s stopped) copiedCount(t *testing.T, remote string) int64 {
	t.Helper()
	var n int64
	for _, v := range collectPartitions(t, s.reader, remote).values["record-count"] {
		n += int64(v)
	}
	return n
}

// eosExact checks that a read_committed reader of remote on b sees the
// first want[p] records of each partition p of topic on a, each once and
// in order, and nothing else.
func eosExact(t *testing.T, a, b *cluster, topic, remote string, want map[int32]int) {
	t.Helper()
	src, dst := a.read(t, topic), b.read(t, remote)
	for p, n := range want {
		if !slices.Equal(dst[p], src[p][:n]) {
			t.Errorf("%s/%d: %d records under read_committed, want exact copies of the first %d of %s/%d, once each", remote, p, len(dst[p]), n, topic, p)
		}
	}
}

// TestExactlyOnceRecordTooLargeStopsOnlyItsPartition: in exactly-once
// mode, a record larger than the target topic's max.message.bytes stops
// its partition at its offset before any transaction holds it, as in
// at-least-once mode: the task stays RUNNING with the partition named,
// and a read_committed reader sees the partition's records before it
// once, none after it, and every record of the other partitions once.
func TestExactlyOnceRecordTooLargeStopsOnlyItsPartition(t *testing.T) {
	a, b := tooLargeForB(t)
	w, stops := startWatched(t, props([]*cluster{a, b}, "A->B.enabled = true", "sync.topic.configs.enabled = false", "tasks.max = 1",
		"B.exactly.once.source.support = enabled"))
	stops.wait(t, w, "orders", "A.orders", map[int32]int64{1: 5}, "MESSAGE_TOO_LARGE", "max.message.bytes 2048")
	a.produce(t, "orders", 3, 10, 5, "later")
	waitFor(t, 30*time.Second, func() (bool, string) {
		n := partitionCounts(t, b, "A.orders")
		return n[0] == 15 && n[2] == 15, fmt.Sprintf("A.orders has %v records per partition under read_committed, want 15 on 0 and 2", n)
	})
	eosExact(t, a, b, "orders", "A.orders", map[int32]int{0: 15, 1: 5, 2: 15})
	if n := stops.copiedCount(t, "A.orders"); n != 35 {
		t.Errorf("record-count of A.orders is %d, want 35", n)
	}
}

// TestExactlyOnceRecordRefusedAtRuntimeStopsOnlyItsPartition: in
// exactly-once mode, the target topic's limit lowered while the task runs
// makes the broker refuse a record of an open transaction (its checks
// passed with the limit read at start). The transaction aborts; every
// partition of it starts again from the last committed transaction, and
// only the refused record's partition stops, at its offset, after copying
// again the records before it that the aborted transaction held (two,
// each in a batch of its own). Another partition of the same transaction
// stopped before producing a record too large for the limit read at
// start: its records before that one, aborted with the transaction, are
// copied again too. A read_committed reader sees every record of the
// other partition once, the stopped partitions' records up to their
// refused ones once; the task stays RUNNING, names both partitions, and
// counts as copied only what committed.
func TestExactlyOnceRecordRefusedAtRuntimeStopsOnlyItsPartition(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 3, nil)
	// One leader: one fetch brings the records of every partition.
	for p := range int32(3) {
		if err := a.MoveTopicPartition("orders", p, 0); err != nil {
			t.Fatal(err)
		}
	}
	// 3000 bytes at start: the task's batches for A.orders stay below
	// that, so the two 1600-byte records go in batches of their own.
	b.createTopic(t, "A.orders", 3, map[string]string{"max.message.bytes": "3000"})
	a.produce(t, "orders", 3, 0, 5, "small")
	w, stops := startWatched(t, props([]*cluster{a, b}, "A->B.enabled = true", "sync.topic.configs.enabled = false", "tasks.max = 1",
		"B.exactly.once.source.support = enabled"))
	waitFor(t, 30*time.Second, func() (bool, string) {
		n := partitionCounts(t, b, "A.orders")
		return n[0] == 5 && n[1] == 5 && n[2] == 5, fmt.Sprintf("A.orders has %v records per partition under read_committed, want 5 each", n)
	})
	v := "2048"
	if _, err := b.admin(t).AlterTopicConfigs(context.Background(), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "max.message.bytes", Value: &v}}, "A.orders"); err != nil {
		t.Fatal(err)
	}
	// One produce: the records reach the task in one poll, so one
	// transaction holds them all.
	cl := a.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.ProducerLinger(50*time.Millisecond))
	var recs []*kgo.Record
	for i := 5; i < 10; i++ {
		recs = append(recs, record("mid", 0, i), record("mid", 2, i))
	}
	recs = append(recs,
		&kgo.Record{Topic: "orders", Partition: 2, Key: []byte("too large for 3000"), Value: randomBytes(4000, 10)},
		&kgo.Record{Topic: "orders", Partition: 1, Key: []byte("fits 5"), Value: randomBytes(1600, 5)},
		&kgo.Record{Topic: "orders", Partition: 1, Key: []byte("fits 6"), Value: randomBytes(1600, 6)},
		&kgo.Record{Topic: "orders", Partition: 1, Key: []byte("refused 7"), Value: randomBytes(2500, 7)},
		&kgo.Record{Topic: "orders", Partition: 1, Key: []byte("after 8"), Value: []byte("after")},
	)
	for _, r := range recs {
		r.Topic = "orders"
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	stops.wait(t, w, "orders", "A.orders", map[int32]int64{1: 7, 2: 10}, "MESSAGE_TOO_LARGE")
	a.produce(t, "orders", 3, 11, 5, "later")
	waitFor(t, 30*time.Second, func() (bool, string) {
		n := partitionCounts(t, b, "A.orders")
		return n[0] == 15 && n[1] == 7 && n[2] == 10, fmt.Sprintf("A.orders has %v records per partition under read_committed, want 15, 7, 10", n)
	})
	eosExact(t, a, b, "orders", "A.orders", map[int32]int{0: 15, 1: 7, 2: 10})
	if n := stops.copiedCount(t, "A.orders"); n != 32 {
		t.Errorf("record-count of A.orders is %d, want 32 (what committed)", n)
	}
	for _, st := range w.Status() {
		if !strings.Contains(st.ID, "source") {
			continue
		}
		if f := st.FailedPartitions; st.State != replicator.StateRunning || len(f) != 2 || f[0].Partition != 1 || f[0].Offset != 7 || f[1].Partition != 2 || f[1].Offset != 10 {
			t.Errorf("task %s: %s, failed partitions %+v; want RUNNING with orders/1 at offset 7 and orders/2 at 10", st.ID, st.State, st.FailedPartitions)
		}
	}
}
