package replicator

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/strait-replicator/strait/checkpoint"
	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/replicator/task"
)

// recordedSyncs keeps the offset syncs a task sends.
type recordedSyncs struct {
	mu      sync.Mutex
	syncs   []checkpoint.OffsetSync
	flushes int
}

func (r *recordedSyncs) send(s checkpoint.OffsetSync) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.syncs = append(r.syncs, s)
}

func (r *recordedSyncs) flush(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushes++
	return nil
}

// flushed returns how many times the syncs were flushed.
func (r *recordedSyncs) flushed() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.flushes
}

func (r *recordedSyncs) sent() []checkpoint.OffsetSync {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]checkpoint.OffsetSync(nil), r.syncs...)
}

// recordedEvents counts what a task tells its flow about topics.
type recordedEvents struct{ missing atomic.Int32 }

func (e *recordedEvents) remoteMissing()                            { e.missing.Add(1) }
func (e *recordedEvents) sourceRecreated(string, kadm.TopicID) bool { return false }

// testTask is a source task with partitions tps of topic "orders" (remote
// "A.orders"), ready for acknowledgements without clients: what it sends
// as offset syncs and the task failures it reports are recorded.
type testTask struct {
	*sourceTask
	syncs    *recordedSyncs
	events   *recordedEvents
	failures []error // task failures (t.failure), in order
}

func newTestTask(t *testing.T, exactlyOnce bool, partitions ...int32) *testTask {
	t.Helper()
	ms, err := newMetrics(noop.NewMeterProvider(), &Worker{})
	if err != nil {
		t.Fatal(err)
	}
	tt := &testTask{syncs: &recordedSyncs{}, events: &recordedEvents{}}
	st := &sourceTask{id: "A->B source 0", log: slog.New(slog.DiscardHandler), status: task.NewStatus(StateRunning), flowName: "A->B",
		cfg: configs.Flow{Source: "A", Target: "B", OffsetLagMax: 100, ExactlyOnce: exactlyOnce}, metrics: ms,
		syncs: tt.syncs, loads: &loadMeter{}, topics: tt.events, parts: map[topicPartition]*partState{}}
	st.failure = func(err error) { tt.failures = append(tt.failures, err) }
	var list []*partState
	for _, p := range partitions {
		tp := topicPartition{Topic: "orders", Partition: p}
		ps := &partState{task: st, tp: tp, remote: "A.orders", pos: newPosition(-1), sync: checkpoint.NewSyncState(100),
			written: -1, hwm: -1, copiedBefore: -1, maxBytes: defaultMaxMessageBytes, metrics: ms.forPartition("A", "B", "A.orders", p)}
		ps.onAck = ps.ack
		ps.copiedBytes = st.loads.counter(tp)
		ps.lastLatency.Store(-1)
		st.parts[tp] = ps
		list = append(list, ps)
	}
	st.published.Store(&list)
	st.tps = make([]topicPartition, 0, len(partitions))
	for tp := range st.parts {
		st.tps = append(st.tps, tp)
	}
	tt.sourceTask = st
	return tt
}

func (tt *testTask) part(p int32) *partState {
	return tt.parts[topicPartition{Topic: "orders", Partition: p}]
}

// send marks upstream offsets from..to (inclusive) of partition p sent.
func (tt *testTask) send(p int32, from, to int64) {
	ps := tt.part(p)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for o := from; o <= to; o++ {
		ps.pos.sent(o)
	}
}

// ack acknowledges the oldest record of p in flight, written at
// downstream (ignored for a failure).
func (tt *testTask) ack(p int32, downstream int64, err error) {
	tt.part(p).ack(&kgo.Record{Offset: downstream, Value: []byte("v"), Timestamp: time.Now()}, err)
}

