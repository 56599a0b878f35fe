package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// scaleResult is the --scale-topics run.
type scaleResult struct {
	Topics     int `json:"topics"`
	Partitions int `json:"partitions"`
	// MemoryMaxBytes is Strait's memory.max.bytes in the runs; 0: its
	// default (256 MiB).
	MemoryMaxBytes int64 `json:"memory_max_bytes"`
	// The source's load, measured apart: kfake serving every partition in
	// one process may be the limit of what follows.
	CreateSeconds float64 `json:"source_create_topics_seconds"`
	LoadSeconds   float64 `json:"source_load_seconds"`
	// SourceListMs is one ListEndOffsets of every source partition: what
	// kfake takes to answer a request over all of them.
	SourceListMs float64 `json:"source_list_end_offsets_ms"`
	// SourceMetadataMs is one listing of every source topic, the
	// request each topic refresh starts with, as this process sees it:
	// kfake's answer and franz-go's decoding.
	SourceMetadataMs float64 `json:"source_list_topics_ms"`
	// ConsumeSeconds is a bare franz-go consumer (this process) reading
	// every partition's record from the start: what the source's fetches
	// take, the floor of any copy.
	ConsumeSeconds float64 `json:"bare_consume_seconds"`
	// Runs: by default, then with metrics.partition.series = true, each
	// into a fresh target.
	Runs []scaleRun `json:"runs"`
}

// scaleRun is one `strait run` of the scale mode.
type scaleRun struct {
	Case string `json:"case"`
	// From the start of `strait run`: TaskStartSeconds to its log's
	// "starting task" of the source task, FirstSeconds to the first
	// partition seen copied, EveryTopicSeconds to a record of every topic
	// on the target, AllSeconds to every partition's.
	TaskStartSeconds  float64 `json:"source_task_started_seconds"`
	FirstSeconds      float64 `json:"first_partition_seconds"`
	EveryTopicSeconds float64 `json:"first_record_every_topic_seconds"`
	AllSeconds        float64 `json:"every_partition_seconds"`
	// Refresh cycles once copying: an unchanged source (remote topics
	// known) and the periodic full listing.
	RefreshMs     float64 `json:"refresh_ms_median"`
	RefreshMaxMs  float64 `json:"refresh_ms_max"`
	RefreshListed int     `json:"refresh_listed_on_target"`
	// RefreshListingMs is the median of the same refreshes' wait for the
	// source's listing (answered and decoded, as Strait logs it): the
	// rest of RefreshMs is Strait's own work.
	RefreshListingMs float64 `json:"refresh_source_listing_ms_median"`
	FullRefreshMs    float64 `json:"full_refresh_ms"`
	FullListed       int     `json:"full_refresh_listed_on_target"`
	Refreshes        int     `json:"steady_refreshes_seen"`
	// SourceListMs is the median of listings of every source topic by
	// this process while Strait refreshes (the request a refresh starts
	// with): what the source takes to answer it under Strait's load.
	SourceListMs float64 `json:"source_list_topics_ms_while_running"`
	// SourceBusy and StraitBusy are the CPU the source's kfake process
	// and Strait used over the refreshes watched, in cores (CPU seconds
	// per second): a source that is busy answers the listing late.
	SourceBusy float64 `json:"source_cpu_cores_while_running"`
	StraitBusy float64 `json:"strait_cpu_cores_while_running"`
	// One GET /metrics once every partition is copied: its size and time.
	MetricsBytes int     `json:"metrics_bytes"`
	MetricsMs    float64 `json:"metrics_ms"`
	// PeakRSS is the process's VmHWM at the end of the run; CPUSeconds
	// its user+system time.
	PeakRSS    int64   `json:"peak_rss_bytes"`
	CPUSeconds float64 `json:"cpu_seconds"`
}

