package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/strait-replicator/strait/checkpoint"
	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/internal/connect"
	"github.com/strait-replicator/strait/internal/kclient"
	"github.com/strait-replicator/strait/internal/topicread"
)

// Options say what Run compares, and how.
type Options struct {
	// Flow is the flow whose topics are compared; Source and Target are
	// its clusters.
	Flow           configs.Flow
	Source, Target configs.Cluster
	// Topics, if set, keeps the source topics it matches whole (among
	// those the flow replicates).
	Topics *regexp.Regexp
	// FromTime, if set, compares only the records from the first one at
	// or after it, on each partition.
	FromTime time.Time
	// Parallel is how many partitions are read at once (DefaultParallel
	// when zero or less); each reads both clusters at once.
	Parallel int
	// Window is the Aligner's (DefaultWindow when zero or less).
	Window int
	// Quiet is how long the read of a partition waits without a record
	// before it ends short of its end offset (DefaultQuiet when zero or
	// less): past aborted records whose abort marker is beyond the end
	// offset read at start, nothing more comes.
	Quiet time.Duration
	// Progress, if set, counts the offsets read as Run goes.
	Progress *Progress
	// Log gets what limits the comparison (no offset syncs, a read that
	// ended short); nil for none.
	Log *slog.Logger
}

// Defaults of Options.
const (
	DefaultParallel = 8
	DefaultQuiet    = 10 * time.Second
)

// Progress counts a Run's reading as it goes. Its methods are safe for
// concurrent use.
type Progress struct {
	total, done atomic.Int64
}

// Total is how many offsets both sides hold in the compared ranges, once
// Run has planned its reads (zero before).
func (p *Progress) Total() int64 { return p.total.Load() }

// Done is how many of them were read.
func (p *Progress) Done() int64 { return p.done.Load() }

// job is the comparison of one partition.
type job struct {
	topic, remote   string
	partition       int32
	rng             Range
	srcFrom, srcEnd int64
	tgtFrom, tgtEnd int64
	note            string
}

// runner holds what the jobs of a Run share.
type runner struct {
	o                Options
	srcOpts, tgtOpts []kgo.Opt // consumer options of each side
	progress         *Progress
	log              *slog.Logger
}

// Run compares every partition of the flow's replicated source topics
// with its remote partition, record by record, up to the end offsets both
// had when it started, and returns what it found. It blocks until every
// partition was read or ctx is done. An error means the comparison could
// not be made (a cluster unreachable, a topic that cannot be read): it
// names the cluster or the partition.
func Run(ctx context.Context, o Options) (*Report, error) {
	started := time.Now()
	if o.Parallel <= 0 {
		o.Parallel = DefaultParallel
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Quiet <= 0 {
		o.Quiet = DefaultQuiet
	}
	r := &runner{o: o, progress: o.Progress, log: o.Log}
	if r.progress == nil {
		r.progress = &Progress{}
	}
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srcBase, err := kclient.ClusterOpts(o.Source, "strait-verify")
	if err != nil {
		return nil, err
	}
	tgtBase, err := kclient.ClusterOpts(o.Target, "strait-verify")
	if err != nil {
		return nil, err
	}
	isolation := kgo.ReadCommitted()
	if o.Flow.SourceConsumer.ReadUncommitted {
		// What the flow copies: aborted records too.
		isolation = kgo.ReadUncommitted()
	}
	// Each reader holds one partition: fetches of a few MiB keep it busy
	// between round trips; the flow's consumer keys come after, and win.
	fetch := []kgo.Opt{kgo.FetchMaxBytes(4 << 20), kgo.FetchMaxPartitionBytes(1 << 20), kgo.FetchMaxWait(500 * time.Millisecond), kgo.KeepControlRecords()}
	r.srcOpts = slices.Concat(srcBase, fetch, kclient.Opts(o.Flow.SourceConsumer, configs.RoleConsumer), []kgo.Opt{kgo.FetchIsolationLevel(isolation)})
	r.tgtOpts = slices.Concat(tgtBase, fetch, kclient.Opts(o.Flow.TargetConsumer, configs.RoleConsumer), []kgo.Opt{kgo.FetchIsolationLevel(kgo.ReadCommitted())})
	srcCl, err := kgo.NewClient(srcBase...)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", o.Source.Alias, err)
	}
	defer srcCl.Close()
	tgtCl, err := kgo.NewClient(tgtBase...)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", o.Target.Alias, err)
	}
	defer tgtCl.Close()
	jobs, report, err := r.plan(ctx, kadm.NewClient(srcCl), kadm.NewClient(tgtCl), srcBase, tgtBase)
	if err != nil {
		return nil, err
	}
	results, err := r.runJobs(ctx, jobs)
	if err != nil {
		return nil, err
	}
	// Partitions back into their topics, in order.
	at := map[string]int{}
	for i, t := range report.Topics {
		at[t.Topic] = i
	}
	for i, j := range jobs {
		t := &report.Topics[at[j.topic]]
		t.Partitions = append(t.Partitions, results[i])
		report.Read += (j.srcEnd - j.srcFrom) + (j.tgtEnd - j.tgtFrom)
	}
	report.summarize()
	report.Seconds = time.Since(started).Seconds()
	return report, nil
}

