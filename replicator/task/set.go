package task

import (
	"context"
	"maps"
	"slices"
	"sync"
)

// Set is the tasks a worker runs for one flow. Its Apply, called only by
// the flow's reconcile step, is what starts and stops them; status readers
// take its lock only to copy the runners, never while a task stops. The
// zero Set is empty and ready.
type Set struct {
	wg sync.WaitGroup

	mu   sync.Mutex
	runs map[ID]*Runner // guarded by mu
}

// Snapshot returns the runners, ordered by id.
func (s *Set) Snapshot() []*Runner {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Collect(maps.Values(s.runs))
	slices.SortFunc(out, func(a, b *Runner) int { return a.ID.Compare(b.ID) })
	return out
}

// Get returns the runner of task id, or nil.
func (s *Set) Get(id ID) *Runner {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runs[id]
}

// States returns what Plan needs of every runner.
func (s *Set) States() map[ID]State {
	out := map[ID]State{}
	for _, r := range s.Snapshot() {
		state, _ := r.Status.Get()
		out[r.ID] = State{Digest: r.Digest, State: state, Running: r.Running()}
	}
	return out
}

// Apply carries out steps: every task to stop stops at once (in parallel,
// without the lock), then the new runners start (with ctx) or show paused.
// build makes a task's runner; a nil runner leaves the task out.
func (s *Set) Apply(ctx context.Context, steps []Step, build func(Wanted) *Runner) {
	var stopping []*Runner
	s.mu.Lock()
	for _, st := range steps {
		if r := s.runs[st.Want.ID]; r != nil && st.Stop {
			stopping = append(stopping, r)
		}
	}
	s.mu.Unlock()
	stopAll(stopping)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runs == nil {
		s.runs = map[ID]*Runner{}
	}
	for _, st := range steps {
		switch {
		case st.Remove:
			delete(s.runs, st.Want.ID)
		case st.Start, st.Pause:
			r := build(st.Want)
			if r == nil {
				delete(s.runs, st.Want.ID)
				continue
			}
			s.runs[st.Want.ID] = r
			if st.Start {
				r.Start(ctx, &s.wg)
			} else {
				r.Status.Set(Paused, nil)
			}
		}
	}
}

// StopIDs stops and drops the tasks ids (the reconcile step starts them
// again).
func (s *Set) StopIDs(ids []ID) {
	steps := make([]Step, len(ids))
	for i, id := range ids {
		steps[i] = Step{Want: Wanted{ID: id}, Stop: true, Remove: true}
	}
	s.Apply(context.Background(), steps, nil)
}

// StopAll stops every task and waits for them all.
func (s *Set) StopAll() {
	stopAll(s.Snapshot())
	s.wg.Wait()
}

// stopAll stops rs in parallel and returns once all stopped.
func stopAll(rs []*Runner) {
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Go(r.Stop)
	}
	wg.Wait()
}
