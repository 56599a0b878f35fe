package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// rateResult is the --rate-limit run: a backlog copied by one and by three
// workers with replication.bytes.per.second set, the rate measured on the
// target over a window.
type rateResult struct {
	Case          string    `json:"case"`
	WindowSeconds float64   `json:"window_seconds"`
	Runs          []rateRun `json:"runs"`
}

type rateRun struct {
	LimitMBps float64 `json:"limit_mb_per_second"`
	Workers   int     `json:"workers"`
	MBps      float64 `json:"mb_per_second"`
	// Ratio is the achieved rate over the limit.
	Ratio float64 `json:"ratio"`
}

// rateKeyBytes is the key size of a loaded record ("%08d"): the limit
// counts keys, values and headers.
const rateKeyBytes = 8

// rateLimited loads a backlog enough for the fastest run, then for each
// limit and number of workers copies it into a fresh target with
// replication.bytes.per.second = limit, as separate `strait run`
// processes in one group, and measures the bytes that reach the target
// over window, after warmup (the workers join and share the tasks).
func (b *bench) rateLimited(size int, limitsMBps []float64, workers []int, window, warmup time.Duration) (rateResult, error) {
	ctx := context.Background()
	fastest := 0.0
	for _, l := range limitsMBps {
		fastest = max(fastest, l)
	}
	// The backlog outlasts the fastest run, with 50% to spare.
	records := int(fastest*1e6*(window+warmup).Seconds()*1.5) / (size + rateKeyBytes)
	c := benchCase{records, size}
	res := rateResult{Case: caseName(c) + fmt.Sprintf(", %d partitions, tasks.max %d", b.partitions, b.tasks), WindowSeconds: window.Seconds()}
	src, err := b.loadedSource(ctx, c)
	if err != nil {
		return res, err
	}
	defer src.stop()
	for _, limit := range limitsMBps {
		for _, n := range workers {
			mbps, err := b.rateRun(ctx, c, src.addr, limit, n, window, warmup)
			if err != nil {
				return res, fmt.Errorf("limit %.0f MB/s, %d workers: %w", limit, n, err)
			}
			res.Runs = append(res.Runs, rateRun{LimitMBps: limit, Workers: n, MBps: mbps, Ratio: mbps / limit})
		}
	}
	return res, nil
}

// rateRun runs n workers limited to limitMBps into a fresh target and
// returns the MB/s that reached it over window.
func (b *bench) rateRun(ctx context.Context, c benchCase, srcAddr string, limitMBps float64, n int, window, warmup time.Duration) (float64, error) {
	tgt, err := b.startCluster("--cluster-id", "B")
	if err != nil {
		return 0, err
	}
	defer tgt.stop()
	b.extraConfig = fmt.Sprintf("A->B.replication.bytes.per.second = %d\n", int64(limitMBps*1e6))
	defer func() { b.extraConfig = "" }()
	cfg, err := b.straitConfig(srcAddr, tgt.addr, "bench")
	if err != nil {
		return 0, err
	}
	for range n {
		proc, err := b.startStrait(io.Discard, "-c", cfg, "--log-level", "error", "--progress-interval", "0")
		if err != nil {
			return 0, err
		}
		defer proc.stop()
	}
	cl, adm, err := admin(tgt.addr)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	for started := time.Now(); endTotal(ctx, adm, "A.bench") == 0; time.Sleep(100 * time.Millisecond) { // progress polling interval
		if time.Since(started) > time.Minute {
			return 0, fmt.Errorf("nothing copied after a minute")
		}
	}
	b.progress("limit %.0f MB/s, %d workers: warming up %s", limitMBps, n, warmup)
	time.Sleep(warmup) // the workers join and share the tasks
	from, start := endTotal(ctx, adm, "A.bench"), time.Now()
	for time.Since(start) < window {
		b.progress("limit %.0f MB/s, %d workers: %d records copied in the window", limitMBps, n, endTotal(ctx, adm, "A.bench")-from)
		time.Sleep(500 * time.Millisecond) // progress polling interval
	}
	to, secs := endTotal(ctx, adm, "A.bench"), time.Since(start).Seconds()
	if to >= int64(c.Records) {
		return 0, fmt.Errorf("the backlog ran out within the window: the rate is not limited")
	}
	mbps := float64(to-from) * float64(c.Size+rateKeyBytes) / secs / 1e6
	fmt.Fprintf(b.out, "  limit %.0f MB/s, %d worker(s): %.2f MB/s (%.3f of the limit)\n", limitMBps, n, mbps, mbps/limitMBps)
	return mbps, nil
}

func printRateLimit(w io.Writer, res rateResult) {
	fmt.Fprintf(w, "rate limit: %s, measured over %.0f s\n", res.Case, res.WindowSeconds)
	fmt.Fprintf(w, "%-12s %-8s %-10s %s\n", "LIMIT MB/s", "WORKERS", "MB/s", "OF LIMIT")
	for _, r := range res.Runs {
		fmt.Fprintf(w, "%-12.0f %-8d %-10.2f %.3f\n", r.LimitMBps, r.Workers, r.MBps, r.Ratio)
	}
}

// parseFloats parses a comma-separated list of positive numbers.
func parseFloats(s string) ([]float64, error) {
	var out []float64
	for f := range strings.SplitSeq(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%q: not a positive number", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// parseInts parses a comma-separated list of positive integers.
func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%q: not a positive integer", f)
		}
		out = append(out, v)
	}
	return out, nil
}
