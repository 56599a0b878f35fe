package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
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

// scaleResult is the --scale-topics run.
type scaleResult struct {
	Topics     int `json:"topics"`
	Partitions int `json:"partitions"`
	// EveryTopicSeconds is from the start of `strait run` to a record of
	// every topic on the target; AllSeconds to every partition's.
	EveryTopicSeconds float64 `json:"first_record_every_topic_seconds"`
	AllSeconds        float64 `json:"every_partition_seconds"`
	// Refresh cycles once copying: an unchanged source (remote topics
	// known) and the periodic full listing.
	RefreshMs     float64 `json:"refresh_ms_median"`
	RefreshListed int     `json:"refresh_listed_on_target"`
	FullRefreshMs float64 `json:"full_refresh_ms"`
	FullListed    int     `json:"full_refresh_listed_on_target"`
	Refreshes     int     `json:"refreshes_seen"`
}

// scale measures startup and topic refresh with many source topics, one
// record in each partition.
func (b *bench) scale(topics, partitions int) (scaleResult, error) {
	ctx := context.Background()
	res := scaleResult{Topics: topics, Partitions: topics * partitions}
	src, err := b.startCluster("--cluster-id", "A")
	if err != nil {
		return res, err
	}
	defer src.stop()
	names := make([]string, topics)
	remotes := make([]string, topics)
	for i := range names {
		names[i] = fmt.Sprintf("scale-%04d", i)
		remotes[i] = "A." + names[i]
	}
	cl, adm, err := admin(src.addr)
	if err != nil {
		return res, err
	}
	defer cl.Close()
	if _, err := adm.CreateTopics(ctx, int32(partitions), 1, nil, names...); err != nil {
		return res, err
	}
	pcl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(src.addr, ",")...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return res, err
	}
	defer pcl.Close()
	for _, n := range names {
		for p := range partitions {
			pcl.Produce(ctx, &kgo.Record{Topic: n, Partition: int32(p), Value: []byte("x")}, nil)
		}
	}
	if err := pcl.Flush(ctx); err != nil {
		return res, err
	}
	fmt.Fprintf(b.out, "  loaded %d topics x %d partitions\n", topics, partitions)
	tgt, err := b.startCluster("--cluster-id", "B")
	if err != nil {
		return res, err
	}
	defer tgt.stop()
	b.refreshSeconds = 1
	cfg, err := b.straitConfig(src.addr, tgt.addr, `scale-.*`)
	if err != nil {
		return res, err
	}
	logPath := cfg + ".log"
	logFile, err := os.Create(logPath)
	if err != nil {
		return res, err
	}
	defer logFile.Close()
	started := time.Now()
	proc, err := b.startStrait(logFile, "-c", cfg, "--log-level", "debug", "--log-format", "json", "--progress-interval", "0")
	if err != nil {
		return res, err
	}
	defer proc.stop()
	tcl, tadm, err := admin(tgt.addr)
	if err != nil {
		return res, err
	}
	defer tcl.Close()
	for {
		withRecord, parts := 0, 0
		if ends, err := tadm.ListEndOffsets(ctx, remotes...); err == nil {
			perTopic := map[string]bool{}
			ends.Each(func(o kadm.ListedOffset) {
				if o.Err == nil && o.Offset > 0 {
					perTopic[o.Topic] = true
					parts++
				}
			})
			withRecord = len(perTopic)
		}
		if withRecord == topics && res.EveryTopicSeconds == 0 {
			res.EveryTopicSeconds = time.Since(started).Seconds()
		}
		b.progress("scale: %d/%d topics and %d/%d partitions copied", withRecord, topics, parts, res.Partitions)
		if parts == res.Partitions {
			res.AllSeconds = time.Since(started).Seconds()
			break
		}
		if time.Since(started) > 5*time.Minute {
			return res, fmt.Errorf("not done after 5 minutes: %d of %d partitions copied", parts, res.Partitions)
		}
		time.Sleep(50 * time.Millisecond) // polling interval
	}
	// Refreshes run every second: watch a full listing go by.
	copiedAt := time.Now()
	var steady, full []refreshLine
	for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		lines, err := refreshLines(logPath)
		if err != nil {
			return res, err
		}
		steady, full = steady[:0], full[:0]
		for _, l := range lines {
			if l.at.Before(copiedAt) {
				continue
			}
			if l.Listed == 0 {
				steady = append(steady, l)
			} else if l.Listed == topics {
				full = append(full, l)
			}
		}
		b.progress("scale: %d refreshes seen since copied, %d full", len(steady)+len(full), len(full))
		if len(full) > 0 && len(steady) >= 5 {
			break
		}
	}
	if len(steady) == 0 {
		return res, fmt.Errorf("no topic refresh logged after the copy")
	}
	ms := make([]float64, len(steady))
	for i, l := range steady {
		ms[i] = l.DurationMs
	}
	slices.Sort(ms)
	res.RefreshMs, res.Refreshes = ms[len(ms)/2], len(steady)+len(full)
	if len(full) > 0 {
		res.FullRefreshMs, res.FullListed = full[0].DurationMs, full[0].Listed
	}
	return res, nil
}

type refreshLine struct {
	Time       string  `json:"time"`
	Msg        string  `json:"msg"`
	Listed     int     `json:"listed_on_target"`
	DurationMs float64 `json:"duration_ms"`
	at         time.Time
}

// refreshLines reads the "refreshed topics" lines of a JSON log.
func refreshLines(path string) ([]refreshLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []refreshLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if !strings.Contains(sc.Text(), `"refreshed topics"`) {
			continue
		}
		var l refreshLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "refreshed topics" {
			l.at, _ = time.Parse(time.RFC3339Nano, l.Time)
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

func printScale(w io.Writer, res scaleResult) {
	fmt.Fprintf(w, "scale: %d topics, %d partitions, one record each\n", res.Topics, res.Partitions)
	fmt.Fprintf(w, "  strait run to a record of every topic on the target: %.1f s (every partition: %.1f s)\n", res.EveryTopicSeconds, res.AllSeconds)
	fmt.Fprintf(w, "  topic refresh, source unchanged: %.0f ms median (%d remote topics listed on the target)\n", res.RefreshMs, res.RefreshListed)
	if res.FullListed > 0 {
		fmt.Fprintf(w, "  topic refresh with the periodic full listing: %.0f ms (%d remote topics listed)\n", res.FullRefreshMs, res.FullListed)
	}
}
