package replicator

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/strait-replicator/strait/replicator/task"
)

// BenchmarkInstrumentation measures what the metrics cost per replicated
// record on the source task's path: counting the acknowledgement (batched
// into record-count and byte-count) and the sampled replication latency;
// record-age-ms is recorded once per fetched batch and is left out.
func BenchmarkInstrumentation(b *testing.B) {
	for _, bc := range []struct {
		name string
		mp   metric.MeterProvider
	}{
		{"off", noop.NewMeterProvider()},
		{"on", sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ms, err := newMetrics(bc.mp, &Worker{})
			if err != nil {
				b.Fatal(err)
			}
			pm := ms.forPartition("A", "B", "A.orders", 3)
			ctx := context.Background()
			ts := time.Now().Add(-time.Second)
			var meter ackMeter
			var up int64
			b.ReportAllocs()
			for b.Loop() {
				pm.count(ctx, meter.add(1024, false))
				pm.acked(ctx, up, ts)
				up++
			}
		})
	}
}

func TestMetricsRecorded(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	ms, err := newMetrics(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), &Worker{})
	if err != nil {
		t.Fatal(err)
	}
	pm := ms.forPartition("A", "B", "A.orders", 3)
	now := time.Now()
	var meter ackMeter
	for i := range int64(ackBatch + 1) {
		pm.count(context.Background(), meter.add(10, i < 3))
		pm.acked(context.Background(), i, now.Add(time.Hour)) // in the future: 0 ms or less, never more
	}
	pm.count(context.Background(), meter.take())
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				got[m.Name] = d.DataPoints[0].Value
			case metricdata.Histogram[int64]:
				got[m.Name+".count"] = int64(d.DataPoints[0].Count)
				got[m.Name+".sum"] = d.DataPoints[0].Sum
			}
		}
	}
	// 257 records: 256 counted as a batch, 1 by take; latency sampled at
	// upstream offsets 0, 64, 128, 192 and 256.
	want := map[string]int64{"record-count": ackBatch + 1, "byte-count": 10 * (ackBatch + 1), "replication-latency-ms.count": 5, "duplicate-record-count": 3}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
}

func TestWindow(t *testing.T) {
	var w window
	t0 := time.Unix(1_700_000_000, 0) // the start of a period
	if _, ok := w.stats(t0); ok {
		t.Fatal("stats before any value")
	}
	for _, v := range []int64{5, 1, 9} {
		w.add(t0, v)
	}
	if st, ok := w.stats(t0.Add(time.Second)); !ok || st != [3]float64{1, 9, 5} {
		t.Errorf("min/max/avg = %v, %v", st, ok)
	}
	// Collected again at once, or by another reader: the same figures.
	if st, ok := w.stats(t0.Add(time.Second)); !ok || st != [3]float64{1, 9, 5} {
		t.Errorf("collected again: %v, %v", st, ok)
	}
	// The next period shows the one before with its own.
	w.add(t0.Add(statsPeriod), 20)
	if st, ok := w.stats(t0.Add(statsPeriod + time.Second)); !ok || st != [3]float64{1, 20, 35.0 / 4} {
		t.Errorf("with the period before: %v, %v", st, ok)
	}
	// Idle for a period: only the newer values are left.
	if st, ok := w.stats(t0.Add(2 * statsPeriod)); !ok || st != [3]float64{20, 20, 20} {
		t.Errorf("a period later: %v, %v", st, ok)
	}
	// An idle partition has no latency to show, not the last one it had.
	if st, ok := w.stats(t0.Add(3 * statsPeriod)); ok {
		t.Errorf("idle for two periods: %v, want no data", st)
	}
	w.add(t0.Add(10*statsPeriod), 2)
	if st, ok := w.stats(t0.Add(10 * statsPeriod)); !ok || st != [3]float64{2, 2, 2} {
		t.Errorf("new value after a long idle: %v, %v", st, ok)
	}
}

// By default a remote topic's partitions share one series: counts add up,
// the lag is their sum (unknown when one partition's is), partition-state
// counts the partitions in each state. metrics.partition.series gives each
// partition its own, as before.
func TestTopicSeriesByDefault(t *testing.T) {
	for _, tc := range []struct {
		perPartition bool
		records      map[string]int64
		lag          map[string]int64
		states       map[string]int64
		latency      map[string]int64 // records sampled
	}{
		{
			perPartition: false,
			records:      map[string]int64{"topic=A.orders": 10},
			latency:      map[string]int64{"": 2},                 // the flow's histogram
			lag:          map[string]int64{"topic=A.orders": 105}, // A.payments: one partition unknown
			states:       map[string]int64{"state=RUNNING,topic=A.orders": 2, "state=FAILED,topic=A.orders": 1},
		},
		{
			perPartition: true,
			records:      map[string]int64{"partition=0,topic=A.orders": 7, "partition=1,topic=A.orders": 3},
			latency:      map[string]int64{"partition=0,topic=A.orders": 1, "partition=1,topic=A.orders": 1},
			lag:          map[string]int64{"partition=0,topic=A.orders": 100, "partition=1,topic=A.orders": 5, "partition=0,topic=A.payments": 7},
			states: map[string]int64{"partition=0,state=RUNNING,topic=A.orders": 1, "partition=1,state=FAILED,topic=A.orders": 1,
				"partition=2,state=RUNNING,topic=A.orders": 1},
		},
	} {
		t.Run(fmt.Sprintf("partition series %v", tc.perPartition), func(t *testing.T) {
			_, f, reader := testWorker(t, tc.perPartition)
			tt := newTestTask(t, false, 0, 1, 2)
			for p := range int32(3) {
				tt.part(p).metrics = f.metrics.forPartition("A", "B", "A.orders", p)
			}
			tt.part(1).stopped.Store(true)
			f.tasks.Apply(context.Background(), []task.Step{{Want: task.Wanted{ID: sourceTaskID(0)}, Pause: true}}, func(w task.Wanted) *task.Runner {
				return &task.Runner{ID: w.ID, Task: tt.sourceTask, Status: task.NewStatus(StateRunning)}
			})
			tt.part(0).metrics.count(context.Background(), acks{n: 7, bytes: 70})
			tt.part(1).metrics.count(context.Background(), acks{n: 3, bytes: 30})
			tt.part(0).metrics.acked(context.Background(), 0, time.Now())
			tt.part(1).metrics.acked(context.Background(), 0, time.Now())
			part := func(topic string, p int32, lag int64, known bool) partLag {
				return partLag{tp: topicPartition{Topic: topic, Partition: p}, exp: f.metrics.forPartition("A", "B", "A."+topic, p).exp, lag: lag, known: known}
			}
			f.lag.snap.Store(&lagSnapshot{parts: []partLag{
				part("orders", 0, 100, true), part("orders", 1, 5, true),
				part("payments", 0, 7, true), part("payments", 1, 0, false),
			}})
			c := collect(t, reader)
			for name, want := range map[string]map[string]int64{"record-count": tc.records, "replication-lag-records": tc.lag, "partition-state": tc.states, "replication-latency-ms": tc.latency} {
				got := c.series[name]
				if got == nil {
					got = c.gauges[name]
				}
				if !maps.Equal(got, want) {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
		})
	}
}
