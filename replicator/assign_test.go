package replicator

import (
	"fmt"
	"slices"
	"testing"

	"github.com/strait-replicator/strait/configs"
)

func TestAssignRoundRobin(t *testing.T) {
	tps := []topicPartition{{Topic: "b", Partition: 0}, {Topic: "a", Partition: 1}, {Topic: "a", Partition: 0}, {Topic: "b", Partition: 1}, {Topic: "c", Partition: 0}}
	tests := []struct {
		tasksMax int
		want     string
	}{
		{1, "[[a/0 a/1 b/0 b/1 c/0]]"},
		{2, "[[a/0 b/0 c/0] [a/1 b/1]]"},
		{3, "[[a/0 b/1] [a/1 c/0] [b/0]]"},
		{10, "[[a/0] [a/1] [b/0] [b/1] [c/0]]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(assignRoundRobin(tps, tt.tasksMax)); got != tt.want {
			t.Errorf("tasks.max %d: %s, want %s", tt.tasksMax, got, tt.want)
		}
	}
	if got := assignRoundRobin(nil, 4); len(got) != 0 {
		t.Errorf("no partitions: %v", got)
	}
	// The caller's list is left as it is; a sorted one (as a refresh
	// lists them) assigns the same.
	if fmt.Sprint(tps) != "[b/0 a/1 a/0 b/1 c/0]" {
		t.Errorf("the input was changed: %v", tps)
	}
	sorted := sortedPartitions(tps)
	if got := fmt.Sprint(assignRoundRobin(sorted, 2)); got != tests[1].want {
		t.Errorf("sorted input, tasks.max 2: %s, want %s", got, tests[1].want)
	}
}

func TestAssignByLoad(t *testing.T) {
	p := func(i int32) topicPartition { return topicPartition{Topic: "t", Partition: i} }
	eight := []topicPartition{p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7)}
	roundRobin := assignRoundRobin(eight, 4) // [[0 4] [1 5] [2 6] [3 7]]
	hot := func(loads map[int32]float64) map[topicPartition]float64 {
		m := map[topicPartition]float64{}
		for i, l := range loads {
			m[p(i)] = l
		}
		return m
	}
	tests := []struct {
		name    string
		tps     []topicPartition
		load    map[topicPartition]float64
		current [][]topicPartition
		want    string
	}{
		{"first assignment is round robin", eight, hot(map[int32]float64{0: 100, 4: 100}), nil, "[[t/0 t/4] [t/1 t/5] [t/2 t/6] [t/3 t/7]]"},
		{"nothing measured: kept", eight, nil, roundRobin, "[[t/0 t/4] [t/1 t/5] [t/2 t/6] [t/3 t/7]]"},
		{"even load: kept", eight, hot(map[int32]float64{0: 10, 1: 10, 2: 10, 3: 10, 4: 10, 5: 10, 6: 10, 7: 10}), roundRobin, "[[t/0 t/4] [t/1 t/5] [t/2 t/6] [t/3 t/7]]"},
		{"within the skew allowed: kept", eight, hot(map[int32]float64{0: 12, 1: 10, 2: 10, 3: 10, 4: 10, 5: 10, 6: 8, 7: 8}), roundRobin, "[[t/0 t/4] [t/1 t/5] [t/2 t/6] [t/3 t/7]]"},
		// Two hot partitions on task 0: one moves, and only the
		// partitions that must move do.
		{"hot partitions piled on one task: split", eight, hot(map[int32]float64{0: 100, 4: 100, 1: 1, 2: 1, 3: 1, 5: 1, 6: 1, 7: 1}), roundRobin, "[[t/4] [t/0 t/1 t/5] [t/2 t/6] [t/3 t/7]]"},
		{"new partitions go to the lightest task", append(slices.Clone(eight), p(8), p(9)), hot(map[int32]float64{0: 10, 1: 10, 2: 10, 3: 9, 4: 10, 5: 10, 6: 10, 7: 10}), roundRobin, "[[t/0 t/4] [t/1 t/5] [t/2 t/6] [t/3 t/7 t/8 t/9]]"},
		{"gone partitions are dropped", eight[:6], hot(map[int32]float64{0: 10, 1: 10}), roundRobin, "[[t/0 t/4] [t/1 t/5] [t/2] [t/3]]"},
		{"tasks.max changed: round robin", eight, hot(map[int32]float64{0: 100}), roundRobin[:2], "[[t/0 t/4] [t/1 t/5] [t/2 t/6] [t/3 t/7]]"},
		// Three hot partitions and four tasks: each ends on its own task.
		{"three hot partitions", eight, hot(map[int32]float64{0: 100, 4: 100, 1: 100, 2: 1, 3: 1, 5: 1, 6: 1, 7: 1}), roundRobin, "[[t/4] [t/1 t/5] [t/0 t/2 t/6] [t/3 t/7]]"},
		{"fewer partitions than tasks", eight[:2], hot(map[int32]float64{0: 100, 1: 100}), nil, "[[t/0] [t/1]]"},
		{"no partitions", nil, nil, roundRobin, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := assignByLoad(tt.tps, 4, tt.load, tt.current)
			if s := fmt.Sprint(got); s != tt.want {
				t.Errorf("got %s, want %s", s, tt.want)
			}
			seen := map[topicPartition]int{}
			for _, task := range got {
				for _, tp := range task {
					seen[tp]++
				}
			}
			for _, tp := range tt.tps {
				if seen[tp] != 1 {
					t.Errorf("%s assigned %d times", tp, seen[tp])
				}
			}
		})
	}
}

