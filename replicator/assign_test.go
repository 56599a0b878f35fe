package replicator

import (
	"fmt"
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
