package replicator

import (
	"sync"
	"sync/atomic"
	"time"
)

// loadMeter measures the bytes copied per partition, across task restarts,
// for load-aware assignment. Tasks add to the counters; the flow's run loop
// takes rates.
type loadMeter struct {
	mu    sync.Mutex
	bytes map[topicPartition]*atomic.Int64 // guarded by mu (the map; counters are atomic)

	// Run loop only.
	last   map[topicPartition]int64
	lastAt time.Time
	rates  map[topicPartition]float64
}

// minLoadWindow is the shortest window a rate is measured over; a rate
// asked for sooner is the previous one.
const minLoadWindow = time.Second

// counter is tp's byte counter.
func (m *loadMeter) counter(tp topicPartition) *atomic.Int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bytes == nil {
		m.bytes = map[topicPartition]*atomic.Int64{}
	}
	c := m.bytes[tp]
	if c == nil {
		c = new(atomic.Int64)
		m.bytes[tp] = c
	}
	return c
}

// take returns each partition's bytes/s since the previous take (at least
// minLoadWindow ago).
func (m *loadMeter) take(now time.Time) map[topicPartition]float64 {
	if !m.lastAt.IsZero() && now.Sub(m.lastAt) < minLoadWindow {
		return m.rates
	}
	m.mu.Lock()
	totals := make(map[topicPartition]int64, len(m.bytes))
	for tp, c := range m.bytes {
		totals[tp] = c.Load()
	}
	m.mu.Unlock()
	rates := make(map[topicPartition]float64, len(totals))
	if !m.lastAt.IsZero() {
		secs := now.Sub(m.lastAt).Seconds()
		for tp, n := range totals {
			rates[tp] = float64(n-m.last[tp]) / secs
		}
	}
	m.last, m.lastAt, m.rates = totals, now, rates
	return rates
}
