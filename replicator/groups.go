package replicator

import (
	"fmt"
	"time"

	"github.com/strait-replicator/strait/checkpoint"
)

// GroupView is a consumer group as the checkpoint task this worker runs
// for a flow sees it: what it checkpointed, and whether the group could
// fail over to the flow's target now.
type GroupView struct {
	Flow       string
	Group      string
	Partitions int       // partitions checkpointed
	Newest     time.Time // when its newest checkpoint was written
	Oldest     time.Time // when its oldest was written
	// Ready says strait failover would accept the group's checkpoints
	// (none older than checkpoint.DefaultMaxAge: the checkpoint task
	// rewrites those of an idle group every minute); Reason says why not.
	Ready  bool
	Reason string
}

// Groups reports the consumer groups of the checkpoint tasks this worker
// runs, as of now.
func (w *Worker) Groups(now time.Time) []GroupView {
	var out []GroupView
	for _, f := range w.flows {
		r := f.tasks.Get(singleTaskID(checkpointConnector))
		if r == nil {
			continue
		}
		t, ok := r.Task.(*checkpoint.Task)
		if !ok {
			continue
		}
		for _, g := range t.Checkpointed() {
			v := GroupView{Flow: f.name, Group: g.Group, Partitions: g.Partitions, Newest: g.Newest, Oldest: g.Oldest, Ready: true}
			if age := now.Sub(g.Oldest); age > checkpoint.DefaultMaxAge {
				v.Ready = false
				v.Reason = fmt.Sprintf("a checkpoint is %s old, more than %s: the checkpoint flow looks stopped (strait failover refuses)",
					age.Round(time.Second), checkpoint.DefaultMaxAge)
			}
			out = append(out, v)
		}
	}
	return out
}
