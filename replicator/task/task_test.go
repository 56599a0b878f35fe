package task

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

// spec is an id in JSON as the worker group sends it.
type spec struct {
	ID ID `json:"id"`
}

func TestIDText(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want ID
		err  string
	}{
		{in: "source-0", want: SourceID(0)},
		{in: "source-17", want: SourceID(17)},
		{in: "checkpoint-0", want: SingleID(Checkpoint)},
		{in: "heartbeat-0", want: SingleID(Heartbeat)},
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
			got, err := ParseID(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseID(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.err)
				}
				var id ID
				if err := json.Unmarshal([]byte(`"`+tt.in+`"`), &id); err == nil {
					t.Fatalf("JSON %q decoded to %v, want an error", tt.in, id)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseID(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if got.String() != tt.in {
				t.Fatalf("String() = %q, want %q", got.String(), tt.in)
			}
			// In the group's JSON, as a value and as a map key.
			b, err := json.Marshal(map[ID]spec{got: {ID: got}})
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf(`{%q:{"id":%q}}`, tt.in, tt.in); string(b) != want {
				t.Fatalf("JSON %s, want %s", b, want)
			}
			var back map[ID]spec
			if err := json.Unmarshal(b, &back); err != nil || back[got].ID != got {
				t.Fatalf("JSON round trip: %v, %v", back, err)
			}
		})
	}
	if _, err := json.Marshal(ID{Kind: Kinds}); err == nil {
		t.Error("an id of no connector marshals")
	}
	if _, err := json.Marshal(ID{Index: -1}); err == nil {
		t.Error("a negative index marshals")
	}
	for _, k := range []Kind{-1, Kinds} {
		if got := (ID{Kind: k, Index: 2}).String(); got != "unknown-2" {
			t.Errorf("String of an id of connector %d = %q", k, got)
		}
		if _, err := json.Marshal(ID{Kind: k}); err == nil {
			t.Errorf("an id of connector %d marshals", k)
		}
	}
	// The digest is compared between workers (of different versions,
	// during a rolling upgrade): its bytes are fixed.
	if got := Digest([]TopicPartition{{"orders", 3}, {"a.b", 10}}); got != "orders/3,a.b/10," {
		t.Errorf("Digest = %q", got)
	}
	if got := (TopicPartition{"orders", 3}).String(); got != "orders/3" {
		t.Errorf("TopicPartition.String = %q", got)
	}
	ids := []ID{SingleID(Heartbeat), SourceID(10), SingleID(Checkpoint), SourceID(2)}
	for i, a := range ids {
		for j, b := range ids {
			want := 0
			switch {
			case a.Kind != b.Kind:
				want = map[bool]int{true: -1, false: 1}[a.Kind < b.Kind]
			case a.Index != b.Index:
				want = map[bool]int{true: -1, false: 1}[a.Index < b.Index]
			}
			if got := a.Compare(b); got != want {
				t.Errorf("%v.Compare(%v) = %d, want %d (%d, %d)", a, b, got, want, i, j)
			}
		}
	}
}

// Restart requests for TestPlan.
func only(id ID) func(ID, string) bool   { return func(i ID, _ string) bool { return i == id } }
func allOf(k Kind) func(ID, string) bool { return func(i ID, _ string) bool { return i.Kind == k } }
func failedOf(k Kind) func(ID, string) bool {
	return func(i ID, state string) bool { return i.Kind == k && state == Failed }
}