// plan lists the flow's topics on both sides, the offsets to read, the
// offset syncs and the flow's positions, and makes a job of each
// partition.
func (r *runner) plan(ctx context.Context, srcAdm, tgtAdm *kadm.Client, srcOpts, tgtOpts []kgo.Opt) ([]job, *Report, error) {
	o := r.o
	f := o.Flow
	actx, cancel := context.WithTimeout(ctx, f.AdminTimeout)
	defer cancel()
	srcTopics, err := srcAdm.ListTopics(actx)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster %s (%s): list topics: %w", o.Source.Alias, strings.Join(o.Source.BootstrapServers, ","), err)
	}
	var whole *regexp.Regexp // o.Topics matching whole names
	if o.Topics != nil {
		whole = regexp.MustCompile(`^(?:` + o.Topics.String() + `)$`)
	}
	var topics []string
	for _, td := range srcTopics.Sorted() {
		if td.Err == nil && f.Topics.Replicate(td.Topic) && (whole == nil || whole.MatchString(td.Topic)) {
			topics = append(topics, td.Topic)
		}
	}
	if len(topics) == 0 {
		what := "no topic of cluster " + o.Source.Alias + " is replicated by flow " + f.Name()
		if o.Topics != nil {
			what += " and matches --topics " + o.Topics.String()
		}
		return nil, nil, errors.New(what)
	}
	remoteOf := map[string]string{}
	var remotes []string
	for _, t := range topics {
		remoteOf[t] = f.Policy.FormatRemoteTopic(f.Source, t)
		remotes = append(remotes, remoteOf[t])
	}
	tgtTopics, err := tgtAdm.ListTopics(actx, append(slices.Clone(remotes), f.OffsetsTopic)...)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster %s (%s): list topics: %w", o.Target.Alias, strings.Join(o.Target.BootstrapServers, ","), err)
	}

	// Positions first: what they say was copied is on the target by the
	// time its end offsets are read below.
	positions := map[checkpoint.TopicPartition]int64{}
	if td, ok := tgtTopics[f.OffsetsTopic]; ok && td.Err == nil {
		err := topicread.ReadToEnd(actx, tgtAdm, tgtOpts, f.OffsetsTopic, func(rec *kgo.Record) {
			_, p, err := connect.DecodeSourceOffsetKey(rec.Key)
			if err != nil || p.Cluster != f.Source {
				return
			}
			if rec.Value == nil {
				delete(positions, checkpoint.TopicPartition{Topic: p.Topic, Partition: p.Partition})
				return
			}
			if off, err := connect.DecodeSourceOffsetValue(rec.Value); err == nil {
				positions[checkpoint.TopicPartition{Topic: p.Topic, Partition: p.Partition}] = off
			}
		})
		if err != nil {
			return nil, nil, fmt.Errorf("cluster %s: read positions: %w", o.Target.Alias, err)
		}
	} else {
		r.log.Info("no offsets topic on the target: no position known, records not on the target are missing", "topic", f.OffsetsTopic, "cluster", o.Target.Alias)
	}

	src, err := listOffsets(actx, srcAdm, topics, o.FromTime, !f.SourceConsumer.ReadUncommitted)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster %s: %w", o.Source.Alias, err)
	}
	var existing []string
	for _, rt := range remotes {
		if td, ok := tgtTopics[rt]; ok && td.Err == nil {
			existing = append(existing, rt)
		}
	}
	tgt := offsets{}
	if len(existing) > 0 {
		if tgt, err = listOffsets(actx, tgtAdm, existing, o.FromTime, true); err != nil {
			return nil, nil, fmt.Errorf("cluster %s: %w", o.Target.Alias, err)
		}
	}
	compacted := map[string]bool{}
	if cfgs, err := srcAdm.DescribeTopicConfigs(actx, topics...); err == nil {
		for _, rc := range cfgs {
			for _, c := range rc.Configs {
				if c.Key == "cleanup.policy" && c.Value != nil && strings.Contains(*c.Value, "compact") {
					compacted[rc.Name] = true
				}
			}
		}
	}
	syncs, err := r.readSyncs(actx, srcAdm, tgtAdm, srcOpts, tgtOpts, topics)
	if err != nil {
		return nil, nil, err
	}

	report := &Report{Flow: f.Name()}
	var jobs []job
	for _, t := range topics {
		rt := remoteOf[t]
		tr := TopicReport{Topic: t, Remote: rt}
		if _, ok := tgt.ends[rt]; !ok {
			tr.Note = "remote topic " + rt + " does not exist on " + o.Target.Alias
		}
		report.Topics = append(report.Topics, tr)
		parts := slices.Sorted(maps.Keys(src.ends[t]))
		for _, p := range parts {
			tp := checkpoint.TopicPartition{Topic: t, Partition: p}
			j := job{topic: t, remote: rt, partition: p}
			j.rng = Range{
				SourceLogStart: src.starts[t][p],
				SourceEnd:      src.ends[t][p],
				Syncs:          syncs[tp],
				Compacted:      compacted[t],
			}
			j.rng.SourceStart = max(j.rng.SourceLogStart, src.times[t][p])
			j.rng.SourceStart = min(j.rng.SourceStart, j.rng.SourceEnd)
			if pos, ok := positions[tp]; ok {
				j.rng.Positioned, j.rng.NextToCopy = true, pos+1
			}
			j.srcFrom, j.srcEnd = j.rng.SourceStart, j.rng.SourceEnd
			if end, ok := tgt.ends[rt][p]; ok {
				j.tgtFrom, j.tgtEnd = r.targetStart(j.rng, tgt.starts[rt][p], tgt.times[rt][p], end), end
			} else if tr.Note == "" {
				j.note = "no partition " + fmt.Sprint(p) + " in " + rt + " on " + o.Target.Alias
			}
			jobs = append(jobs, j)
		}
		// Remote partitions the source does not have hold only extra
		// records.
		for _, p := range slices.Sorted(maps.Keys(tgt.ends[rt])) {
			if _, ok := src.ends[t][p]; ok {
				continue
			}
			jobs = append(jobs, job{topic: t, remote: rt, partition: p, rng: Range{NoSource: true},
				tgtFrom: tgt.starts[rt][p], tgtEnd: tgt.ends[rt][p], note: "no partition " + fmt.Sprint(p) + " in " + t + " on " + o.Source.Alias})
		}
	}
	var total int64
	for _, j := range jobs {
		total += (j.srcEnd - j.srcFrom) + (j.tgtEnd - j.tgtFrom)
	}
	r.progress.total.Store(total)
	return jobs, report, nil
}

