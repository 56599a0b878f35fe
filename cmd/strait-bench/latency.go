package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// tailSegmentBytes is the log.segment.bytes of the --tail runs' kfake
// clusters. kfake (in memory) keeps a partition's active segment in one
// byte slice and, when a write does not fit, copies it into a new one twice
// as large, in its one request-handling goroutine. At a steady rate every
// partition's slice fills at the same moments, 2^k x the first batch's
// size, so each cluster stalls for the copies at doubling times (about 1.2,
// 2.5, 5 and 10 s after the first record in these runs); a 23 MiB copy of
// the 8 partitions took 80-190 ms on the source and the target. Those
// stalls were the p99 of the pipe and of Strait alike. A real broker
// appends to a file and copies nothing; with 1 MiB segments (a size a real
// broker accepts too) the largest copy is under 1 MiB, and the same
// clusters serve both systems.
const tailSegmentBytes = 1 << 20

// latencyResult is one system's latency at a fixed offered load.
type latencyResult struct {
	Case    string  `json:"case"`
	System  string  `json:"system"`
	Rate    float64 `json:"offered_records_per_second"`
	P50Ms   float64 `json:"p50_ms"`
	P99Ms   float64 `json:"p99_ms"`
	P999Ms  float64 `json:"p999_ms"`
	MaxMs   float64 `json:"max_ms"`
	Samples int     `json:"samples"`
	// FirstCopyMs is from the first record produced to its first copy
	// read on the target: the system's start-up, which the window leaves
	// out (it was counted before, as the tail of the distribution).
	FirstCopyMs float64 `json:"first_copy_ms"`
	// FromStartP99Ms is the p99 of the records produced in the first
	// window-long span from the first record produced, start-up
	// included: what this bench measured before it had a warm-up.
	FromStartP99Ms float64 `json:"from_start_p99_ms"`
	// SecondMaxMs is the largest latency of the records produced in each
	// second of the window: where in time the tail is.
	SecondMaxMs []float64 `json:"per_second_max_ms"`
	// Events counts what Strait did in the window (the --tail-events
	// run): topic refreshes, position writes, checkpoints.
	Events *windowEvents `json:"events,omitempty"`
	// CPU is what the machine and the bench's processes (itself, the two
	// clusters, the system) used in the window: on a shared machine the
	// rest is other people's work, which stalls both systems alike.
	CPU *machineCPU `json:"cpu,omitempty"`

	samples []float64 // sorted, for pooling rounds
}

// windowEvents are the periodic jobs Strait ran during a latency window.
type windowEvents struct {
	Refreshes      int   `json:"topic_refreshes"`
	PositionWrites int64 `json:"position_records"`
	Checkpoints    int64 `json:"checkpoint_records"`
	GroupCommits   int64 `json:"source_group_commits"`
}

// latencySample is one copied record: when it was produced, relative to
// the window's start, and how long it took to be read on the target.
type latencySample struct {
	at, ms float64
}

