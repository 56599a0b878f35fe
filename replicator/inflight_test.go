package replicator_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-replicator/strait/replicator"
)

// TestRecordsLeftInFlightCounted: records a stopping source task gave up
// on (the target held its produce request past the stop's flush) that
// reach the target afterwards are copied again by the task's next run on
// this worker, and counted as duplicates: the remote partition's end past
// the offset of the last record the stopped run had acknowledged says how
// many.
func TestRecordsLeftInFlightCounted(t *testing.T) {
	a, b := replicator.NewTestCluster(t, "A"), replicator.NewTestCluster(t, "B")
	hold := holdProduces(b, "A.orders") // only the copy to the remote topic, not the state topics
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := newOrders(ctx, t, a, b)
	produce, remoteEnd, tadm := o.produce, o.remoteEnd, o.tadm
	const name = "A.B.MirrorSourceConnector"

	produce(100)
	wk := replicator.NewABWorker(t, a, b, "offset.flush.interval.ms = 200")
	replicator.RunWorker(t, wk)
	t.Cleanup(hold.unhold) // before the worker stops (cleanups run last first)
	state := func() replicator.TaskStatus { return flowTask(wk, "A->B") }
	replicator.WaitUntil(t, 30*time.Second, func() (bool, string) {
		return remoteEnd() == 100, fmt.Sprintf("A.orders on B ends at %d, want 100", remoteEnd())
	})
	topics, err := tadm.ListTopics(ctx, "A.orders")
	if err != nil || !topics.Has("A.orders") {
		t.Fatalf("A.orders on B: %v, %v", topics, err)
	}
	id := [16]byte(topics["A.orders"].ID)
	hold.remoteID.Store(&id)
	hold.on.Store(true)
	produce(20)
	replicator.WaitUntil(t, 10*time.Second, func() (bool, string) { return hold.held.Load() > 0, "no produce request held" })
	// The task stops without its 20 records acknowledged.
	if err := wk.Pause(ctx, name); err != nil {
		t.Fatal(err)
	}
	replicator.WaitUntil(t, 20*time.Second, func() (bool, string) {
		st := state()
		return st.State == replicator.StatePaused, fmt.Sprintf("task %+v, want PAUSED", st)
	})
	// They land now, after the stop.
	hold.on.Store(false)
	hold.unhold()
	replicator.WaitUntil(t, 10*time.Second, func() (bool, string) {
		return remoteEnd() == 120, fmt.Sprintf("A.orders on B ends at %d, want 120", remoteEnd())
	})
	if err := wk.Resume(ctx, name); err != nil {
		t.Fatal(err)
	}
	// The next run copies them again (at-least-once) and counts them.
	// Copied counts over the worker's life: the first run's 100, then
	// these 20.
	replicator.WaitUntil(t, 30*time.Second, func() (bool, string) {
		st := state()
		return remoteEnd() == 140 && st.Copied == 120 && st.Duplicates == 20,
			fmt.Sprintf("A.orders on B ends at %d, task %+v; want 140, 120 copied and 20 duplicates", remoteEnd(), st)
	})
}

