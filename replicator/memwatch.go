package replicator

import (
	"context"
	"math"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"time"
)

// The worker compares its live heap with the Go runtime's soft memory
// limit (memory.max.bytes less the binary, set by cmd/strait) every
// memoryWatchEvery. A live heap that nearly fills the limit (tens of
// thousands of partitions under the default 256 MiB) is otherwise silent:
// the collector runs back to back, taking up to half the CPU, and the
// process's resident memory passes the cap all the same.
const (
	memoryWatchEvery = 30 * time.Second
	memoryWarnEvery  = 10 * time.Minute
	// memoryNearPercent is the share of the limit a live heap may take
	// before the worker warns: past it, each collection frees less than
	// the heap grows between two of them.
	memoryNearPercent = 85
)

// nearMemoryLimit reports whether a live heap of live bytes nearly fills a
// soft limit of limit bytes (no limit: math.MaxInt64).
func nearMemoryLimit(live uint64, limit int64) bool {
	if limit <= 0 || limit == math.MaxInt64 {
		return false
	}
	return live > uint64(limit)/100*memoryNearPercent
}

// watchMemory warns, at most every memoryWarnEvery, while the live heap
// nearly fills the soft memory limit; until ctx is done.
func (w *Worker) watchMemory(ctx context.Context) {
	sample := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var warned time.Time
	repeat(ctx, memoryWatchEvery, func(context.Context) {
		rtmetrics.Read(sample)
		if sample[0].Value.Kind() != rtmetrics.KindUint64 {
			return
		}
		if time.Since(warned) >= memoryWarnEvery && w.warnMemory(sample[0].Value.Uint64(), debug.SetMemoryLimit(-1)) {
			warned = time.Now()
		}
	})
}

// warnMemory logs, and reports, that a live heap of live bytes nearly
// fills the soft limit, if it does.
func (w *Worker) warnMemory(live uint64, limit int64) bool {
	if !nearMemoryLimit(live, limit) {
		return false
	}
	partitions := 0
	for _, f := range w.flows {
		for _, s := range f.wantedSources() {
			partitions += len(s.Partitions)
		}
	}
	w.cfgMu.Lock()
	capBytes := w.cfg.MemoryMaxBytes
	w.cfgMu.Unlock()
	// The flows' partitions, on every worker of the group: what a worker
	// may be given, and what its topic refreshes and lag measures cover.
	w.log.Warn("memory.max.bytes is too small for what this worker copies: its live heap nearly fills it, so the collector runs back to back and resident memory may pass the cap; raise memory.max.bytes",
		"memory_max_bytes", capBytes, "live_heap_bytes", live, "go_memory_limit_bytes", limit, "flow_partitions", partitions)
	return true
}
