package replicator

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metric names: MM2's MirrorSourceConnector metrics where MM2 has one,
// then what MM2 lacks. Rates (record-rate, byte-rate) are the counters'
// rates, which Prometheus computes; min/avg/max come from the histograms.
const (
	metricRecordCount        = "record-count"
	metricByteCount          = "byte-count"
	metricRecordAge          = "record-age-ms"
	metricReplicationLatency = "replication-latency-ms"
	metricLostRecords        = "lost-record-count"
	metricReplicationLag     = "replication-lag-records"
	metricTaskState          = "task-state"
	metricPartitionState     = "partition-state"
	metricWriteErrors        = "internal-topic-write-errors"
	metricCheckpointLatency  = "checkpoint-latency-ms"
	metricDuplicates         = "duplicate-record-count"
	metricRecordRate         = "record-rate"
	metricByteRate           = "byte-rate"
)

// latencyBuckets are the histogram bounds of the millisecond metrics.
var latencyBuckets = []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000}

// metrics are the source flow's instruments. Attribute sets are built once
// per partition (partMetrics), so recording costs no allocation.
type metrics struct {
	records     metric.Int64Counter
	bytes       metric.Int64Counter
	age         metric.Int64Histogram
	latency     metric.Int64Histogram
	lost        metric.Int64Counter
	writeErrors metric.Int64Counter
	checkpoint  metric.Int64Histogram
	duplicates  metric.Int64Counter
}

func newMetrics(mp metric.MeterProvider, w *Worker) (*metrics, error) {
	m := mp.Meter("github.com/strait-replicator/strait/replicator")
	var ms metrics
	var err error
	counter := func(dst *metric.Int64Counter, name, desc string, opts ...metric.Int64CounterOption) {
		if err == nil {
			*dst, err = m.Int64Counter(name, append(opts, metric.WithDescription(desc))...)
		}
	}
	histogram := func(dst *metric.Int64Histogram, name, desc string) {
		if err == nil {
			*dst, err = m.Int64Histogram(name, metric.WithDescription(desc), metric.WithUnit("ms"), metric.WithExplicitBucketBoundaries(latencyBuckets...))
		}
	}
	counter(&ms.records, metricRecordCount, "records replicated and acknowledged by the target")
	counter(&ms.bytes, metricByteCount, "value bytes replicated", metric.WithUnit("By"))
	histogram(&ms.age, metricRecordAge, "age of a record when the source task reads it: now - record timestamp")
	histogram(&ms.latency, metricReplicationLatency, "age of a record when the target acknowledges it: now - record timestamp")
	counter(&ms.lost, metricLostRecords, "records deleted on the source before they were copied")
	counter(&ms.writeErrors, metricWriteErrors, "failed writes to internal topics (positions, offset syncs, checkpoints, heartbeats)")
	histogram(&ms.checkpoint, metricCheckpointLatency, "now - checkpoint record timestamp when the target acknowledged it")
	counter(&ms.duplicates, metricDuplicates, "records copied again after a restart: at least those the previous run had copied past its last stored position, as its offset syncs show")
	if err != nil {
		return nil, err
	}
	lag, err := m.Int64ObservableGauge(metricReplicationLag, metric.WithDescription("records on the source not yet acknowledged by the target: source end offset - next offset to copy"))
	if err != nil {
		return nil, err
	}
	state, err := m.Int64ObservableGauge(metricTaskState, metric.WithDescription("1 for the state each task is in"))
	if err != nil {
		return nil, err
	}
	partState, err := m.Int64ObservableGauge(metricPartitionState, metric.WithDescription("1 for the state each source partition of a running task is in: RUNNING, or FAILED when it stopped (a record refused by the target or not copyable exactly) while its task goes on"))
	if err != nil {
		return nil, err
	}
	// MM2's windowed metrics, over the time since the previous collection.
	var g gauges
	gauge := func(dst *metric.Float64ObservableGauge, name, desc, unit string) {
		if err == nil {
			*dst, err = m.Float64ObservableGauge(name, metric.WithDescription(desc), metric.WithUnit(unit))
		}
	}
	gauge(&g.recordRate, metricRecordRate, "records acknowledged per second since the previous collection", "1/s")
	gauge(&g.byteRate, metricByteRate, "value bytes replicated per second since the previous collection", "By/s")
	for i, stat := range []string{"min", "max", "avg"} {
		gauge(&g.age[i], metricRecordAge+"-"+stat, stat+" of record-age-ms since the previous collection", "ms")
		gauge(&g.latency[i], metricReplicationLatency+"-"+stat, stat+" of replication-latency-ms since the previous collection", "ms")
	}
	if err != nil {
		return nil, err
	}
	g.partState = partState
	observables := []metric.Observable{lag, state, partState, g.recordRate, g.byteRate}
	for i := range g.age {
		observables = append(observables, g.age[i], g.latency[i])
	}
	_, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		now := time.Now()
		for _, f := range w.flows {
			f.observe(o, lag, state, &g, now)
		}
		return nil
	}, observables...)
	return &ms, err
}

