package group

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-replicator/strait/internal/kafkatest"
	"github.com/strait-replicator/strait/replicator/task"
)

// taskRuns records which workers run each task, and every moment a task
// ran on two workers at once.
type taskRuns struct {
	mu       sync.Mutex
	running  map[string]map[string]bool // task -> workers; guarded by mu
	overlaps []string                   // guarded by mu
}

func (r *taskRuns) start(worker, task string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running[task] == nil {
		r.running[task] = map[string]bool{}
	}
	for w := range r.running[task] {
		r.overlaps = append(r.overlaps, fmt.Sprintf("%s started on %s while %s runs it", task, worker, w))
	}
	r.running[task][worker] = true
}

func (r *taskRuns) stop(worker, task string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.running[task], worker)
}

// of returns the tasks worker runs, sorted, and the overlaps so far.
func (r *taskRuns) of(worker string) ([]string, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for task, ws := range r.running {
		if ws[worker] {
			out = append(out, task)
		}
	}
	slices.Sort(out)
	return out, slices.Clone(r.overlaps)
}

// startFakeMember runs a Member of worker in group on c with a flow
// that applies each assignment at once (stopping, then starting tasks) and
// publishes what it runs, as flow.run does. It returns the Member and
// a function that leaves the group and waits for both.
func startFakeMember(t *testing.T, c *kfake.Cluster, group, worker string, session time.Duration, wanted []Spec, runs *taskRuns, logs *kafkatest.LogBuffer) (*Member, func()) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	var owned atomic.Pointer[Owned]
	owned.Store(&Owned{})
	m := NewMember(Config{
		Group: group, WorkerID: worker, Cluster: "B",
		SessionTimeout: session, HeartbeatInterval: session / 10, RebalanceTimeout: 2 * session,
		Client: cl,
		Log:    slog.New(slog.NewTextHandler(logs, nil)).With("worker", worker),
		Owned:  func() Owned { return *owned.Load() },
		Wanted: func() ([]Spec, int) { return slices.Clone(wanted), len(wanted) },
	})
	ctx, cancel := context.WithCancel(context.Background())
	m.Start(ctx)
	flowDone := make(chan struct{})
	go func() { // waited for by the returned stop
		defer close(flowDone)
		mine := map[task.ID]string{}
		for {
			select {
			case <-ctx.Done():
				for id := range mine {
					runs.stop(worker, id.String())
				}
				return
			case a := <-m.Assignments():
				want := map[task.ID]string{}
				for _, s := range a.Tasks {
					want[s.ID] = s.Digest()
				}
				for id := range mine {
					if _, ok := want[id]; !ok {
						runs.stop(worker, id.String())
						delete(mine, id)
					}
				}
				for id, d := range want {
					if _, ok := mine[id]; !ok {
						runs.start(worker, id.String())
						mine[id] = d
					}
				}
				owned.Store(&Owned{Tasks: maps.Clone(mine), Seq: a.Seq})
			}
		}
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			// As flow.run: the tasks stop before the worker leaves.
			cancel()
			<-flowDone
			m.Leave()
			m.Close()
		})
	}
	t.Cleanup(stop)
	return m, stop
}

// TestExpelledWorkerStopsItsTasks: a worker cut off from the group
// coordinator while the coordinator expires it stops its tasks within its
// session timeout, before the group gives them to the other worker; and
// takes its share again once it is heard again. Cut off while it waits in
// JoinGroup (kfake expires such a member and answers only once its
// request times out) or while its heartbeat goes unanswered (a network
// partition, a stalled coordinator connection).
func TestExpelledWorkerStopsItsTasks(t *testing.T) {
	for _, tt := range []struct {
		name string
		key  kmsg.Key
		// rejoin asks w1 to rejoin once the hold is in place.
		rejoin bool
	}{
		{"join unanswered", kmsg.JoinGroup, true},
		{"heartbeat unanswered", kmsg.Heartbeat, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			testExpelledWorker(t, tt.key, tt.rejoin)
		})
	}
}

