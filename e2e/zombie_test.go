package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-replicator/strait/replicator"
)

// TestExpelledWorkerStopsTasks: a worker whose heartbeats go unanswered
// (a network partition from the coordinator, a stalled connection) is
// expired by the group, which gives its tasks to the other worker; it
// stops them before that, within its session timeout, rather than copying
// them beside the other worker until its request times out. Once it is
// heard again it takes its share back.
func TestExpelledWorkerStopsTasks(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 4, nil)
	produceInBackground(t, a, "orders", 4, 5, 20*time.Millisecond)
	const session = 2 * time.Second // props
	text := props([]*cluster{a, b}, "A->B.enabled = true", "tasks.max = 4",
		"emit.checkpoints.enabled = false", "emit.heartbeats.enabled = false")
	workers := map[string]*worker{
		"w1": startWorker(t, text, replicator.WithWorkerID("w1")),
		"w2": startWorker(t, text, replicator.WithWorkerID("w2")),
	}
	// running returns the source tasks each worker runs, and fails the
	// test when one runs on both.
	running := func() map[string][]string {
		t.Helper()
		out := map[string][]string{}
		where := map[string]string{}
		for _, name := range []string{"w1", "w2"} {
			for _, ts := range workers[name].Status() {
				if ts.State != replicator.StateRunning || ts.Elsewhere {
					continue
				}
				if other, ok := where[ts.ID]; ok {
					t.Fatalf("%s runs on %s and %s at once", ts.ID, other, name)
				}
				where[ts.ID] = name
				out[name] = append(out[name], ts.ID)
			}
		}
		return out
	}
	shared := func(n1, n2 int, timeout time.Duration) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for {
			r := running()
			if len(r["w1"]) == n1 && len(r["w2"]) == n2 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("after %v: w1 runs %v, w2 runs %v; want %d and %d tasks", timeout, r["w1"], r["w2"], n1, n2)
			}
			time.Sleep(10 * time.Millisecond) // polling interval, not synchronisation
		}
	}
	shared(2, 2, 30*time.Second)

	// w1's member id in the group, from its metadata (once the group is
	// stable: a rebalance may still be completing).
	cl := b.client(t)
	var w1 string
	waitFor(t, 10*time.Second, func() (bool, string) {
		dreq := kmsg.NewPtrDescribeGroupsRequest()
		dreq.Groups = []string{"A-mm2"}
		dresp, err := dreq.RequestWith(context.Background(), cl)
		if err != nil || len(dresp.Groups) != 1 {
			return false, fmt.Sprintf("describe group A-mm2: %v", err)
		}
		g := dresp.Groups[0]
		for _, m := range g.Members {
			var md struct{ Worker string }
			if json.Unmarshal(m.ProtocolMetadata, &md) == nil && md.Worker == "w1" && g.State == "Stable" {
				w1 = m.MemberID
			}
		}
		return w1 != "", fmt.Sprintf("group A-mm2 is %s with %d members, w1 not among them", g.State, len(g.Members))
	})

	// Hold w1's next heartbeat unanswered until released.
	release := make(chan struct{})
	var once sync.Once
	unhold := func() { once.Do(func() { close(release) }) }
	defer unhold()
	held := make(chan time.Time, 1)
	b.ControlKey(int16(kmsg.Heartbeat), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if req.(*kmsg.HeartbeatRequest).MemberID == w1 {
			b.DropControl()
			held <- time.Now()
			b.SleepControl(func() { <-release })
		}
		return nil, nil, false
	})
	var since time.Time
	select {
	case since = <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("w1 sent no heartbeat in 10 s")
	}
	// The group expires w1 and gives w2 every task; w1 has stopped them
	// by then.
	shared(0, 4, session+3*time.Second)
	t.Logf("w1 stopped its tasks and w2 runs all 4, %v after w1's heartbeat went unanswered (session timeout %v)", time.Since(since).Round(10*time.Millisecond), session)

	unhold()
	shared(2, 2, 30*time.Second)
}
