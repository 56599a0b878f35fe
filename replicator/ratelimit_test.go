package replicator

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/replicator/task"
)

// TestBucketWaitsForItsRate: a full bucket lets one second of its rate
// through at once, then makes each batch wait for the bytes it charged.
func TestBucketWaitsForItsRate(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := newBucket(1000, t0)
	for _, c := range []struct {
		at   time.Duration
		n    int
		wait time.Duration
	}{
		{0, 600, 0},                      // 400 left
		{0, 400, 0},                      // empty
		{0, 500, 500 * time.Millisecond}, // 500 in debt
		{500 * time.Millisecond, 100, 100 * time.Millisecond},
		{10 * time.Second, 1500, 500 * time.Millisecond}, // refilled to one second, not ten
	} {
		if got := b.take(c.n, t0.Add(c.at)); got != c.wait {
			t.Fatalf("take %d at %v: wait %v, want %v", c.n, c.at, got, c.wait)
		}
	}
}

// TestBucketRateOverTime: charging as fast as the waits allow, the bytes
// through a bucket over 30 s are its rate × 30 s plus the one-second burst.
func TestBucketRateOverTime(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, rate := range []float64{5e6, 20e6} {
		b := newBucket(rate, t0)
		now, total := t0, 0
		for now.Sub(t0) < 30*time.Second {
			total += 64 << 10
			now = now.Add(b.take(64<<10, now))
		}
		want := rate*30 + rate
		if got := float64(total); got < want*0.98 || got > want*1.02 {
			t.Errorf("rate %v: %v bytes in 30 s, want about %v", rate, got, want)
		}
	}
}

// TestLimiterSharesTheLimitByTasks: each task takes limit / tasks, and
// follows a change of the flow's number of tasks.
func TestLimiterSharesTheLimitByTasks(t *testing.T) {
	var tasks atomic.Int32
	tasks.Store(4)
	now := time.Unix(1000, 0)
	l := newLimiter(4000, &tasks)
	l.now = func() time.Time { return now }
	l.b = newBucket(l.share(), now)
	l.window.start = now
	if l.share() != 1000 {
		t.Fatalf("share %v, want 1000", l.share())
	}
	rec := []*kgo.Record{{Key: []byte("k"), Value: make([]byte, 999)}}
	l.wait(context.Background(), rec) // empties the bucket, no wait
	tasks.Store(2)
	now = now.Add(time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()         // the wait below returns at once
	l.wait(ctx, rec) // charged at the new share
	if got := l.b.rate; got != 2000 {
		t.Fatalf("rate after the task count halved: %v, want 2000", got)
	}
	now = now.Add(time.Second)
	if bytes, share := l.lastSecond(); bytes != 1000 || share != 2000 {
		t.Fatalf("lastSecond = %d, %v; want 1000, 2000", bytes, share)
	}
	if newLimiter(0, &tasks) != nil {
		t.Fatal("a flow without a limit has a limiter")
	}
	var none *limiter
	none.wait(context.Background(), rec) // no limit: returns
}

// TestRateLimitFollowsAppliedConfig: a connector config applied at run
// time (as PUT .../config does) changes the limit gauge and the limit of
// the source tasks made after it.
func TestRateLimitFollowsAppliedConfig(t *testing.T) {
	base := configs.Flow{Source: "A", Target: "B", TasksMax: 1, ConfigsTopic: "mm2-configs.A.internal", StatusTopic: "mm2-status.A.internal", BytesPerSecond: 5000}
	f := testFlow(t, base, 64<<20)
	reader := sdkmetric.NewManualReader()
	if err := registerRateLimitMetrics(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), &Worker{flows: []*flow{f}}); err != nil {
		t.Fatal(err)
	}
	limitGauge := func() int64 {
		t.Helper()
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if g, ok := m.Data.(metricdata.Gauge[int64]); ok && m.Name == metricRateLimit && len(g.DataPoints) == 1 {
					return g.DataPoints[0].Value
				}
			}
		}
		return -1
	}
	if got := limitGauge(); got != 5000 {
		t.Fatalf("limit gauge %d, want 5000", got)
	}
	next := base
	next.BytesPerSecond = 20000
	f.applyConfig(context.Background(), next)
	if got := limitGauge(); got != 20000 {
		t.Fatalf("limit gauge after the new config %d, want 20000", got)
	}
	if l := f.newSourceTask(0, nil, task.NewStatus(StateUnassigned)).limiter; l == nil || l.limit != 20000 {
		t.Fatalf("a task made after the new config has limiter %+v, want a limit of 20000", l)
	}
	next.BytesPerSecond = 0
	f.applyConfig(context.Background(), next)
	if got := limitGauge(); got != -1 {
		t.Fatalf("limit gauge %d without a limit, want none", got)
	}
	if l := f.newSourceTask(0, nil, task.NewStatus(StateUnassigned)).limiter; l != nil {
		t.Fatalf("a task of an unlimited flow has a limiter")
	}
}

// TestUnderTheLimitNeverWaits: a flow under its limit is never delayed, so
// its latency is what it would be without one: batches at 80 % of the rate
// (each smaller than the one-second burst) never wait, over 30 s.
func TestUnderTheLimitNeverWaits(t *testing.T) {
	t0 := time.Unix(1000, 0)
	const rate = 5e6
	b := newBucket(rate, t0)
	for i := range 300 { // every 100 ms for 30 s
		now := t0.Add(time.Duration(i) * 100 * time.Millisecond)
		if d := b.take(int(0.8*rate/10), now); d != 0 {
			t.Fatalf("batch %d at %v: waits %v under the limit", i, now.Sub(t0), d)
		}
	}
}
