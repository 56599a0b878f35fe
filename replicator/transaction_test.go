package replicator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestRetriable(t *testing.T) {
	wrap := func(err error) error {
		return fmt.Errorf("A->B source 0: %w: %w", ErrTransactionAborted, &PartitionError{Flow: "A->B", Topic: "t", Err: err})
	}
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{context.Canceled, false},
		{wrap(kerr.NotLeaderForPartition), true},
		{wrap(kerr.RequestTimedOut), true},
		{wrap(kerr.TransactionAbortable), true},
		{wrap(kerr.UnknownProducerID), true},
		{wrap(io.EOF), true},
		{wrap(context.DeadlineExceeded), true},
		{wrap(kerr.ProducerFenced), false},
		{wrap(kerr.InvalidProducerEpoch), false},
		{wrap(kerr.TransactionalIDAuthorizationFailed), false},
		{wrap(kerr.MessageTooLarge), false},
		{wrap(kerr.TopicAuthorizationFailed), false},
		{wrap(kerr.InvalidTxnState), true}, // a coordinator that lost the transaction
		{fmt.Errorf("A->B source 0: %w: %w", ErrTransactionAborted, errors.New("commit transaction: timed out")), true},
		{fmt.Errorf("replicate: %w", kerr.InvalidTxnState), false}, // outside a transaction: not known passing
		{&DataLossError{Flow: "A->B", Topic: "t", From: 1, To: 2}, false},
	}
	for _, tt := range tests {
		if got := retriable(tt.err); got != tt.want {
			t.Errorf("retriable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestTransactionalIDAsConnect(t *testing.T) {
	if got, want := transactionalID("A-mm2", 3), "A-mm2-MirrorSourceConnector-3"; got != want {
		t.Errorf("transactionalID = %q, want %q", got, want)
	}
}

func TestLasting(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&PartitionError{Err: kerr.ProducerFenced}, true},
		{&PartitionError{Err: kerr.MessageTooLarge}, true},
		{&PartitionError{Err: kerr.TopicAuthorizationFailed}, true},
		{&DataLossError{Flow: "A->B", Topic: "t", From: 1, To: 2}, true},
		{&PartitionError{Err: kerr.NotLeaderForPartition}, false},
		{errors.New("list start offsets: request ListOffsets has 3 separate shard errors"), false},
	}
	for _, tt := range tests {
		if got := lasting(tt.err); got != tt.want {
			t.Errorf("lasting(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestRemovedTaskID(t *testing.T) {
	for _, tt := range []struct {
		id    string
		tasks int
		want  bool
	}{
		{"A-mm2-MirrorSourceConnector-5", 2, true},
		{"A-mm2-MirrorSourceConnector-2", 2, true},
		{"A-mm2-MirrorSourceConnector-1", 2, false}, // a live task
		{"B-mm2-MirrorSourceConnector-5", 2, false}, // another group
		{"A-mm2-x-MirrorSourceConnector-5", 2, false},
		{"A-mm2-MirrorSourceConnector-05", 2, false}, // not an id Strait or Connect writes
		{"A-mm2-MirrorSourceConnector-", 2, false},
		{"A-mm2-MirrorSourceConnector--1", 2, false},
		{"A-mm2-MirrorCheckpointConnector-5", 2, false},
	} {
		if got := removedTaskID("A-mm2", tt.id, tt.tasks); got != tt.want {
			t.Errorf("removedTaskID(A-mm2, %q, %d) = %v, want %v", tt.id, tt.tasks, got, tt.want)
		}
	}
}

// fetchOf is a fetch of records at offsets from..to (inclusive) of each
// partition of "orders" in parts (partition -> {from, to}).
func fetchOf(parts map[int32][2]int64) kgo.Fetches {
	ft := kgo.FetchTopic{Topic: "orders"}
	for p, r := range parts {
		fp := kgo.FetchPartition{Partition: p}
		for o := r[0]; o <= r[1]; o++ {
			fp.Records = append(fp.Records, &kgo.Record{Topic: "orders", Partition: p, Offset: o, Value: []byte("v"), Timestamp: time.Now()})
		}
		ft.Partitions = append(ft.Partitions, fp)
	}
	return kgo.Fetches{{Topics: []kgo.FetchTopic{ft}}}
}

// TestRefusalInTransactionRewinds: in exactly-once mode a record the
// target refuses does not fail the task: its transaction cannot commit
// (refusedInTransaction), nothing of it is counted as copied, and the
// rewind takes its partitions back to the last committed transaction. The
// refused partition copies the records before the refused one again and
// stops at it, before producing it: then, once, it is named a failed
// partition and the poll loop pauses it.
func TestRefusalInTransactionRewinds(t *testing.T) {
	tt := newTestTask(t, true, 0, 1)
	consumer, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()

	tt.beginTransaction()
	if reached := tt.prepareFetches(fetchOf(map[int32][2]int64{0: {0, 4}, 1: {0, 4}})); len(reached) != 0 {
		t.Fatalf("stops reached %v with none pending", reached)
	}
	tt.send(0, 0, 4)
	tt.send(1, 0, 4)
	for i := range int64(5) {
		tt.ack(0, i, nil)
	}
	tt.ack(1, 0, nil)
	tt.ack(1, 1, nil)
	for range 3 { // offset 2's batch, then kgo fails 3 and 4 with it
		tt.ack(1, -1, kerr.MessageTooLarge)
	}
	if len(tt.failures) != 0 {
		t.Fatalf("the task failed: %v", tt.failures)
	}
	err = tt.refusedInTransaction()
	if !errors.Is(err, errRefusedInTransaction) || !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("refusedInTransaction = %v, want the refusal", err)
	}
	if n := tt.status.Copied.Load(); n != 0 {
		t.Errorf("%d records counted before the transaction committed", n)
	}
	if tt.stops.Load() != 0 {
		t.Error("the partition was reported stopped while its transaction was open")
	}

	tt.rewind(consumer)
	p0, p1 := tt.part(0), tt.part(1)
	if p0.pos.acked != -1 || p1.pos.acked != -1 || p0.next != 0 || p1.next != 0 || p1.stopped.Load() || p1.pos.failed {
		t.Fatalf("after the rewind: acked %d and %d, next %d and %d, partition 1 stopped %v failed %v; want both back at the start",
			p0.pos.acked, p1.pos.acked, p0.next, p1.next, p1.stopped.Load(), p1.pos.failed)
	}
	if tt.refusedInTransaction() != nil {
		t.Error("the rewound transaction still holds a refusal")
	}

	tt.beginTransaction()
	fetches := fetchOf(map[int32][2]int64{1: {0, 4}})
	reached := tt.prepareFetches(fetches)
	if got := len(fetches[0].Topics[0].Partitions[0].Records); len(reached) != 1 || got != 2 {
		t.Fatalf("the pending stop cut the fetch to %d records (reached %d), want 2 records before offset 2", got, len(reached))
	}
	tt.send(1, 0, 1)
	tt.ack(1, 0, nil)
	tt.ack(1, 1, nil)
	tt.stopPending(reached)
	failed := tt.failedPartitions()
	if len(failed) != 1 || failed[0].Partition != 1 || failed[0].Offset != 2 || !errors.Is(failed[0].Err, kerr.MessageTooLarge) || tt.stops.Load() != 1 {
		t.Fatalf("failed partitions %+v (stops %d), want orders/1 at offset 2, MESSAGE_TOO_LARGE, once", failed, tt.stops.Load())
	}
	if err := tt.refusedInTransaction(); err != nil {
		t.Fatalf("a stop before producing made the transaction refused: %v", err)
	}
	tt.countCommitted(context.Background())
	if n := tt.status.Copied.Load(); n != 2 {
		t.Errorf("%d records counted as copied, want the 2 committed", n)
	}
}

// TestSentPositions: the positions written with a transaction's records
// are each partition's last record produced in it, which the
// acknowledgements must then reach; a partition with nothing new has none.
func TestSentPositions(t *testing.T) {
	tt := newTestTask(t, true, 0, 1, 2)
	tt.beginTransaction()
	tt.prepareFetches(fetchOf(map[int32][2]int64{0: {0, 4}, 1: {10, 12}}))
	tt.send(0, 0, 4)
	tt.send(1, 10, 11) // 12 not produced: the partition stopped there
	tt.ack(0, 0, nil)
	want := map[topicPartition]int64{{Topic: "orders", Partition: 0}: 4, {Topic: "orders", Partition: 1}: 11}
	if got := tt.sentPositions(); !maps.Equal(got, want) {
		t.Fatalf("sentPositions = %v, want %v", got, want)
	}
	for i := range int64(4) {
		tt.ack(0, i+1, nil)
	}
	tt.ack(1, 0, nil)
	tt.ack(1, 1, nil)
	if got := tt.acknowledged(context.Background()); !maps.Equal(got, want) {
		t.Errorf("acknowledged = %v, want the positions written, %v", got, want)
	}
}

// TestTxnPace: before a transaction committed records, a quarter of the
// producer's buffer may wait in it; after, what the target took in holdFor
// at the last transaction's pace; a transaction without records keeps the
// pace it found.
func TestTxnPace(t *testing.T) {
	producer, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"), kgo.MaxBufferedBytes(40<<20)) // a quarter is not defaultWaitingBytes
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	p := newTxnPace(producer)
	if got := p.waiting(); got != 10<<20 {
		t.Fatalf("waiting before a pace = %d, want a quarter of the 40 MiB buffer", got)
	}
	steps := []struct {
		bytes int64
		took  time.Duration
		want  int64
	}{
		{100 << 20, time.Second, 200 << 20}, // a fast target: past the buffer, never the bound
		{0, time.Millisecond, 200 << 20},    // nothing committed: no news of the target
		{1 << 20, 2 * time.Second, 1 << 20}, // a slow target: 2 s of it
	}
	for _, s := range steps {
		p.committed(s.bytes, s.took)
		if got := p.waiting(); got != s.want {
			t.Errorf("after %d bytes in %s: waiting = %d, want %d", s.bytes, s.took, got, s.want)
		}
	}
}
