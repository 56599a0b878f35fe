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

	latest atomic.Pointer[map[topicPartition]float64] // rates, for other goroutines
	peers  atomic.Pointer[map[topicPartition]float64] // the group's, as the leader last heard them
}

// measured returns the rates of the last take; safe for any goroutine.
func (m *loadMeter) measured() map[topicPartition]float64 {
	if r := m.latest.Load(); r != nil {
		return *r
	}
	return nil
}

// setPeers keeps the loads every worker of the group reported.
func (m *loadMeter) setPeers(loads map[topicPartition]float64) { m.peers.Store(&loads) }

// withPeers returns rates completed by the group's reports: a partition
// another worker copies is measured there. The larger of two figures is
// the one of the worker copying it now.
func (m *loadMeter) withPeers(rates map[topicPartition]float64) map[topicPartition]float64 {
	p := m.peers.Load()
	if p == nil {
		return rates
	}
	out := make(map[topicPartition]float64, len(rates)+len(*p))
	for tp, r := range *p {
		out[tp] = r
	}
	for tp, r := range rates {
		out[tp] = max(out[tp], r)
	}
	return out
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
	m.latest.Store(&rates)
	return rates
}