// latency offers rate records/s to a new topic while the system
// replicates it, and reads the copies on the target: now - the record's
// timestamp (set by the producer) for every record. The window is
// b.latencyFor and starts b.latencyWarmup after the first copy was read:
// the records produced while the system starts up (connects, creates the
// remote topic, joins its group) measure its start-up, not its latency.
func (b *bench) latency(ctx context.Context, c benchCase, src *child, system, topic string, rate float64) (*latencyResult, error) {
	srcAddr := src.addr
	tgt, err := b.startCluster("--cluster-id", "B")
	if err != nil {
		return nil, err
	}
	defer tgt.stop()
	if err := createBenchTopic(ctx, srcAddr, topic, b.partitions); err != nil {
		return nil, err
	}
	// Run after the system and the producer stopped: each round starts
	// from the same source (the loaded records), not one holding every
	// earlier round's topic (gigabytes in the kfake process by the last
	// round).
	defer b.deleteSourceTopic(ctx, srcAddr, topic)
	var logPath string
	if b.latencyEvents != nil && system != "pipe" {
		logPath = fmt.Sprintf("%s/%s.log", b.dir, topic)
	}
	proc, err := b.startLatencySystem(ctx, system, srcAddr, tgt.addr, topic, logPath)
	if err != nil {
		return nil, err
	}
	defer proc.stop()
	// Wait for the remote topic, then consume it while producing.
	tcl, adm, err := admin(tgt.addr)
	if err != nil {
		return nil, err
	}
	defer tcl.Close()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if topics, err := adm.ListTopics(ctx, "A."+topic); err == nil && topics.Has("A."+topic) && topics["A."+topic].Err == nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("A.%s not created", topic)
		}
		time.Sleep(100 * time.Millisecond) // polling interval
	}
	// read_committed: a copy counts when a reader of the target can see it
	// (at its transaction's commit, for strait-eos).
	consumer, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(tgt.addr, ",")...), kgo.ConsumeTopics("A."+topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(10*time.Millisecond), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		return nil, err
	}
	defer consumer.Close()
	producer, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(srcAddr, ",")...), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		return nil, err
	}
	defer producer.Close()
	pctx, cancel := context.WithCancel(ctx)
	var background sync.WaitGroup
	defer background.Wait()
	defer cancel()
	if b.latencyEvents != nil {
		// A group committing on the source topic: the checkpoints
		// Strait emits are of it.
		background.Go(func() { b.latencyEvents.commitGroup(pctx, srcAddr, topic) })
	}
	// The window, as UnixNano, set by the consumer once it read the first
	// copy; the producer stops at its end and then says how many records
	// it produced in it.
	var winStart atomic.Int64
	inWindow := make(chan int, 1)
	value := make([]byte, c.Size)
	producingFrom := time.Now()
	background.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		perTick := max(int(rate/100), 1)
		sent, counted := 0, 0
		for {
			select {
			case <-pctx.Done():
				return
			case <-tick.C:
			}
			for range perTick {
				now := time.Now()
				if s := winStart.Load(); s > 0 {
					// As the consumer will read it: in milliseconds.
					at := now.UnixMilli() * int64(time.Millisecond)
					if at >= s+b.latencyFor.Nanoseconds() {
						inWindow <- counted
						return
					}
					if at >= s {
						counted++
					}
				}
				producer.Produce(pctx, &kgo.Record{Partition: int32(sent % b.partitions), Value: value, Timestamp: now}, nil)
				sent++
			}
		}
	})
	var cpu *machineCPU
	cpuDone := make(chan struct{})
	var samples []latencySample
	var fromStart []float64 // the records produced in the first window-long span
	var windowFrom, windowTo, firstCopy time.Time
	want := -1
	var before windowCounts
	for deadline := time.Now().Add(b.latencyFor + b.latencyWarmup + 60*time.Second); want < 0 || len(samples) < want; {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d records of the window copied in time", len(samples), want)
		}
		fctx, fcancel := context.WithTimeout(ctx, time.Second)
		fs := consumer.PollFetches(fctx)
		fcancel()
		now := time.Now()
		if winStart.Load() == 0 && fs.NumRecords() > 0 {
			firstCopy = now
			// Whole milliseconds, as record timestamps are.
			windowFrom = now.Add(b.latencyWarmup).Truncate(time.Millisecond)
			windowTo = windowFrom.Add(b.latencyFor)
			winStart.Store(windowFrom.UnixNano())
			background.Go(func() {
				defer close(cpuDone)
				if m, ok := windowCPU(pctx, windowFrom, windowTo, src.cmd.Process.Pid, tgt.cmd.Process.Pid, proc.cmd.Process.Pid); ok {
					cpu = &m
				}
			})
			if b.latencyEvents != nil {
				// Started with the window, ends after it: counts what
				// ran within it.
				background.Go(func() {
					select {
					case <-pctx.Done():
					case <-time.After(time.Until(windowFrom)):
						before = b.latencyEvents.counts(ctx, srcAddr, tgt.addr, topic)
					}
				})
			}
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Timestamp.Before(producingFrom.Add(b.latencyFor)) {
				fromStart = append(fromStart, float64(now.Sub(r.Timestamp).Microseconds())/1000)
			}
			if !windowFrom.IsZero() && !r.Timestamp.Before(windowFrom) && r.Timestamp.Before(windowTo) {
				samples = append(samples, latencySample{at: r.Timestamp.Sub(windowFrom).Seconds(), ms: float64(now.Sub(r.Timestamp).Microseconds()) / 1000})
			}
		})
		select {
		case want = <-inWindow:
		default:
		}
		b.progress("%s %s latency: %d/%d records of the window", caseName(c), system, len(samples), want)
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("no record replicated in the latency window")
	}
	res := latencyFrom(samples, b.latencyFor)
	res.Case, res.System, res.Rate = caseName(c), system, rate
	res.FirstCopyMs = float64(firstCopy.Sub(producingFrom).Microseconds()) / 1000
	<-cpuDone // the window has ended: its last record was read
	res.CPU = cpu
	if len(fromStart) > 0 {
		slices.Sort(fromStart)
		res.FromStartP99Ms = percentile(fromStart, 0.99)
	}
	if b.latencyEvents != nil {
		cancel()
		background.Wait() // before is set
		after := b.latencyEvents.counts(ctx, srcAddr, tgt.addr, topic)
		ev := &windowEvents{PositionWrites: after.positions - before.positions, Checkpoints: after.checkpoints - before.checkpoints,
			GroupCommits: after.commits - before.commits}
		if logPath != "" {
			lines, err := refreshLines(logPath)
			if err != nil {
				return nil, err
			}
			for _, l := range lines {
				if !l.at.Before(windowFrom) && l.at.Before(windowTo) {
					ev.Refreshes++
				}
			}
		}
		res.Events = ev
	}
	return res, nil
}