func TestPlan(t *testing.T) {
	tp := func(p int32) []TopicPartition { return []TopicPartition{{"orders", p}} }
	src := func(i int, p int32) Wanted { return Wanted{ID: SourceID(i), Partitions: tp(p)} }
	paused := func(w Wanted) Wanted { w.Paused = true; return w }
	have := func(w Wanted, state string, running bool) State {
		return State{Digest: w.Digest(), State: state, Running: running}
	}
	cp := Wanted{ID: SingleID(Checkpoint)}
	show := func(steps []Step) string {
		var b strings.Builder
		for _, s := range steps {
			fmt.Fprintf(&b, "%v:", s.Want.ID)
			for _, f := range []struct {
				on   bool
				name string
			}{{s.Stop, "stop"}, {s.Remove, "remove"}, {s.Start, "start"}, {s.Pause, "pause"}} {
				if f.on {
					b.WriteString(" " + f.name)
				}
			}
			b.WriteString("; ")
		}
		return b.String()
	}
	for _, tt := range []struct {
		name    string
		wanted  []Wanted
		have    map[ID]State
		restart func(ID, string) bool
		want    string
	}{
		{name: "nothing", want: ""},
		{name: "new tasks start, in id order", wanted: []Wanted{cp, src(1, 1), src(0, 0)},
			want: "source-0: start; source-1: start; checkpoint-0: start; "},
		{name: "running tasks with the same partitions are kept", wanted: []Wanted{src(0, 0), cp},
			have: map[ID]State{SourceID(0): have(src(0, 0), Running, true), cp.ID: have(cp, Running, true)}},
		{name: "a task given other partitions stops before its successor starts", wanted: []Wanted{src(0, 5)},
			have: map[ID]State{SourceID(0): have(src(0, 0), Running, true)},
			want: "source-0: stop start; "},
		{name: "a task that moved to another worker stops and goes", wanted: []Wanted{src(0, 0)},
			have: map[ID]State{SourceID(0): have(src(0, 0), Running, true), SourceID(1): have(src(1, 1), Running, true)},
			want: "source-1: stop remove; "},
		{name: "a failed task that is not wanted any more goes without a stop",
			have: map[ID]State{SourceID(1): have(src(1, 1), Failed, false)},
			want: "source-1: remove; "},
		{name: "a failed task stays failed", wanted: []Wanted{src(0, 0)},
			have: map[ID]State{SourceID(0): have(src(0, 0), Failed, false)}},
		{name: "a failed task whose partitions change starts", wanted: []Wanted{src(0, 1)},
			have: map[ID]State{SourceID(0): have(src(0, 0), Failed, false)},
			want: "source-0: start; "},
		{name: "a task that ended starts again", wanted: []Wanted{src(0, 0)},
			have: map[ID]State{SourceID(0): have(src(0, 0), Unassigned, false)},
			want: "source-0: start; "},
		{name: "pausing stops running tasks and shows them paused", wanted: []Wanted{paused(src(0, 0)), paused(cp)},
			have: map[ID]State{SourceID(0): have(src(0, 0), Running, true), cp.ID: have(cp, Running, true)},
			want: "source-0: stop pause; checkpoint-0: stop pause; "},
		{name: "a task that failed as it was paused is stopped and stays failed", wanted: []Wanted{paused(src(0, 0))},
			have: map[ID]State{SourceID(0): have(src(0, 0), Failed, true)},
			want: "source-0: stop; "},
		{name: "a paused task stays paused, a failed one failed", wanted: []Wanted{paused(src(0, 0)), paused(src(1, 1))},
			have: map[ID]State{SourceID(0): have(src(0, 0), Paused, false), SourceID(1): have(src(1, 1), Failed, false)}},
		{name: "a new task of a paused connector shows paused", wanted: []Wanted{paused(src(0, 0))},
			want: "source-0: pause; "},
		{name: "a paused task given other partitions shows paused with them", wanted: []Wanted{paused(src(0, 2))},
			have: map[ID]State{SourceID(0): have(src(0, 0), Paused, false)},
			want: "source-0: pause; "},
		{name: "resuming starts paused tasks, not failed ones", wanted: []Wanted{src(0, 0), src(1, 1)},
			have: map[ID]State{SourceID(0): have(src(0, 0), Paused, false), SourceID(1): have(src(1, 1), Failed, false)},
			want: "source-0: start; "},
		{name: "a restart of one task stops and starts it", wanted: []Wanted{src(0, 0), src(1, 1)},
			have:    map[ID]State{SourceID(0): have(src(0, 0), Running, true), SourceID(1): have(src(1, 1), Running, true)},
			restart: only(SourceID(1)),
			want:    "source-1: stop start; "},
		{name: "a restart of failed tasks starts only those", wanted: []Wanted{src(0, 0), src(1, 1), cp},
			have: map[ID]State{SourceID(0): have(src(0, 0), Running, true), SourceID(1): have(src(1, 1), Failed, false),
				cp.ID: have(cp, Failed, false)},
			restart: failedOf(Source),
			want:    "source-1: start; "},
		{name: "a restart of a connector's every task", wanted: []Wanted{src(0, 0), cp},
			have:    map[ID]State{SourceID(0): have(src(0, 0), Running, true), cp.ID: have(cp, Failed, false)},
			restart: allOf(Checkpoint),
			want:    "checkpoint-0: start; "},
		{name: "a paused task is not restarted", wanted: []Wanted{paused(src(0, 0))},
			have:    map[ID]State{SourceID(0): have(src(0, 0), Paused, false)},
			restart: allOf(Source)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := show(Plan(tt.wanted, tt.have, tt.restart)); got != tt.want {
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

// testClassify sorts the failures TestRunner's tasks return.
func testClassify(err error) Failure {
	switch {
	case errors.Is(err, kerr.TopicAuthorizationFailed):
		return Lasting
	case errors.Is(err, kerr.NotLeaderForPartition):
		return Passing
	case errors.Is(err, kerr.InvalidProducerEpoch):
		return Fenced
	}
	return Unknown
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestRunner(task Task) *Runner {
	return &Runner{ID: SourceID(0), Task: task, Status: NewStatus(Unassigned), Log: quietLog(), Classify: testClassify}
}

// waitState polls r's state until it is want or the deadline passes.
func waitState(t *testing.T, r *Runner, want string) error {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		state, err := r.Status.Get()
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
		r.Start(context.Background(), &wg)
		if state, _ := r.Status.Get(); state != Running || !r.Running() {
			t.Fatalf("started: %s, running %v", state, r.Running())
		}
		r.Stop()
		wg.Wait()
		if state, err := r.Status.Get(); state != Unassigned || err != nil || r.Running() {
			t.Fatalf("stopped: %s %v, running %v", state, err, r.Running())
		}
	})
	t.Run("a lasting failure fails the task at once", func(t *testing.T) {
		task := &fakeTask{run: func(context.Context, int32) error { return fmt.Errorf("produce: %w", kerr.TopicAuthorizationFailed) }}
		r := newTestRunner(task)
		var wg sync.WaitGroup
		r.Start(context.Background(), &wg)
		wg.Wait()
		if err := waitState(t, r, Failed); !errors.Is(err, kerr.TopicAuthorizationFailed) {
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
		r.Start(context.Background(), &wg)
		deadline := time.Now().Add(10 * time.Second)
		for task.runs.Load() < 2 {
			if time.Now().After(deadline) {
				t.Fatal("not run again after a passing failure")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if state, _ := r.Status.Get(); state != Running {
			t.Fatalf("state %s after the second start, want RUNNING", state)
		}
		r.Stop()
		wg.Wait()
	})
	t.Run("an unknown failure fails after the retries", func(t *testing.T) {
		task := &fakeTask{run: func(context.Context, int32) error { return errors.New("who knows") }}
		r := newTestRunner(task)
		var wg sync.WaitGroup
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r.Start(ctx, &wg)
		// The retries wait 0.5 s, 1 s, 2 s.
		if err := waitState(t, r, Failed); err == nil || err.Error() != "who knows" {
			t.Fatalf("failed with %v", err)
		}
		if n := task.runs.Load(); n != UnknownRetries+1 {
			t.Fatalf("ran %d times, want %d", n, UnknownRetries+1)
		}
	})
	t.Run("a panic fails the task, not the worker", func(t *testing.T) {
		task := &fakeTask{run: func(context.Context, int32) error { panic("boom") }}
		r := newTestRunner(task)
		var wg sync.WaitGroup
		r.Start(context.Background(), &wg)
		wg.Wait()
		err := waitState(t, r, Failed)
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
		r.Fenced = func() { close(asked) }
		var wg sync.WaitGroup
		r.Start(context.Background(), &wg)
		wg.Wait()
		select {
		case <-asked:
		default:
			t.Fatal("the group was not asked")
		}
		if state, err := r.Status.Get(); state != Unassigned || err != nil {
			t.Fatalf("state %s %v, want UNASSIGNED", state, err)
		}
	})
	t.Run("stop waits for a task that hangs", func(t *testing.T) {
		release := make(chan struct{})
		task := &fakeTask{run: func(ctx context.Context, _ int32) error { <-ctx.Done(); <-release; return nil }, stopped: make(chan struct{})}
		r := newTestRunner(task)
		var wg sync.WaitGroup
		r.Start(context.Background(), &wg)
		stopped := make(chan struct{})
		go func() { r.Stop(); close(stopped) }() // joined below
		select {
		case <-stopped:
			t.Fatal("stop returned while the task still runs")
		case <-time.After(100 * time.Millisecond):
		}
		if state, _ := r.Status.Get(); state != Running {
			t.Fatalf("state %s while stopping, want RUNNING", state)
		}
		close(release)
		<-stopped
		<-task.stopped
		wg.Wait()
	})
	t.Run("a runner never started stops at once", func(t *testing.T) {
		r := newTestRunner(&fakeTask{})
		r.Stop()
		if r.Running() {
			t.Fatal("running")
		}
	})
}

// TestTaskSetStatusDuringSlowStop: a task whose stop takes 5 s (a source
// task flushing its positions may take that long) holds up neither the
// status readers nor the other tasks' stops.
func TestSetStatusDuringSlowStop(t *testing.T) {
	const slow = 5 * time.Second
	var set Set
	build := func(w Wanted) *Runner {
		task := &fakeTask{run: func(ctx context.Context, _ int32) error {
			<-ctx.Done()
			if w.ID.Index == 0 {
				time.Sleep(slow) // the flush of a stopping task
			}
			return nil
		}}
		return &Runner{ID: w.ID, Task: task, Status: NewStatus(Unassigned), Log: quietLog()}
	}
	ctx := context.Background()
	wanted := []Wanted{{ID: SourceID(0)}, {ID: SourceID(1)}, {ID: SourceID(2)}}
	set.Apply(ctx, Plan(wanted, set.States(), nil), build)
	if n := len(set.Snapshot()); n != 3 {
		t.Fatalf("%d tasks, want 3", n)
	}
	began := time.Now()
	applied := make(chan struct{})
	go func() { // joined below
		defer close(applied)
		set.Apply(ctx, Plan(nil, set.States(), nil), build)
	}()
	// The two fast tasks stop (in parallel with the slow one) while it
	// flushes, and every reader answers at once meanwhile.
	deadline := time.Now().Add(slow / 2)
	for {
		readBegan := time.Now()
		rs := set.Snapshot()
		if d := time.Since(readBegan); d > 100*time.Millisecond {
			t.Fatalf("a status read took %v during a stop", d)
		}
		stopped := 0
		for _, r := range rs {
			if !r.Running() {
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
	if n := len(set.Snapshot()); n != 0 {
		t.Fatalf("%d tasks left, want 0", n)
	}
	set.StopAll()
}
