package replicator

import (
	"context"
	"slices"
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
// per exported series (seriesAttrs), so recording costs no allocation.
type metrics struct {
	records     metric.Int64Counter
	bytes       metric.Int64Counter
	age         metric.Int64Histogram
	latency     metric.Int64Histogram
	lost        metric.Int64Counter
	writeErrors metric.Int64Counter
	checkpoint  metric.Int64Histogram
	duplicates  metric.Int64Counter

	// perPartition is metrics.partition.series: a series per partition.
	// Without it (the default) the partitions of a remote topic share
	// its series: the counters add up, the gauges are summed or merged
	// at each collection (observe), and the histograms are the flow's,
	// so /metrics grows with topics rather than partitions.
	perPartition bool

	// series are the partitions' stats and attribute sets, one per
	// partition of a flow for the worker's life: every run of the task
	// copying it (after a pause, a restart, a tasks.max change) adds to the
	// same totals, so what was copied never goes back. exported are the
	// attribute sets, by partition or by topic (partition -1).
	seriesMu sync.Mutex
	series   map[seriesKey]*partSeries  // guarded by seriesMu
	exported map[seriesKey]*seriesAttrs // guarded by seriesMu
}

// seriesKey names a partition's series: the flow's source and target
// aliases, the remote topic and the partition.
type seriesKey struct {
	source, target, remote string
	partition              int32
}

// seriesAttrs are the attribute sets of one exported series: a
// partition's, or its remote topic's, which its partitions share.
type seriesAttrs struct {
	attrs           metric.MeasurementOption
	opts            []metric.AddOption
	running, failed metric.ObserveOption // attrs with the partition-state's state
	// hist are the histograms' attributes: the partition's with
	// metrics.partition.series, else only the flow's (source and
	// target): a histogram is 19 series, too many per topic with
	// thousands of topics; the topic's min/max/avg gauges remain.
	hist []metric.RecordOption
}

// partSeries is one partition's exported series and stats.
type partSeries struct {
	exp   *seriesAttrs
	stats partStats
}

func newMetrics(mp metric.MeterProvider, w *Worker) (*metrics, error) {
	m := mp.Meter("github.com/strait-replicator/strait/replicator")
	ms := metrics{perPartition: w.cfg != nil && w.cfg.MetricsPartitionSeries}
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
	counter(&ms.duplicates, metricDuplicates, "records copied again after a restart: those the previous run had copied past its last stored position, as its offset syncs show, or, on the worker it ran on, those it had in flight that reached the target")
	if err != nil {
		return nil, err
	}
	lag, err := m.Int64ObservableGauge(metricReplicationLag, metric.WithDescription("records on the source not yet acknowledged by the target: the source's end offset (last stable offset, read_committed) - the next offset to copy, for every partition of the flow's tasks on this worker (running, paused, failed or not fetched) and, on the group's leader, of tasks no worker runs; 0 when only transaction markers remain; absent while the source cannot be asked"))
	if err != nil {
		return nil, err
	}
	state, err := m.Int64ObservableGauge(metricTaskState, metric.WithDescription("1 for the state each task is in: source, checkpoint and heartbeat tasks"))
	if err != nil {
		return nil, err
	}
	partState, err := m.Int64ObservableGauge(metricPartitionState, metric.WithDescription("1 for the state each source partition of a running task is in: RUNNING, or FAILED when it stopped (a record refused by the target or not copyable exactly) while its task goes on"))
	if err != nil {
		return nil, err
	}
	// MM2's windowed metrics: rates over the time since the previous
	// collection, min/max/avg over the last statsPeriod or two.
	var g gauges
	gauge := func(dst *metric.Float64ObservableGauge, name, desc, unit string) {
		if err == nil {
			*dst, err = m.Float64ObservableGauge(name, metric.WithDescription(desc), metric.WithUnit(unit))
		}
	}
	gauge(&g.recordRate, metricRecordRate, "records acknowledged per second since the previous collection", "1/s")
	gauge(&g.byteRate, metricByteRate, "value bytes replicated per second since the previous collection", "By/s")
	for i, stat := range []string{"min", "max", "avg"} {
		gauge(&g.age[i], metricRecordAge+"-"+stat, stat+" of record-age-ms over the last 10 to 20 s; no data for a partition idle as long", "ms")
		gauge(&g.latency[i], metricReplicationLatency+"-"+stat, stat+" of replication-latency-ms over the last 10 to 20 s; no data for a partition idle as long", "ms")
	}
	if err != nil {
		return nil, err
	}
	g.partState = partState
	observables := []metric.Observable{lag, state, partState, g.recordRate, g.byteRate}
	for i := range g.age {
		observables = append(observables, g.age[i], g.latency[i])
	}
	// The callback reads memory only (the lag snapshots the flows refresh
	// on their own), so a scrape answers at once even while a cluster
	// does not.
	_, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		now := time.Now()
		for _, f := range slices.Concat(w.flows, w.heartbeats) {
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

// statsPeriod is the period of the min/max/avg gauges' windows: they show
// the values of the current period and the one before (10 to 20 s), as
// Kafka's sampled stats behind MM2's gauges do (two samples of a window),
// whoever collects and however often.
const statsPeriod = 10 * time.Second

// window is min, max and sum of the values of the current period and the
// one before.
type window struct {
	period    int64 // the current period's number (Unix time / statsPeriod)
	cur, prev statBucket
}

// statBucket is min, max, sum and number of values.
type statBucket struct{ min, max, sum, n int64 }

func (b *statBucket) merge(o statBucket) {
	if o.n == 0 {
		return
	}
	if b.n == 0 || o.min < b.min {
		b.min = o.min
	}
	if b.n == 0 || o.max > b.max {
		b.max = o.max
	}
	b.sum += o.sum
	b.n += o.n
}

// roll moves the window to now's period, dropping what is older than the
// period before it.
func (w *window) roll(now time.Time) {
	p := now.UnixNano() / int64(statsPeriod)
	switch {
	case p == w.period:
	case p == w.period+1:
		w.prev, w.cur = w.cur, statBucket{}
	case p > w.period:
		w.prev, w.cur = statBucket{}, statBucket{}
	default:
		return // the clock went back: keep the period
	}
	w.period = p
}

func (w *window) add(now time.Time, v int64) {
	w.roll(now)
	w.cur.merge(statBucket{min: v, max: v, sum: v, n: 1})
}

// bucket returns the values of the current period and the one before at
// now.
func (w *window) bucket(now time.Time) statBucket {
	w.roll(now)
	b := w.prev
	b.merge(w.cur)
	return b
}

// stats returns min, max and avg of the window at now; ok is false for a
// window without values: a partition idle for a period or two has no
// latency to show, rather than the last one it had.
func (w *window) stats(now time.Time) (stats [3]float64, ok bool) {
	return w.bucket(now).stats()
}

// stats returns min, max and avg of the bucket's values; ok is false
// without values.
func (b statBucket) stats() (stats [3]float64, ok bool) {
	if b.n == 0 {
		return stats, false
	}
	return [3]float64{float64(b.min), float64(b.max), float64(b.sum) / float64(b.n)}, true
}

// partStats keeps a partition's windows and totals for the gauges, the
// status and the progress; records and bytes are added where the counters
// are (per batch, and at least every countFlushEvery), the windows at each
// sample.
type partStats struct {
	mu             sync.Mutex
	age, latency   window
	records, bytes int64     // totals since the worker started
	lastRecords    int64     // totals at the previous collection
	lastBytes      int64     //
	lastAt         time.Time // time of the previous collection
}

// copied returns the records counted so far.
func (s *partStats) copied() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records
}

// sample is what a collection reads of one or more partitions' stats:
// their rates and windows, summed or merged.
type sample struct {
	records, bytes float64 // per second since the previous collection
	rated          bool    // false at a partition's first collection
	age, latency   statBucket
}

func (a *sample) merge(b sample) {
	a.records += b.records
	a.bytes += b.bytes
	a.rated = a.rated || b.rated
	a.age.merge(b.age)
	a.latency.merge(b.latency)
}

// collect returns the partition's rates since the previous collection
// and its windows at now.
func (s *partStats) collect(now time.Time) sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out sample
	if !s.lastAt.IsZero() {
		if secs := now.Sub(s.lastAt).Seconds(); secs > 0 {
			out.records = float64(s.records-s.lastRecords) / secs
			out.bytes = float64(s.bytes-s.lastBytes) / secs
			out.rated = true
		}
	}
	s.lastRecords, s.lastBytes, s.lastAt = s.records, s.bytes, now
	out.age, out.latency = s.age.bucket(now), s.latency.bucket(now)
	return out
}

// observe reports a sample's rates and min/max/avg; a window without
// values is left out.
func (smp sample) observe(o metric.Observer, g *gauges, attrs metric.ObserveOption) {
	if smp.rated {
		o.ObserveFloat64(g.recordRate, smp.records, attrs)
		o.ObserveFloat64(g.byteRate, smp.bytes, attrs)
	}
	if st, ok := smp.age.stats(); ok {
		for i := range st {
			o.ObserveFloat64(g.age[i], st[i], attrs)
		}
	}
	if st, ok := smp.latency.stats(); ok {
		for i := range st {
			o.ObserveFloat64(g.latency[i], st[i], attrs)
		}
	}
}

// exportedAgg is what one exported series gathers at a collection from
// the partitions that share it.
type exportedAgg struct {
	exp             *seriesAttrs
	sample          sample
	running, failed int64
}

// observe reports the flow's tasks' states, its partitions' lag (from the
// snapshot its lag loop keeps) and the windowed metrics and states of the
// partitions its running tasks copy: per exported series, so summed over
// a topic's partitions unless metrics.partition.series is set.
func (f *flow) observe(o metric.Observer, lag, state metric.Int64Observable, g *gauges, now time.Time) {
	f.observeTaskStates(o, state)
	if snap := f.lag.snapshot(); snap != nil {
		observeLag(o, lag, snap.parts)
	}
	var lists [][]*partState
	for _, t := range f.sourceRuns() {
		if parts := t.published.Load(); parts != nil {
			lists = append(lists, *parts)
		}
	}
	observeParts(o, g, lists, now)
}

// observeParts reports the rates, windows and states of the partitions
// of lists (each run's), each partition once, per exported series: a
// topic's rates are its partitions' sums, its windows their merge, its
// partition-state the number of its partitions in each state.
func observeParts(o metric.Observer, g *gauges, lists [][]*partState, now time.Time) {
	var order []*exportedAgg
	aggs := map[*seriesAttrs]*exportedAgg{}
	seen := map[*partStats]bool{} // a partition once, whichever runs hold it
	for _, parts := range lists {
		for _, ps := range parts {
			if seen[ps.metrics.stats] {
				continue
			}
			seen[ps.metrics.stats] = true
			a := aggs[ps.metrics.exp]
			if a == nil {
				a = &exportedAgg{exp: ps.metrics.exp}
				aggs[a.exp] = a
				order = append(order, a)
			}
			a.sample.merge(ps.metrics.stats.collect(now))
			if ps.stopped.Load() {
				a.failed++
			} else {
				a.running++
			}
		}
	}
	for _, a := range order {
		a.sample.observe(o, g, a.exp.attrs)
		if a.running > 0 {
			o.ObserveInt64(g.partState, a.running, a.exp.running)
		}
		if a.failed > 0 {
			o.ObserveInt64(g.partState, a.failed, a.exp.failed)
		}
	}
}

// observeLag reports the lag of parts (sorted by topic and partition) per
// exported series: a topic's lag is the sum of its partitions', unknown
// (left out) when one of them is.
func observeLag(o metric.Observer, lag metric.Int64Observable, parts []partLag) {
	for i := 0; i < len(parts); {
		exp := parts[i].exp
		var sum int64
		known := true
		j := i
		for ; j < len(parts) && parts[j].exp == exp; j++ {
			sum += parts[j].lag
			known = known && parts[j].known
		}
		if known {
			o.ObserveInt64(lag, sum, exp.attrs)
		}
		i = j
	}
}

// observeTaskStates reports the state of every task of the flow: its
// source tasks, and its checkpoint and heartbeat tasks where its config
// has them. A task another worker runs is UNASSIGNED here (that worker
// reports its state).
func (f *flow) observeTaskStates(o metric.Observer, state metric.Int64Observable) {
	report := func(id TaskID) {
		st := StateUnassigned
		if r := f.tasks.Get(id); r != nil {
			st, _ = r.Status.Get()
		}
		o.ObserveInt64(state, 1, metric.WithAttributes(attribute.String("flow", f.name), attribute.String("task", taskName(f.name, id)), attribute.String("state", st)))
	}
	for i := range int(f.sourceTasks.Load()) {
		report(sourceTaskID(i))
	}
	for k := checkpointConnector; k < connKinds; k++ {
		if f.runs(k) {
			report(singleTaskID(k))
		}
	}
}

// partMetrics records one partition's measurements with its exported
// series' attributes: source and target alias, remote topic and, with
// metrics.partition.series, partition.
type partMetrics struct {
	m     *metrics
	exp   *seriesAttrs
	opts  []metric.AddOption
	rec   []metric.RecordOption
	stats *partStats
}

// forPartition returns the instruments of a partition of flow
// source->target, sharing its series with every other run of the task
// that copies it on this worker.
func (ms *metrics) forPartition(source, target, remote string, partition int32) partMetrics {
	s := ms.seriesOf(seriesKey{source: source, target: target, remote: remote, partition: partition})
	return partMetrics{m: ms, exp: s.exp, opts: s.exp.opts, rec: s.exp.hist, stats: &s.stats}
}

// seriesOf returns k's series, made on first use.
func (ms *metrics) seriesOf(k seriesKey) *partSeries {
	ms.seriesMu.Lock()
	defer ms.seriesMu.Unlock()
	if s := ms.series[k]; s != nil {
		return s
	}
	if ms.exported == nil {
		ms.exported = map[seriesKey]*seriesAttrs{}
	}
	ek := k
	if !ms.perPartition {
		ek.partition = -1
	}
	exp := ms.exported[ek]
	if exp == nil {
		exp = newSeriesAttrs(ek)
		if !ms.perPartition {
			fk := seriesKey{source: k.source, target: k.target, partition: -1}
			flow := ms.exported[fk]
			if flow == nil {
				flow = newSeriesAttrs(fk)
				ms.exported[fk] = flow
			}
			exp.hist = flow.hist
		}
		ms.exported[ek] = exp
	}
	s := &partSeries{exp: exp}
	if ms.series == nil {
		ms.series = map[seriesKey]*partSeries{}
	}
	ms.series[k] = s
	return s
}

// newSeriesAttrs builds the attribute sets of k's series; a partition
// of -1 leaves the partition out, a remote topic of "" the topic.
func newSeriesAttrs(k seriesKey) *seriesAttrs {
	kvs := []attribute.KeyValue{
		attribute.String("source", k.source),
		attribute.String("target", k.target),
	}
	if k.remote != "" {
		kvs = append(kvs, attribute.String("topic", k.remote))
	}
	if k.partition >= 0 {
		kvs = append(kvs, attribute.Int("partition", int(k.partition)))
	}
	opt := metric.WithAttributeSet(attribute.NewSet(kvs...))
	withState := func(state string) metric.ObserveOption {
		return metric.WithAttributeSet(attribute.NewSet(append(slices.Clone(kvs), attribute.String("state", state))...))
	}
	return &seriesAttrs{attrs: opt, opts: []metric.AddOption{opt}, hist: []metric.RecordOption{opt},
		running: withState(StateRunning), failed: withState(StateFailed)}
}

// copied returns the records of k's partition acknowledged since the
// worker started; 0 for a partition it never counted.
func (ms *metrics) copied(k seriesKey) int64 {
	ms.seriesMu.Lock()
	s := ms.series[k]
	ms.seriesMu.Unlock()
	if s == nil {
		return 0
	}
	return s.stats.copied()
}

// flowCopied returns the records of flow source->target acknowledged since
// the worker started, over every partition it copied.
func (ms *metrics) flowCopied(source, target string) int64 {
	ms.seriesMu.Lock()
	list := make([]*partSeries, 0, len(ms.series))
	for k, s := range ms.series {
		if k.source == source && k.target == target {
			list = append(list, s)
		}
	}
	ms.seriesMu.Unlock()
	var n int64
	for _, s := range list {
		n += s.stats.copied()
	}
	return n
}

// Per-record costs are kept small: counts are batched (ackMeter, under the
// partition's lock the acknowledgement takes anyway; the flow moves what a
// batch holds to the counters every countFlushEvery) and the latency
// histograms sample (one record in latencySample, and the oldest record of
// each fetched batch for record-age-ms).
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
	now := time.Now()
	ms = now.Sub(ts).Milliseconds()
	pm.m.latency.Record(ctx, ms, pm.rec...)
	pm.stats.mu.Lock()
	pm.stats.latency.add(now, ms)
	pm.stats.mu.Unlock()
	return ms, true
}

// age records the age of a fetched batch's oldest record.
func (pm partMetrics) age(ctx context.Context, ms int64) {
	pm.m.age.Record(ctx, ms, pm.rec...)
	pm.stats.mu.Lock()
	pm.stats.age.add(time.Now(), ms)
	pm.stats.mu.Unlock()
}
