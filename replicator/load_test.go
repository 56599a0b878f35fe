package replicator

import (
	"maps"
	"testing"
)

func TestLoadMeterWithPeers(t *testing.T) {
	a, b, c := topicPartition{"t", 0}, topicPartition{"t", 1}, topicPartition{"t", 2}
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
