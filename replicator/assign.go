package replicator

import (
	"cmp"
	"slices"
)

// topicPartition is a partition of a source topic.
type topicPartition struct {
	Topic     string
	Partition int32
}

func (tp topicPartition) String() string { return tp.Topic + "/" + itoa(int64(tp.Partition)) }

// assignRoundRobin spreads partitions over at most tasksMax tasks as MM2's
// MirrorSourceConnector does: the i-th partition goes to task i mod n. The
// list is sorted by topic and partition first so that every worker computes
// the same assignment.
func assignRoundRobin(tps []topicPartition, tasksMax int) [][]topicPartition {
	sorted := slices.Clone(tps)
	slices.SortFunc(sorted, func(a, b topicPartition) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	n := min(tasksMax, len(sorted))
	tasks := make([][]topicPartition, n)
	for i, tp := range sorted {
		tasks[i%n] = append(tasks[i%n], tp)
	}
	return tasks
}