// scale measures startup, peak memory, topic refresh and the metrics
// scrape with many source topics, one record in each partition: once
// with the default (topic-level) metrics, once with the per-partition
// series.
func (b *bench) scale(topics, partitions int, capBytes int64) (scaleResult, error) {
	ctx := context.Background()
	res := scaleResult{Topics: topics, Partitions: topics * partitions, MemoryMaxBytes: capBytes}
	memory := ""
	if capBytes > 0 {
		memory = fmt.Sprintf("memory.max.bytes = %d\n", capBytes)
	}
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
	start := time.Now()
	// In requests of 500 topics: one request for all is as slow for kfake.
	for chunk := range slices.Chunk(names, 500) {
		created, err := adm.CreateTopics(ctx, int32(partitions), 1, nil, chunk...)
		if err != nil {
			return res, err
		}
		if err := created.Error(); err != nil {
			return res, err
		}
	}
	res.CreateSeconds = time.Since(start).Seconds()
	start = time.Now()
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
	res.LoadSeconds = time.Since(start).Seconds()
	start = time.Now()
	ends, err := adm.ListEndOffsets(ctx, names...)
	if err != nil {
		return res, err
	}
	res.SourceListMs = float64(time.Since(start).Microseconds()) / 1000
	loaded := 0
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil && o.Offset == 1 {
			loaded++
		}
	})
	if loaded != res.Partitions {
		return res, fmt.Errorf("source holds a record in %d of %d partitions", loaded, res.Partitions)
	}
	var listMs []float64
	for range 5 {
		start = time.Now()
		if _, err := adm.ListTopics(ctx); err != nil {
			return res, err
		}
		listMs = append(listMs, float64(time.Since(start).Microseconds())/1000)
	}
	slices.Sort(listMs)
	res.SourceMetadataMs = listMs[len(listMs)/2]
	if res.ConsumeSeconds, err = consumeAll(ctx, src.addr, names, res.Partitions); err != nil {
		return res, err
	}
	fmt.Fprintf(b.out, "  source: %d topics x %d partitions created in %.1f s, loaded in %.1f s, end offsets listed in %.0f ms, topics listed in %.0f ms, all read by a bare consumer in %.1f s\n",
		topics, partitions, res.CreateSeconds, res.LoadSeconds, res.SourceListMs, res.SourceMetadataMs, res.ConsumeSeconds)
	for _, c := range []struct{ name, config string }{
		{"default (topic-level series)", ""},
		{"metrics.partition.series = true", "metrics.partition.series = true\n"},
	} {
		run, err := b.scaleRun(ctx, src, remotes, res.Partitions, memory+c.config)
		if err != nil {
			return res, fmt.Errorf("%s: %w", c.name, err)
		}
		run.Case = c.name
		res.Runs = append(res.Runs, run)
		printScaleRun(b.out, run)
	}
	return res, nil
}

