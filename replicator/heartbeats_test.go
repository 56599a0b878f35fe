package replicator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/policy"
)

// A pair whose replication is off (B->A here) is a flow with only a
// heartbeat connector: it is listed as Connect lists MM2's connector, its
// one task runs (heartbeats reach A) through the flow's group and runner,
// pause and resume act on it, and it cannot be configured or deleted.
func TestHeartbeatOnlyPairIsAFlow(t *testing.T) {
	a, b := newTestCluster(t, "A"), newTestCluster(t, "B")
	text := fmt.Sprintf("clusters = A, B\nA.bootstrap.servers = %s\nB.bootstrap.servers = %s\n", strings.Join(a.ListenAddrs(), ","), strings.Join(b.ListenAddrs(), ",")) +
		"A->B.enabled = true\nA->B.emit.heartbeats.enabled = false\nemit.checkpoints.enabled = false\nemit.heartbeats.enabled = true\nemit.heartbeats.interval.seconds = 1\n"
	cfg, _, err := configs.Parse([]byte(text), configs.Properties, nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	w, _, err := New(cfg, slog.New(slog.DiscardHandler), WithWorkerID("w1:8083"))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.heartbeats) != 1 || !w.heartbeats[0].heartbeatsOnly || w.heartbeats[0].name != "B->A" {
		t.Fatalf("heartbeat-only flows: %d, want B->A", len(w.heartbeats))
	}
	runWorker(t, w)
	const name = "B.A.MirrorHeartbeatConnector"
	taskState := func(want string) func() (bool, string) {
		return func() (bool, string) {
			cs, err := w.Connector(name)
			if err != nil {
				return false, err.Error()
			}
			if len(cs.Tasks) != 1 || cs.Tasks[0].State != want {
				return false, fmt.Sprintf("%s tasks %+v, want one %s", name, cs.Tasks, want)
			}
			return true, ""
		}
	}
	waitUntil(t, 30*time.Second, taskState(StateRunning))
	waitUntil(t, 30*time.Second, func() (bool, string) {
		for _, r := range readTopic(t, a, policy.HeartbeatsTopic) {
			if strings.Contains(string(r.Key), "B") {
				return true, ""
			}
		}
		return false, "no heartbeat of B->A on A"
	})

	cs, err := w.Connectors()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cs {
		if c.Flow == "B->A" {
			names = append(names, c.Name)
		}
	}
	if len(names) != 1 || names[0] != name {
		t.Fatalf("connectors of B->A: %v, want only %s", names, name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := w.Configure(ctx, name, map[string]string{"emit.heartbeats.interval.seconds": "2"}); !errors.Is(err, ErrNotConfigurable) {
		t.Fatalf("Configure: %v, want ErrNotConfigurable", err)
	}
	if err := w.Delete(ctx, name); !errors.Is(err, ErrNotConfigurable) {
		t.Fatalf("Delete: %v, want ErrNotConfigurable", err)
	}
	if err := w.Pause(ctx, name); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	waitUntil(t, 30*time.Second, taskState(StatePaused))
	if err := w.Resume(ctx, name); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	waitUntil(t, 30*time.Second, taskState(StateRunning))
}
