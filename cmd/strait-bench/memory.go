package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// memoryResult is the --memory run: one backlog copied into a throttled
// target with each memory.max.bytes.
type memoryResult struct {
	Case       string      `json:"case"`
	SourceMBps float64     `json:"source_mb_per_second"`
	TargetMBps float64     `json:"target_mb_per_second"`
	Runs       []memoryRun `json:"runs"`
}

type memoryRun struct {
	Cap     int64   `json:"cap_bytes"`
	PeakRSS int64   `json:"peak_rss_bytes"`
	Held    bool    `json:"held"`    // peak RSS at or below the cap
	Seconds float64 `json:"seconds"` // first record on the target to the last
	MBps    float64 `json:"mb_per_second"`
}

// memory loads a backlog, then for each cap copies it with
// memory.max.bytes = cap into a fresh target throttled to a quarter of the
// speed the source took it at, and watches Strait's peak resident memory.
func (b *bench) memory(c benchCase, caps []int64) (memoryResult, error) {
	ctx := context.Background()
	res := memoryResult{Case: caseName(c)}
	start := time.Now()
	src, err := b.loadedSource(ctx, c)
	if err != nil {
		return res, err
	}
	defer src.stop()
	res.SourceMBps = float64(c.Records*c.Size) / time.Since(start).Seconds() / 1e6
	res.TargetMBps = res.SourceMBps / 4
	for _, capBytes := range caps {
		run, err := b.memoryRun(ctx, c, src.addr, res.TargetMBps, capBytes)
		if err != nil {
			return res, fmt.Errorf("memory.max.bytes = %d: %w", capBytes, err)
		}
		fmt.Fprintf(b.out, "  cap %s: peak RSS %.0f MiB, %.1f MB/s\n", mib(capBytes), float64(run.PeakRSS)/(1<<20), run.MBps)
		res.Runs = append(res.Runs, run)
	}
	return res, nil
}

// memoryRun copies the backlog on srcAddr into a fresh target throttled to
// targetMBps with memory.max.bytes = capBytes, sampling Strait's peak RSS
// (VmHWM) every 100 ms.
func (b *bench) memoryRun(ctx context.Context, c benchCase, srcAddr string, targetMBps float64, capBytes int64) (memoryRun, error) {
	run := memoryRun{Cap: capBytes}
	tgt, err := b.startCluster("--cluster-id", "B", "--produce-mbps", fmt.Sprint(targetMBps))
	if err != nil {
		return run, err
	}
	defer tgt.stop()
	cfg, err := b.straitConfig(srcAddr, tgt.addr, "bench")
	if err != nil {
		return run, err
	}
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return run, err
	}
	fmt.Fprintf(f, "memory.max.bytes = %d\n", capBytes)
	if err := f.Close(); err != nil {
		return run, err
	}
	proc, err := b.startStrait(io.Discard, "-c", cfg, "--log-level", "error", "--progress-interval", "0")
	if err != nil {
		return run, err
	}
	defer proc.stop()
	cl, adm, err := admin(tgt.addr)
	if err != nil {
		return run, err
	}
	defer cl.Close()
	began := time.Now()
	var first time.Time
	for {
		n := endTotal(ctx, adm, "A.bench")
		_, rss, err := procStats(proc.cmd.Process.Pid)
		if err != nil {
			return run, err
		}
		run.PeakRSS = rss
		if n > 0 && first.IsZero() {
			first = time.Now()
		}
		b.progress("memory: cap %s: %d/%d records copied, peak RSS %.0f MiB", mib(capBytes), n, c.Records, float64(rss)/(1<<20))
		if n >= int64(c.Records) {
			break
		}
		if time.Since(began) > 10*time.Minute {
			return run, fmt.Errorf("not done after 10 minutes: %d of %d records", n, c.Records)
		}
		time.Sleep(100 * time.Millisecond) // sampling interval
	}
	run.Seconds = time.Since(first).Seconds()
	run.MBps = float64(c.Records*c.Size) / run.Seconds / 1e6
	run.Held = run.PeakRSS <= capBytes
	return run, nil
}

func printMemory(w io.Writer, res memoryResult) {
	fmt.Fprintf(w, "memory: %s backlog, source loaded at %.0f MB/s, target throttled to %.0f MB/s (a quarter)\n", res.Case, res.SourceMBps, res.TargetMBps)
	fmt.Fprintf(w, "%-10s %-14s %-14s %-6s %-12s %s\n", "CAP", "THROTTLE MB/s", "PEAK RSS MiB", "HELD", "COPY MB/s", "OF THROTTLE")
	for _, r := range res.Runs {
		held := "yes"
		if !r.Held {
			held = "NO"
		}
		fmt.Fprintf(w, "%-10s %-14.0f %-14.0f %-6s %-12.1f %.2f\n", mib(r.Cap), res.TargetMBps, float64(r.PeakRSS)/(1<<20), held, r.MBps, r.MBps/res.TargetMBps)
	}
}

// mib shows a byte count in MiB.
func mib(n int64) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64) + " MiB"
}

// parseSizes parses a comma-separated list of positive byte counts, each
// a number with an optional binary suffix: Ki, Mi, Gi (64Mi, 1Gi, 1048576).
func parseSizes(s string) ([]int64, error) {
	var out []int64
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		num, unit := f, int64(1)
		for suffix, u := range map[string]int64{"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30} {
			if n, ok := strings.CutSuffix(f, suffix); ok {
				num, unit = n, u
			}
		}
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil || v <= 0 || v > (1<<63-1)/unit {
			return nil, fmt.Errorf("%q: not a positive size (e.g. 64Mi, 1Gi, 1048576)", f)
		}
		out = append(out, v*unit)
	}
	return out, nil
}
