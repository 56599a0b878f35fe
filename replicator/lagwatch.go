package replicator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// How fresh a flow keeps its counts and lag. Counts are batched per
// partition by the acknowledgements (ackMeter); the flow moves them to the
// counters at least every countFlushEvery, so a quiet partition's copies
// show within a second, whatever offset.flush.interval.ms says. The lag is
// measured every lagRefreshEvery, each measure given lagTimeout; the
// metrics and the status read the last measure and never wait for a
// cluster. A measure asks the source for two offsets of every partition:
// with tens of thousands of partitions it takes a while, and the next
// starts no sooner than lagPace times that after it (the source spends at
// most a quarter of the time answering it, and the lag shows less often).
const (
	countFlushEvery = 500 * time.Millisecond
	lagRefreshEvery = 2 * time.Second
	lagPace         = 4
	lagTimeout      = 5 * time.Second
	// probeTimeout bounds a read of the spans that stopped moving (to tell
	// transaction markers from records); probeFetchBytes is what it asks
	// per partition and fetch.
	probeTimeout    = 5 * time.Second
	probeFetchBytes = 64 << 10
)

// lagWatch is a flow's lag, as its lag loop last measured it.
type lagWatch struct {
	snap atomic.Pointer[lagSnapshot]

	// The lag loop's own: each partition's span at the previous measure,
	// and what reading the spans that stayed found.
	prev     map[topicPartition]lagSpan
	verdicts gapVerdicts
}

// lagSnapshot is one measure of a flow's lag.
type lagSnapshot struct {
	// err is why the source's offsets could not be read: every lag is
	// unknown (left out of the metrics rather than shown as 0).
	err   error
	parts []partLag // by topic and partition
}

// partLag is one partition's lag.
type partLag struct {
	tp    topicPartition
	exp   *seriesAttrs // the partition's exported series
	span  lagSpan
	lag   int64 // records to copy: span.offsets(), or 0 when only markers remain
	known bool  // false when its offsets could not be read
}

// snapshot returns the last measure; nil before the first.
func (w *lagWatch) snapshot() *lagSnapshot { return w.snap.Load() }

// lagInput is a partition whose lag the flow reports, and the next offset
// to copy as the worker knows it without asking the source; -1 when it
// was never copied.
type lagInput struct {
	tp   topicPartition
	next int64
}

// watch keeps the flow's counts and lag current until ctx is done: every
// countFlushEvery it moves the counts its tasks batched to the metrics,
// and every lagRefreshEvery (or lagPace times a measure's duration) it
// measures its partitions' lag. It returns once both loops returned.
func (f *flow) watch(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { repeat(ctx, countFlushEvery, f.flushCounts) })
	wg.Go(func() { repeatPaced(ctx, lagRefreshEvery, lagPace, f.measureLag) })
	wg.Wait()
}

// repeatPaced calls fn now and then again every d, or pace times as long
// as fn took when that is longer, until ctx is done.
func repeatPaced(ctx context.Context, d time.Duration, pace int, fn func(context.Context)) {
	for ctx.Err() == nil {
		began := time.Now()
		fn(ctx)
		wait := max(d, time.Duration(pace)*time.Since(began)) - time.Since(began)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-timer.C:
		}
		timer.Stop()
	}
}

