package replicator

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"
)

// resetRecreated starts the copy of each recreated source topic over: the
// tasks of this worker that copy it stop, its positions (the old topic's)
// are replaced by "nothing copied yet", and reconcileTasks starts the tasks
// again from the new topic's start.
func (f *flow) resetRecreated(ctx context.Context) {
	recreated := f.topics.Recreated()
	if len(recreated) == 0 {
		return
	}
	topics := make(map[string]bool, len(recreated))
	for _, t := range recreated {
		topics[t] = true
	}
	positions := map[topicPartition]int64{}
	var hit []TaskID
	for _, t := range f.sourceRuns() {
		for _, tp := range t.tps {
			if topics[tp.Topic] {
				positions[tp] = -1
				if !slices.Contains(hit, sourceTaskID(t.index)) {
					hit = append(hit, sourceTaskID(t.index))
				}
			}
		}
	}
	// Stopped and dropped: reconcileTasks starts them again, failed or not.
	f.tasks.StopIDs(hit)
	if len(positions) == 0 {
		return
	}
	cl, err := kgo.NewClient(append(slices.Clone(f.tgtOpts), kgo.RecordPartitioner(partitioner(f.offsets.Topic())))...)
	if err == nil {
		defer cl.Close()
		err = f.offsets.Write(ctx, cl, positions)
	}
	if err != nil {
		f.log.Error("resetting the positions of a recreated source topic failed; its copy may skip the new topic's first records", "err", err)
	}
}
