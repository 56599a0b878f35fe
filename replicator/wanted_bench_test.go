package replicator

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/strait-replicator/strait/configs"
)

// BenchmarkWantedUnchanged times what a topic refresh of an unchanged
// source does after the listing: the assignment of 50,000 partitions over
// the flow's tasks and the comparison with the tasks wanted before.
func BenchmarkWantedUnchanged(b *testing.B) {
	cfg := configs.Flow{Source: "A", Target: "B", TasksMax: 1, ConfigsTopic: "mm2-configs.A.internal", StatusTopic: "mm2-status.A.internal"}
	src := configs.Cluster{Alias: "A", BootstrapServers: []string{"127.0.0.1:1"}}
	tgt := configs.Cluster{Alias: "B", BootstrapServers: []string{"127.0.0.1:2"}}
	f, _, err := newFlow(cfg, src, tgt, slog.New(slog.DiscardHandler), nil, 64<<20)
	if err != nil {
		b.Fatal(err)
	}
	var tps []topicPartition
	for i := range 2500 {
		for p := range int32(20) {
			tps = append(tps, topicPartition{Topic: fmt.Sprintf("scale-%04d", i), Partition: p})
		}
	}
	if !f.setWanted(f.assignAgain(tps)) {
		b.Fatal("the first tasks wanted are no change")
	}
	for b.Loop() {
		if f.setWanted(f.assignAgain(tps)) {
			b.Fatal("unchanged partitions changed the tasks wanted")
		}
	}
}