// repeat calls fn now and then every d until ctx is done.
func repeat(ctx context.Context, d time.Duration, fn func(context.Context)) {
	tick := time.NewTicker(d)
	defer tick.Stop()
	for ctx.Err() == nil {
		fn(ctx)
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

// flushCounts moves the counts the flow's tasks batched to the metrics,
// the status and the progress.
func (f *flow) flushCounts(ctx context.Context) {
	for _, t := range f.sourceRuns() {
		if list := t.published.Load(); list != nil {
			for _, ps := range *list {
				ps.flushCounts(ctx)
			}
		}
	}
}

// flushCounts moves what the partition's acknowledgements batched to the
// counters, as acknowledged does at each commit.
func (ps *partState) flushCounts(ctx context.Context) {
	if ps.task.cfg.ExactlyOnce {
		return // the meter holds the open transaction's records: countCommitted counts them
	}
	ps.mu.Lock()
	counts := ps.meter.take()
	ps.mu.Unlock()
	ps.count(ctx, counts)
}

// count adds counts taken from the partition's meter to its task's status,
// the load-aware assignment's bytes and the metrics.
func (ps *partState) count(ctx context.Context, c acks) {
	if c.n == 0 {
		return
	}
	ps.copiedBytes.Add(c.bytes)
	ps.task.status.Copied.Add(c.n)
	ps.task.status.Duplicates.Add(c.dups)
	ps.metrics.count(ctx, c)
}

// copied returns the records of the task's partitions acknowledged since
// the worker started, over every run of them here (the task's own count
// would start over at each pause, restart or tasks.max change).
func (t *sourceTask) copied() int64 {
	var n int64
	for _, tp := range t.tps {
		n += t.metrics.copied(seriesKey{source: t.cfg.Source, target: t.cfg.Target, remote: t.cfg.Policy.FormatRemoteTopic(t.cfg.Source, tp.Topic), partition: tp.Partition})
	}
	return n
}

// acked returns the next offset to copy of each partition the task has
// acknowledged records of (or was given a stored position for).
func (t *sourceTask) acked() map[topicPartition]int64 {
	list := t.published.Load()
	if list == nil {
		return nil
	}
	out := make(map[topicPartition]int64, len(*list))
	for _, ps := range *list {
		ps.mu.Lock()
		acked := ps.pos.acked
		ps.mu.Unlock()
		if acked >= 0 {
			out[ps.tp] = acked + 1
		}
	}
	return out
}

// lagInputs lists the partitions whose lag this worker reports, each
// once across the group: those of the source tasks it has, whatever their
// state (running, paused, failed, a partition stopped or not fetched),
// and, when it leads the group, those of the tasks it wants run that the
// status topic shows no worker running, pausing or failing (not assigned
// yet, between two assignments). The next offset to copy is the furthest
// of the task's acknowledged position and the stored one.
func (f *flow) lagInputs() []lagInput {
	index := map[topicPartition]int{}
	var out []lagInput
	add := func(tp topicPartition, next int64) {
		if i, ok := index[tp]; ok {
			out[i].next = max(out[i].next, next)
			return
		}
		index[tp] = len(out)
		out = append(out, lagInput{tp: tp, next: next})
	}
	for _, t := range f.sourceRuns() {
		acked := t.acked()
		for _, tp := range t.tps {
			next, ok := acked[tp]
			if !ok {
				next = -1
			}
			add(tp, next)
		}
	}
	if f.member != nil && f.member.Leader() {
		for _, spec := range f.wantedSources() {
			// A task the status topic shows RUNNING, PAUSED or FAILED is
			// run by a worker that reports its partitions: this one, or
			// another (maybe one with the same id: workers without
			// listeners are all "strait"). Those it shows UNASSIGNED, or
			// not at all, wait for a worker: the leader reports them.
			if rec, ok := f.statusView.Task(connClasses[sourceConnector], spec.ID.Index); ok && rec.State != StateUnassigned {
				continue
			}
			for _, tp := range spec.Partitions {
				add(tp, -1)
			}
		}
	}
	stored := f.offsets.Stored()
	for i := range out {
		if pos, ok := stored[out[i].tp]; ok {
			out[i].next = max(out[i].next, pos+1)
		}
	}
	slices.SortFunc(out, func(a, b lagInput) int {
		return cmp.Or(cmp.Compare(a.tp.Topic, b.tp.Topic), cmp.Compare(a.tp.Partition, b.tp.Partition))
	})
	return out
}

// measureLag measures the lag of the partitions lagInputs lists against
// the source's log offsets, and publishes it. Spans that stayed since the
// previous measure are read (probeGaps), so that a partition behind only
// by transaction markers shows 0.
func (f *flow) measureLag(ctx context.Context) {
	cfg := f.view.Load()
	readCommitted := !cfg.SourceConsumer.ReadUncommitted
	inputs := f.lagInputs()
	snap := &lagSnapshot{parts: make([]partLag, len(inputs))}
	for i, in := range inputs {
		remote := cfg.Policy.FormatRemoteTopic(cfg.Source, in.tp.Topic)
		snap.parts[i] = partLag{tp: in.tp, exp: f.metrics.forPartition(cfg.Source, cfg.Target, remote, in.tp.Partition).exp}
	}
	if len(inputs) == 0 {
		f.lag.snap.Store(snap)
		return
	}
	rctx, cancel := context.WithTimeout(ctx, lagTimeout)
	ends, starts, err := behindOffsets(rctx, f.srcCl, readCommitted, inputs)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return // stopping: keep the last measure
		}
		snap.err = &ClusterError{Alias: f.src.Alias, Servers: f.src.BootstrapServers, Err: err}
		f.lag.snap.Store(snap)
		f.lag.prev = nil
		return
	}
	if f.lag.verdicts == nil {
		f.lag.verdicts = gapVerdicts{}
	}
	spans := make(map[topicPartition]lagSpan, len(inputs))
	probe := map[topicPartition]lagSpan{}
	for i := range snap.parts {
		p := &snap.parts[i]
		end, ok := ends[p.tp]
		if !ok {
			continue // unknown
		}
		var start int64 // caught up: the span does not depend on it (needsStart)
		if needsStart(inputs[i].next, end) {
			if start, ok = starts[p.tp]; !ok {
				continue // unknown
			}
		}
		p.span, p.known = spanOf(inputs[i].next, start, end), true
		p.lag = f.lag.verdicts.lag(p.tp, p.span)
		spans[p.tp] = p.span
		if prev, ok := f.lag.prev[p.tp]; f.lag.verdicts.toProbe(p.tp, p.span, prev, ok) {
			probe[p.tp] = p.span
		}
	}
	f.lag.prev = spans
	f.lag.verdicts.keep(spans)
	f.lag.snap.Store(snap)
	if len(probe) == 0 {
		return
	}
	for tp, markersOnly := range probeGaps(ctx, f.srcOpts, readCommitted, probe) {
		f.lag.verdicts[tp] = gapVerdict{span: probe[tp], markersOnly: markersOnly}
	}
	read := &lagSnapshot{parts: slices.Clone(snap.parts)}
	for i := range read.parts {
		if p := &read.parts[i]; p.known {
			p.lag = f.lag.verdicts.lag(p.tp, p.span)
		}
	}
	f.lag.snap.Store(read)
}

