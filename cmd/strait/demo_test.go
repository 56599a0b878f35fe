package main

import (
	"testing"

	"github.com/strait-replicator/strait/checkpoint"
)

// TestAllCaughtUp: the demo fails the group over only once every
// checkpoint is at the group's source offset and the offset syncs prove it
// re-reads nothing.
func TestAllCaughtUp(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	exact := checkpoint.Translation{Partition: 0, Behind: 0, Reread: n(0)}
	tests := []struct {
		name string
		trs  []checkpoint.Translation
		want bool
	}{
		{"exact", []checkpoint.Translation{exact, exact}, true},
		{"group moved since", []checkpoint.Translation{exact, {Behind: 3, Reread: n(3)}}, false},
		{"translated through an older sync", []checkpoint.Translation{exact, {Behind: 0, Reread: n(52)}}, false},
		{"re-read unknown", []checkpoint.Translation{exact, {Behind: 0}}, false},
		{"source not asked", []checkpoint.Translation{{Behind: -1, Reread: n(0)}}, false},
	}
	for _, tt := range tests {
		if got := allCaughtUp(tt.trs); got != tt.want {
			t.Errorf("%s: allCaughtUp = %v, want %v", tt.name, got, tt.want)
		}
	}
}