// targetStart is where the read of a remote partition starts: its log
// start, or nearer the copy of the first source record compared when the
// offset syncs bracket that record or --from-time is given, less a window
// for what syncs written by MM2's rules do not account for.
func (r *runner) targetStart(rng Range, logStart, atTime, end int64) int64 {
	from := logStart
	var candidates []int64
	if tr, ok := newAnchors(rng.Syncs).translate(rng.SourceStart); ok {
		candidates = append(candidates, tr-int64(r.o.Window))
	}
	if !r.o.FromTime.IsZero() {
		candidates = append(candidates, atTime-int64(r.o.Window))
	}
	if len(candidates) > 0 {
		from = max(logStart, slices.Min(candidates))
	}
	return min(from, end)
}

// readSyncs reads the flow's offset syncs of the topics, in the order
// written, per partition; none when the topic does not exist (the
// comparison then aligns by content).
func (r *runner) readSyncs(ctx context.Context, srcAdm, tgtAdm *kadm.Client, srcOpts, tgtOpts []kgo.Opt, topics []string) (map[checkpoint.TopicPartition][]checkpoint.OffsetSync, error) {
	f := r.o.Flow
	topic, onTarget := f.OffsetSyncsTopic()
	adm, opts, alias := srcAdm, srcOpts, r.o.Source.Alias
	if onTarget {
		adm, opts, alias = tgtAdm, tgtOpts, r.o.Target.Alias
	}
	out := map[checkpoint.TopicPartition][]checkpoint.OffsetSync{}
	tds, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: list topics: %w", alias, err)
	}
	if td, ok := tds[topic]; !ok || td.Err != nil {
		r.log.Info("no offset-syncs topic: partitions are aligned by content alone", "topic", topic, "cluster", alias)
		return out, nil
	}
	want := map[string]bool{}
	for _, t := range topics {
		want[t] = true
	}
	err = topicread.ReadToEnd(ctx, adm, opts, topic, func(rec *kgo.Record) {
		s, err := checkpoint.DecodeOffsetSync(rec.Key, rec.Value)
		if err != nil || !want[s.Topic] {
			return
		}
		tp := checkpoint.TopicPartition{Topic: s.Topic, Partition: s.Partition}
		out[tp] = append(out[tp], s)
	})
	if err != nil {
		return nil, fmt.Errorf("cluster %s: read offset syncs: %w", alias, err)
	}
	return out, nil
}