// gauges are MM2's windowed metrics (rates and min/max/avg) and the
// partitions' states.
type gauges struct {
	recordRate, byteRate metric.Float64ObservableGauge
	age, latency         [3]metric.Float64ObservableGauge // min, max, avg
	partState            metric.Int64ObservableGauge
}

// window is min, max and sum of the values seen since it was last taken,
// and the stats of the last window that had values.
type window struct {
	min, max, sum, n int64
	last             [3]float64
	hasLast          bool
}

func (w *window) add(v int64) {
	if w.n == 0 || v < w.min {
		w.min = v
	}
	if w.n == 0 || v > w.max {
		w.max = v
	}
	w.sum += v
	w.n++
}

// take returns min, max and avg and starts a new window. An empty window
// repeats the last window that had values; ok is false before any value.
func (w *window) take() (stats [3]float64, ok bool) {
	if w.n == 0 {
		return w.last, w.hasLast
	}
	stats = [3]float64{float64(w.min), float64(w.max), float64(w.sum) / float64(w.n)}
	*w = window{last: stats, hasLast: true}
	return stats, true
}

// partStats keeps a partition's windows and totals for the gauges; records
// and bytes are added where the counters are (per batch), the windows at
// each sample.
type partStats struct {
	mu             sync.Mutex
	age, latency   window
	records, bytes int64     // totals
	lastRecords    int64     // totals at the previous collection
	lastBytes      int64     //
	lastAt         time.Time // time of the previous collection
}

func (s *partStats) observe(o metric.Observer, g *gauges, attrs metric.ObserveOption, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.lastAt.IsZero() {
		if secs := now.Sub(s.lastAt).Seconds(); secs > 0 {
			o.ObserveFloat64(g.recordRate, float64(s.records-s.lastRecords)/secs, attrs)
			o.ObserveFloat64(g.byteRate, float64(s.bytes-s.lastBytes)/secs, attrs)
		}
	}
	s.lastRecords, s.lastBytes, s.lastAt = s.records, s.bytes, now
	if st, ok := s.age.take(); ok {
		for i := range st {
			o.ObserveFloat64(g.age[i], st[i], attrs)
		}
	}
	if st, ok := s.latency.take(); ok {
		for i := range st {
			o.ObserveFloat64(g.latency[i], st[i], attrs)
		}
	}
}

// observe reports the flow's lag and windowed metrics per partition and its
// tasks' states.
func (f *flow) observe(o metric.Observer, lag, state metric.Int64Observable, g *gauges, now time.Time) {
	for i := range int(f.sourceTasks.Load()) {
		id := sourceTaskID(i)
		st := StateUnassigned // run by another worker, which reports it
		if r := f.tasks.Get(id); r != nil {
			st, _ = r.Status.Get()
		}
		o.ObserveInt64(state, 1, metric.WithAttributes(attribute.String("flow", f.name), attribute.String("task", taskName(f.name, id)), attribute.String("state", st)))
	}
	for _, t := range f.sourceRuns() {
		parts := t.published.Load()
		if parts == nil {
			continue
		}
		for _, ps := range *parts {
			if n, ok := ps.lag(); ok {
				o.ObserveInt64(lag, n, ps.metrics.attrs)
			}
			ps.metrics.stats.observe(o, g, ps.metrics.attrs, now)
			st := ps.metrics.running
			if ps.stopped.Load() {
				st = ps.metrics.failed
			}
			o.ObserveInt64(g.partState, 1, st)
		}
	}
}

