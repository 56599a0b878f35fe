package replicator

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/policy"
)

// collected is one collection of a worker's metrics: each gauge's and
// counter's data points as "attr=value,..." -> value (source and target
// left out), and each counter's total.
type collected struct {
	gauges map[string]map[string]int64
	series map[string]map[string]int64 // counters; histograms' counts
	sums   map[string]int64
}

func collect(t *testing.T, reader *sdkmetric.ManualReader) collected {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	c := collected{gauges: map[string]map[string]int64{}, series: map[string]map[string]int64{}, sums: map[string]int64{}}
	key := func(set attribute.Set) string {
		var attrs []string
		for _, kv := range set.ToSlice() {
			if kv.Key != "source" && kv.Key != "target" {
				attrs = append(attrs, string(kv.Key)+"="+kv.Value.Emit())
			}
		}
		slices.Sort(attrs)
		return joinAttrs(attrs)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				c.gauges[m.Name] = map[string]int64{}
				for _, dp := range d.DataPoints {
					c.gauges[m.Name][key(dp.Attributes)] = dp.Value
				}
			case metricdata.Sum[int64]:
				c.series[m.Name] = map[string]int64{}
				for _, dp := range d.DataPoints {
					c.sums[m.Name] += dp.Value
					c.series[m.Name][key(dp.Attributes)] = dp.Value
				}
			case metricdata.Histogram[int64]:
				c.series[m.Name] = map[string]int64{}
				for _, dp := range d.DataPoints {
					c.series[m.Name][key(dp.Attributes)] = int64(dp.Count)
				}
			}
		}
	}
	return c
}

func joinAttrs(attrs []string) string {
	out := ""
	for i, a := range attrs {
		if i > 0 {
			out += ","
		}
		out += a
	}
	return out
}

// testWorker is a worker with one replication flow A->B (checkpoints and
// heartbeats on, two source tasks assigned elsewhere) and a heartbeat-only
// pair B->A, none of them running, whose metrics a manual reader collects;
// perPartition is metrics.partition.series.
func testWorker(t *testing.T, perPartition bool) (*Worker, *flow, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	w := &Worker{cfg: &configs.Config{MetricsPartitionSeries: perPartition}}
	ms, err := newMetrics(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), w)
	if err != nil {
		t.Fatal(err)
	}
	cfg := configs.Flow{Source: "A", Target: "B", Policy: policy.Default{}, EmitOffsetSyncs: true, EmitCheckpointsInterval: 1, EmitHeartbeatsInterval: 1}
	f := &flow{name: "A->B", cfg: cfg, metrics: ms, ctl: newControl()}
	f.view.Store(&cfg)
	f.sourceTasks.Store(2)
	hcfg := configs.Flow{Source: "B", Target: "A", EmitHeartbeatsInterval: 1}
	h := &flow{name: "B->A", heartbeatsOnly: true, cfg: hcfg, metrics: ms, ctl: newControl()}
	h.view.Store(&hcfg)
	w.flows, w.heartbeats = []*flow{f}, []*flow{h}
	return w, f, reader
}

// task-state covers every task: source, checkpoint and heartbeat tasks,
// and the heartbeat task of a pair that only emits heartbeats.
func TestTaskStateEveryKind(t *testing.T) {
	_, _, reader := testWorker(t, false)
	got := collect(t, reader).gauges["task-state"]
	for _, task := range []string{"A->B source 0", "A->B source 1", "A->B checkpoint 0", "A->B heartbeat 0", "B->A heartbeat 0"} {
		flow := task[:4]
		if key := "flow=" + flow + ",state=UNASSIGNED,task=" + task; got[key] != 1 {
			t.Errorf("no task-state for %s (%s): %v", task, key, got)
		}
	}
	if len(got) != 5 {
		t.Errorf("task-state has %d series, want 5: %v", len(got), got)
	}
}

// The lag gauge and the progress read the flow's last lag measure: a
// partition whose offsets could not be read is left out, and while the
// source cannot be asked every lag is unknown, not 0.
func TestLagReadFromMeasure(t *testing.T) {
	w, f, reader := testWorker(t, true)
	if got := collect(t, reader).gauges["replication-lag-records"]; len(got) != 0 {
		t.Errorf("lag before any measure: %v, want none", got)
	}
	if p := w.Progress(); len(p) != 1 || p[0].LagKnown {
		t.Errorf("progress before any measure: %+v, want the lag unknown", p)
	}
	attrs := func(p int32) partLag {
		return partLag{tp: topicPartition{Topic: "orders", Partition: p}, exp: f.metrics.forPartition("A", "B", "A.orders", p).exp}
	}
	p0, p1, p2 := attrs(0), attrs(1), attrs(2)
	p0.span, p0.lag, p0.known = lagSpan{next: 5, end: 405_069}, 405_064, true // paused, say
	p1.span, p1.lag, p1.known = lagSpan{next: 10, end: 11}, 0, true           // behind by a commit marker only
	f.lag.snap.Store(&lagSnapshot{parts: []partLag{p0, p1, p2}})
	got := collect(t, reader).gauges["replication-lag-records"]
	want := map[string]int64{"partition=0,topic=A.orders": 405_064, "partition=1,topic=A.orders": 0}
	if len(got) != len(want) || got["partition=0,topic=A.orders"] != want["partition=0,topic=A.orders"] || got["partition=1,topic=A.orders"] != 0 {
		t.Errorf("replication-lag-records = %v, want %v", got, want)
	}
	if p := w.Progress(); p[0].Remaining != 405_064 || !p[0].LagKnown {
		t.Errorf("progress %+v, want 405064 remaining, known", p[0])
	}

	f.lag.snap.Store(&lagSnapshot{err: errors.New("cluster A unreachable"), parts: []partLag{attrs(0), attrs(1)}})
	if got := collect(t, reader).gauges["replication-lag-records"]; len(got) != 0 {
		t.Errorf("lag while the source cannot be asked: %v, want none", got)
	}
	if p := w.Progress(); p[0].LagKnown || p[0].Remaining != 0 {
		t.Errorf("progress while the source cannot be asked: %+v, want the lag unknown", p[0])
	}
}

