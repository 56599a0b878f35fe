package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/internal/connect"
	"github.com/strait-replicator/strait/internal/topicread"
)

// benchCase is one workload of the bench.
type benchCase struct {
	Records int `json:"records"`
	Size    int `json:"size"`
}

// benchResult is one system's run of a case.
type benchResult struct {
	Case          string  `json:"case"`
	System        string  `json:"system"` // "pipe", "strait", "baseline", "strait-eos" or "baseline-eos"
	Records       int     `json:"records"`
	Seconds       float64 `json:"seconds"` // first record on the target to the last
	RecordsPerSec float64 `json:"records_per_second"`
	MBPerSec      float64 `json:"mb_per_second"`
	CPUSeconds    float64 `json:"cpu_seconds"`
	CPUPerGB      float64 `json:"cpu_seconds_per_gb"`
	PeakRSS       int64   `json:"peak_rss_bytes"`
	Rounds        int     `json:"rounds"`
}

type bench struct {
	lastProgress time.Time
	self         string // this binary, for its hidden helper commands
	strait       string // the strait binary measured
	// baseline is a second strait binary measured in the same rounds as
	// strait (an older build, to compare); "" for none.
	baseline    string
	dir         string
	out         io.Writer
	partitions  int
	tasks       int
	compression string
	latencyFor  time.Duration
	latencyLoad float64
	rounds      int
	exactlyOnce bool // also measure Strait in exactly-once mode (systemEOS)
	// partitionOf is the partition of the i-th loaded record; nil spreads
	// records evenly.
	partitionOf func(i int) int32
	// extraConfig is appended to Strait's configuration.
	extraConfig string
	// refreshSeconds is Strait's refresh.topics.interval.seconds; 0: 60.
	refreshSeconds int
	// targetArgs are the kfake-serve flags of target clusters.
	targetArgs []string
	// flushMs is Strait's offset.flush.interval.ms; 0: 5000.
	flushMs int
	// latencyWarmup is how long after the first copy a latency window
	// starts.
	latencyWarmup time.Duration
	// kfakeGC is the GOGC of the kfake processes (-1: off).
	kfakeGC int
	// kfakeSegmentBytes is the kfake processes' log.segment.bytes (0:
	// kfake's default, 100 MiB).
	kfakeSegmentBytes int
	// floor adds the client's floor (a bare read and a bare write of the
	// records) to the throughput rounds.
	floor bool
	// latencyEvents, when set, has Strait run its periodic jobs during
	// the latency windows (--tail-events).
	latencyEvents *latencyEvents
}