// behindOffsets lists the end offsets of the partitions of inputs
// (sorted by topic) on the source (the last stable offsets when reading
// committed records), and the log starts of those behind their end
// (needsStart): at a copy that keeps up, one request over every partition
// per measure, not two. Each is one ListOffsets over those partitions
// that the client splits per leader, not kadm's per topic, which first
// lists the topics' metadata once more and converts it (a map per
// partition): at tens of thousands of partitions that costs more than the
// offsets. Partitions answered with an error are left out (their lag is
// unknown); it fails when the source did not answer at all.
func behindOffsets(ctx context.Context, cl *kgo.Client, readCommitted bool, inputs []lagInput) (ends, starts map[topicPartition]int64, err error) {
	tps := make([]topicPartition, len(inputs))
	for i, in := range inputs {
		tps[i] = in.tp
	}
	if ends, err = listOffsets(ctx, cl, readCommitted, -1, tps); err != nil {
		return nil, nil, fmt.Errorf("list end offsets: %w", err)
	}
	var behind []topicPartition
	for _, in := range inputs {
		if end, ok := ends[in.tp]; ok && needsStart(in.next, end) {
			behind = append(behind, in.tp)
		}
	}
	if len(behind) == 0 {
		return ends, nil, nil
	}
	if starts, err = listOffsets(ctx, cl, readCommitted, -2, behind); err != nil {
		return nil, nil, fmt.Errorf("list start offsets: %w", err)
	}
	return ends, starts, nil
}

// needsStart reports whether the span of a partition whose next offset to
// copy is next (-1: never copied) and whose log ends at end depends on
// its log start: only when it is behind. Since start <= end, a partition
// with next >= end has the span {next, end}, and an empty one never
// copied (end 0) the span {0, 0}, whatever the start.
func needsStart(next, end int64) bool { return end > max(next, 0) }