// deleteSourceTopic deletes a latency round's topic on the source; if it
// cannot, the topic stays and the bench says so.
func (b *bench) deleteSourceTopic(ctx context.Context, srcAddr, topic string) {
	cl, adm, err := admin(srcAddr)
	if err == nil {
		defer cl.Close()
		var resp kadm.DeleteTopicResponses
		if resp, err = adm.DeleteTopics(ctx, topic); err == nil {
			err = resp.Error()
		}
	}
	if err != nil {
		fmt.Fprintf(b.out, "  could not delete the source topic %s: %v\n", topic, err)
	}
}

// latencyFrom computes the percentiles of samples, and each second's
// largest latency.
func latencyFrom(samples []latencySample, window time.Duration) *latencyResult {
	res := &latencyResult{Samples: len(samples), SecondMaxMs: make([]float64, int(math.Ceil(window.Seconds())))}
	ms := make([]float64, len(samples))
	for i, s := range samples {
		ms[i] = s.ms
		sec := min(int(s.at), len(res.SecondMaxMs)-1)
		res.SecondMaxMs[sec] = max(res.SecondMaxMs[sec], s.ms)
	}
	slices.Sort(ms)
	res.samples = ms
	res.P50Ms, res.P99Ms, res.P999Ms, res.MaxMs = percentile(ms, 0.50), percentile(ms, 0.99), percentile(ms, 0.999), ms[len(ms)-1]
	return res
}

func percentile(sorted []float64, p float64) float64 {
	return sorted[min(int(p*float64(len(sorted))), len(sorted)-1)]
}

// startLatencySystem starts the system of a latency phase; Strait's log goes
// to logPath when it is set (JSON, debug: refreshes are counted from it).
func (b *bench) startLatencySystem(ctx context.Context, system, srcAddr, tgtAddr, topic, logPath string) (*child, error) {
	if logPath == "" {
		return b.startSystem(ctx, system, srcAddr, tgtAddr, topic)
	}
	cfg, err := b.straitConfig(srcAddr, tgtAddr, topic)
	if err != nil {
		return nil, err
	}
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	// The child has its own descriptor: this one can be closed now.
	defer f.Close()
	return startProcess(f, b.strait, "run", "-c", cfg, "--log-level", "debug", "--log-format", "json", "--progress-interval", "0")
}

