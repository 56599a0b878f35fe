package replicator

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/replicator/connectstate"
)

// runWorker runs w until the test ends.
func runWorker(t *testing.T, w *Worker) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }() // joined in the cleanup
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("worker: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("worker did not stop within 15 s")
		}
	})
}

// waitUntil polls cond every 50 ms until it holds or timeout passes.
func waitUntil(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStatusRecordsCarryGeneration: the status records a worker writes
// carry the generation of the worker group it has, as Connect's do (its
// status store uses it to tell stale writes).
func TestStatusRecordsCarryGeneration(t *testing.T) {
	a, b := newTestCluster(t, "A"), newTestCluster(t, "B")
	adm := kadm.NewClient(func() *kgo.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(a.ListenAddrs()...))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}())
	if _, err := adm.CreateTopic(context.Background(), 2, -1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	w := newABWorker(t, a, b)
	cfg := *w.flows[0].view.Load()
	runWorker(t, w)

	// Once the group is stable, pause the connector: the run loop writes
	// the tasks' PAUSED states in the generation the group has then.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	waitUntil(t, 30*time.Second, func() (bool, string) { return w.Ready(), "worker not ready" })
	before, err := b.WaitGroupStable(ctx, cfg.GroupID, 1)
	if err != nil {
		t.Fatalf("group %s: %v", cfg.GroupID, err)
	}
	waitUntil(t, 10*time.Second, func() (bool, string) {
		st, err := w.Connector("A.B.MirrorSourceConnector")
		return err == nil && len(st.Tasks) > 0 && st.Tasks[0].State == StateRunning, fmt.Sprintf("status %+v, %v", st, err)
	})
	if err := w.Pause(ctx, "A.B.MirrorSourceConnector"); err != nil {
		t.Fatal(err)
	}
	key := connectstate.TaskStatusKey(connClasses[sourceConnector], 0)
	var rec connectstate.Status
	waitUntil(t, 10*time.Second, func() (bool, string) {
		for _, r := range readTopic(t, b, cfg.StatusTopic) {
			if string(r.Key) == key {
				if err := json.Unmarshal(r.Value, &rec); err != nil {
					t.Fatalf("status topic offset %d: %v", r.Offset, err)
				}
			}
		}
		return rec.State == StatePaused, fmt.Sprintf("last %s: %+v", key, rec)
	})
	after := b.GroupInfo(cfg.GroupID)
	if rec.Generation < 1 || rec.Generation < int(before.Epoch) || rec.Generation > int(after.Epoch) {
		t.Fatalf("%s written with generation %d; the group's generation was %d before the pause and %d after", key, rec.Generation, before.Epoch, after.Epoch)
	}
}
