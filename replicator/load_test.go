package replicator

import (
	"maps"
	"testing"
	"time"
)

func TestLoadMeterWithPeers(t *testing.T) {
	a, b, c := topicPartition{Topic: "t", Partition: 0}, topicPartition{Topic: "t", Partition: 1}, topicPartition{Topic: "t", Partition: 2}
	for _, tc := range []struct {
		name         string
		peers, rates map[topicPartition]float64
		want         map[topicPartition]float64
	}{
		{"no reports yet: own rates", nil, map[topicPartition]float64{a: 5}, map[topicPartition]float64{a: 5}},
		{"partitions other workers copy come from their reports", map[topicPartition]float64{b: 7, c: 1}, map[topicPartition]float64{a: 5},
			map[topicPartition]float64{a: 5, b: 7, c: 1}},
		{"a partition in both: the larger (the worker copying it now)", map[topicPartition]float64{a: 2, b: 9}, map[topicPartition]float64{a: 5, b: 0},
			map[topicPartition]float64{a: 5, b: 9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m loadMeter
			if tc.peers != nil {
				m.setPeers(tc.peers)
			}
			if got := m.withPeers(tc.rates); !maps.Equal(got, tc.want) {
				t.Errorf("withPeers = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestLoadMeterTake: rates are bytes per second since the previous take,
// none at the first take, and a take sooner than minLoadWindow returns the
// previous rates; measured shares the last ones.
func TestLoadMeterTake(t *testing.T) {
	a, b := topicPartition{Topic: "t", Partition: 0}, topicPartition{Topic: "t", Partition: 1}
	var m loadMeter
	if m.measured() != nil {
		t.Fatal("measured before any take")
	}
	ca := m.counter(a)
	if m.counter(a) != ca || m.counter(b) == ca {
		t.Fatal("counter is not one per partition")
	}
	ca.Add(1000)
	t0 := time.Unix(1000, 0)
	if got := m.take(t0); len(got) != 0 {
		t.Errorf("first take = %v, want no rates", got)
	}
	ca.Add(500)
	m.counter(b).Add(300)
	got := m.take(t0.Add(2 * time.Second))
	want := map[topicPartition]float64{a: 250, b: 150}
	if !maps.Equal(got, want) {
		t.Errorf("take after 2s = %v, want %v", got, want)
	}
	if !maps.Equal(m.measured(), want) {
		t.Errorf("measured = %v, want %v", m.measured(), want)
	}
	ca.Add(1000)
	if got := m.take(t0.Add(2*time.Second + minLoadWindow - time.Millisecond)); !maps.Equal(got, want) {
		t.Errorf("take within the window = %v, want the previous %v", got, want)
	}
	// At exactly minLoadWindow a new rate is taken, over the whole window.
	got = m.take(t0.Add(2*time.Second + minLoadWindow))
	if want := (map[topicPartition]float64{a: 1000, b: 0}); !maps.Equal(got, want) {
		t.Errorf("take after the window = %v, want %v", got, want)
	}
	if !maps.Equal(m.measured(), got) {
		t.Errorf("measured = %v, want %v", m.measured(), got)
	}
	// Reports of peers do not change what this worker measured.
	m.setPeers(map[topicPartition]float64{b: 9})
	if !maps.Equal(m.measured(), got) {
		t.Errorf("measured after setPeers = %v", m.measured())
	}
}
