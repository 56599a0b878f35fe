package configs

import "fmt"

// How a worker's memory.max.bytes is spent: the cap bounds the process's
// resident memory (RSS), not only its record buffers. Measured with
// `strait-bench --memory` (BENCHMARKS.md, "Memory with a slow target").
const (
	// memoryBinary is the binary's code and data once resident (about
	// 20 MiB, file-backed pages): the Go runtime's soft limit does not see
	// them, so it is set this much below the cap.
	memoryBinary = 24 << 20
	// memoryWorker is the live heap of a worker besides records (the
	// runtime, metrics, configuration, the REST API), with room for the
	// collector: at 36 MiB for one task (6 MiB here) the peak RSS passed
	// the cap by 2 MiB and the copy slowed to a third.
	memoryWorker = 12 << 20
	// memoryFlow is each flow's live heap besides records: its admin
	// clients, the Connect state topics' readers, the offset-syncs
	// producer, the worker group, the checkpoint and heartbeat tasks.
	memoryFlow = 2 << 20
	// memoryTaskMin is the least record buffer a source task gets: a
	// fetch of 256 KiB and a producer buffer of 1 MiB.
	memoryTaskMin = 2 << 20
	// MemoryRecordOverhead is what a record costs in memory besides its
	// key, value and headers, as kgo decodes and produces it: its Record
	// (160 bytes) in the fetch's slab, the fetch's pointer to it, the
	// producer's promise entry, and the record's framing in the fetched
	// batch (lengths, deltas), rounded up.
	MemoryRecordOverhead = 256
)

// MemoryPlan is how memory.max.bytes is split.
type MemoryPlan struct {
	// GoLimit is the Go runtime's soft memory limit
	// (debug.SetMemoryLimit): the cap less the binary's resident code.
	GoLimit int64
	// Records is the bytes all source tasks' record buffers (fetches,
	// producer buffers, each record's overhead included) may hold
	// together: half of what the live heap may take besides the worker's
	// and flows' own, the other half being room for the garbage the
	// collector has not yet freed as records turn over.
	Records int64
}

// PlanMemory splits capBytes (memory.max.bytes) for a worker running
// flows replication flows with tasks source tasks in all (tasks.max
// summed over the flows).
func PlanMemory(capBytes int64, flows, tasks int) MemoryPlan {
	limit := capBytes - memoryBinary
	return MemoryPlan{GoLimit: limit, Records: max((limit-memoryWorker-int64(flows)*memoryFlow)/2, 0)}
}

// MemoryMinimum is the least memory.max.bytes for flows replication flows
// with tasks source tasks in all: each task gets at least memoryTaskMin
// for its record buffers.
func MemoryMinimum(flows, tasks int) int64 {
	return memoryBinary + memoryWorker + int64(flows)*memoryFlow + 2*int64(tasks)*memoryTaskMin
}

// Memory is the split of c's memory.max.bytes among its flows.
func (c *Config) Memory() MemoryPlan {
	return PlanMemory(c.MemoryMaxBytes, len(c.Flows), c.Tasks())
}

// Tasks is the number of source tasks of every flow: tasks.max summed.
func (c *Config) Tasks() int {
	n := 0
	for _, f := range c.Flows {
		n += f.TasksMax
	}
	return n
}

// checkMemory says why capBytes is too small for flows, or "".
func checkMemory(capBytes int64, flows []Flow) string {
	tasks := 0
	same := true
	for _, f := range flows {
		tasks += f.TasksMax
		same = same && f.TasksMax == flows[0].TasksMax
	}
	least := MemoryMinimum(len(flows), tasks)
	if capBytes >= least {
		return ""
	}
	what := fmt.Sprintf("%d tasks in all (tasks.max summed)", tasks)
	if same && len(flows) > 0 {
		what = fmt.Sprintf("%d tasks each", flows[0].TasksMax)
	}
	return fmt.Sprintf("%d is below the minimum %d for %d flows with %s: raise it, or lower tasks.max", capBytes, least, len(flows), what)
}