// tailResult is the --tail run: per case, the pipe's measured maximum and
// each system's latency at a fraction of it, all rounds' samples pooled.
type tailResult struct {
	Load   float64       `json:"load_fraction"`
	Window float64       `json:"window_seconds"`
	Events bool          `json:"events"`
	Cases  []tailCaseRes `json:"cases"`
}

type tailCaseRes struct {
	Case    string          `json:"case"`
	MaxRate float64         `json:"pipe_max_records_per_second"`
	Pooled  []latencyResult `json:"pooled"`
	Rounds  []latencyResult `json:"rounds"`
}

// tail measures, for each case, the pipe's maximum rate (one copy of the
// case's records), then the latency of the pipe and Strait at b.latencyLoad
// of it, b.rounds times in alternating order; with b.latencyEvents set,
// Strait refreshes topics, writes positions and emits checkpoints during
// each window.
func (b *bench) tail(cases []benchCase) (tailResult, error) {
	ctx := context.Background()
	res := tailResult{Load: b.latencyLoad, Window: b.latencyFor.Seconds(), Events: b.latencyEvents != nil}
	if b.latencyEvents != nil {
		b.refreshSeconds = 1
		b.flushMs = 1000
		b.extraConfig += "emit.checkpoints.interval.seconds = 1\nrefresh.groups.interval.seconds = 1\nsync.group.offsets.enabled = false\n"
	}
	topics := 0
	for _, c := range cases {
		src, err := b.loadedSource(ctx, c)
		if err != nil {
			return res, err
		}
		cr, err := b.tailCase(ctx, c, src, &topics)
		src.stop()
		if err != nil {
			return res, err
		}
		res.Cases = append(res.Cases, cr)
	}
	return res, nil
}

func (b *bench) tailCase(ctx context.Context, c benchCase, src *child, topics *int) (tailCaseRes, error) {
	cr := tailCaseRes{Case: caseName(c)}
	maxRun, err := b.measure(ctx, c, src.addr, "pipe")
	if err != nil {
		return cr, fmt.Errorf("pipe: %w", err)
	}
	cr.MaxRate = maxRun.RecordsPerSec
	systems := []string{"pipe", "strait"}
	pooled := map[string][]float64{}
	for round := range b.rounds {
		for i := range systems {
			system := systems[(i+round)%len(systems)]
			*topics++
			lat, err := b.latency(ctx, c, src, system, fmt.Sprintf("tail%d", *topics), cr.MaxRate*b.latencyLoad)
			if err != nil {
				return cr, fmt.Errorf("%s latency: %w", system, err)
			}
			cr.Rounds = append(cr.Rounds, *lat)
			pooled[system] = append(pooled[system], lat.samples...)
		}
	}
	for _, system := range systems {
		ms := pooled[system]
		slices.Sort(ms)
		cr.Pooled = append(cr.Pooled, latencyResult{Case: cr.Case, System: system, Rate: cr.MaxRate * b.latencyLoad, Samples: len(ms),
			P50Ms: percentile(ms, 0.50), P99Ms: percentile(ms, 0.99), P999Ms: percentile(ms, 0.999), MaxMs: ms[len(ms)-1]})
	}
	return cr, nil
}

