package replicator

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"
	"slices"
	"sync"
	"time"
)

// Task is one unit of a connector's work, as Kafka Connect runs it: Run
// works until ctx is done and then returns nil, or returns why it failed.
// Source, checkpoint and heartbeat tasks all run through one runner.
type Task interface {
	Run(ctx context.Context) error
}

// TaskFunc adapts a function to Task.
type TaskFunc func(ctx context.Context) error

// Run implements Task.
func (f TaskFunc) Run(ctx context.Context) error { return f(ctx) }

// PanicError is the failure of a task that panicked; the task fails (a
// panic is a bug, running again would meet it again) and the worker goes
// on.
type PanicError struct {
	Task  string
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("task %s panicked: %v\n%s", e.Task, e.Value, e.Stack)
}

// runner runs one task: it starts it, runs it again after a passing
// failure (after a growing pause), stops it and keeps its state as Connect
// reports it. A runner runs its task at most once: a task started again
// (restarted, or with new partitions) gets a new runner.
type runner struct {
	id     TaskID
	digest string // the config the task runs with: its partitions
	task   Task
	status *taskStatus
	log    *slog.Logger // names the task
	// started is logged with "starting task".
	started []any
	// fenced, if set, is told that another worker fenced the task: the
	// group no longer has this worker run it.
	fenced func()

	mu     sync.Mutex
	cancel context.CancelFunc // guarded by mu; nil before start
	done   chan struct{}      // guarded by mu; nil before start, closed when the task returned
}

// start runs the task in wg until ctx is done or stop is called.
func (r *runner) start(ctx context.Context, wg *sync.WaitGroup) {
	tctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	r.mu.Lock()
	r.cancel, r.done = cancel, done
	r.mu.Unlock()
	r.status.set(StateRunning, nil)
	r.log.Info("starting task", r.started...)
	wg.Go(func() {
		defer close(done)
		err := r.runRetrying(tctx)
		switch {
		case fenced(err) && tctx.Err() == nil:
			// Another worker of the group started this task (this worker
			// was expelled, or the group was split): it is not ours any
			// more; the group says what is.
			r.status.set(StateUnassigned, nil)
			r.log.Warn("task fenced by another worker running it; asking the group for a new assignment", "err", err)
			if r.fenced != nil {
				r.fenced()
			}
		case err != nil:
			r.status.set(StateFailed, err)
			r.log.Error("task failed", "err", err)
		default:
			r.status.set(StateUnassigned, nil)
		}
	})
}

// running reports whether the task was started and has not returned.
func (r *runner) running() bool {
	r.mu.Lock()
	done := r.done
	r.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// stopWarnEvery is how often a stop that takes long is logged.
const stopWarnEvery = 10 * time.Second

// stop asks the task to stop and waits until it returned. A task that
// does not stop is waited for (it may still write: nobody else may start
// it meanwhile), with a warning every stopWarnEvery.
func (r *runner) stop() {
	r.mu.Lock()
	cancel, done := r.cancel, r.done
	r.mu.Unlock()
	if done == nil {
		return
	}
	cancel()
	began := time.Now()
	warn := time.NewTicker(stopWarnEvery)
	defer warn.Stop()
	for {
		select {
		case <-done:
			return
		case <-warn.C:
			r.log.Warn("task has not stopped yet; still waiting for it", "waited", time.Since(began).Round(time.Second))
		}
	}
}

// runRetrying runs the task until ctx is done, starting it again (from its
// stored positions, after a growing pause) when it fails for a passing
// reason, and up to unknownRetries times in a row for a reason not known
// either way (an admin request that timed out on every broker, say). It
// returns the first failure that is known to last (fenced, refused records
// or access, lost data, a panic) or that outlived those retries.
func (r *runner) runRetrying(ctx context.Context) error {
	backoff := retryBackoffMin
	unknown := 0
	for {
		began := time.Now()
		err := r.runOnce(ctx)
		if ctx.Err() != nil && !fenced(err) {
			return nil // stopped, whatever the interrupted step said
		}
		if err == nil || lasting(err) {
			return err
		}
		if time.Since(began) > time.Minute {
			backoff, unknown = retryBackoffMin, 0
		}
		if !retriable(err) {
			if unknown++; unknown > unknownRetries {
				return err
			}
		}
		r.log.Warn("task failed; starting it again from its stored positions", "in", backoff, "err", err)
		r.status.set(StateRunning, nil)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, retryBackoffMax)
	}
}

// runOnce runs the task once, turning a panic into a PanicError.
func (r *runner) runOnce(ctx context.Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Task: r.id.String(), Value: v, Stack: debug.Stack()}
		}
	}()
	return r.task.Run(ctx)
}

// wantedTask is a task a flow wants this worker to run (or, paused, to
// show paused).
type wantedTask struct {
	id         TaskID
	partitions []topicPartition // a source task's; nil for the others
	paused     bool
}

func (w wantedTask) digest() string { return taskSpec{Partitions: w.partitions}.digest() }

