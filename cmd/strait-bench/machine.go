package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// machineCPU is the CPU the whole machine and the bench's own processes
// used in a latency window, in cores: the rest (All - Ours) is other work
// on a shared machine, which stalls every system alike and is no part of
// what is measured.
type machineCPU struct {
	All  float64 `json:"all_cores"`
	Ours float64 `json:"ours_cores"`
}

// cpuSnapshot is /proc/stat's busy and total time and the CPU seconds of
// the bench's processes at one moment.
type cpuSnapshot struct {
	at          time.Time
	busy, total float64 // clock ticks, all CPUs
	ours        float64 // seconds
}

// snapshotCPU reads the machine's CPU time and that of pids (this process
// is always counted). A process that cannot be read counts as 0: the
// figure is an indication for the reader, not a measurement.
func snapshotCPU(pids ...int) (cpuSnapshot, error) {
	s := cpuSnapshot{at: time.Now()}
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s, err
	}
	line, _, _ := strings.Cut(string(stat), "\n")
	fields := strings.Fields(line)
	if len(fields) < 6 || fields[0] != "cpu" {
		return s, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	// user nice system idle iowait irq softirq steal: guest and
	// guest_nice, after them, are already counted in user and nice.
	for i, f := range fields[1:min(len(fields), 9)] {
		var v float64
		if _, err := fmt.Sscan(f, &v); err != nil {
			return s, fmt.Errorf("/proc/stat: %w", err)
		}
		s.total += v
		if i != 3 && i != 4 { // idle, iowait
			s.busy += v
		}
	}
	for _, pid := range append(pids, os.Getpid()) {
		if cpu, _, err := procStats(pid); err == nil {
			s.ours += cpu
		}
	}
	return s, nil
}

// cpuBetween is the machine's and the bench's CPU from a to b, in cores.
func cpuBetween(a, b cpuSnapshot) machineCPU {
	secs := b.at.Sub(a.at).Seconds()
	if secs <= 0 || b.total <= a.total {
		return machineCPU{}
	}
	return machineCPU{All: (b.busy - a.busy) / (b.total - a.total) * float64(runtime.NumCPU()), Ours: (b.ours - a.ours) / secs}
}

// windowCPU measures the CPU used from `from` to `to` (the latency
// window), waiting for both; ok is false if ctx ends first or /proc
// cannot be read.
func windowCPU(ctx context.Context, from, to time.Time, pids ...int) (cpu machineCPU, ok bool) {
	wait := func(t time.Time) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Until(t)):
			return true
		}
	}
	if !wait(from) {
		return cpu, false
	}
	a, err := snapshotCPU(pids...)
	if err != nil || !wait(to) {
		return cpu, false
	}
	b, err := snapshotCPU(pids...)
	if err != nil {
		return cpu, false
	}
	return cpuBetween(a, b), true
}