// listOffsets asks the source for the offsets of tps (sorted by topic) at
// timestamp (-1: the end, -2: the log start) in one ListOffsets request,
// which the client splits per partition leader, and returns those
// answered without an error. It fails when no leader answered (a
// partition the client knows no leader of is answered with that error).
func listOffsets(ctx context.Context, cl *kgo.Client, readCommitted bool, timestamp int64, tps []topicPartition) (map[topicPartition]int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	if readCommitted {
		req.IsolationLevel = 1
	}
	for _, tp := range tps {
		if n := len(req.Topics); n == 0 || req.Topics[n-1].Topic != tp.Topic {
			rt := kmsg.NewListOffsetsRequestTopic()
			rt.Topic = tp.Topic
			req.Topics = append(req.Topics, rt)
		}
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp = tp.Partition, timestamp
		rt := &req.Topics[len(req.Topics)-1]
		rt.Partitions = append(rt.Partitions, rp)
	}
	out := make(map[topicPartition]int64, len(tps))
	var errs []error
	answered := false
	for _, shard := range cl.RequestSharded(ctx, req) {
		if shard.Err != nil {
			var kafkaErr *kerr.Error
			answered = answered || errors.As(shard.Err, &kafkaErr)
			errs = append(errs, shard.Err)
			continue
		}
		answered = true
		for _, t := range shard.Resp.(*kmsg.ListOffsetsResponse).Topics {
			for _, p := range t.Partitions {
				if p.ErrorCode == 0 {
					out[topicPartition{Topic: t.Topic, Partition: p.Partition}] = p.Offset
				}
			}
		}
	}
	if !answered {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// logOffsets lists the end offsets of topics on the source (the last
// stable offsets when reading committed records) and their log starts.
func logOffsets(ctx context.Context, adm *kadm.Client, readCommitted bool, topics []string) (ends, starts kadm.ListedOffsets, err error) {
	if readCommitted {
		ends, err = adm.ListCommittedOffsets(ctx, topics...)
	} else {
		ends, err = adm.ListEndOffsets(ctx, topics...)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("list end offsets: %w", err)
	}
	if starts, err = adm.ListStartOffsets(ctx, topics...); err != nil {
		return nil, nil, fmt.Errorf("list start offsets: %w", err)
	}
	return ends, starts, nil
}

// probeGaps reads each partition's span from the source, control records
// kept, and reports whether it holds only transaction markers (scanGap). A
// span it could not decide within probeTimeout is reported as lag (false).
func probeGaps(ctx context.Context, opts []kgo.Opt, readCommitted bool, spans map[topicPartition]lagSpan) map[topicPartition]bool {
	out := make(map[topicPartition]bool, len(spans))
	want := map[string]map[int32]kgo.Offset{}
	for tp, s := range spans {
		out[tp] = false
		if want[tp.Topic] == nil {
			want[tp.Topic] = map[int32]kgo.Offset{}
		}
		want[tp.Topic][tp.Partition] = kgo.NewOffset().At(s.next)
	}
	cl, err := kgo.NewClient(append(slices.Clone(opts), kgo.ConsumePartitions(want), kgo.ConsumeResetOffset(kgo.NoResetOffset()),
		kgo.FetchIsolationLevel(isolation(readCommitted)), kgo.KeepControlRecords(), kgo.FetchMaxPartitionBytes(probeFetchBytes))...)
	if err != nil {
		return out
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	pending := maps.Clone(spans)
	for len(pending) > 0 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachPartition(func(p kgo.FetchTopicPartition) {
			tp := topicPartition{Topic: p.Topic, Partition: p.Partition}
			s, ok := pending[tp]
			if !ok {
				return
			}
			for _, r := range p.Records {
				if markersOnly, done := scanGap(s, r.Offset, r.Attrs.IsControl()); done {
					out[tp] = markersOnly
					delete(pending, tp)
					return
				}
			}
		})
	}
	return out
}