// offsets are a cluster's offsets of some topics, by topic and partition.
type offsets struct {
	starts, ends, times map[string]map[int32]int64
}

// listOffsets lists log start and end offsets (last stable offsets when
// committed) and, with from set, the first offset at or after it.
func listOffsets(ctx context.Context, adm *kadm.Client, topics []string, from time.Time, committed bool) (offsets, error) {
	o := offsets{starts: map[string]map[int32]int64{}, ends: map[string]map[int32]int64{}, times: map[string]map[int32]int64{}}
	fill := func(what string, m map[string]map[int32]int64, l kadm.ListedOffsets, err error) error {
		if err == nil {
			err = l.Error()
		}
		if err != nil {
			return fmt.Errorf("list %s offsets: %w", what, err)
		}
		l.Each(func(lo kadm.ListedOffset) {
			if m[lo.Topic] == nil {
				m[lo.Topic] = map[int32]int64{}
			}
			m[lo.Topic][lo.Partition] = lo.Offset
		})
		return nil
	}
	l, err := adm.ListStartOffsets(ctx, topics...)
	if err := fill("start", o.starts, l, err); err != nil {
		return o, err
	}
	if committed {
		l, err = adm.ListCommittedOffsets(ctx, topics...)
	} else {
		l, err = adm.ListEndOffsets(ctx, topics...)
	}
	if err := fill("end", o.ends, l, err); err != nil {
		return o, err
	}
	if !from.IsZero() {
		l, err = adm.ListOffsetsAfterMilli(ctx, from.UnixMilli(), topics...)
		if err := fill("time", o.times, l, err); err != nil {
			return o, err
		}
	}
	return o, nil
}

