package reach

import (
	"errors"
	"testing"
	"time"
)

func TestTracker(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	refused := errors.New("connection refused")
	timeout := errors.New("context deadline exceeded")
	// A probe sent at second s that ends a second later.
	ok := func(s int) Result { return Result{Sent: at(s), Done: at(s + 1)} }
	fail := func(s int, err error) Result { return Result{Sent: at(s), Done: at(s + 1), Err: err} }
	type step struct {
		r     Result
		event Event
		state Status
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"first answer: reachable, no event", []step{
			{ok(0), Event{}, Status{Reachable, at(1), nil}},
			{ok(2), Event{}, Status{Reachable, at(1), nil}},
		}},
		{"never answered: an outage from the first probe", []step{
			{fail(0, refused), Event{OutageStarted, at(0), 0, refused}, Status{Unreachable, at(0), refused}},
			{fail(2, timeout), Event{}, Status{Unreachable, at(0), timeout}},
		}},
		{"outage and its end", []step{
			{ok(0), Event{}, Status{Reachable, at(1), nil}},
			{fail(2, refused), Event{OutageStarted, at(2), 0, refused}, Status{Unreachable, at(2), refused}},
			{fail(3, refused), Event{}, Status{Unreachable, at(2), refused}},
			{fail(7, timeout), Event{}, Status{Unreachable, at(2), timeout}},
			{ok(12), Event{OutageEnded, at(2), 11 * time.Second, nil}, Status{Reachable, at(13), nil}},
			{ok(14), Event{}, Status{Reachable, at(13), nil}},
		}},
		{"outage at start ends", []step{
			{fail(0, refused), Event{OutageStarted, at(0), 0, refused}, Status{Unreachable, at(0), refused}},
			{ok(5), Event{OutageEnded, at(0), 6 * time.Second, nil}, Status{Reachable, at(6), nil}},
		}},
		{"two outages, each told once", []step{
			{ok(0), Event{}, Status{Reachable, at(1), nil}},
			{fail(1, refused), Event{OutageStarted, at(1), 0, refused}, Status{Unreachable, at(1), refused}},
			{ok(2), Event{OutageEnded, at(1), 2 * time.Second, nil}, Status{Reachable, at(3), nil}},
			{fail(4, timeout), Event{OutageStarted, at(4), 0, timeout}, Status{Unreachable, at(4), timeout}},
			{ok(9), Event{OutageEnded, at(4), 6 * time.Second, nil}, Status{Reachable, at(10), nil}},
		}},
		{"a clock that stepped back gives no negative duration", []step{
			{fail(10, refused), Event{OutageStarted, at(10), 0, refused}, Status{Unreachable, at(10), refused}},
			{Result{Sent: at(3), Done: at(4)}, Event{OutageEnded, at(10), 0, nil}, Status{Reachable, at(4), nil}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tr Tracker
			if st := tr.Status(); st != (Status{}) || st.State != Unknown {
				t.Fatalf("zero tracker: %+v, want Unknown", st)
			}
			for i, s := range tc.steps {
				if ev := tr.Observe(s.r); ev != s.event {
					t.Errorf("step %d: event %+v, want %+v", i, ev, s.event)
				}
				if st := tr.Status(); st != s.state {
					t.Errorf("step %d: status %+v, want %+v", i, st, s.state)
				}
			}
		})
	}
}

func TestUnreachableFor(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		st   Status
		now  time.Time
		want time.Duration
	}{
		{Status{}, t0, 0},
		{Status{State: Reachable, Since: t0}, t0.Add(time.Hour), 0},
		{Status{State: Unreachable, Since: t0}, t0.Add(90 * time.Second), 90 * time.Second},
		{Status{State: Unreachable, Since: t0}, t0.Add(-time.Second), 0},
	} {
		if got := tc.st.UnreachableFor(tc.now); got != tc.want {
			t.Errorf("%+v at %v: %v, want %v", tc.st, tc.now, got, tc.want)
		}
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{Unknown: "UNKNOWN", Reachable: "REACHABLE", Unreachable: "UNREACHABLE", State(9): "UNKNOWN"} {
		if got := s.String(); got != want {
			t.Errorf("State(%d): %q, want %q", s, got, want)
		}
	}
}