// TestRefusedRecordStopsOnlyItsPartition: a record the target refuses
// (the broker's MESSAGE_TOO_LARGE fails its batch, and kgo every record
// it holds for the partition after it) stops its partition at its offset
// and nothing else: the position stays before it, no offset sync goes
// past it, a record acknowledged after it (produced before the refusal was
// known) is counted and named, the other partition goes on, the task is
// not failed, and the poll loop is told to pause the partition.
func TestRefusedRecordStopsOnlyItsPartition(t *testing.T) {
	tt := newTestTask(t, false, 0, 1)
	tt.send(1, 0, 9)
	for i := range int64(5) {
		tt.ack(1, i, nil)
	}
	tooLarge := kerr.MessageTooLarge
	for range 5 { // offset 5's batch, then kgo fails 6..9 with it
		tt.ack(1, -1, tooLarge)
	}
	tt.send(1, 10, 10)
	tt.ack(1, 5, nil) // produced after the refusal, before the task heard of it
	tt.send(0, 0, 99)
	for i := range int64(100) {
		tt.ack(0, i, nil)
	}

	if len(tt.failures) != 0 {
		t.Fatalf("the task failed: %v", tt.failures)
	}
	p0, p1 := tt.part(0), tt.part(1)
	if p1.pos.acked != 4 || p0.pos.acked != 99 {
		t.Errorf("acknowledged up to %d on partition 1 (want 4, before the refused record) and %d on partition 0 (want 99)", p1.pos.acked, p0.pos.acked)
	}
	if !p1.stopped.Load() || p0.stopped.Load() || tt.stops.Load() != 1 {
		t.Errorf("stopped: partition 1 %v, partition 0 %v, stops %d; want only partition 1, once", p1.stopped.Load(), p0.stopped.Load(), tt.stops.Load())
	}
	for _, s := range tt.syncs.sent() {
		if s.Partition == 1 && s.Upstream > 4 {
			t.Errorf("offset sync past the refused record: %v", s)
		}
	}
	failed := tt.failedPartitions()
	if len(failed) != 1 || failed[0].Topic != "orders" || failed[0].Partition != 1 || failed[0].Offset != 5 {
		t.Fatalf("failed partitions %+v, want orders/1 at offset 5", failed)
	}
	msg := failed[0].Err.Error()
	for _, want := range []string{"A->B orders/1 offset 5", "A.orders/1 on cluster B", "MESSAGE_TOO_LARGE", "1 later records"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	var pe *PartitionError
	if !errors.As(failed[0].Err, &pe) || !errors.Is(failed[0].Err, kerr.MessageTooLarge) {
		t.Errorf("error %v is not a *PartitionError wrapping MESSAGE_TOO_LARGE", failed[0].Err)
	}
}

// TestEarlierFailureWins: a partition stopped at a record it could not
// copy (offset 8) stops at an earlier one the target refuses afterwards
// (offset 3): its position and its error stay before every record not
// copied.
func TestEarlierFailureWins(t *testing.T) {
	tt := newTestTask(t, false, 0)
	ps := tt.part(0)
	tt.send(0, 0, 7)
	ps.mu.Lock()
	first := ps.stop(8, "copy to", ErrTimestampNotCopyable)
	again := ps.stop(9, "copy to", ErrTimestampNotCopyable)
	ps.mu.Unlock()
	if !first || again {
		t.Fatalf("stop reported first %v, then %v; want true, then false", first, again)
	}
	for i := range int64(3) {
		tt.ack(0, i, nil)
	}
	for range 5 {
		tt.ack(0, -1, kerr.InvalidRecord)
	}
	failed := tt.failedPartitions()
	if len(failed) != 1 || failed[0].Offset != 3 || !errors.Is(failed[0].Err, kerr.InvalidRecord) {
		t.Fatalf("failed partitions %+v, want offset 3 refused as INVALID_RECORD", failed)
	}
	if ps.pos.acked != 2 || ps.pos.pending() != 0 {
		t.Errorf("acknowledged up to %d with %d pending, want 2 and 0", ps.pos.acked, ps.pos.pending())
	}
}

// TestTaskFailuresStayTaskFailures: a remote topic gone, refused access
// or a delivery timeout fail the task as before, in both modes; no
// partition stops alone. (A refusal in exactly-once mode: see
// TestRefusalInTransactionRewinds.)
func TestTaskFailuresStayTaskFailures(t *testing.T) {
	for _, tc := range []struct {
		name        string
		exactlyOnce bool
		err         error
	}{
		{"remote topic gone", false, kerr.UnknownTopicOrPartition},
		{"access refused", false, kerr.TopicAuthorizationFailed},
		{"delivery timeout", false, kgo.ErrRecordTimeout},
		{"remote topic gone, exactly-once", true, kerr.UnknownTopicOrPartition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tt := newTestTask(t, tc.exactlyOnce, 0)
			tt.send(0, 0, 0)
			tt.ack(0, -1, tc.err)
			var pe *PartitionError
			if len(tt.failures) != 1 || !errors.As(tt.failures[0], &pe) || pe.Offset != 0 || !errors.Is(pe, tc.err) {
				t.Fatalf("task failures %v, want one naming offset 0 and %v", tt.failures, tc.err)
			}
			if tt.part(0).stopped.Load() || len(tt.failedPartitions()) != 0 {
				t.Error("the partition stopped alone")
			}
		})
	}
	tt := newTestTask(t, false, 0)
	tt.send(0, 0, 0)
	tt.ack(0, -1, kerr.UnknownTopicOrPartition)
	if tt.events.missing.Load() != 1 {
		t.Error("a remote topic gone was not reported to the flow")
	}
}