func TestTopicPartitionString(t *testing.T) {
	if got := (topicPartition{Topic: "orders", Partition: 12}).String(); got != "orders/12" {
		t.Errorf("String() = %q", got)
	}
	if got := fmt.Sprint(sortedPartitions([]topicPartition{{Topic: "b", Partition: 0}, {Topic: "a", Partition: 10}, {Topic: "a", Partition: 2}})); got != "[a/2 a/10 b/0]" {
		t.Errorf("sortedPartitions = %s", got)
	}
}

func TestLightestBusiest(t *testing.T) {
	tasks := func(sizes ...int) [][]topicPartition {
		out := make([][]topicPartition, len(sizes))
		for i, n := range sizes {
			out[i] = make([]topicPartition, n)
		}
		return out
	}
	tests := []struct {
		name              string
		loads             []float64
		sizes             []int
		lightest, busiest int
	}{
		{"one task", []float64{5}, []int{1}, 0, 0},
		{"least load", []float64{5, 3, 4}, []int{1, 1, 1}, 1, 0},
		{"tie on load: fewest partitions", []float64{3, 3, 3}, []int{2, 3, 1}, 2, 0},
		{"tie on both: lowest number", []float64{3, 1, 1}, []int{1, 2, 2}, 1, 0},
		{"most load, lowest number first", []float64{1, 7, 7, 2}, []int{1, 1, 1, 1}, 0, 1},
		{"last is busiest", []float64{1, 2, 9}, []int{0, 0, 0}, 0, 2},
		{"first is lightest despite partitions", []float64{0, 1}, []int{9, 0}, 0, 1},
	}
	for _, tt := range tests {
		if got := lightest(tt.loads, tasks(tt.sizes...)); got != tt.lightest {
			t.Errorf("%s: lightest = %d, want %d", tt.name, got, tt.lightest)
		}
		if got := busiest(tt.loads); got != tt.busiest {
			t.Errorf("%s: busiest = %d, want %d", tt.name, got, tt.busiest)
		}
	}
}