// scaleRun runs Strait with extra config into a fresh target until every
// partition of remotes holds its record, then watches the refreshes and
// scrapes /metrics.
func (b *bench) scaleRun(ctx context.Context, src *child, remotes []string, partitions int, extra string) (scaleRun, error) {
	var res scaleRun
	srcAddr := src.addr
	tgt, err := b.startCluster("--cluster-id", "B")
	if err != nil {
		return res, err
	}
	defer tgt.stop()
	port, err := freePort()
	if err != nil {
		return res, err
	}
	b.refreshSeconds = 1
	b.extraConfig = fmt.Sprintf("listeners = http://127.0.0.1:%d\n", port) + extra
	defer func() { b.extraConfig = "" }()
	cfg, err := b.straitConfig(srcAddr, tgt.addr, `scale-.*`)
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
	startedAt := started
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
	// The target is polled for the topics with partitions still empty,
	// and at most a quarter of the time: the poll's ListEndOffsets is
	// work for the target's kfake, which serves Strait's produce and
	// metadata requests in the same loop.
	topics := len(remotes)
	pending := map[string]map[int32]bool{}
	for _, r := range remotes {
		pending[r] = map[int32]bool{}
	}
	copied, withRecord := 0, 0
	anyCopied := map[string]bool{} // topics with a record copied
	for {
		polled := time.Now()
		if ends, err := tadm.ListEndOffsets(ctx, slices.Collect(maps.Keys(pending))...); err == nil {
			ends.Each(func(o kadm.ListedOffset) {
				if o.Err == nil && o.Offset > 0 && !pending[o.Topic][o.Partition] {
					pending[o.Topic][o.Partition] = true
					anyCopied[o.Topic] = true
					copied++
				}
			})
			for t, parts := range pending {
				if len(parts) == len(ends[t]) && len(parts) > 0 {
					delete(pending, t)
				}
			}
		}
		took := time.Since(polled)
		withRecord = len(anyCopied)
		if copied > 0 && res.FirstSeconds == 0 {
			res.FirstSeconds = time.Since(started).Seconds()
		}
		if withRecord == topics && res.EveryTopicSeconds == 0 {
			res.EveryTopicSeconds = time.Since(started).Seconds()
		}
		b.progress("scale: %d/%d topics and %d/%d partitions copied", withRecord, topics, copied, partitions)
		if copied == partitions {
			res.AllSeconds = time.Since(started).Seconds()
			break
		}
		if time.Since(started) > 5*time.Minute {
			return res, fmt.Errorf("not done after 5 minutes: %d of %d partitions copied", copied, partitions)
		}
		time.Sleep(max(50*time.Millisecond, 3*took)) // polling interval
	}
	// Refreshes run every second: watch a full listing go by, and list
	// the source's topics meanwhile as a refresh does.
	copiedAt := time.Now()
	srcCPU, _, err := procStats(src.cmd.Process.Pid)
	if err != nil {
		return res, err
	}
	straitCPU, _, err := procStats(proc.cmd.Process.Pid)
	if err != nil {
		return res, err
	}
	var steady, full []refreshLine
	var listMs []float64
	scl, sadm, err := admin(srcAddr)
	if err != nil {
		return res, err
	}
	defer scl.Close()
	deadline := time.Now().Add(40 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		if i%3 == 0 { // not every second: it is work for the source too
			listed := time.Now()
			if _, err := sadm.ListTopics(ctx); err == nil {
				listMs = append(listMs, float64(time.Since(listed).Microseconds())/1000)
			}
		}
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
		if len(full) > 0 && len(steady) >= 10 {
			break
		}
		time.Sleep(time.Second) // polling interval
	}
	if len(steady) == 0 {
		return res, fmt.Errorf("no topic refresh logged after the copy")
	}
	watched := time.Since(copiedAt).Seconds()
	if cpu, _, err := procStats(src.cmd.Process.Pid); err == nil {
		res.SourceBusy = (cpu - srcCPU) / watched
	}
	if cpu, _, err := procStats(proc.cmd.Process.Pid); err == nil {
		res.StraitBusy = (cpu - straitCPU) / watched
	}
	ms := make([]float64, len(steady))
	listing := make([]float64, len(steady))
	for i, l := range steady {
		ms[i], listing[i] = l.DurationMs, l.ListingMs
	}
	slices.Sort(ms)
	slices.Sort(listing)
	res.RefreshListingMs = listing[len(listing)/2]
	res.RefreshMs, res.RefreshMaxMs, res.Refreshes = ms[len(ms)/2], ms[len(ms)-1], len(steady)
	if len(full) > 0 {
		res.FullRefreshMs, res.FullListed = full[0].DurationMs, full[0].Listed
	}
	if len(listMs) > 0 {
		slices.Sort(listMs)
		res.SourceListMs = listMs[len(listMs)/2]
	}
	if started, ok, err := taskStarted(logPath); err != nil {
		return res, err
	} else if ok {
		res.TaskStartSeconds = started.Sub(startedAt).Seconds()
	}
	began := time.Now()
	n, err := scrapeSize(ctx, b.out, fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		return res, err
	}
	res.MetricsBytes, res.MetricsMs = n, float64(time.Since(began).Microseconds())/1000
	res.CPUSeconds, res.PeakRSS, err = procStats(proc.cmd.Process.Pid)
	return res, err
}

// consumeAll reads topics from their start with one franz-go consumer
// until it has n records, and returns how long that took.
func consumeAll(ctx context.Context, seeds string, topics []string, n int) (float64, error) {
	start := time.Now()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(seeds, ",")...), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	got := 0
	for got < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("bare consume: %d of %d records: %w", got, n, err)
		}
		got += fs.NumRecords()
	}
	return time.Since(start).Seconds(), nil
}

