package task

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// Task is one unit of a connector's work, as Kafka Connect runs it: Run
// works until ctx is done and then returns nil, or returns why it failed.
// Source, checkpoint and heartbeat tasks all run through one Runner.
type Task interface {
	Run(ctx context.Context) error
}

// Failure sorts why a run of a task failed.
type Failure int

const (
	// Unknown: not known to pass or to last; the task runs again a few
	// times in a row (UnknownRetries), then fails.
	Unknown Failure = iota
	// Passing: a broker, a connection; the task runs again.
	Passing
	// Lasting: the data, permissions, lost records; the task fails.
	Lasting
	// Fenced: another worker runs the task now; it stops, unassigned.
	Fenced
)

// Classifier sorts failures; the worker knows its errors.
type Classifier func(error) Failure

// Backoff between runs of a task that failed for a passing reason, and how
// many times in a row a task runs again after a failure of unknown kind.
const (
	RetryBackoffMin = 500 * time.Millisecond
	RetryBackoffMax = 30 * time.Second
	UnknownRetries  = 3
)

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

// Runner runs one task: it starts it, runs it again after a passing
// failure (after a growing pause), stops it and keeps its state as Connect
// reports it. A Runner runs its task at most once: a task started again
// (restarted, or with new partitions) gets a new Runner. Set the exported
// fields before Start.
type Runner struct {
	ID     ID
	Digest string // the config the task runs with: its partitions
	Task   Task
	Status *Status
	Log    *slog.Logger // names the task
	// Started is logged with "starting task".
	Started []any
	// Classify sorts the task's failures; nil takes every one as Unknown.
	// A panic is always Lasting.
	Classify Classifier
	// Fenced, if set, is told that another worker fenced the task: the
	// group no longer has this worker run it.
	Fenced func()

	mu     sync.Mutex
	cancel context.CancelFunc // guarded by mu; nil before start
	done   chan struct{}      // guarded by mu; nil before start, closed when the task returned
}

// start runs the task in wg until ctx is done or stop is called.
func (r *Runner) Start(ctx context.Context, wg *sync.WaitGroup) {
	tctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	r.mu.Lock()
	r.cancel, r.done = cancel, done
	r.mu.Unlock()
	r.Status.Set(Running, nil)
	r.Log.Info("starting task", r.Started...)
	wg.Go(func() {
		defer close(done)
		err := r.runRetrying(tctx)
		switch {
		case r.classify(err) == Fenced && tctx.Err() == nil:
			// Another worker of the group started this task (this worker
			// was expelled, or the group was split): it is not ours any
			// more; the group says what is.
			r.Status.Set(Unassigned, nil)
			r.Log.Warn("task fenced by another worker running it; asking the group for a new assignment", "err", err)
			if r.Fenced != nil {
				r.Fenced()
			}
		case err != nil:
			r.Status.Set(Failed, err)
			r.Log.Error("task failed", "err", err)
		default:
			r.Status.Set(Unassigned, nil)
		}
	})
}

// Running reports whether the task was started and has not returned.
func (r *Runner) Running() bool {
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

// Stop asks the task to stop and waits until it returned. A task that
// does not stop is waited for (it may still write: nobody else may start
// it meanwhile), with a warning every stopWarnEvery.
func (r *Runner) Stop() {
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
			r.Log.Warn("task has not stopped yet; still waiting for it", "waited", time.Since(began).Round(time.Second))
		}
	}
}

// runRetrying runs the task until ctx is done, starting it again (from its
// stored positions, after a growing pause) when it fails for a passing
// reason, and up to unknownRetries times in a row for a reason not known
// either way (an admin request that timed out on every broker, say). It
// returns the first failure that is known to last (fenced, refused records
// or access, lost data, a panic) or that outlived those retries.
func (r *Runner) runRetrying(ctx context.Context) error {
	backoff := RetryBackoffMin
	unknown := 0
	for {
		began := time.Now()
		err := r.runOnce(ctx)
		kind := r.classify(err)
		if ctx.Err() != nil && kind != Fenced {
			return nil // stopped, whatever the interrupted step said
		}
		if err == nil || kind == Lasting || kind == Fenced {
			return err
		}
		if time.Since(began) > time.Minute {
			backoff, unknown = RetryBackoffMin, 0
		}
		if kind == Unknown {
			if unknown++; unknown > UnknownRetries {
				return err
			}
		}
		r.Log.Warn("task failed; starting it again from its stored positions", "in", backoff, "err", err)
		r.Status.Set(Running, nil)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, RetryBackoffMax)
	}
}

// classify sorts err: a panic lasts, the rest is what Classify says.
func (r *Runner) classify(err error) Failure {
	var panicked *PanicError
	switch {
	case err == nil:
		return Unknown
	case errors.As(err, &panicked):
		return Lasting
	case r.Classify == nil:
		return Unknown
	}
	return r.Classify(err)
}

// runOnce runs the task once, turning a panic into a PanicError.
func (r *Runner) runOnce(ctx context.Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Task: r.ID.String(), Value: v, Stack: debug.Stack()}
		}
	}()
	return r.Task.Run(ctx)
}