// TestAssignByLoadMoves: the balancing step, case by case: when it moves,
// which partition (the one closest to half the gap between the busiest
// and the lightest task), and when it stops.
func TestAssignByLoadMoves(t *testing.T) {
	p := func(i int32) topicPartition { return topicPartition{Topic: "t", Partition: i} }
	// tasks builds a current assignment and loads from load figures, one
	// list per task, partitions numbered in order.
	build := func(loads ...[]float64) ([]topicPartition, [][]topicPartition, map[topicPartition]float64) {
		var tps []topicPartition
		var current [][]topicPartition
		load := map[topicPartition]float64{}
		for _, task := range loads {
			var cur []topicPartition
			for _, l := range task {
				tp := p(int32(len(tps)))
				tps = append(tps, tp)
				cur = append(cur, tp)
				load[tp] = l
			}
			current = append(current, cur)
		}
		return tps, current, load
	}
	tests := []struct {
		name  string
		loads [][]float64
		want  string
	}{
		// Skew within 1.25 of the fair share (8 here) is left alone,
		// although it is over 1.1 times the largest partition.
		{"at exactly the skew allowed: kept", [][]float64{{8, 2}, {4, 4}, {4, 3}, {4, 3}}, "[[t/0 t/1] [t/2 t/3] [t/4 t/5] [t/6 t/7]]"},
		{"under the skew allowed: kept", [][]float64{{6, 2}, {4, 3}, {4, 3}, {3, 1}}, "[[t/0 t/1] [t/2 t/3] [t/4 t/5] [t/6 t/7]]"},
		// Busiest 17, lightest 3: the gap is 14; 6 is closest to 7.
		{"closest to half the gap moves", [][]float64{{10, 6, 1}, {3}}, "[[t/0 t/2] [t/1 t/3]]"},
		// Gap 14 again: 8 is closer to 7 than 5 is.
		{"half the gap, not a third", [][]float64{{8, 5, 2}, {1}}, "[[t/1 t/2] [t/0 t/3]]"},
		// Nothing lighter than the gap (10): no move would help.
		{"no partition fits the gap: kept", [][]float64{{10, 10}, {10}, {10}}, "[[t/0 t/1] [t/2] [t/3]]"},
		// An idle partition is never moved: it would change nothing.
		{"idle partitions stay", [][]float64{{10, 10, 0}, {10}, {10}}, "[[t/0 t/1 t/2] [t/3] [t/4]]"},
		// Small partitions move one at a time until the pair is even.
		{"small partitions even out", [][]float64{{1, 1, 1, 1, 1}, {1}}, "[[t/2 t/3 t/4] [t/0 t/1 t/5]]"},
		// After a move the receiving task is no longer the lightest.
		{"the lightest changes as partitions move", [][]float64{{5, 5, 5, 5}, {1}, {1}}, "[[t/2 t/3] [t/0 t/4] [t/1 t/5]]"},
		{"one task", [][]float64{{5, 1}}, "[[t/0 t/1]]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tps, current, load := build(tt.loads...)
			if got := fmt.Sprint(assignByLoad(tps, len(current), load, current)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// TestAssignByLoadNewPartitions: new partitions go one by one to the task
// that is lightest counting the ones placed before.
func TestAssignByLoadNewPartitions(t *testing.T) {
	p := func(i int32) topicPartition { return topicPartition{Topic: "t", Partition: i} }
	var tps []topicPartition
	for i := range int32(10) {
		tps = append(tps, p(i))
	}
	current := [][]topicPartition{{p(0), p(4)}, {p(1), p(5)}, {p(2), p(6)}, {p(3), p(7)}}
	load := map[topicPartition]float64{p(0): 5, p(4): 5, p(1): 5, p(5): 5, p(2): 5, p(6): 5, p(3): 5, p(7): 4, p(8): 5, p(9): 5}
	want := "[[t/0 t/4 t/9] [t/1 t/5] [t/2 t/6] [t/3 t/7 t/8]]"
	if got := fmt.Sprint(assignByLoad(tps, 4, load, current)); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got := fmt.Sprint(assignByLoad(tps[:3], 1, load, nil)); got != "[[t/0 t/1 t/2]]" {
		t.Errorf("one task: %s", got)
	}
	if got := fmt.Sprint(assignByLoad(tps[:3], 1, load, [][]topicPartition{{p(2)}})); got != "[[t/0 t/1 t/2]]" {
		t.Errorf("one task, one current: %s", got)
	}
}

// TestAssignAgain: a refresh that hands back the very slice of the last
// one (an unchanged source) gets the last assignment back; a tasks.max
// changed meanwhile, or a new listing of the same partitions, is assigned
// anew.
func TestAssignAgain(t *testing.T) {
	tps := []topicPartition{{Topic: "a", Partition: 0}, {Topic: "a", Partition: 1}, {Topic: "b", Partition: 0}}
	f := &flow{cfg: configs.Flow{TasksMax: 2}}
	first := f.assignAgain(tps)
	if got := fmt.Sprint(first); got != "[[a/0 b/0] [a/1]]" {
		t.Fatalf("first assignment %s", got)
	}
	if again := f.assignAgain(tps); &again[0] != &first[0] {
		t.Error("the same slice was assigned anew")
	}
	f.cfg.TasksMax = 3
	if got := fmt.Sprint(f.assignAgain(tps)); got != "[[a/0] [a/1] [b/0]]" {
		t.Errorf("after tasks.max 2 -> 3: %s, want three tasks", got)
	}
	listed := slices.Clone(tps)
	listed[2] = topicPartition{Topic: "c", Partition: 0}
	if got := fmt.Sprint(f.assignAgain(listed)); got != "[[a/0] [a/1] [c/0]]" {
		t.Errorf("a new listing: %s", got)
	}
}