func TestPositionUnsend(t *testing.T) {
	p := newPosition(-1)
	for o := range int64(6) {
		p.sent(o)
	}
	p.ack(true)
	p.unsend(3) // 3, 4, 5 were not produced
	if p.pending() != 2 {
		t.Fatalf("pending %d, want 2", p.pending())
	}
	p.ack(true)
	if up, ok := p.ack(true); !ok || up != 2 || p.acked != 2 {
		t.Fatalf("last ack paired with %d (ok %v), acked %d; want 2", up, ok, p.acked)
	}
	if _, ok := p.ack(true); ok {
		t.Error("an unsent record was paired with an acknowledgement")
	}
	p.unsend(5) // more than in flight: nothing left
	if p.pending() != 0 {
		t.Errorf("pending %d", p.pending())
	}
}

// TestStoredBatchUnreadableFailsTheTask: when the stored batch of a record
// whose fetched timestamp must be checked (-1, which Long.MAX also reads
// as; one that is not a whole millisecond) cannot be read from the source,
// the task fails with an error naming the source cluster, the partition
// and the offset: the source is at fault, not the record, and the
// partition does not stop as if the target had refused it.
func TestStoredBatchUnreadableFailsTheTask(t *testing.T) {
	src := newTestCluster(t, "A") // without the topic: the stored batch cannot be read
	cl, err := kgo.NewClient(kgo.SeedBrokers(src.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, ts := range []time.Time{time.UnixMilli(-1), time.Unix(0, 1_234_567)} {
		t.Run(ts.Format(time.RFC3339Nano), func(t *testing.T) {
			tt := newTestTask(t, false, 0)
			tt.srcAdm = kadm.NewClient(cl)
			ps := tt.part(0)
			fp := kgo.FetchTopicPartition{Topic: "orders", FetchPartition: kgo.FetchPartition{Partition: 0, HighWatermark: 8,
				Records: []*kgo.Record{{Topic: "orders", Offset: 7, Value: []byte("v"), Timestamp: ts}}}}
			tt.copyPartition(context.Background(), context.Background(), cl, cl, ps, fp)
			var pe *PartitionError
			var ce *ClusterError
			if len(tt.failures) != 1 || !errors.As(tt.failures[0], &pe) || pe.Offset != 7 || !errors.As(pe, &ce) || ce.Alias != "A" ||
				!strings.Contains(pe.Error(), "cluster A") || !strings.Contains(pe.Error(), "orders/0 offset 7") {
				t.Fatalf("task failures %v, want one of cluster A naming orders/0 offset 7", tt.failures)
			}
			t.Log(tt.failures[0])
			if ps.stopped.Load() || len(tt.failedPartitions()) != 0 {
				t.Errorf("the partition stopped as if the target refused the record: %+v", tt.failedPartitions())
			}
			if ps.pos.pending() != 0 || ps.pos.acked != -1 {
				t.Errorf("position: %d in flight, acknowledged %d; want none", ps.pos.pending(), ps.pos.acked)
			}
		})
	}
}

// TestNewProducerFitsLargestRecord: a producer whose buffer is smaller than
// the largest record a remote topic takes is made with a buffer that holds
// it (kgo refuses a record larger than its buffer); a larger buffer stays.
func TestNewProducerFitsLargestRecord(t *testing.T) {
	for _, tt := range []struct{ buffer, largest, want int64 }{
		{1 << 20, 3 << 20, 3 << 20},
		{8 << 20, 3 << 20, 8 << 20},
	} {
		cl, err := newProducer([]kgo.Opt{kgo.MaxBufferedBytes(int(tt.buffer))}, int(tt.largest))
		if err != nil {
			t.Fatal(err)
		}
		got := cl.OptValue(kgo.MaxBufferedBytes)
		cl.Close()
		if got != tt.want {
			t.Errorf("buffer %d, largest record %d: the producer's buffer is %v, want %d", tt.buffer, tt.largest, got, tt.want)
		}
	}
}
