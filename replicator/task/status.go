package task

import (
	"sync"
	"sync/atomic"
)

// Task and connector states, as Kafka Connect names them.
const (
	Running    = "RUNNING"
	Failed     = "FAILED"
	Unassigned = "UNASSIGNED"
	Paused     = "PAUSED"
)

// Status is a task's state as the worker reports it, and its counts.
type Status struct {
	Copied     atomic.Int64 // records acknowledged by the target since the task started
	Lost       atomic.Int64 // records found deleted on the source and skipped
	Duplicates atomic.Int64 // records copied again after a restart

	mu    sync.Mutex
	state string // guarded by mu
	err   error  // guarded by mu

	// OnChange, if set before the task runs, is told every change of
	// state (to write it to the status topic).
	OnChange func(state string, err error)
}

// NewStatus is a status in state.
func NewStatus(state string) *Status { return &Status{state: state} }

// Set changes the state; OnChange hears of a change.
func (s *Status) Set(state string, err error) {
	s.mu.Lock()
	changed := s.state != state || s.err != err
	s.state, s.err = state, err
	s.mu.Unlock()
	if changed && s.OnChange != nil {
		s.OnChange(state, err)
	}
}

// Get returns the state and, for a failed task, why.
func (s *Status) Get() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state, s.err
}