func printTail(w io.Writer, res tailResult) {
	what := "latency"
	if res.Events {
		what = "latency with a topic refresh, a position flush and a checkpoint each second"
	}
	for _, cr := range res.Cases {
		fmt.Fprintf(w, "%s: %s, at %.0f%% of the pipe's %.0f records/s = %.0f records/s, %.0f s windows\n", what, cr.Case, res.Load*100, cr.MaxRate, cr.MaxRate*res.Load, res.Window)
		fmt.Fprintf(w, "  %-8s %6s %9s %9s %9s %9s %9s\n", "system", "round", "samples", "p50 ms", "p99 ms", "p999 ms", "max ms")
		for i, l := range cr.Rounds {
			fmt.Fprintf(w, "  %-8s %6d %9d %9.1f %9.1f %9.1f %9.1f  first copy after %.0f ms, p99 from the first record %.0f ms;%s per-second max:%s%s\n", l.System, i/2+1, l.Samples, l.P50Ms, l.P99Ms, l.P999Ms, l.MaxMs, l.FirstCopyMs, l.FromStartP99Ms, fmtCPU(l.CPU), fmtMs(l.SecondMaxMs), fmtEvents(l.Events))
		}
		var pipe latencyResult
		for _, l := range cr.Pooled {
			// The spread of the rounds' p99: how far one round is from
			// the pooled figure.
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, r := range cr.Rounds {
				if r.System == l.System {
					lo, hi = min(lo, r.P99Ms), max(hi, r.P99Ms)
				}
			}
			ratio := ""
			if l.System == "pipe" {
				pipe = l
			} else {
				ratio = fmt.Sprintf("  vs pipe: p50 %.2fx, p99 %.2fx", l.P50Ms/pipe.P50Ms, l.P99Ms/pipe.P99Ms)
			}
			fmt.Fprintf(w, "  %-8s %6s %9d %9.1f %9.1f %9.1f %9.1f  rounds' p99 %.0f-%.0f ms%s\n", l.System, "all", l.Samples, l.P50Ms, l.P99Ms, l.P999Ms, l.MaxMs, lo, hi, ratio)
		}
	}
}

func fmtMs(ms []float64) string {
	var sb strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&sb, " %.0f", m)
	}
	return sb.String()
}

func fmtCPU(c *machineCPU) string {
	if c == nil {
		return ""
	}
	return fmt.Sprintf(" CPU in window %.2f cores, %.2f the bench's processes';", c.All, c.Ours)
}

func fmtEvents(e *windowEvents) string {
	if e == nil {
		return ""
	}
	return fmt.Sprintf("  in window: %d refreshes, %d position records, %d checkpoints, %d group commits", e.Refreshes, e.PositionWrites, e.Checkpoints, e.GroupCommits)
}

// latencyEvents makes Strait's periodic jobs run during the latency
// windows (the --tail-events run) and counts them.
type latencyEvents struct {
	commits atomic.Int64 // commits of the source group, all windows
}

// eventsGroup is the group that consumes and commits on the source during
// the --tail-events windows: Strait emits checkpoints of it.
const eventsGroup = "bench-events"

// commitGroup consumes topic on the source in eventsGroup and commits what
// it read every 200 ms, until ctx is done.
func (e *latencyEvents) commitGroup(ctx context.Context, srcAddr, topic string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(srcAddr, ",")...), kgo.ConsumerGroup(eventsGroup),
		kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return
	}
	defer cl.Close()
	last := time.Now()
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		cl.PollFetches(pctx)
		cancel()
		if time.Since(last) >= 200*time.Millisecond {
			last = time.Now()
			if cl.CommitUncommittedOffsets(ctx) == nil {
				e.commits.Add(1)
			}
		}
	}
}

// windowCounts are running totals, read at a window's start and end.
type windowCounts struct {
	positions, checkpoints, commits int64
}

// counts reads the records in Strait's offsets and checkpoints topics on
// the target and the source group's commits so far.
func (e *latencyEvents) counts(ctx context.Context, srcAddr, tgtAddr, topic string) windowCounts {
	cl, adm, err := admin(tgtAddr)
	if err != nil {
		return windowCounts{}
	}
	defer cl.Close()
	return windowCounts{positions: endTotal(ctx, adm, "mm2-offsets.A.internal"), checkpoints: endTotal(ctx, adm, "A.checkpoints.internal"), commits: e.commits.Load()}
}
