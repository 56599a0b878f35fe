package replicator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestTaskIDText(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want TaskID
		err  string
	}{
		{in: "source-0", want: sourceTaskID(0)},
		{in: "source-17", want: sourceTaskID(17)},
		{in: "checkpoint-0", want: singleTaskID(checkpointConnector)},
		{in: "heartbeat-0", want: singleTaskID(heartbeatConnector)},
		{in: "checkpoint-1", err: "one task, 0"},
		{in: "heartbeat-2", err: "one task, 0"},
		{in: "source-01", err: "not a task number"},
		{in: "source--1", err: "not a task number"},
		{in: "source-x", err: "not a task number"},
		{in: "source-", err: "not a task number"},
		{in: "source", err: "want <connector>-<index>"},
		{in: "sink-0", err: `unknown connector "sink"`},
		{in: "", err: "want <connector>-<index>"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseTaskID(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parseTaskID(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.err)
				}
				var id TaskID
				if err := json.Unmarshal([]byte(`"`+tt.in+`"`), &id); err == nil {
					t.Fatalf("JSON %q decoded to %v, want an error", tt.in, id)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseTaskID(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if got.String() != tt.in {
				t.Fatalf("String() = %q, want %q", got.String(), tt.in)
			}
			// In the group's JSON, as a value and as a map key.
			b, err := json.Marshal(map[TaskID]taskSpec{got: {ID: got}})
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf(`{%q:{"id":%q}}`, tt.in, tt.in); string(b) != want {
				t.Fatalf("JSON %s, want %s", b, want)
			}
			var back map[TaskID]taskSpec
			if err := json.Unmarshal(b, &back); err != nil || back[got].ID != got {
				t.Fatalf("JSON round trip: %v, %v", back, err)
			}
		})
	}
	if _, err := json.Marshal(TaskID{kind: connKinds}); err == nil {
		t.Error("an id of no connector marshals")
	}
	if _, err := json.Marshal(TaskID{index: -1}); err == nil {
		t.Error("a negative index marshals")
	}
	if got := (TaskID{kind: connKinds, index: 2}).String(); got != "unknown-2" {
		t.Errorf("String of an id of no connector = %q", got)
	}
	ids := []TaskID{singleTaskID(heartbeatConnector), sourceTaskID(10), singleTaskID(checkpointConnector), sourceTaskID(2)}
	for i, a := range ids {
		for j, b := range ids {
			want := 0
			switch {
			case a.kind != b.kind:
				want = map[bool]int{true: -1, false: 1}[a.kind < b.kind]
			case a.index != b.index:
				want = map[bool]int{true: -1, false: 1}[a.index < b.index]
			}
			if got := a.compare(b); got != want {
				t.Errorf("%v.compare(%v) = %d, want %d (%d, %d)", a, b, got, want, i, j)
			}
		}
	}
}

