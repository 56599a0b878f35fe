package replicator

import (
	"cmp"
	"math"
	"slices"
)

// assignRoundRobin spreads partitions over at most tasksMax tasks as MM2's
// MirrorSourceConnector does: the i-th partition goes to task i mod n. The
// list is sorted by topic and partition first so that every worker computes
// the same assignment.
func assignRoundRobin(tps []topicPartition, tasksMax int) [][]topicPartition {
	sorted := sortedPartitions(tps)
	n := min(tasksMax, len(sorted))
	tasks := make([][]topicPartition, n)
	for i := range tasks {
		tasks[i] = make([]topicPartition, 0, len(sorted)/n+1)
	}
	for i, tp := range sorted {
		tasks[i%n] = append(tasks[i%n], tp)
	}
	return tasks
}

// sortedPartitions returns tps sorted by topic and partition: tps itself
// when it is (a refresh lists them so: checking costs a tenth of sorting
// tens of thousands), else a sorted copy.
func sortedPartitions(tps []topicPartition) []topicPartition {
	if slices.IsSortedFunc(tps, compareTP) {
		return tps
	}
	sorted := slices.Clone(tps)
	slices.SortFunc(sorted, compareTP)
	return sorted
}

func compareTP(a, b topicPartition) int {
	return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
}

// Load-aware assignment moves partitions only while the busiest task
// carries more than loadSkew times its fair share (total load / tasks) and
// more than (1 + minLoadGain) times the largest single partition's load
// (which no assignment can split).
const (
	loadSkew    = 1.25
	minLoadGain = 0.10
)

// assignByLoad spreads partitions over at most tasksMax tasks by load
// (bytes/s per partition, measured). It keeps current, with gone
// partitions dropped and new ones given to the least loaded task, then
// moves partitions from the busiest task to the least loaded one, each
// time the one that evens the pair best, while the busiest is well over
// its share: one move at a time, so that a rebalance moves few
// partitions. Without current tasks (or with a different number of them)
// it is assignRoundRobin. Each task's partitions are sorted.
func assignByLoad(tps []topicPartition, tasksMax int, load map[topicPartition]float64, current [][]topicPartition) [][]topicPartition {
	sorted := sortedPartitions(tps)
	n := min(tasksMax, len(sorted))
	if n == 0 {
		return nil
	}
	if len(current) != n {
		return assignRoundRobin(sorted, tasksMax)
	}
	present := make(map[topicPartition]bool, len(sorted))
	var total, largest float64
	for _, tp := range sorted {
		present[tp] = true
		total += load[tp]
		largest = max(largest, load[tp])
	}
	tasks := make([][]topicPartition, n)
	loads := make([]float64, n)
	for i, task := range current {
		for _, tp := range task {
			if present[tp] {
				tasks[i] = append(tasks[i], tp)
				loads[i] += load[tp]
				delete(present, tp)
			}
		}
	}
	for _, tp := range sorted {
		if present[tp] {
			j := lightest(loads, tasks)
			tasks[j] = append(tasks[j], tp)
			loads[j] += load[tp]
		}
	}
	enough := max(loadSkew*total/float64(n), (1+minLoadGain)*largest)
	for range sorted { // each move lowers the busiest task; bounded anyway
		b := busiest(loads)
		l := lightest(loads, tasks)
		if loads[b] <= enough || b == l {
			break
		}
		// Move the partition whose load is closest to half the gap:
		// anything between 0 and the gap lowers the pair's maximum.
		gap := loads[b] - loads[l]
		pick := -1
		for i, tp := range tasks[b] {
			x := load[tp]
			if x <= 0 || x >= gap {
				continue
			}
			if pick < 0 || math.Abs(x-gap/2) < math.Abs(load[tasks[b][pick]]-gap/2) {
				pick = i
			}
		}
		if pick < 0 {
			break
		}
		tp := tasks[b][pick]
		tasks[b] = slices.Delete(tasks[b], pick, pick+1)
		tasks[l] = append(tasks[l], tp)
		loads[b] -= load[tp]
		loads[l] += load[tp]
	}
	for _, task := range tasks {
		slices.SortFunc(task, compareTP)
	}
	return tasks
}

// lightest is the task with the least load, then the fewest partitions,
// then the lowest number.
func lightest(loads []float64, tasks [][]topicPartition) int {
	best := 0
	for i := 1; i < len(loads); i++ {
		if c := cmp.Or(cmp.Compare(loads[i], loads[best]), cmp.Compare(len(tasks[i]), len(tasks[best]))); c < 0 {
			best = i
		}
	}
	return best
}

// busiest is the task with the most load, the lowest number first.
func busiest(loads []float64) int {
	best := 0
	for i, l := range loads {
		if l > loads[best] {
			best = i
		}
	}
	return best
}
