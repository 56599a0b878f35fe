package replicator

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/strait-replicator/strait/configs"
)

// kgoClientGoroutines counts the goroutines of open franz-go clients (each
// client runs a metadata loop).
func kgoClientGoroutines() int {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "kgo.(*Client).updateMetadataLoop")
}

// A worker whose heartbeat-only pair cannot start (its target has fewer
// brokers than the heartbeats topic's replication factor) returns the
// error and leaves no client open: the pair's membership client was
// opened before the check and never closed.
func TestFailedStartLeavesNoClient(t *testing.T) {
	a, b := newTestCluster(t, "A"), newTestCluster(t, "B")
	text := fmt.Sprintf("clusters = A, B\nA.bootstrap.servers = %s\nB.bootstrap.servers = %s\n", strings.Join(a.ListenAddrs(), ","), strings.Join(b.ListenAddrs(), ",")) +
		"A->B.enabled = true\nA->B.emit.heartbeats.enabled = false\nemit.checkpoints.enabled = false\nemit.heartbeats.enabled = true\nheartbeats.topic.replication.factor = 5\n"
	cfg, _, err := configs.Parse([]byte(text), configs.Properties, nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	if len(cfg.HeartbeatFlows) == 0 {
		t.Fatal("no heartbeat-only pair in the config")
	}
	before := kgoClientGoroutines()
	w, _, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Run(ctx); err == nil || !strings.Contains(err.Error(), "heartbeats.topic.replication.factor") {
		t.Fatalf("Run: %v, want the replication factor refused", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := kgoClientGoroutines()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d franz-go clients still open after Run returned (%d before)", n-before, before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