func testExpelledWorker(t *testing.T, key kmsg.Key, rejoin bool) {
	c, err := kafkatest.NewCluster("B", 1, kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const session = time.Second
	wanted := []Spec{{ID: task.SourceID(0)}, {ID: task.SourceID(1)}, {ID: task.SourceID(2)}, {ID: task.SourceID(3)}}
	runs := &taskRuns{running: map[string]map[string]bool{}}
	logs := &kafkatest.LogBuffer{}
	defer func() {
		if t.Failed() {
			t.Logf("members' logs:\n%s", logs)
		}
	}()
	m1, stop1 := startFakeMember(t, c, "g", "w1", session, wanted, runs, logs)
	defer stop1()
	_, stop2 := startFakeMember(t, c, "g", "w2", session, wanted, runs, logs)
	defer stop2()

	// shared waits until w1 runs n1 tasks and w2 n2, and no task ever
	// ran on both.
	shared := func(n1, n2 int, timeout time.Duration) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for {
			r1, overlaps := runs.of("w1")
			r2, _ := runs.of("w2")
			if len(overlaps) > 0 {
				t.Fatalf("tasks ran on two workers at once: %v", overlaps)
			}
			if len(r1) == n1 && len(r2) == n2 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("after %v: w1 runs %v, w2 runs %v; want %d and %d tasks", timeout, r1, r2, n1, n2)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	shared(2, 2, 20*time.Second)

	// w1's member id, to tell its requests
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// (once the group is stable: a rebalance may still be completing).
	var w1 string
	deadline := time.Now().Add(10 * time.Second)
	for w1 == "" {
		dreq := kmsg.NewPtrDescribeGroupsRequest()
		dreq.Groups = []string{"g"}
		dresp, err := dreq.RequestWith(context.Background(), cl)
		if err != nil || len(dresp.Groups) != 1 {
			t.Fatalf("describe group: %v", err)
		}
		for _, gm := range dresp.Groups[0].Members {
			var md memberMetadata
			if json.Unmarshal(gm.ProtocolMetadata, &md) == nil && md.Worker == "w1" && dresp.Groups[0].State == "Stable" {
				w1 = gm.MemberID
			}
		}
		if w1 == "" && time.Now().After(deadline) {
			t.Fatalf("w1 not among the stable group's members: %+v", dresp.Groups[0])
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
	}

	// Hold w1's next request of key unanswered until the test releases
	// it; w1 sends nothing else to the coordinator meanwhile.
	release := make(chan struct{})
	var releaseOnce sync.Once
	unhold := func() { releaseOnce.Do(func() { close(release) }) }
	defer unhold()
	c.ControlKey(int16(key), func(req kmsg.Request) (kmsg.Response, error, bool) {
		var member string
		switch r := req.(type) {
		case *kmsg.JoinGroupRequest:
			member = r.MemberID
		case *kmsg.HeartbeatRequest:
			member = r.MemberID
		}
		if member == w1 {
			c.DropControl()
			c.SleepControl(func() { <-release })
		}
		return nil, nil, false
	})
	if rejoin {
		m1.RequestRejoin()
	}
	// w1's session expires; w2 takes every task, and w1 must have
	// stopped them by then.
	shared(0, 4, session+3*time.Second)

	// Once w1 is heard again it rejoins and takes its share back.
	unhold()
	shared(2, 2, 20*time.Second)
}

// TestRejoinSoonAfterOutage: a worker whose group coordinator's cluster
// was down (connections refused) for longer than its joins take to back
// off to their cap runs its tasks again soon after the cluster's return:
// it tries to join every second at most, and when the coordinator has
// forgotten it (UNKNOWN_MEMBER_ID) it joins again as a new member at once,
// without backing off.
func TestRejoinSoonAfterOutage(t *testing.T) {
	port := kafkatest.LowPort(t)
	start := func() *kfake.Cluster {
		c, err := kafkatest.NewCluster("B", 1, kfake.Ports(port), kfake.GroupMinSessionTimeout(100*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := start()
	const session = time.Second
	wanted := []Spec{{ID: task.SourceID(0)}, {ID: task.SourceID(1)}}
	runs := &taskRuns{running: map[string]map[string]bool{}}
	logs := &kafkatest.LogBuffer{}
	defer func() {
		if t.Failed() {
			t.Logf("member's log:\n%s", logs)
		}
	}()
	_, stop := startFakeMember(t, c, "g", "w1", session, wanted, runs, logs)
	defer stop()
	running := func(n int, timeout time.Duration) time.Duration {
		t.Helper()
		began := time.Now()
		for {
			if r, _ := runs.of("w1"); len(r) == n {
				return time.Since(began)
			}
			if time.Since(began) > timeout {
				r, _ := runs.of("w1")
				t.Fatalf("after %v w1 runs %v, want %d tasks", timeout, r, n)
			}
			time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
		}
	}
	running(2, 20*time.Second)
	c.Close()
	// Out of the group: its tasks stop within the session timeout.
	running(0, session+3*time.Second)
	// The outage lasts long enough for the joins' backoff to reach its
	// cap (it was 5 s).
	time.Sleep(10 * time.Second)
	c = start()
	defer c.Close()
	// The join after the return learns that the coordinator forgot the
	// worker (UNKNOWN_MEMBER_ID): it joins again at once.
	took := running(2, 20*time.Second)
	t.Logf("w1 ran its tasks again %v after the coordinator's return", took.Round(10*time.Millisecond))
	if took > 3*time.Second {
		t.Errorf("w1 ran its tasks again %v after the coordinator's return, want within 3 s (a join backoff of 1 s at most, none after UNKNOWN_MEMBER_ID)", took.Round(100*time.Millisecond))
	}
}
