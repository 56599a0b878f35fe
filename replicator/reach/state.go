package reach

import "time"

// State is whether a cluster answers its probes.
type State int

const (
	// Unknown: no probe has ended yet.
	Unknown State = iota
	// Reachable: the last probe was answered.
	Reachable
	// Unreachable: the probes since the outage started failed.
	Unreachable
)

func (s State) String() string {
	switch s {
	case Reachable:
		return "REACHABLE"
	case Unreachable:
		return "UNREACHABLE"
	}
	return "UNKNOWN"
}

// Result is the outcome of one probe.
type Result struct {
	Sent time.Time // when the request was sent
	Done time.Time // when it was answered or failed
	Err  error     // nil: the cluster answered
}

// Status is a cluster's reachability after the results seen so far.
type Status struct {
	State State
	// Since is when State began: for Unreachable, the start of the
	// outage (when its first failed probe was sent); for Reachable, when
	// the cluster first answered or the last outage ended. Zero while
	// Unknown.
	Since time.Time
	// Err is why the last probe failed, while Unreachable.
	Err error
}

// UnreachableFor is how long the outage has lasted at now; 0 unless
// Unreachable.
func (s Status) UnreachableFor(now time.Time) time.Duration {
	if s.State != Unreachable {
		return 0
	}
	return max(now.Sub(s.Since), 0)
}

// EventKind says what a result changed.
type EventKind int

const (
	// NoEvent: the state stayed, or the cluster answered its first probe.
	NoEvent EventKind = iota
	// OutageStarted: the cluster stopped answering (or never answered).
	OutageStarted
	// OutageEnded: the cluster answered again.
	OutageEnded
)

// Event is a change an operator is told about.
type Event struct {
	Kind     EventKind
	Start    time.Time     // the outage's start
	Duration time.Duration // OutageEnded: how long the outage lasted
	Err      error         // OutageStarted: why the probe failed
}

// Tracker folds a cluster's probe results, in the order the probes were
// sent, into its Status. The zero value is Unknown. It is not safe for
// concurrent use.
type Tracker struct {
	st Status
}

// Status returns the state after the results observed so far.
func (t *Tracker) Status() Status { return t.st }

// Observe records one probe's result and returns the event it makes: an
// outage starts with the first failed probe (at the time it was sent) and
// ends with the first answered one (at the time of the answer).
func (t *Tracker) Observe(r Result) Event {
	prev := t.st
	if r.Err != nil {
		t.st.Err = r.Err
		if prev.State == Unreachable {
			return Event{}
		}
		t.st.State, t.st.Since = Unreachable, r.Sent
		return Event{Kind: OutageStarted, Start: r.Sent, Err: r.Err}
	}
	t.st.Err = nil
	if prev.State == Reachable {
		return Event{}
	}
	t.st.State, t.st.Since = Reachable, r.Done
	if prev.State == Unknown {
		return Event{}
	}
	return Event{Kind: OutageEnded, Start: prev.Since, Duration: max(r.Done.Sub(prev.Since), 0)}
}