// runJobs runs the jobs on Parallel pairs of clients and returns their
// reports, in the jobs' order.
func (r *runner) runJobs(ctx context.Context, jobs []job) ([]PartitionReport, error) {
	results := make([]PartitionReport, len(jobs))
	next := make(chan int)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(next)
		for i := range jobs {
			select {
			case next <- i:
			case <-gctx.Done():
				return nil
			}
		}
		return nil
	})
	for range min(r.o.Parallel, len(jobs)) {
		g.Go(func() error {
			src, err := kgo.NewClient(r.srcOpts...)
			if err != nil {
				return fmt.Errorf("cluster %s: %w", r.o.Source.Alias, err)
			}
			defer src.Close()
			tgt, err := kgo.NewClient(r.tgtOpts...)
			if err != nil {
				return fmt.Errorf("cluster %s: %w", r.o.Target.Alias, err)
			}
			defer tgt.Close()
			for i := range next {
				res, err := r.compare(gctx, src, tgt, jobs[i])
				if err != nil {
					return err
				}
				results[i] = res
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results, nil
}

// compare reads one partition on both sides at once and aligns them.
func (r *runner) compare(ctx context.Context, src, tgt *kgo.Client, j job) (PartitionReport, error) {
	a := NewAligner(j.rng, r.o.Window)
	srcCh, tgtCh := make(chan []Record, 2), make(chan []Record, 2)
	g, gctx := errgroup.WithContext(ctx)
	var srcShort, tgtShort bool
	g.Go(func() (err error) {
		srcShort, err = r.read(gctx, src, j.topic, j.partition, j.srcFrom, j.srcEnd, srcCh)
		return err
	})
	g.Go(func() (err error) {
		tgtShort, err = r.read(gctx, tgt, j.remote, j.partition, j.tgtFrom, j.tgtEnd, tgtCh)
		return err
	})
loop:
	for {
		var ch <-chan []Record
		var add func([]Record)
		var end func()
		switch a.Advance() {
		case Done:
			break loop
		case NeedSource:
			ch, add, end = srcCh, a.AddSource, a.EndSource
		case NeedTarget:
			ch, add, end = tgtCh, a.AddTarget, a.EndTarget
		}
		select {
		case recs, ok := <-ch:
			if !ok {
				end()
			} else {
				add(recs)
			}
		case <-gctx.Done():
			break loop
		}
	}
	if err := g.Wait(); err != nil {
		return PartitionReport{}, err
	}
	if err := ctx.Err(); err != nil {
		return PartitionReport{}, err
	}
	res := PartitionReport{Partition: j.partition, Counts: a.Counts(), Differences: slices.Clone(a.Differences()),
		SourceStart: j.srcFrom, SourceEnd: j.srcEnd, TargetStart: j.tgtFrom, TargetEnd: j.tgtEnd,
		Syncs: len(newAnchors(j.rng.Syncs)), Note: j.note}
	notes := []string{}
	if j.note != "" {
		notes = append(notes, j.note)
	}
	for _, s := range []struct {
		short       bool
		side, topic string
	}{{srcShort, r.o.Source.Alias, j.topic}, {tgtShort, r.o.Target.Alias, j.remote}} {
		if s.short {
			n := fmt.Sprintf("the read of %s/%d on %s ended after %s without a record, short of its end offset", s.topic, j.partition, s.side, r.o.Quiet)
			notes = append(notes, n)
			r.log.Warn(n)
		}
	}
	res.Note = strings.Join(notes, "; ")
	if d, ok := a.FirstDifferent(); ok {
		fields := r.explain(ctx, src, tgt, j, d)
		for i := range res.Differences {
			if res.Differences[i].Kind == Different && res.Differences[i].SourceOffset == d.SourceOffset {
				res.Differences[i].Fields = fields
				break
			}
		}
	}
	return res, nil
}

// read reads a partition from offset from up to end and sends its records
// (not control records) to out in batches, then closes out. It reports
// whether it stopped short of end because nothing came for Quiet.
func (r *runner) read(ctx context.Context, cl *kgo.Client, topic string, partition int32, from, end int64, out chan<- []Record) (short bool, err error) {
	defer close(out)
	if from >= end {
		return false, nil
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().At(from)}})
	defer cl.RemoveConsumePartitions(map[string][]int32{topic: {partition}})
	next, idle := from, time.Now()
	defer func() { r.progress.done.Add(end - next) }() // what was not read still counts as done
	for next < end {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		if err := ctx.Err(); err != nil {
			return false, err
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				ferr = fmt.Errorf("read %s/%d: %w", t, p, err)
			}
		})
		if ferr != nil {
			return false, ferr
		}
		before := next
		var batch []Record
		fs.EachRecord(func(rec *kgo.Record) {
			if rec.Topic != topic || rec.Partition != partition || rec.Offset < next || rec.Offset >= end {
				return
			}
			next = rec.Offset + 1
			if !rec.Attrs.IsControl() {
				batch = append(batch, recordOf(rec))
			}
		})
		if next > before {
			idle = time.Now()
			r.progress.done.Add(next - before)
		}
		if len(batch) > 0 {
			select {
			case out <- batch:
			case <-ctx.Done():
				return false, ctx.Err()
			}
		}
		if next < end && time.Since(idle) > r.o.Quiet {
			return true, nil
		}
	}
	return false, nil
}

// explain reads the first pair found different again and names the
// fields that differ; nil when either record cannot be read back.
func (r *runner) explain(ctx context.Context, src, tgt *kgo.Client, j job, d Difference) []string {
	s := readOne(ctx, src, j.topic, j.partition, d.SourceOffset)
	t := readOne(ctx, tgt, j.remote, j.partition, d.TargetOffset)
	if s == nil || t == nil {
		return nil
	}
	return Fields(s, t)
}

// readOne reads the record at offset, or nil if it is not there within a
// few seconds.
func readOne(ctx context.Context, cl *kgo.Client, topic string, partition int32, offset int64) *kgo.Record {
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().At(offset)}})
	defer cl.RemoveConsumePartitions(map[string][]int32{topic: {partition}})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		var found *kgo.Record
		done := false
		cl.PollFetches(ctx).EachRecord(func(rec *kgo.Record) {
			if done || rec.Topic != topic || rec.Partition != partition || rec.Offset < offset {
				return
			}
			done = true
			if rec.Offset == offset && !rec.Attrs.IsControl() {
				found = rec
			}
		})
		if done {
			return found
		}
	}
	return nil
}