// What a partition copied adds up over every run of its task (a pause, a
// restart, a tasks.max change make new runs), per flow.
func TestCopiedAcrossRuns(t *testing.T) {
	w, f, reader := testWorker(t, false)
	first := f.metrics.forPartition("A", "B", "A.orders", 0)
	first.count(context.Background(), acks{n: 200, bytes: 2000})
	second := f.metrics.forPartition("A", "B", "A.orders", 0) // the next run
	second.count(context.Background(), acks{n: 300, bytes: 3000})
	f.metrics.forPartition("A", "B", "A.orders", 1).count(context.Background(), acks{n: 7, bytes: 70})
	f.metrics.forPartition("B", "A", "B.orders", 0).count(context.Background(), acks{n: 1000, bytes: 1}) // another flow

	if got := f.metrics.copied(seriesKey{source: "A", target: "B", remote: "A.orders", partition: 0}); got != 500 {
		t.Errorf("A.orders/0 copied %d, want 500", got)
	}
	if p := w.Progress(); p[0].Copied != 507 {
		t.Errorf("A->B copied %d, want 507", p[0].Copied)
	}
	c := collect(t, reader)
	if c.sums["record-count"] != 1507 {
		t.Errorf("record-count %d, want 1507", c.sums["record-count"])
	}
}

// tenAcked is a task of one partition that sent and had acknowledged
// records 0 to 9, none counted yet.
func tenAcked(t *testing.T, exactlyOnce bool) (*testTask, *partState) {
	t.Helper()
	tt := newTestTask(t, exactlyOnce, 0)
	tt.cfg.Policy = policy.Default{}
	tt.send(0, 0, 9)
	for i := range int64(10) {
		tt.ack(0, i, nil)
	}
	return tt, tt.part(0)
}

// Counts an acknowledgement batched reach the counters at the flow's
// flush, long before a batch fills or positions are written.
func TestFlushCounts(t *testing.T) {
	tt, ps := tenAcked(t, false)
	if got := ps.metrics.stats.copied(); got != 0 {
		t.Fatalf("counted %d before the flush: the batch of %d is not full", got, ackBatch)
	}
	ps.flushCounts(context.Background())
	if got := ps.metrics.stats.copied(); got != 10 {
		t.Errorf("counted %d after the flush, want 10", got)
	}
	if got := tt.copied(); got != 10 {
		t.Errorf("the task's copied: %d, want 10", got)
	}
	if got := ps.copiedBytes.Load(); got != 10 {
		t.Errorf("bytes for load-aware assignment: %d, want 10", got)
	}
	ps.flushCounts(context.Background()) // nothing new
	if got := ps.metrics.stats.copied(); got != 10 {
		t.Errorf("counted %d after a second flush, want 10", got)
	}
}

// In exactly-once mode the flow's flush leaves the acknowledgements of the
// open transaction to its commit: an aborted transaction (rewind) must not
// have been counted.
func TestFlushCountsWaitsForTheCommit(t *testing.T) {
	tt, ps := tenAcked(t, true)
	ps.flushCounts(context.Background())
	if got := ps.metrics.stats.copied(); got != 0 {
		t.Fatalf("counted %d at the flush, before the transaction committed", got)
	}
	tt.txn.marks = map[*partState]txnMark{ps: {}}
	tt.countCommitted(context.Background())
	if got := ps.metrics.stats.copied(); got != 10 {
		t.Errorf("counted %d at the commit, want 10", got)
	}
	if got := tt.status.Copied.Load(); got != 10 {
		t.Errorf("the task's status: %d copied, want 10", got)
	}
}

// A lag measure that takes long (tens of thousands of partitions) is
// repeated no sooner than lagPace times its duration after it started, so
// the source spends at most 1/lagPace of the time answering it; a quick
// one every d.
func TestLagMeasurePaced(t *testing.T) {
	var starts []time.Time
	var took []time.Duration
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	repeatPaced(ctx, time.Millisecond, lagPace, func(context.Context) {
		began := time.Now()
		starts = append(starts, began)
		if len(starts) == 3 {
			cancel()
			return
		}
		time.Sleep(20 * time.Millisecond) // a slow measure
		took = append(took, time.Since(began))
	})
	if len(starts) != 3 {
		t.Fatalf("%d calls, want 3", len(starts))
	}
	for i := range 2 {
		if gap := starts[i+1].Sub(starts[i]); gap < lagPace*took[i] {
			t.Errorf("call %d started %v after the one before, which took %v: want at least %d times that", i+1, gap, took[i], lagPace)
		}
	}
}