// runnerState is what planning needs of a task's runner.
type runnerState struct {
	digest  string
	state   string
	running bool
}

// taskStep is what reconciling does to one task: stop its runner (stop),
// drop it (remove: not wanted here any more), then run a new one (start)
// or show a new one paused (pause).
type taskStep struct {
	want                       wantedTask
	stop, remove, start, pause bool
}

// planTasks compares the tasks wanted with the runners there are and
// returns the steps that bring them in line, as Connect's worker does:
//   - a task not wanted here any more is stopped;
//   - a task whose config (partitions) changed is stopped before its
//     successor starts;
//   - a task of a paused connector is stopped and shown PAUSED, unless it
//     failed (a failed task stays FAILED until restarted);
//   - a restart request stops and starts a task that is not paused;
//   - a task that stopped or never ran is started, unless it failed.
//
// Steps come in the order of ids; removed tasks first.
func planTasks(wanted []wantedTask, have map[TaskID]runnerState, restarts [connKinds]restartRequest) []taskStep {
	var steps []taskStep
	wantIDs := map[TaskID]bool{}
	for _, w := range wanted {
		wantIDs[w.id] = true
	}
	for _, id := range slices.SortedFunc(maps.Keys(have), TaskID.compare) {
		if !wantIDs[id] {
			steps = append(steps, taskStep{want: wantedTask{id: id}, stop: have[id].running, remove: true})
		}
	}
	wanted = slices.SortedFunc(slices.Values(wanted), func(a, b wantedTask) int { return a.id.compare(b.id) })
	for _, w := range wanted {
		h, ok := have[w.id]
		changed := !ok || h.digest != w.digest()
		restart := ok && restarts[w.id.kind].wants(w.id.index, h.state)
		step := taskStep{want: w}
		switch {
		case w.paused:
			step.stop = ok && h.running
			step.pause = changed || step.stop || h.state != StateFailed && h.state != StatePaused
		case changed:
			step.stop, step.start = ok && h.running, true
		case restart:
			step.stop, step.start = h.running, true
		case h.running, h.state == StateFailed:
			continue
		default:
			step.start = true
		}
		if step.stop || step.start || step.pause {
			steps = append(steps, step)
		}
	}
	return steps
}

// taskSet is the tasks this worker runs for one flow. Its apply, called
// only by the flow's reconcile step, is what starts and stops them; status
// readers take its lock only to copy the runners, never while a task
// stops.
type taskSet struct {
	wg sync.WaitGroup

	mu   sync.Mutex
	runs map[TaskID]*runner // guarded by mu
}

// snapshot returns the runners, ordered by id.
func (s *taskSet) snapshot() []*runner {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Collect(maps.Values(s.runs))
	slices.SortFunc(out, func(a, b *runner) int { return a.id.compare(b.id) })
	return out
}

// get returns the runner of task id, or nil.
func (s *taskSet) get(id TaskID) *runner {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runs[id]
}

// states returns what planTasks needs of every runner.
func (s *taskSet) states() map[TaskID]runnerState {
	out := map[TaskID]runnerState{}
	for _, r := range s.snapshot() {
		state, _ := r.status.get()
		out[r.id] = runnerState{digest: r.digest, state: state, running: r.running()}
	}
	return out
}

// apply carries out steps: every task to stop stops at once (in parallel,
// without the lock), then the new runners start or show paused. build
// makes a task's runner; a nil runner leaves the task out.
func (s *taskSet) apply(ctx context.Context, steps []taskStep, build func(wantedTask) *runner) {
	var stopping []*runner
	s.mu.Lock()
	for _, st := range steps {
		if r := s.runs[st.want.id]; r != nil && st.stop {
			stopping = append(stopping, r)
		}
	}
	s.mu.Unlock()
	stopAll(stopping)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runs == nil {
		s.runs = map[TaskID]*runner{}
	}
	for _, st := range steps {
		switch {
		case st.remove:
			delete(s.runs, st.want.id)
		case st.start, st.pause:
			r := build(st.want)
			if r == nil {
				delete(s.runs, st.want.id)
				continue
			}
			s.runs[st.want.id] = r
			if st.start {
				r.start(ctx, &s.wg)
			} else {
				r.status.set(StatePaused, nil)
			}
		}
	}
}

// stopIDs stops and drops the tasks ids (the reconcile step starts them
// again).
func (s *taskSet) stopIDs(ids []TaskID) {
	steps := make([]taskStep, len(ids))
	for i, id := range ids {
		steps[i] = taskStep{want: wantedTask{id: id}, stop: true, remove: true}
	}
	s.apply(context.Background(), steps, nil)
}

// stopAll stops every task and waits for them all.
func (s *taskSet) stopAll() {
	stopAll(s.snapshot())
	s.wg.Wait()
}

// stopAll stops rs in parallel and returns once all stopped.
func stopAll(rs []*runner) {
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Go(r.stop)
	}
	wg.Wait()
}