// runBench measures Strait against a bare franz-go pipe on clusters run as
// separate kfake processes; see BENCHMARKS.md.
func runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("strait-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { usage(fs) }
	straitPath := fs.String("strait", "", "the strait binary to measure (default: "+straitPackage+", built with go build)")
	baseline := fs.String("baseline", "", "another strait binary (an older build) measured in the same rounds, reported as system \"baseline\" (with --exactly-once: in exactly-once mode, as \"baseline-eos\")")
	records1k := fs.Int("records-1k", 1000000, "records of 1 KiB (0 skips the case)")
	records100 := fs.Int("records-100", 5000000, "records of 100 bytes (0 skips the case)")
	size := fs.Int("size", 0, "run one case of this record size instead (with --records)")
	records := fs.Int("records", 100000, "records for --size")
	partitions := fs.Int("partitions", 8, "partitions of the bench topic")
	tasks := fs.Int("tasks", 1, "Strait's tasks.max (the pipe is one consumer and one producer)")
	compression := fs.String("compression", "none", "producer compression of both systems: none, snappy, lz4, zstd, gzip")
	exactlyOnce := fs.Bool("exactly-once", false, "measure Strait in exactly-once mode too (system strait-eos, in the same rounds as the pipe and Strait at least once), and print their ratio")
	latencyFor := fs.Duration("latency-duration", 8*time.Second, "how long to measure latency (0 skips)")
	rounds := fs.Int("rounds", 3, "runs of each system per case; the median is reported (--tail: latency rounds, pooled, 5 unless given)")
	latencyLoad := fs.Float64("latency-load", 0.25, "offered load of the latency phase, as a fraction of the pipe's measured maximum (--tail: 0.1 unless given)")
	latencyWarmup := fs.Duration("latency-warmup", 2*time.Second, "time from the first copied record to the latency window: records produced while the system starts are not counted")
	kfakeGC := fs.Int("kfake-gc-percent", 100, "GOGC of the kfake cluster processes; -1 turns their garbage collector off (their pauses show in every system's latency tail)")
	kfakeSegmentBytes := fs.Int("kfake-segment-bytes", 0, "log.segment.bytes of the kfake cluster processes (0: kfake's 100 MiB; --tail: 1 MiB unless given). kfake keeps a segment in one byte slice that it copies into one twice as large whenever it fills: with large segments every partition's copy grows to tens of MB and stalls the cluster")
	benchGC := fs.Int("bench-gc-percent", 100, "GOGC of this process (its latency producer and consumer); -1 turns its garbage collector off")
	floor := fs.Bool("floor", false, "also measure, in the same rounds, a bare franz-go consumer reading the records and a bare producer writing them: the client's floor of CPU per GB")
	tail := fs.Bool("tail", false, "instead of the throughput cases: latency (p50/p99/p999/max) of the pipe and Strait at --latency-load (0.1) of the pipe's measured maximum, --rounds rounds, for 1 KiB and 100 B records (--records-1k, --records-100 for the maximum)")
	tailEvents := fs.Bool("tail-events", false, "as --tail, with Strait refreshing topics, writing positions and emitting checkpoints (of a group committing on the source) every second during the windows")
	asJSON := fs.Bool("json", false, "print JSON")
	memory := fs.Bool("memory", false, "instead of the throughput cases: Strait's peak RSS with a backlog of --memory-records x 1 KiB and a target throttled to a quarter of the source's speed, with each of --memory-caps")
	memoryRecords := fs.Int("memory-records", 1000000, "backlog of the --memory run, in 1 KiB records")
	memoryCaps := fs.String("memory-caps", "64Mi,128Mi,256Mi", "Strait's memory.max.bytes in the --memory run, comma-separated (suffixes Ki, Mi, Gi)")
	skew := fs.Bool("skew", false, "instead of the throughput cases: a skewed load (two of 8 partitions carry 80% of the records) over 4 tasks, each task's connection to the target limited to --skew-mbps, with round-robin and with load-aware assignment")
	skewRecords := fs.Int("skew-records", 200000, "records of 1 KiB in the --skew run")
	skewMBps := fs.Float64("skew-mbps", 10, "per-connection produce limit of the target in the --skew run, MB/s")
	scaleTopics := fs.Int("scale-topics", 0, "instead of the throughput cases: startup and topic refresh with this many source topics (e.g. 500)")
	scalePartitions := fs.Int("scale-partitions", 20, "partitions per topic of the --scale-topics run")
	scaleMemory := fs.String("scale-memory", "512Mi", "Strait's memory.max.bytes in the --scale-topics runs (suffixes Ki, Mi, Gi; 0: Strait's default, 256 MiB)")
	verifyMode := fs.Bool("verify", false, "instead of the throughput cases: strait verify against a bare consume of both clusters, on --verify-records records of --verify-size bytes copied by Strait")
	verifyRecords := fs.Int("verify-records", 500000, "records of the --verify run")
	verifySize := fs.Int("verify-size", 1024, "record size of the --verify run, bytes")
	rateLimit := fs.Bool("rate-limit", false, "instead of the throughput cases: replication.bytes.per.second at 5 and 20 MB/s (--rate-limits), with 1 and 3 workers (--rate-workers), the rate on the target measured over --rate-window after --rate-warmup; use --partitions 6 --tasks 6")
	rateLimits := fs.String("rate-limits", "5,20", "limits of the --rate-limit run, MB/s, comma-separated")
	rateWorkers := fs.String("rate-workers", "1,3", "numbers of workers (strait run processes in one group) of the --rate-limit run, comma-separated")
	rateWindow := fs.Duration("rate-window", 30*time.Second, "measuring window of the --rate-limit run")
	rateWarmup := fs.Duration("rate-warmup", 10*time.Second, "time from the first copied record to the window in the --rate-limit run (workers join)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitConfig
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "strait-bench: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitConfig
	}
	caps, err := parseSizes(*memoryCaps)
	if err != nil {
		fmt.Fprintln(stderr, "strait-bench: --memory-caps:", err)
		return exitConfig
	}
	if _, err := benchCodec(*compression); err != nil {
		fmt.Fprintln(stderr, "strait-bench:", err)
		return exitConfig
	}
	debug.SetGCPercent(*benchGC)
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "strait-bench:", err)
		return exitFailed
	}
	dir, err := os.MkdirTemp("", "strait-bench-")
	if err != nil {
		fmt.Fprintln(stderr, "strait-bench:", err)
		return exitFailed
	}
	defer os.RemoveAll(dir)
	strait := *straitPath
	if strait == "" {
		if strait, err = buildStrait(dir, stderr); err != nil {
			fmt.Fprintln(stderr, "strait-bench:", err)
			return exitFailed
		}
	}
	b := &bench{self: self, strait: strait, baseline: *baseline, dir: dir, out: stderr, partitions: *partitions, tasks: *tasks, compression: *compression, latencyFor: *latencyFor, latencyLoad: *latencyLoad, rounds: max(*rounds, 1), exactlyOnce: *exactlyOnce, latencyWarmup: *latencyWarmup, floor: *floor, kfakeGC: *kfakeGC, kfakeSegmentBytes: *kfakeSegmentBytes}
	if *tail || *tailEvents {
		loadSet, segmentSet, roundsSet := false, false, false
		fs.Visit(func(f *flag.Flag) {
			loadSet = loadSet || f.Name == "latency-load"
			segmentSet = segmentSet || f.Name == "kfake-segment-bytes"
			roundsSet = roundsSet || f.Name == "rounds"
		})
		if !roundsSet {
			// A round's p99 is a few stalls of the shared machine:
			// more rounds pooled, so that one round weighs less.
			b.rounds = 5
		}
		if !loadSet {
			b.latencyLoad = 0.1
		}
		if !segmentSet {
			// See tailSegmentBytes: kfake's copying of its growing
			// segments was the tail of both systems.
			b.kfakeSegmentBytes = tailSegmentBytes
		}
		if *tailEvents {
			b.latencyEvents = &latencyEvents{}
		}
		res, err := b.tail(benchCases(*size, *records, *records1k, *records100))
		return report(stdout, stderr, *asJSON, res, err, func() { printTail(stdout, res) })
	}
	if *skew {
		res, err := b.skewed(benchCase{*skewRecords, 1024}, *skewMBps)
		return report(stdout, stderr, *asJSON, res, err, func() { printSkew(stdout, res) })
	}
	if *scaleTopics > 0 {
		var capBytes int64
		if *scaleMemory != "0" {
			sizes, err := parseSizes(*scaleMemory)
			if err != nil || len(sizes) != 1 {
				fmt.Fprintf(stderr, "strait-bench: --scale-memory: %q is not one size\n", *scaleMemory)
				return exitConfig
			}
			capBytes = sizes[0]
		}
		res, err := b.scale(*scaleTopics, *scalePartitions, capBytes)
		return report(stdout, stderr, *asJSON, res, err, func() { printScale(stdout, res) })
	}
	if *rateLimit {
		limits, err1 := parseFloats(*rateLimits)
		workers, err2 := parseInts(*rateWorkers)
		if err := errors.Join(err1, err2); err != nil {
			fmt.Fprintln(stderr, "strait-bench:", err)
			return exitConfig
		}
		res, err := b.rateLimited(1024, limits, workers, *rateWindow, *rateWarmup)
		return report(stdout, stderr, *asJSON, res, err, func() { printRateLimit(stdout, res) })
	}
	if *verifyMode {
		res, err := b.verifyBench(benchCase{*verifyRecords, *verifySize})
		return report(stdout, stderr, *asJSON, res, err, func() { printVerifyBench(stdout, res) })
	}
	if *memory {
		res, err := b.memory(benchCase{*memoryRecords, 1024}, caps)
		return report(stdout, stderr, *asJSON, res, err, func() { printMemory(stdout, res) })
	}
	cases := benchCases(*size, *records, *records1k, *records100)
	var results []benchResult
	var latencies []latencyResult
	for _, c := range cases {
		rs, lats, err := b.run(c)
		if err != nil {
			fmt.Fprintln(stderr, "strait-bench:", err)
			return exitFailed
		}
		results = append(results, rs...)
		latencies = append(latencies, lats...)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]any{"results": results, "latency": latencies})
		return exitOK
	}
	printBench(stdout, results, latencies)
	if *exactlyOnce {
		fmt.Fprintln(stdout, "strait-eos: Strait in exactly-once mode (transaction.boundary = poll, records and positions together), read_committed; pipe and strait: at least once.")
		if *baseline != "" {
			fmt.Fprintln(stdout, "baseline-eos: the --baseline binary in exactly-once mode, as strait-eos (it is not measured at least once in this run).")
		}
	}
	return exitOK
}

