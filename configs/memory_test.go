package configs

import (
	"strings"
	"testing"
)

func TestMemoryMinimum(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		flows, tasks int
		want         int64
	}{
		// The binary (24), the worker (12), 2 a flow, 4 a task (2 of
		// record buffers, as much again for the garbage collector).
		{1, 1, 42 * mib},
		{1, 4, 54 * mib},
		{3, 12, 90 * mib},
		{2, 64, 296 * mib},
		{0, 0, 36 * mib},
	}
	for _, tt := range tests {
		if got := MemoryMinimum(tt.flows, tt.tasks); got != tt.want {
			t.Errorf("MemoryMinimum(%d flows, %d tasks) = %d MiB, want %d MiB", tt.flows, tt.tasks, got/mib, tt.want/mib)
		}
		// At the minimum, every task gets its least buffer.
		if p := PlanMemory(MemoryMinimum(tt.flows, tt.tasks), tt.flows, tt.tasks); p.Records != int64(tt.tasks)*memoryTaskMin {
			t.Errorf("PlanMemory at the minimum for %d flows, %d tasks: records %d, want %d", tt.flows, tt.tasks, p.Records, int64(tt.tasks)*memoryTaskMin)
		}
	}
}

func TestPlanMemory(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		capBytes      int64
		flows, tasks  int
		goLimit, recs int64
	}{
		{64 * mib, 1, 1, 40 * mib, 13 * mib},
		{128 * mib, 1, 1, 104 * mib, 45 * mib},
		{256 * mib, 1, 1, 232 * mib, 109 * mib},
		{256 * mib, 3, 12, 232 * mib, 107 * mib},
		// Below the minimum (refused at start), nothing for records.
		{20 * mib, 1, 1, -4 * mib, 0},
	}
	for _, tt := range tests {
		p := PlanMemory(tt.capBytes, tt.flows, tt.tasks)
		if p.GoLimit != tt.goLimit || p.Records != tt.recs {
			t.Errorf("PlanMemory(%d MiB, %d flows, %d tasks) = Go limit %d MiB, records %d MiB; want %d MiB, %d MiB",
				tt.capBytes/mib, tt.flows, tt.tasks, p.GoLimit/mib, p.Records/mib, tt.goLimit/mib, tt.recs/mib)
		}
	}
}

func TestMemoryBelowMinimumRefused(t *testing.T) {
	const three = "clusters = A, B, C\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\nC.bootstrap.servers = c:9092\n" +
		"A->B.enabled = true\nB->C.enabled = true\nC->A.enabled = true\ntasks.max = 4\n"
	tests := []struct {
		name, text string
		want       string // the error; "" for none
		wantCap    int64
	}{
		{"below", three + "memory.max.bytes = 33554432\n",
			"memory.max.bytes: 33554432 is below the minimum 94371840 for 3 flows with 4 tasks each", 0},
		{"tasks differ", three + "memory.max.bytes = 33554432\nA->B.tasks.max = 1\n",
			"memory.max.bytes: 33554432 is below the minimum 81788928 for 3 flows with 9 tasks in all (tasks.max summed)", 0},
		{"at the minimum", three + "memory.max.bytes = 94371840\n", "", 94371840},
		{"default", three, "", 256 << 20},
		// An MM2 file (no memory.max.bytes) with many tasks gets their
		// minimum rather than a refusal.
		{"default raised", three + "tasks.max = 64\n", "", MemoryMinimum(3, 192)},
	}
	for _, tt := range tests {
		cfg, _, err := Parse([]byte(tt.text), Properties, nil)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want == "" && cfg.MemoryMaxBytes != tt.wantCap:
			t.Errorf("%s: memory.max.bytes = %d, want %d", tt.name, cfg.MemoryMaxBytes, tt.wantCap)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}
