package replicator

import (
	"fmt"
	"slices"
	"testing"
)

func TestAssignRoundRobin(t *testing.T) {
	tps := []topicPartition{{"b", 0}, {"a", 1}, {"a", 0}, {"b", 1}, {"c", 0}}
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
}

func TestAssignByLoad(t *testing.T) {
	p := func(i int32) topicPartition { return topicPartition{"t", i} }
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
