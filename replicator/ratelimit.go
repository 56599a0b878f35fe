package replicator

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// A flow's replication.bytes.per.second is shared by its source tasks on
// every worker: each task takes the limit divided by the flow's number of
// source tasks (which every worker knows from its assignment), so the
// shares add up to the limit without the workers talking to each other.
// An equal share rather than one by partition count: with tasks.assignment
// = load the tasks carry similar bytes, not similar partition counts, and a
// task's partition count says little of its traffic either way.
//
// Each task's limiter is a token bucket charged with the bytes of a
// partition's fetched records (key, value and headers) before they are
// produced: the poll loop waits, so records are delayed, never dropped.
// The bucket holds one second of the task's share, so a flow under its
// limit (averaged over a second) is not delayed at all.

// Metric names of the rate limit.
const (
	metricRateLimit     = "rate-limit-bytes-per-second"
	metricRateLimitUsed = "rate-limit-used-bytes-per-second"
	metricRateLimitRate = "rate-limit-used-ratio"
)

// bucket is a token bucket of bytes. It is plain data: the caller passes
// the time. Tokens may go below zero (a batch larger than what is left),
// the debt making the next caller wait longer.
type bucket struct {
	rate   float64 // bytes per second
	burst  float64 // the most tokens it holds
	tokens float64
	last   time.Time
}

// newBucket is a full bucket of rate bytes per second holding one second.
func newBucket(rate float64, now time.Time) bucket {
	return bucket{rate: rate, burst: rate, tokens: rate, last: now}
}

// setRate changes the rate at now, keeping the tokens earned so far.
func (b *bucket) setRate(rate float64, now time.Time) {
	b.refill(now)
	b.rate, b.burst = rate, rate
	b.tokens = min(b.tokens, b.burst)
}

func (b *bucket) refill(now time.Time) {
	if now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
}

// take charges n bytes at now and returns how long the caller waits
// before they are sent: zero while the bucket had tokens left.
func (b *bucket) take(n int, now time.Time) time.Duration {
	b.refill(now)
	b.tokens -= float64(n)
	if b.tokens >= 0 || b.rate <= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

// secondWindow counts bytes per whole second: prev is the count of the
// last full second.
type secondWindow struct {
	start     time.Time
	cur, prev int64
}

func (w *secondWindow) roll(now time.Time) {
	switch d := now.Sub(w.start); {
	case d >= 2*time.Second:
		w.start, w.cur, w.prev = now, 0, 0
	case d >= time.Second:
		w.start, w.prev, w.cur = w.start.Add(time.Second), w.cur, 0
	}
}

// limiter is a source task's share of its flow's rate limit. A nil
// limiter (no limit) never waits.
type limiter struct {
	limit int64         // the flow's bytes per second
	tasks *atomic.Int32 // the flow's number of source tasks, read at each wait
	now   func() time.Time

	mu     sync.Mutex
	b      bucket       // guarded by mu
	window secondWindow // guarded by mu: bytes charged per second
}

// newLimiter is a task's limiter for a flow limited to limit bytes per
// second whose number of source tasks tasks holds; nil when limit is zero.
func newLimiter(limit int64, tasks *atomic.Int32) *limiter {
	if limit <= 0 {
		return nil
	}
	l := &limiter{limit: limit, tasks: tasks, now: time.Now}
	now := l.now()
	l.b = newBucket(l.share(), now)
	l.window.start = now
	return l
}

// share is the task's bytes per second.
func (l *limiter) share() float64 {
	return float64(l.limit) / float64(max(1, l.tasks.Load()))
}

// wait charges the bytes of recs and blocks until the task's share allows
// them, or until ctx is done.
func (l *limiter) wait(ctx context.Context, recs []*kgo.Record) {
	if l == nil {
		return
	}
	n := 0
	for _, r := range recs {
		n += recordSize(r)
	}
	l.mu.Lock()
	now := l.now()
	if share := l.share(); share != l.b.rate {
		l.b.setRate(share, now)
	}
	d := l.b.take(n, now)
	l.window.roll(now)
	l.window.cur += int64(n)
	l.mu.Unlock()
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

// lastSecond is how many bytes the task let through in the last full
// second, and its share of the limit.
func (l *limiter) lastSecond() (bytes int64, share float64) {
	if l == nil {
		return 0, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.window.roll(l.now())
	return l.window.prev, l.b.rate
}

// RateLimit is a flow's replication.bytes.per.second and how much of it
// this worker's source tasks used in the last full second.
type RateLimit struct {
	Flow          string
	BytesPerSec   int64
	UsedPerSecond int64
}

// RateLimits reports the flows that have a rate limit.
func (w *Worker) RateLimits() []RateLimit {
	var out []RateLimit
	for _, f := range w.flows {
		cfg := f.view.Load()
		if cfg == nil || cfg.BytesPerSecond <= 0 {
			continue
		}
		rl := RateLimit{Flow: f.name, BytesPerSec: cfg.BytesPerSecond}
		for _, t := range f.sourceRuns() {
			b, _ := t.limiter.lastSecond()
			rl.UsedPerSecond += b
		}
		out = append(out, rl)
	}
	return out
}

// registerRateLimitMetrics registers w's rate-limit gauges: per flow, the
// limit (the same on every worker), and this worker's bytes per second
// through its tasks' limiters over the last full second, as bytes and as
// a fraction of the limit (both add up over the workers to the flow's).
func registerRateLimitMetrics(mp metric.MeterProvider, w *Worker) error {
	m := mp.Meter("github.com/strait-replicator/strait/replicator")
	limit, err := m.Int64ObservableGauge(metricRateLimit, metric.WithUnit("By/s"),
		metric.WithDescription("the flow's replication.bytes.per.second, shared by its source tasks on every worker (absent when the flow is not limited)"))
	if err != nil {
		return err
	}
	used, err := m.Int64ObservableGauge(metricRateLimitUsed, metric.WithUnit("By/s"),
		metric.WithDescription("bytes this worker's source tasks of the flow let through their rate limiters in the last full second; summed over workers, the flow's rate against rate-limit-bytes-per-second"))
	if err != nil {
		return err
	}
	ratio, err := m.Float64ObservableGauge(metricRateLimitRate,
		metric.WithDescription("rate-limit-used-bytes-per-second / rate-limit-bytes-per-second: this worker's part of the flow's use of its limit; summed over workers, the flow's"))
	if err != nil {
		return err
	}
	_, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for _, rl := range w.RateLimits() {
			attrs := metric.WithAttributes(attribute.String("flow", rl.Flow))
			o.ObserveInt64(limit, rl.BytesPerSec, attrs)
			o.ObserveInt64(used, rl.UsedPerSecond, attrs)
			o.ObserveFloat64(ratio, float64(rl.UsedPerSecond)/float64(rl.BytesPerSec), attrs)
		}
		return nil
	}, limit, used, ratio)
	return err
}