// benchCases are the cases of the command line: one of size, or 1 KiB and
// 100 B records.
func benchCases(size, records, records1k, records100 int) []benchCase {
	if size > 0 {
		return []benchCase{{records, size}}
	}
	var cases []benchCase
	if records1k > 0 {
		cases = append(cases, benchCase{records1k, 1024})
	}
	if records100 > 0 {
		cases = append(cases, benchCase{records100, 100})
	}
	return cases
}

// report prints the result of a bench run, as JSON or with print, and
// returns the exit code.
func report(stdout, stderr io.Writer, asJSON bool, res any, err error, print func()) int {
	if err != nil {
		fmt.Fprintln(stderr, "strait-bench:", err)
		return exitFailed
	}
	if asJSON {
		_ = json.NewEncoder(stdout).Encode(res)
	} else {
		print()
	}
	return exitOK
}

// progress prints a progress line at most twice a second.
func (b *bench) progress(format string, args ...any) {
	if time.Since(b.lastProgress) < 500*time.Millisecond {
		return
	}
	b.lastProgress = time.Now()
	fmt.Fprintf(b.out, "  "+format+"\n", args...)
}

func caseName(c benchCase) string {
	size := fmt.Sprintf("%d B", c.Size)
	if c.Size%1024 == 0 {
		size = fmt.Sprintf("%d KiB", c.Size/1024)
	}
	return fmt.Sprintf("%d x %s", c.Records, size)
}

