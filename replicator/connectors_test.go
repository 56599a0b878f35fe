package replicator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/internal/kafkatest"
	"github.com/strait-replicator/strait/internal/topicread"
	"github.com/strait-replicator/strait/replicator/connectstate"
)

// newTestCluster starts a kfake cluster of 3 brokers named alias.
func newTestCluster(t *testing.T, alias string, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kafkatest.NewCluster(alias, 3, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// newABWorker builds (does not run) a worker for the flow A->B between a
// and b, with checkpoints and heartbeats off, named w1:8083.
func newABWorker(t *testing.T, a, b *kfake.Cluster, extra ...string) *Worker {
	t.Helper()
	text := fmt.Sprintf("clusters = A, B\nA.bootstrap.servers = %s\nB.bootstrap.servers = %s\n", strings.Join(a.ListenAddrs(), ","), strings.Join(b.ListenAddrs(), ",")) +
		"A->B.enabled = true\nemit.checkpoints.enabled = false\nemit.heartbeats.enabled = false\nrefresh.topics.interval.seconds = 1\n" +
		strings.Join(extra, "\n") + "\n"
	cfg, _, err := configs.Parse([]byte(text), configs.Properties, nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	w, _, err := New(cfg, slog.New(slog.DiscardHandler), WithWorkerID("w1:8083"))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// readTopic returns the records of topic on c, to its current end.
func readTopic(t *testing.T, c *kfake.Cluster, topic string) []*kgo.Record {
	t.Helper()
	opts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []*kgo.Record
	if err := topicread.ReadToEnd(ctx, kadm.NewClient(cl), opts, topic, func(r *kgo.Record) { out = append(out, r) }); err != nil {
		t.Fatalf("read %s: %v", topic, err)
	}
	return out
}

// TestConfigConflictWritesNothing: a config set (PUT of a connector's
// config) while the previous one is still pending (not yet taken by the
// flow's run loop, which this test does not run) returns ErrConflict (409
// over REST), and the configs topic, which every worker of the group
// applies and a restarted worker reads back, holds only the first config.
func TestConfigConflictWritesNothing(t *testing.T) {
	a, b := newTestCluster(t, "A"), newTestCluster(t, "B")
	w := newABWorker(t, a, b)
	f := w.flows[0]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.prepare(ctx); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	t.Cleanup(f.close)
	w.ready.Store(true) // as Run does once every flow is prepared
	const name = "A.B.MirrorSourceConnector"

	if _, err := w.Configure(ctx, name, map[string]string{"tasks.max": "2"}); err != nil {
		t.Fatalf("first config: %v", err)
	}
	if _, err := w.Configure(ctx, name, map[string]string{"tasks.max": "3"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("second config while the first is pending: %v, want ErrConflict", err)
	}
	var stored []string
	for _, r := range readTopic(t, b, f.view.Load().ConfigsTopic) {
		if rec, ok, err := connectstate.ParseConfigsRecord(r, connClasses[:]); ok && rec.Kind == connectstate.ConnectorConfig {
			if err != nil {
				t.Fatalf("configs topic offset %d: %v", r.Offset, err)
			}
			stored = append(stored, rec.Properties["tasks.max"])
		}
	}
	if len(stored) != 1 || stored[0] != "2" {
		t.Fatalf("configs topic holds connector configs with tasks.max %v, want only the first PUT's [2]", stored)
	}
}
