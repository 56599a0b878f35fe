package replicator

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/replicator/connectstate"
)

// testFlow is a flow of A->B that connects to nothing (its config has no
// checkpoints or heartbeats, so applyConfig needs no cluster).
func testFlow(t *testing.T, cfg configs.Flow, memory int64) *flow {
	t.Helper()
	src := configs.Cluster{Alias: "A", BootstrapServers: []string{"127.0.0.1:1"}}
	tgt := configs.Cluster{Alias: "B", BootstrapServers: []string{"127.0.0.1:2"}}
	f, _, err := newFlow(cfg, src, tgt, slog.New(slog.DiscardHandler), nil, memory)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A connector config set through the REST API (applyConfig) reaches the
// source tasks' clients, and raising tasks.max splits the flow's memory
// over more tasks instead of growing it.
func TestApplyConfigRebuildsClientSettings(t *testing.T) {
	const memory = 64 << 20
	base := configs.Flow{Source: "A", Target: "B", TasksMax: 2, ConfigsTopic: "mm2-configs.A.internal", StatusTopic: "mm2-status.A.internal"}
	f := testFlow(t, base, memory)
	linger := 7 * time.Millisecond
	next := base
	next.TasksMax = 8
	next.Producer.Linger = &linger
	next.SourceConsumer.FetchMinBytes = 4096
	f.applyConfig(context.Background(), next)

	build := func(opts ...[]kgo.Opt) *kgo.Client {
		cl, err := kgo.NewClient(slices.Concat(opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	producer := build(f.tgtOpts, f.producerOpts)
	consumer := build(f.srcOpts, f.consumer.opts)
	perTask := int64(memory / 8)
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"producer linger.ms", producer.OptValue(kgo.ProducerLinger), linger},
		{"producer buffer (four tenths of a task's share)", producer.OptValue(kgo.MaxBufferedBytes), int(perTask * 2 / 5)},
		{"producer records (a tenth of the share at their overhead)", producer.OptValue(kgo.MaxBufferedRecords), int(perTask / 10 / configs.MemoryRecordOverhead)},
		{"consumer fetch.max.bytes (an eighth of the share)", consumer.OptValue(kgo.FetchMaxBytes), int32(perTask / 8)},
		{"consumer fetch.min.bytes", consumer.OptValue(kgo.FetchMinBytes), int32(4096)},
	} {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// The configs follower reads the configs topic's name while the run loop
// applies a new connector config: go test -race finds a shared read of
// cfg.
func TestConfigsFollowerDoesNotReadCfg(t *testing.T) {
	base := configs.Flow{Source: "A", Target: "B", TasksMax: 1, ConfigsTopic: "mm2-configs.A.internal", StatusTopic: "mm2-status.A.internal"}
	f := testFlow(t, base, 64<<20)
	malformed := &kgo.Record{Key: []byte(connectstate.RestartKey(connClasses[sourceConnector])), Value: []byte("{")}
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 100 {
			f.applyRestartRecord(malformed)
		}
	})
	for i := range 100 {
		next := base
		next.TasksMax = 1 + i%3
		f.applyConfig(context.Background(), next)
	}
	wg.Wait()
	if f.configsTopic != base.ConfigsTopic {
		t.Fatalf("configs topic %q", f.configsTopic)
	}
}