func printBench(w io.Writer, results []benchResult, latencies []latencyResult) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tsystem\trecords/s\tMB/s\tCPU s/GB\tpeak RSS MiB\tvs pipe: rate\tCPU/GB\t")
	var pipe benchResult
	for _, r := range results {
		ratio, cpu := "", ""
		if r.System == "pipe" {
			pipe = r
		} else if pipe.Case == r.Case && !slices.Contains(floorSystems(), r.System) {
			ratio = fmt.Sprintf("%.2f", r.RecordsPerSec/pipe.RecordsPerSec)
			cpu = fmt.Sprintf("%.2f", r.CPUPerGB/pipe.CPUPerGB)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.1f\t%.2f\t%.0f\t%s\t%s\t\n", r.Case, r.System, r.RecordsPerSec, r.MBPerSec, r.CPUPerGB, float64(r.PeakRSS)/(1<<20), ratio, cpu)
	}
	tw.Flush()
	var strait benchResult
	for _, r := range results {
		switch r.System {
		case "strait":
			strait = r
		case "baseline":
			if strait.Case == r.Case && r.RecordsPerSec > 0 && r.CPUPerGB > 0 {
				fmt.Fprintf(w, "%s: strait vs baseline: rate %.2f, CPU/GB %.2f\n", r.Case, strait.RecordsPerSec/r.RecordsPerSec, strait.CPUPerGB/r.CPUPerGB)
			}
		}
	}
	printFloor(w, results)
	printEOSRatios(w, results)
	for _, l := range latencies {
		fmt.Fprintf(w, "latency %s %-6s at %.0f records/s offered: p50 %.1f ms, p99 %.1f ms, p999 %.1f ms, max %.1f ms (%d samples)\n", l.Case, l.System, l.Rate, l.P50Ms, l.P99Ms, l.P999Ms, l.MaxMs, l.Samples)
	}
}

