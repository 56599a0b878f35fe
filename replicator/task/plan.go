package task

import (
	"maps"
	"slices"
)

// Wanted is a task a flow wants this worker to run (or, paused, to show
// paused).
type Wanted struct {
	ID         ID
	Partitions []TopicPartition // a source task's; nil for the others
	Paused     bool
}

// Digest is the digest of the task's config.
func (w Wanted) Digest() string { return Digest(w.Partitions) }

// State is what planning needs of a task's runner.
type State struct {
	Digest  string
	State   string
	Running bool
}

// Step is what reconciling does to one task: stop its runner (Stop), drop
// it (Remove: not wanted here any more), then run a new one (Start) or
// show a new one paused (Pause).
type Step struct {
	Want                       Wanted
	Stop, Remove, Start, Pause bool
}

// Plan compares the tasks wanted with the runners there are and returns
// the steps that bring them in line, as Connect's worker does:
//   - a task not wanted here any more is stopped;
//   - a task whose config (partitions) changed is stopped before its
//     successor starts;
//   - a task of a paused connector is stopped and shown PAUSED, unless it
//     failed (a failed task stays FAILED until restarted, even one that
//     failed while it was being paused);
//   - a restart (restart reports whether one covers a task in its state)
//     stops and starts a task that is not paused;
//   - a task that stopped or never ran is started, unless it failed.
//
// Steps come in the order of ids; removed tasks first.
func Plan(wanted []Wanted, have map[ID]State, restart func(id ID, state string) bool) []Step {
	var steps []Step
	wantIDs := map[ID]bool{}
	for _, w := range wanted {
		wantIDs[w.ID] = true
	}
	for _, id := range slices.SortedFunc(maps.Keys(have), ID.Compare) {
		if !wantIDs[id] {
			steps = append(steps, Step{Want: Wanted{ID: id}, Stop: have[id].Running, Remove: true})
		}
	}
	wanted = slices.SortedFunc(slices.Values(wanted), func(a, b Wanted) int { return a.ID.Compare(b.ID) })
	for _, w := range wanted {
		h, ok := have[w.ID]
		changed := !ok || h.Digest != w.Digest()
		again := ok && restart != nil && restart(w.ID, h.State)
		step := Step{Want: w}
		switch {
		case w.Paused:
			// A task that failed (even one still returning) stays
			// failed; one paused already stays as it is.
			step.Stop = ok && h.Running
			step.Pause = changed || h.State != Failed && h.State != Paused
		case changed:
			step.Stop, step.Start = ok && h.Running, true
		case again:
			step.Stop, step.Start = h.Running, true
		case h.Running, h.State == Failed:
			// Kept as it is.
		default:
			step.Start = true
		}
		if step.Stop || step.Start || step.Pause {
			steps = append(steps, step)
		}
	}
	return steps
}