// partMetrics records one partition's measurements with its attributes:
// source and target alias, remote topic, partition.
type partMetrics struct {
	m     *metrics
	attrs metric.MeasurementOption
	opts  []metric.AddOption
	rec   []metric.RecordOption
	stats *partStats
	// running and failed are attrs with the partition-state's state.
	running, failed metric.ObserveOption
}

func (ms *metrics) forPartition(source, target, remote string, partition int32) partMetrics {
	set := attribute.NewSet(
		attribute.String("source", source),
		attribute.String("target", target),
		attribute.String("topic", remote),
		attribute.Int("partition", int(partition)),
	)
	opt := metric.WithAttributeSet(set)
	withState := func(state string) metric.ObserveOption {
		return metric.WithAttributeSet(attribute.NewSet(append(set.ToSlice(), attribute.String("state", state))...))
	}
	return partMetrics{m: ms, attrs: opt, opts: []metric.AddOption{opt}, rec: []metric.RecordOption{opt}, stats: &partStats{},
		running: withState(StateRunning), failed: withState(StateFailed)}
}

// Per-record costs are kept small: counts are batched (ackMeter) and the
// latency histograms sample (one record in latencySample, and the oldest
// record of each fetched batch for record-age-ms).
const (
	ackBatch      = 256 // acknowledgements counted before they are added
	latencySample = 64  // one record in latencySample feeds the latency histogram
)

// ackMeter batches a partition's acknowledgement counts; its owner guards
// it.
type ackMeter struct{ n, bytes, dups int64 }

// acks are counts taken from an ackMeter.
type acks struct{ n, bytes, dups int64 }

// add counts one acknowledged record (dup: one copied before) and returns
// the counts to add to the counters when a batch is full.
func (a *ackMeter) add(valueBytes int, dup bool) acks {
	a.n++
	a.bytes += int64(valueBytes)
	if dup {
		a.dups++
	}
	if a.n < ackBatch {
		return acks{}
	}
	return a.take()
}

// take returns and clears what was counted.
func (a *ackMeter) take() acks {
	c := acks{a.n, a.bytes, a.dups}
	*a = ackMeter{}
	return c
}

// count adds acknowledged records to record-count, byte-count and
// duplicate-record-count.
func (pm partMetrics) count(ctx context.Context, c acks) {
	if c.n > 0 {
		pm.m.records.Add(ctx, c.n, pm.opts...)
		pm.m.bytes.Add(ctx, c.bytes, pm.opts...)
		pm.stats.mu.Lock()
		pm.stats.records += c.n
		pm.stats.bytes += c.bytes
		pm.stats.mu.Unlock()
	}
	if c.dups > 0 {
		pm.m.duplicates.Add(ctx, c.dups, pm.opts...)
	}
}

// acked records the replication latency of a sample of acknowledged
// records, chosen by upstream offset, and returns it when it sampled.
func (pm partMetrics) acked(ctx context.Context, upstream int64, ts time.Time) (ms int64, sampled bool) {
	if upstream%latencySample != 0 {
		return 0, false
	}
	ms = time.Since(ts).Milliseconds()
	pm.m.latency.Record(ctx, ms, pm.rec...)
	pm.stats.mu.Lock()
	pm.stats.latency.add(ms)
	pm.stats.mu.Unlock()
	return ms, true
}

// age records the age of a fetched batch's oldest record.
func (pm partMetrics) age(ctx context.Context, ms int64) {
	pm.m.age.Record(ctx, ms, pm.rec...)
	pm.stats.mu.Lock()
	pm.stats.age.add(ms)
	pm.stats.mu.Unlock()
}