// child is a process the bench started; stop ends it.
type child struct {
	cmd  *exec.Cmd
	addr string // for kfake: its listen addresses
}

// startCluster starts a kfake cluster in a process of its own (this
// command's hidden kfake-serve, with args) and waits for its addresses.
// loadedSource starts the source cluster A with the bench topic (b.partitions
// partitions) holding c's records; the caller stops it.
func (b *bench) loadedSource(ctx context.Context, c benchCase) (*child, error) {
	src, err := b.startCluster("--cluster-id", "A")
	if err != nil {
		return nil, err
	}
	if err := createBenchTopic(ctx, src.addr, "bench", b.partitions); err != nil {
		src.stop()
		return nil, err
	}
	if err := b.load(ctx, src.addr, "bench", c); err != nil {
		src.stop()
		return nil, err
	}
	return src, nil
}

func (b *bench) startCluster(args ...string) (*child, error) {
	cmd := exec.Command(b.self, slices.Concat([]string{"kfake-serve", "--gc-percent", strconv.Itoa(b.kfakeGC), "--segment-bytes", strconv.Itoa(b.kfakeSegmentBytes)}, args)...)
	cmd.Stderr = io.Discard
	c := &child{cmd: cmd}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "LISTEN ") {
		c.stop()
		return nil, fmt.Errorf("kfake process did not start: %q %v", line, err)
	}
	c.addr = strings.TrimSpace(strings.TrimPrefix(line, "LISTEN "))
	return c, nil
}

// startStrait starts `strait run` with args, its stderr to log.
func (b *bench) startStrait(log io.Writer, args ...string) (*child, error) {
	return startProcess(log, b.strait, append([]string{"run"}, args...)...)
}

// startProcess starts exe with args, its stderr to log.
func startProcess(log io.Writer, exe string, args ...string) (*child, error) {
	cmd := exec.Command(exe, args...)
	cmd.Stderr = log
	return &child{cmd: cmd}, cmd.Start()
}

// buildStrait builds straitPackage into dir with the go command (so from a
// checkout of the module, as `go run ./cmd/strait-bench` is) and returns
// the binary's path.
func buildStrait(dir string, progress io.Writer) (string, error) {
	path := filepath.Join(dir, "strait")
	start := time.Now()
	if out, err := exec.Command("go", "build", "-o", path, straitPackage).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s (or give --strait PATH): %w\n%s", straitPackage, err, out)
	}
	fmt.Fprintf(progress, "  built %s in %s\n", straitPackage, time.Since(start).Round(100*time.Millisecond))
	return path, nil
}

func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }() // joined below
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

func admin(seeds string) (*kgo.Client, *kadm.Client, error) {
	// Fresh metadata: the bench watches topics that appear while it polls.
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(seeds, ",")...), kgo.MetadataMinAge(10*time.Millisecond))
	if err != nil {
		return nil, nil, err
	}
	return cl, kadm.NewClient(cl), nil
}

func createBenchTopic(ctx context.Context, seeds, topic string, partitions int) error {
	cl, adm, err := admin(seeds)
	if err != nil {
		return err
	}
	defer cl.Close()
	resp, err := adm.CreateTopic(ctx, int32(partitions), 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	return err
}

func endTotal(ctx context.Context, adm *kadm.Client, topic string) int64 {
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			n += o.Offset
		}
	})
	return n
}