func TestPlanTasks(t *testing.T) {
	tp := func(p int32) []topicPartition { return []topicPartition{{"orders", p}} }
	src := func(i int, p int32) wantedTask { return wantedTask{id: sourceTaskID(i), partitions: tp(p)} }
	paused := func(w wantedTask) wantedTask { w.paused = true; return w }
	have := func(w wantedTask, state string, running bool) runnerState {
		return runnerState{digest: w.digest(), state: state, running: running}
	}
	cp := wantedTask{id: singleTaskID(checkpointConnector)}
	show := func(steps []taskStep) string {
		var b strings.Builder
		for _, s := range steps {
			fmt.Fprintf(&b, "%v:", s.want.id)
			for _, f := range []struct {
				on   bool
				name string
			}{{s.stop, "stop"}, {s.remove, "remove"}, {s.start, "start"}, {s.pause, "pause"}} {
				if f.on {
					b.WriteString(" " + f.name)
				}
			}
			b.WriteString("; ")
		}
		return b.String()
	}
	for _, tt := range []struct {
		name     string
		wanted   []wantedTask
		have     map[TaskID]runnerState
		restarts [connKinds]restartRequest
		want     string
	}{
		{name: "nothing", want: ""},
		{name: "new tasks start, in id order", wanted: []wantedTask{cp, src(1, 1), src(0, 0)},
			want: "source-0: start; source-1: start; checkpoint-0: start; "},
		{name: "running tasks with the same partitions are kept", wanted: []wantedTask{src(0, 0), cp},
			have: map[TaskID]runnerState{sourceTaskID(0): have(src(0, 0), StateRunning, true), cp.id: have(cp, StateRunning, true)}},
		{name: "a task given other partitions stops before its successor starts", wanted: []wantedTask{src(0, 5)},
			have: map[TaskID]runnerState{sourceTaskID(0): have(src(0, 0), StateRunning, true)},
			want: "source-0: stop start; "},
		{name: "a task that moved to another worker stops and goes", wanted: []wantedTask{src(0, 0)},
			have: map[TaskID]runnerState{sourceTaskID(0): have(src(0, 0), StateRunning, true), sourceTaskID(1): have(src(1, 1), StateRunning, true)},
			want: "source-1: stop remove; "},
		{name: "a failed task that is not wanted any more goes without a stop",
			have: map[TaskID]runnerState{sourceTaskID(1): have(src(1, 1), StateFailed, false)},
			want: "source-1: remove; "},
		{name: "a failed task stays failed", wanted: []wantedTask{src(0, 0)},
			have: map[TaskID]runnerState{sourceTaskID(0): have(src(0, 0), StateFailed, false)}},
		{name: "a failed task whose partitions change starts", wanted: []wantedTask{src(0, 1)},
			have: map[TaskID]runnerState{sourceTaskID(0): have(src(0, 0), StateFailed, false)},
			want: "source-0: start; "},
		{name: "a task that ended starts again", wanted: []wantedTask{src(0, 0)},
			have: map[TaskID]runnerState{sourceTaskID(0): have(src(0, 0), StateUnassigned, false)},
			want: "source-0: start; "},
		{name: "pausing stops running tasks and shows them paused", wanted: []wantedTask{paused(src(0, 0)), paused(cp)},
			have: map[TaskID]runnerState{sourceTaskID(0): have(src(0, 0), StateRunning, true), cp.id: have(cp, StateRunning, true)},
			want: "source-0: stop pause; checkpoint-0: stop pause; "},
		{name: "a paused task stays paused, a failed one failed", wanted: []wantedTask{paused(src(0, 0)), paused(src(1, 1))},
			have: map[TaskID]runnerState{sourceTaskID(0): have(src(0, 0), StatePaused, false), sourceTaskID(1): have(src(1, 1), StateFailed, false)}},
		{name: "a new task of a paused connector shows paused", wanted: []wantedTask{paused(src(0, 0))},
			want: "source-0: pause; "},
		{name: "a paused task given other partitions shows paused with them", wanted: []wantedTask{paused(src(0, 2))},
			have: map[TaskID]runnerState{sourceTaskID(0): have(src(0, 0), StatePaused, false)},
			want: "source-0: pause; "},
		{name: "resuming starts paused tasks, not failed ones", wanted: []wantedTask{src(0, 0), src(1, 1)},
			have: map[TaskID]runnerState{sourceTaskID(0): have(src(0, 0), StatePaused, false), sourceTaskID(1): have(src(1, 1), StateFailed, false)},
			want: "source-0: start; "},
		{name: "a restart of one task stops and starts it", wanted: []wantedTask{src(0, 0), src(1, 1)},
			have:     map[TaskID]runnerState{sourceTaskID(0): have(src(0, 0), StateRunning, true), sourceTaskID(1): have(src(1, 1), StateRunning, true)},
			restarts: [connKinds]restartRequest{sourceConnector: {tasks: []int{1}}},
			want:     "source-1: stop start; "},
		{name: "a restart of failed tasks starts only those", wanted: []wantedTask{src(0, 0), src(1, 1), cp},
			have: map[TaskID]runnerState{sourceTaskID(0): have(src(0, 0), StateRunning, true), sourceTaskID(1): have(src(1, 1), StateFailed, false),
				cp.id: have(cp, StateFailed, false)},
			restarts: [connKinds]restartRequest{sourceConnector: {all: true, onlyFailed: true}},
			want:     "source-1: start; "},
		{name: "a restart of a connector's every task", wanted: []wantedTask{src(0, 0), cp},
			have:     map[TaskID]runnerState{sourceTaskID(0): have(src(0, 0), StateRunning, true), cp.id: have(cp, StateFailed, false)},
			restarts: [connKinds]restartRequest{checkpointConnector: {all: true}},
			want:     "checkpoint-0: start; "},
		{name: "a paused task is not restarted", wanted: []wantedTask{paused(src(0, 0))},
			have:     map[TaskID]runnerState{sourceTaskID(0): have(src(0, 0), StatePaused, false)},
			restarts: [connKinds]restartRequest{sourceConnector: {all: true}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := show(planTasks(tt.wanted, tt.have, tt.restarts)); got != tt.want {
				t.Errorf("steps\n %s\nwant\n %s", got, tt.want)
			}
		})
	}
}

