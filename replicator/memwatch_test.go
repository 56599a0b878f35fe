package replicator

import (
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/internal/kafkatest"
	"github.com/strait-replicator/strait/replicator/group"
	"github.com/strait-replicator/strait/replicator/task"
)

func TestNearMemoryLimit(t *testing.T) {
	for _, tt := range []struct {
		live  uint64
		limit int64
		want  bool
	}{
		{0, 232 << 20, false},
		{100 << 20, 232 << 20, false},
		{197 << 20, 232 << 20, false},   // 84.9 %
		{198 << 20, 232 << 20, true},    // 85.3 %
		{300 << 20, 232 << 20, true},    // past it: the cap is passed
		{1 << 40, math.MaxInt64, false}, // no limit set
		{1, 0, false},
		{1, -1, false},
	} {
		if got := nearMemoryLimit(tt.live, tt.limit); got != tt.want {
			t.Errorf("nearMemoryLimit(%d, %d) = %v, want %v", tt.live, tt.limit, got, tt.want)
		}
	}
}

// A live heap that nearly fills the limit is named in a warning with the
// cap and the partitions the worker's flows copy; one well below it is
// not.
func TestWarnMemory(t *testing.T) {
	var logs kafkatest.LogBuffer
	f := &flow{wanted: []group.Spec{
		{ID: task.SourceID(0), Partitions: []task.TopicPartition{{Topic: "orders", Partition: 0}, {Topic: "orders", Partition: 1}}},
		{ID: task.SourceID(1), Partitions: []task.TopicPartition{{Topic: "orders", Partition: 2}}},
	}}
	w := &Worker{cfg: &configs.Config{MemoryMaxBytes: 256 << 20}, log: slog.New(slog.NewTextHandler(&logs, nil)), flows: []*flow{f}}
	if w.warnMemory(100<<20, 232<<20) {
		t.Fatalf("warned at 100 MiB live of a 232 MiB limit: %s", logs.String())
	}
	if !w.warnMemory(300<<20, 232<<20) {
		t.Fatal("no warning at 300 MiB live of a 232 MiB limit")
	}
	for _, want := range []string{"memory.max.bytes is too small", "memory_max_bytes=268435456", "live_heap_bytes=314572800", "flow_partitions=3"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("warning %q lacks %q", logs.String(), want)
		}
	}
}