// TestPositionsKeptWhenNotWritten: a source task that stops while the
// target refuses its position writes keeps the positions it acknowledged
// in memory; its next run on this worker resumes from them (copying
// nothing again) and writes them.
func TestPositionsKeptWhenNotWritten(t *testing.T) {
	a, b := replicator.NewTestCluster(t, "A"), replicator.NewTestCluster(t, "B")
	const offsetsTopic = "mm2-offsets.A.internal"
	var failing atomic.Bool
	var offsetsID atomic.Pointer[[16]byte]
	var refused atomic.Int32
	b.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		b.KeepControl()
		if failing.Load() && producesTo(req, offsetsTopic, offsetsID.Load()) {
			refused.Add(1)
			return nil, errors.New("refused"), true // the connection is closed: nothing written
		}
		return nil, nil, false
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := newOrders(ctx, t, a, b)
	produce, remoteEnd, tadm := o.produce, o.remoteEnd, o.tadm
	const name = "A.B.MirrorSourceConnector"
	produce(100)
	// Positions are written only when the task stops.
	wk := replicator.NewABWorker(t, a, b, "offset.flush.interval.ms = 600000")
	replicator.RunWorker(t, wk)
	state := func() replicator.TaskStatus { return flowTask(wk, "A->B") }
	replicator.WaitUntil(t, 30*time.Second, func() (bool, string) {
		return remoteEnd() == 100, fmt.Sprintf("A.orders on B ends at %d, want 100", remoteEnd())
	})
	topics, err := tadm.ListTopics(ctx, offsetsTopic)
	if err != nil || !topics.Has(offsetsTopic) {
		t.Fatalf("%s on B: %v, %v", offsetsTopic, topics, err)
	}
	id := [16]byte(topics[offsetsTopic].ID)
	offsetsID.Store(&id)
	failing.Store(true)
	if err := wk.Pause(ctx, name); err != nil {
		t.Fatal(err)
	}
	replicator.WaitUntil(t, 20*time.Second, func() (bool, string) {
		st := state()
		return st.State == replicator.StatePaused, fmt.Sprintf("task %+v, want PAUSED", st)
	})
	if refused.Load() == 0 {
		t.Fatal("the stopping task wrote no positions")
	}
	failing.Store(false)
	if err := wk.Resume(ctx, name); err != nil {
		t.Fatal(err)
	}
	replicator.WaitUntil(t, 20*time.Second, func() (bool, string) {
		st := state()
		return st.State == replicator.StateRunning, fmt.Sprintf("task %+v, want RUNNING", st)
	})
	produce(10)
	// Once the next run stops, it has written how far it got: the 10 new
	// records are copied, the first 100 not again.
	replicator.WaitUntil(t, 30*time.Second, func() (bool, string) {
		return remoteEnd() >= 110, fmt.Sprintf("A.orders on B ends at %d, want 110", remoteEnd())
	})
	if err := wk.Pause(ctx, name); err != nil {
		t.Fatal(err)
	}
	replicator.WaitUntil(t, 20*time.Second, func() (bool, string) {
		recs := replicator.ReadTopic(t, b, offsetsTopic)
		if len(recs) == 0 {
			return false, "no position written"
		}
		last := recs[len(recs)-1]
		return string(last.Value) == `{"offset":109}`, fmt.Sprintf("last position %s", last.Value)
	})
	if end := remoteEnd(); end != 110 {
		t.Fatalf("A.orders on B ends at %d, want 110: the first 100 records copied again", end)
	}
}

// orders is topic orders (one partition) on a source cluster, and the
// target cluster's admin to see how far its copy A.orders goes.
type orders struct {
	t    *testing.T
	ctx  context.Context
	src  *kgo.Client
	tadm *kadm.Client
}

// newOrders creates orders on a, with clients that close when t ends.
func newOrders(ctx context.Context, t *testing.T, a, b *kfake.Cluster) *orders {
	t.Helper()
	src, err := kgo.NewClient(kgo.SeedBrokers(a.ListenAddrs()...), kgo.DefaultProduceTopic("orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	if _, err := kadm.NewClient(src).CreateTopic(ctx, 1, -1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	tgt, err := kgo.NewClient(kgo.SeedBrokers(b.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tgt.Close)
	return &orders{t: t, ctx: ctx, src: src, tadm: kadm.NewClient(tgt)}
}

// produce writes n records to orders.
func (o *orders) produce(n int) {
	o.t.Helper()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Value: fmt.Appendf(nil, "v%d", i)}
	}
	if err := o.src.ProduceSync(o.ctx, recs...).FirstErr(); err != nil {
		o.t.Fatal(err)
	}
}

// remoteEnd is the end offset of A.orders on the target; -1 when it cannot
// be read.
func (o *orders) remoteEnd() int64 {
	ends, err := o.tadm.ListEndOffsets(o.ctx, "A.orders")
	if err != nil {
		return -1
	}
	e, _ := ends.Lookup("A.orders", 0)
	return e.Offset
}

// flowTask is the status of flow's (first) source task on w.
func flowTask(w *replicator.Worker, flow string) replicator.TaskStatus {
	for _, ts := range w.Status() {
		if ts.Flow == flow {
			return ts
		}
	}
	return replicator.TaskStatus{}
}