// load produces c.Records records of c.Size bytes spread over the
// partitions. Values are random, so no codec makes the figures look better
// than they are.
func (b *bench) load(ctx context.Context, seeds, topic string, c benchCase) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(seeds, ",")...), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	values := benchValues(c.Size)
	start := time.Now()
	var failed error
	for i := range c.Records {
		p := int32(i % b.partitions)
		if b.partitionOf != nil {
			p = b.partitionOf(i)
		}
		r := &kgo.Record{Partition: p, Key: fmt.Appendf(nil, "%08d", i), Value: values[i%len(values)]}
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				failed = err
			}
		})
		if i%10000 == 0 && i > 0 {
			b.progress("loading %s: %d records (%.0f/s)", caseName(c), i, float64(i)/time.Since(start).Seconds())
		}
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	fmt.Fprintf(b.out, "  loaded %s in %s\n", caseName(c), time.Since(start).Round(100*time.Millisecond))
	return failed
}

// run measures one case: the pipe, then Strait, each into a fresh target
// cluster from the same source data; then the latency of each at a fixed
// offered load.
func (b *bench) run(c benchCase) ([]benchResult, []latencyResult, error) {
	ctx := context.Background()
	src, err := b.loadedSource(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	defer src.stop()
	// Rounds in alternating order, median of each: one run is at the mercy
	// of the kfake processes' garbage collection and the machine's other
	// work, and whichever system goes first would pay for warming them.
	runs := map[string][]benchResult{}
	systems := b.systems()
	measured := systems
	if b.floor {
		measured = append(slices.Clone(systems), floorSystems()...)
	}
	for round := range b.rounds {
		// Each round starts with another system.
		order := append(slices.Clone(measured[round%len(measured):]), measured[:round%len(measured)]...)
		for _, system := range order {
			measure := b.measure
			if slices.Contains(floorSystems(), system) {
				measure = b.measureFloor
			}
			r, err := measure(ctx, c, src.addr, system)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", system, err)
			}
			runs[system] = append(runs[system], r)
		}
	}
	var results []benchResult
	for _, system := range measured {
		results = append(results, median(runs[system]))
	}
	if b.latencyFor <= 0 {
		return results, nil, nil
	}
	var lats []latencyResult
	for i, system := range systems {
		lat, err := b.latency(ctx, c, src, system, fmt.Sprintf("latency%d", i), results[0].RecordsPerSec*b.latencyLoad)
		if err != nil {
			return nil, nil, fmt.Errorf("%s latency: %w", system, err)
		}
		lats = append(lats, *lat)
	}
	return results, lats, nil
}

// median is the run with the median rate; its CPU and RSS go with it.
func median(rs []benchResult) benchResult {
	sorted := slices.Clone(rs)
	slices.SortFunc(sorted, func(a, b benchResult) int { return cmp.Compare(a.RecordsPerSec, b.RecordsPerSec) })
	m := sorted[len(sorted)/2]
	m.Rounds = len(rs)
	return m
}

// startSystem starts the pipe or Strait copying topic from src to tgt, into
// the remote topic "A.<topic>".
func (b *bench) startSystem(ctx context.Context, system, srcAddr, tgtAddr, topic string) (*child, error) {
	dest := "A." + topic
	if system == "pipe" {
		if err := createBenchTopic(ctx, tgtAddr, dest, b.partitions); err != nil {
			return nil, err
		}
		return startProcess(io.Discard, b.self, "bench-pipe", "--from", srcAddr, "--to", tgtAddr, "--topic", topic, "--dest", dest, "--compression", b.compression)
	}
	cfg, err := b.straitConfig(srcAddr, tgtAddr, topic)
	if err != nil {
		return nil, err
	}
	if exactlyOnceSystem(system) {
		if err := enableExactlyOnce(cfg); err != nil {
			return nil, err
		}
	}
	exe := b.strait
	if system == "baseline" || system == baselineEOS {
		exe = b.baseline
	}
	return startProcess(io.Discard, exe, "run", "-c", cfg, "--log-level", "error", "--progress-interval", "0")
}

// systems are the systems each case measures: the pipe, Strait and, with
// --baseline, the other Strait build (in exactly-once mode with
// --exactly-once).
func (b *bench) systems() []string {
	if b.exactlyOnce {
		return eosSystems(b.baseline != "")
	}
	if b.baseline != "" {
		return []string{"pipe", "strait", "baseline"}
	}
	return []string{"pipe", "strait"}
}