// freePort returns a TCP port of the loopback interface free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// scrapeSize GETs url and returns the size of its body; it prints the
// largest metric families to out.
func scrapeSize(ctx context.Context, out io.Writer, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	families := map[string]int{}
	for line := range strings.Lines(string(body)) {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, _, _ = strings.Cut(name, " ")
			families[name] += 0
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok {
				if _, known := families[base]; known {
					name = base
				}
			}
		}
		families[name] += len(line)
	}
	names := slices.SortedFunc(maps.Keys(families), func(a, b string) int { return families[b] - families[a] })
	for _, n := range names[:min(6, len(names))] {
		fmt.Fprintf(out, "  /metrics: %s %.2f MB\n", n, float64(families[n])/1e6)
	}
	return len(body), err
}

// taskStarted returns the time of the JSON log's "starting task" line of
// a source task (one with partitions).
func taskStarted(path string) (time.Time, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}, false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l struct {
			Time       string `json:"time"`
			Msg        string `json:"msg"`
			Partitions int    `json:"partitions"`
		}
		if strings.Contains(sc.Text(), `"starting task"`) && json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "starting task" && l.Partitions > 0 {
			at, err := time.Parse(time.RFC3339Nano, l.Time)
			return at, err == nil, nil
		}
	}
	return time.Time{}, false, sc.Err()
}

type refreshLine struct {
	Time       string  `json:"time"`
	Msg        string  `json:"msg"`
	Listed     int     `json:"listed_on_target"`
	DurationMs float64 `json:"duration_ms"`
	ListingMs  float64 `json:"source_listing_ms"`
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
	memory := "Strait's default memory.max.bytes (256 MiB)"
	if res.MemoryMaxBytes > 0 {
		memory = fmt.Sprintf("memory.max.bytes = %d MiB", res.MemoryMaxBytes>>20)
	}
	fmt.Fprintf(w, "scale: %d topics, %d partitions, one record each; %s\n", res.Topics, res.Partitions, memory)
	fmt.Fprintf(w, "  source (kfake, one process): topics created in %.1f s, %d records loaded in %.1f s, end offsets of every partition listed in %.0f ms, every topic listed (metadata) in %.0f ms (median of 5)\n",
		res.CreateSeconds, res.Partitions, res.LoadSeconds, res.SourceListMs, res.SourceMetadataMs)
	fmt.Fprintf(w, "  a bare franz-go consumer reading every partition's record from the start: %.1f s\n", res.ConsumeSeconds)
	for _, r := range res.Runs {
		printScaleRun(w, r)
	}
}

func printScaleRun(w io.Writer, r scaleRun) {
	{
		fmt.Fprintf(w, "  %s:\n", r.Case)
		fmt.Fprintf(w, "    strait run to a record of every partition on the target: %.1f s (source task started at %.1f s, first partition copied at %.1f s, every topic at %.1f s)\n",
			r.AllSeconds, r.TaskStartSeconds, r.FirstSeconds, r.EveryTopicSeconds)
		fmt.Fprintf(w, "    peak RSS (VmHWM): %.0f MiB, CPU %.1f s\n", float64(r.PeakRSS)/(1<<20), r.CPUSeconds)
		listing := "" // older builds do not log it
		if r.RefreshListingMs > 0 {
			listing = fmt.Sprintf(" (of which waiting for the source's listing: %.0f ms median)", r.RefreshListingMs)
		}
		fmt.Fprintf(w, "    topic refresh, source unchanged: %.0f ms median%s, %.0f ms max of %d (%d remote topics listed on the target)\n", r.RefreshMs, listing, r.RefreshMaxMs, r.Refreshes, r.RefreshListed)
		fmt.Fprintf(w, "    the source listing its topics meanwhile (to this process): %.0f ms median; CPU meanwhile: source kfake %.2f cores, strait %.2f cores\n", r.SourceListMs, r.SourceBusy, r.StraitBusy)
		if r.FullListed > 0 {
			fmt.Fprintf(w, "    topic refresh with the periodic full listing: %.0f ms (%d remote topics listed)\n", r.FullRefreshMs, r.FullListed)
		}
		fmt.Fprintf(w, "    GET /metrics: %.2f MB in %.0f ms\n", float64(r.MetricsBytes)/1e6, r.MetricsMs)
	}
}
