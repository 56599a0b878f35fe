package replicator

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/internal/kafkatest"
)

// TestControlActionsAreLogged: a pause, resume, restart, task restart and
// config change asked through the API each leave an INFO line naming the
// connector, and the config change is logged again when the flow applies
// it.
func TestControlActionsAreLogged(t *testing.T) {
	a, b := newTestCluster(t, "A"), newTestCluster(t, "B")
	cl, err := kgo.NewClient(kgo.SeedBrokers(a.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 2, -1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf("clusters = A, B\nA.bootstrap.servers = %s\nB.bootstrap.servers = %s\n", strings.Join(a.ListenAddrs(), ","), strings.Join(b.ListenAddrs(), ",")) +
		"A->B.enabled = true\nemit.checkpoints.enabled = false\nemit.heartbeats.enabled = false\nrefresh.topics.interval.seconds = 1\n"
	cfg, _, err := configs.Parse([]byte(text), configs.Properties, nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	var logs kafkatest.LogBuffer
	w, _, err := New(cfg, slog.New(slog.NewTextHandler(&logs, nil)), WithWorkerID("w1:8083"))
	if err != nil {
		t.Fatal(err)
	}
	runWorker(t, w)
	const name = "A.B.MirrorSourceConnector"
	waitUntil(t, 30*time.Second, func() (bool, string) {
		cs, err := w.Connector(name)
		return err == nil && len(cs.Tasks) > 0 && cs.Tasks[0].State == StateRunning, fmt.Sprintf("%+v %v", cs.Tasks, err)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	steps := []struct {
		do   func() error
		want string
	}{
		{func() error { return w.Pause(ctx, name) }, `msg="connector paused through the REST API" flow=A->B connector=` + name},
		{func() error { return w.Resume(ctx, name) }, `msg="connector running through the REST API" flow=A->B connector=` + name},
		{func() error { _, err := w.Restart(ctx, name, true, false); return err }, `msg="restart of the connector's tasks asked through the REST API" flow=A->B connector=` + name},
		{func() error { return w.RestartTask(name, 0) }, `msg="task restart asked through the REST API" flow=A->B connector=` + name + " task=0"},
		{func() error { _, err := w.Configure(ctx, name, map[string]string{"tasks.max": "2"}); return err }, `msg="connector config set through the REST API" flow=A->B connector=` + name + " keys=[tasks.max]"},
		{func() error { return nil }, `msg="applying a new connector config" flow=A->B tasks_max=2`},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("before %q: %v", s.want, err)
		}
		waitUntil(t, 10*time.Second, func() (bool, string) {
			return strings.Contains(logs.String(), s.want), "no log line with " + s.want
		})
	}
}