func (b *bench) straitConfig(srcAddr, tgtAddr, topics string) (string, error) {
	path := filepath.Join(b.dir, "bench.properties")
	text := fmt.Sprintf(`clusters = A, B
A.bootstrap.servers = %s
B.bootstrap.servers = %s
A->B.enabled = true
A->B.topics = %s
tasks.max = %d
replication.factor = 1
offset.storage.replication.factor = 1
config.storage.replication.factor = 1
status.storage.replication.factor = 1
offset-syncs.topic.replication.factor = 1
checkpoints.topic.replication.factor = 1
heartbeats.topic.replication.factor = 1
emit.heartbeats.enabled = false
refresh.topics.interval.seconds = %d
B.producer.compression.type = %s
offset.flush.interval.ms = %d
`, srcAddr, tgtAddr, topics, b.tasks, cmp.Or(b.refreshSeconds, 60), b.compression, cmp.Or(b.flushMs, 5000))
	text += b.extraConfig
	return path, os.WriteFile(path, []byte(text), 0o600)
}

// measure runs one system until the target holds every record.
func (b *bench) measure(ctx context.Context, c benchCase, srcAddr, system string) (benchResult, error) {
	tgt, err := b.startCluster(append([]string{"--cluster-id", "B"}, b.targetArgs...)...)
	if err != nil {
		return benchResult{}, err
	}
	defer tgt.stop()
	dest := "A.bench"
	proc, err := b.startSystem(ctx, system, srcAddr, tgt.addr, "bench")
	if err != nil {
		return benchResult{}, err
	}
	defer proc.stop()
	cl, adm, err := admin(tgt.addr)
	if err != nil {
		return benchResult{}, err
	}
	defer cl.Close()
	var first time.Time
	started := time.Now()
	var cpu float64
	var rss int64
	for {
		n := endTotal(ctx, adm, dest)
		if n > 0 && first.IsZero() {
			first = time.Now()
		}
		b.progress("%s %s: %d/%d records copied", caseName(c), system, n, c.Records)
		// In exactly-once mode the end offsets count transaction markers
		// too: the run is done when the positions, committed with the
		// records, cover every record.
		if n >= int64(c.Records) && (!exactlyOnceSystem(system) || storedTotal(ctx, tgt.addr) >= int64(c.Records)) {
			cpu, rss, err = procStats(proc.cmd.Process.Pid)
			if err != nil {
				return benchResult{}, err
			}
			break
		}
		if time.Since(started) > 5*time.Minute {
			return benchResult{}, fmt.Errorf("not done after 5 minutes: %d of %d records", n, c.Records)
		}
		time.Sleep(20 * time.Millisecond) // progress polling interval
	}
	secs := time.Since(first).Seconds()
	bytes := float64(c.Records) * float64(c.Size)
	return benchResult{Case: caseName(c), System: system, Records: c.Records, Seconds: secs,
		RecordsPerSec: float64(c.Records) / secs, MBPerSec: bytes / secs / 1e6,
		CPUSeconds: cpu, CPUPerGB: cpu / (bytes / 1e9), PeakRSS: rss}, nil
}

// storedTotal is how many records of the bench topic the positions in
// Strait's offsets topic on the target cover.
func storedTotal(ctx context.Context, seeds string) int64 {
	cl, adm, err := admin(seeds)
	if err != nil {
		return 0
	}
	defer cl.Close()
	next := map[int32]int64{}
	err = topicread.ReadToEnd(ctx, adm, []kgo.Opt{kgo.SeedBrokers(strings.Split(seeds, ",")...)}, "mm2-offsets.A.internal", func(r *kgo.Record) {
		_, p, kerr := connect.DecodeSourceOffsetKey(r.Key)
		off, verr := connect.DecodeSourceOffsetValue(r.Value)
		if kerr == nil && verr == nil && p.Topic == "bench" {
			next[p.Partition] = off + 1
		}
	})
	if err != nil {
		return 0
	}
	var n int64
	for _, v := range next {
		n += v
	}
	return n
}