// fakeTask is a task driven by a test.
type fakeTask struct {
	runs    atomic.Int32
	run     func(ctx context.Context, n int32) error
	stopped chan struct{} // closed when a run returned; nil: not told
}

func (f *fakeTask) Run(ctx context.Context) error {
	n := f.runs.Add(1)
	err := f.run(ctx, n)
	if f.stopped != nil {
		close(f.stopped)
	}
	return err
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestRunner(task Task) *runner {
	return &runner{id: sourceTaskID(0), task: task, status: &taskStatus{state: StateUnassigned}, log: quietLog()}
}

// waitState polls r's state until it is want or the deadline passes.
func waitState(t *testing.T, r *runner, want string) error {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		state, err := r.status.get()
		if state == want {
			return err
		}
		if time.Now().After(deadline) {
			t.Fatalf("state %s (%v), want %s", state, err, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRunner(t *testing.T) {
	t.Run("a stopped task is unassigned", func(t *testing.T) {
		task := &fakeTask{run: func(ctx context.Context, _ int32) error { <-ctx.Done(); return nil }}
		r := newTestRunner(task)
		var wg sync.WaitGroup
		r.start(context.Background(), &wg)
		if state, _ := r.status.get(); state != StateRunning || !r.running() {
			t.Fatalf("started: %s, running %v", state, r.running())
		}
		r.stop()
		wg.Wait()
		if state, err := r.status.get(); state != StateUnassigned || err != nil || r.running() {
			t.Fatalf("stopped: %s %v, running %v", state, err, r.running())
		}
	})
	t.Run("a lasting failure fails the task at once", func(t *testing.T) {
		task := &fakeTask{run: func(context.Context, int32) error { return fmt.Errorf("produce: %w", kerr.TopicAuthorizationFailed) }}
		r := newTestRunner(task)
		var wg sync.WaitGroup
		r.start(context.Background(), &wg)
		wg.Wait()
		if err := waitState(t, r, StateFailed); !errors.Is(err, kerr.TopicAuthorizationFailed) {
			t.Fatalf("failed with %v", err)
		}
		if n := task.runs.Load(); n != 1 {
			t.Fatalf("ran %d times, want 1", n)
		}
	})
	t.Run("a passing failure runs the task again", func(t *testing.T) {
		task := &fakeTask{run: func(ctx context.Context, n int32) error {
			if n == 1 {
				return kerr.NotLeaderForPartition
			}
			<-ctx.Done()
			return nil
		}}
		r := newTestRunner(task)
		var wg sync.WaitGroup
		r.start(context.Background(), &wg)
		deadline := time.Now().Add(10 * time.Second)
		for task.runs.Load() < 2 {
			if time.Now().After(deadline) {
				t.Fatal("not run again after a passing failure")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if state, _ := r.status.get(); state != StateRunning {
			t.Fatalf("state %s after the second start, want RUNNING", state)
		}
		r.stop()
		wg.Wait()
	})
	t.Run("an unknown failure fails after the retries", func(t *testing.T) {
		task := &fakeTask{run: func(context.Context, int32) error { return errors.New("who knows") }}
		r := newTestRunner(task)
		var wg sync.WaitGroup
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r.start(ctx, &wg)
		// The retries wait 0.5 s, 1 s, 2 s.
		if err := waitState(t, r, StateFailed); err == nil || err.Error() != "who knows" {
			t.Fatalf("failed with %v", err)
		}
		if n := task.runs.Load(); n != unknownRetries+1 {
			t.Fatalf("ran %d times, want %d", n, unknownRetries+1)
		}
	})
	t.Run("a panic fails the task, not the worker", func(t *testing.T) {
		task := &fakeTask{run: func(context.Context, int32) error { panic("boom") }}
		r := newTestRunner(task)
		var wg sync.WaitGroup
		r.start(context.Background(), &wg)
		wg.Wait()
		err := waitState(t, r, StateFailed)
		var pe *PanicError
		if !errors.As(err, &pe) || pe.Value != "boom" || !strings.Contains(err.Error(), "source-0 panicked: boom") {
			t.Fatalf("failed with %v", err)
		}
		if n := task.runs.Load(); n != 1 {
			t.Fatalf("ran %d times, want 1 (a panic is not retried)", n)
		}
	})
	t.Run("a fenced task is unassigned and asks the group", func(t *testing.T) {
		task := &fakeTask{run: func(context.Context, int32) error { return kerr.InvalidProducerEpoch }}
		r := newTestRunner(task)
		asked := make(chan struct{})
		r.fenced = func() { close(asked) }
		var wg sync.WaitGroup
		r.start(context.Background(), &wg)
		wg.Wait()
		select {
		case <-asked:
		default:
			t.Fatal("the group was not asked")
		}
		if state, err := r.status.get(); state != StateUnassigned || err != nil {
			t.Fatalf("state %s %v, want UNASSIGNED", state, err)
		}
	})
	t.Run("stop waits for a task that hangs", func(t *testing.T) {
		release := make(chan struct{})
		task := &fakeTask{run: func(ctx context.Context, _ int32) error { <-ctx.Done(); <-release; return nil }, stopped: make(chan struct{})}
		r := newTestRunner(task)
		var wg sync.WaitGroup
		r.start(context.Background(), &wg)
		stopped := make(chan struct{})
		go func() { r.stop(); close(stopped) }() // joined below
		select {
		case <-stopped:
			t.Fatal("stop returned while the task still runs")
		case <-time.After(100 * time.Millisecond):
		}
		if state, _ := r.status.get(); state != StateRunning {
			t.Fatalf("state %s while stopping, want RUNNING", state)
		}
		close(release)
		<-stopped
		<-task.stopped
		wg.Wait()
	})
	t.Run("a runner never started stops at once", func(t *testing.T) {
		r := newTestRunner(&fakeTask{})
		r.stop()
		if r.running() {
			t.Fatal("running")
		}
	})
}

// TestTaskSetStatusDuringSlowStop: a task whose stop takes 5 s (a source
// task flushing its positions may take that long) holds up neither the
// status readers nor the other tasks' stops.
func TestTaskSetStatusDuringSlowStop(t *testing.T) {
	const slow = 5 * time.Second
	var set taskSet
	build := func(w wantedTask) *runner {
		task := &fakeTask{run: func(ctx context.Context, _ int32) error {
			<-ctx.Done()
			if w.id.index == 0 {
				time.Sleep(slow) // the flush of a stopping task
			}
			return nil
		}}
		return &runner{id: w.id, task: task, status: &taskStatus{state: StateUnassigned}, log: quietLog()}
	}
	ctx := context.Background()
	wanted := []wantedTask{{id: sourceTaskID(0)}, {id: sourceTaskID(1)}, {id: sourceTaskID(2)}}
	set.apply(ctx, planTasks(wanted, set.states(), noRestarts), build)
	if n := len(set.snapshot()); n != 3 {
		t.Fatalf("%d tasks, want 3", n)
	}
	began := time.Now()
	applied := make(chan struct{})
	go func() { // joined below
		defer close(applied)
		set.apply(ctx, planTasks(nil, set.states(), noRestarts), build)
	}()
	// The two fast tasks stop (in parallel with the slow one) while it
	// flushes, and every reader answers at once meanwhile.
	deadline := time.Now().Add(slow / 2)
	for {
		readBegan := time.Now()
		rs := set.snapshot()
		if d := time.Since(readBegan); d > 100*time.Millisecond {
			t.Fatalf("a status read took %v during a stop", d)
		}
		stopped := 0
		for _, r := range rs {
			if !r.running() {
				stopped++
			}
		}
		if stopped == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of the fast tasks stopped after %v", stopped, time.Since(began))
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case <-applied:
		t.Fatalf("apply returned after %v, before the slow task stopped", time.Since(began))
	default:
	}
	<-applied
	if d := time.Since(began); d < slow {
		t.Fatalf("apply returned after %v, before the slow task's %v", d, slow)
	}
	if n := len(set.snapshot()); n != 0 {
		t.Fatalf("%d tasks left, want 0", n)
	}
	set.stopAll()
}
