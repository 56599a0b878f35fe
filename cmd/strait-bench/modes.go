package main

import (
	"context"
	"fmt"
	"io"
)

// skewResult is the --skew run: the same skewed backlog copied with each
// assignment.
type skewResult struct {
	Case       string         `json:"case"`
	TargetMBps float64        `json:"target_mb_per_second_per_connection"`
	Runs       []skewAssigned `json:"runs"`
}

type skewAssigned struct {
	Assignment    string  `json:"assignment"`
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_second"`
	MBPerSec      float64 `json:"mb_per_second"`
}

// skewPartition puts 40% of the records on partition 0, 40% on partition 4
// and spreads the rest over the other six of 8: round robin over 4 tasks
// puts both hot partitions on task 0.
func skewPartition(i int) int32 {
	switch r := i % 10; {
	case r < 4:
		return 0
	case r < 8:
		return 4
	default:
		return []int32{1, 2, 3, 5, 6, 7}[(i/10*2+r-8)%6]
	}
}

// skewed copies a skewed backlog over 4 tasks into a target whose every
// connection is limited to mbps (as links between regions often are per
// flow), once with MM2's round robin and once with load-aware assignment.
func (b *bench) skewed(c benchCase, mbps float64) (skewResult, error) {
	ctx := context.Background()
	res := skewResult{Case: caseName(c) + ", 80% on 2 of 8 partitions, 4 tasks", TargetMBps: mbps}
	b.partitions, b.tasks, b.partitionOf = 8, 4, skewPartition
	b.targetArgs = []string{"--produce-mbps", fmt.Sprint(mbps)}
	b.refreshSeconds = 2 // load is measured and acted on at each refresh
	src, err := b.loadedSource(ctx, c)
	if err != nil {
		return res, err
	}
	defer src.stop()
	for _, mode := range []string{"round-robin", "load"} {
		b.extraConfig = "tasks.assignment = " + mode + "\n"
		r, err := b.measure(ctx, c, src.addr, "strait")
		if err != nil {
			return res, fmt.Errorf("%s: %w", mode, err)
		}
		res.Runs = append(res.Runs, skewAssigned{Assignment: mode, Seconds: r.Seconds, RecordsPerSec: r.RecordsPerSec, MBPerSec: r.MBPerSec})
	}
	return res, nil
}

func printSkew(w io.Writer, res skewResult) {
	fmt.Fprintf(w, "skewed load: %s, target limited to %.0f MB/s per connection\n", res.Case, res.TargetMBps)
	for _, r := range res.Runs {
		fmt.Fprintf(w, "  %-12s %6.1f s  %8.0f records/s  %6.1f MB/s  %.2fx round robin\n", r.Assignment, r.Seconds, r.RecordsPerSec, r.MBPerSec, r.RecordsPerSec/res.Runs[0].RecordsPerSec)
	}
}
