package reach

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/internal/kafkatest"
)

func startCluster(t *testing.T, port int) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.ClusterID("R"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// records returns the JSON log records in logs with msg.
func records(t *testing.T, logs *kafkatest.LogBuffer, msg string) []map[string]any {
	t.Helper()
	text := logs.String()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// runMonitor runs m until the test ends and checks that Run returned nil.
func runMonitor(t *testing.T, m *Monitor) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }() // joined in Cleanup
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10 s of its context's end")
		}
	})
}

// waitState polls m until cluster i is in want.
func waitState(t *testing.T, m *Monitor, i int, want State) Status {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st := m.Status()[i]
		if st.State == want {
			return st.Status
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster %s: %v (%v), want %v", st.Alias, st.State, st.Err, want)
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
}

// TestMonitorOutage: a cluster that goes down and comes back on the same
// port is REACHABLE, then UNREACHABLE with the outage's start and the
// probe's error, then REACHABLE again; the log says so once each way, the
// end with the outage's duration. A second, healthy cluster stays
// reachable throughout.
func TestMonitorOutage(t *testing.T) {
	port := kafkatest.LowPort(t)
	c := startCluster(t, port)
	other, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.ClusterID("O"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	logs := &kafkatest.LogBuffer{}
	m := New(Config{
		Clusters: []Cluster{
			{Alias: "R", Opts: []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}},
			{Alias: "O", Opts: []kgo.Opt{kgo.SeedBrokers(other.ListenAddrs()...)}},
		},
		Interval: 50 * time.Millisecond, Timeout: 500 * time.Millisecond,
		Log: slog.New(slog.NewJSONHandler(logs, nil)),
	})
	for _, st := range m.Status() {
		if st.State != Unknown {
			t.Fatalf("before Run: %+v, want UNKNOWN", st)
		}
	}
	runMonitor(t, m)
	up := waitState(t, m, 0, Reachable)
	waitState(t, m, 1, Reachable)

	stopped := time.Now()
	c.Close()
	down := waitState(t, m, 0, Unreachable)
	if down.Err == nil || down.Since.Before(up.Since) || down.Since.After(time.Now()) {
		t.Errorf("unreachable: %+v, want an error and a start after %v", down, up.Since)
	}
	// The outage started at the first failed probe: at most one interval
	// and one probe before the cluster closed.
	if down.Since.Before(stopped.Add(-time.Second)) {
		t.Errorf("outage start %v, long before the cluster closed at %v", down.Since, stopped)
	}
	if st := m.Status()[1]; st.State != Reachable {
		t.Errorf("healthy cluster during the other's outage: %+v", st)
	}
	c = startCluster(t, port)
	defer c.Close()
	again := waitState(t, m, 0, Reachable)
	if again.Err != nil || !again.Since.After(down.Since) {
		t.Errorf("reachable again: %+v, want no error and a time after %v", again, down.Since)
	}

	warns := records(t, logs, "cluster unreachable")
	if len(warns) != 1 || warns[0]["level"] != "WARN" || warns[0]["cluster"] != "R" || warns[0]["err"] == nil {
		t.Errorf("outage start logs: %v, want one WARN for R with its error", warns)
	}
	ends := records(t, logs, "cluster reachable again")
	if len(ends) != 1 || ends[0]["level"] != "INFO" || ends[0]["cluster"] != "R" {
		t.Fatalf("outage end logs: %v, want one INFO for R", ends)
	}
	d, err := time.ParseDuration(fmt.Sprint(ends[0]["outage"]))
	if err != nil || d <= 0 || d > again.Since.Sub(down.Since)+time.Millisecond {
		t.Errorf("outage %v (%v), want the time from %v to %v", ends[0]["outage"], err, down.Since, again.Since)
	}
}

// TestMonitorNeverReached: a cluster that never answers is UNREACHABLE
// from its first probe, told once however many probes fail.
func TestMonitorNeverReached(t *testing.T) {
	port := kafkatest.LowPort(t) // nothing listens there
	logs := &kafkatest.LogBuffer{}
	m := New(Config{
		Clusters: []Cluster{{Alias: "X", Opts: []kgo.Opt{kgo.SeedBrokers(fmt.Sprintf("127.0.0.1:%d", port))}}},
		Interval: 20 * time.Millisecond, Timeout: 100 * time.Millisecond,
		Log: slog.New(slog.NewJSONHandler(logs, nil)),
	})
	runMonitor(t, m)
	first := waitState(t, m, 0, Unreachable)
	t.Logf("probe error: %v", first.Err)
	// Several more probes fail: the outage keeps its start.
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := m.Status()[0]
		if st.State != Unreachable || !st.Since.Equal(first.Since) {
			t.Fatalf("after more failed probes: %+v, want UNREACHABLE since %v", st, first.Since)
		}
		if time.Since(first.Since) > 500*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("clock did not move")
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	if n := len(records(t, logs, "cluster unreachable")); n != 1 {
		t.Errorf("%d outage start logs, want 1", n)
	}
}

// TestMonitorBadOptions: a client that cannot be built fails Run at once,
// naming the cluster.
func TestMonitorBadOptions(t *testing.T) {
	m := New(Config{Clusters: []Cluster{{Alias: "Bad", Opts: []kgo.Opt{kgo.MetadataMaxAge(time.Second), kgo.MetadataMinAge(time.Minute)}}}})
	err := m.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cluster Bad") {
		t.Fatalf("Run: %v, want an error naming cluster Bad", err)
	}
}

// TestMonitorOneSeedDown: a cluster one of whose seed brokers refuses
// connections stays REACHABLE, without an outage logged, while another
// answers.
func TestMonitorOneSeedDown(t *testing.T) {
	c := startCluster(t, kafkatest.LowPort(t))
	defer c.Close()
	dead := fmt.Sprintf("127.0.0.1:%d", kafkatest.LowPort(t)) // nothing listens there
	logs := &kafkatest.LogBuffer{}
	m := New(Config{
		Clusters: []Cluster{{Alias: "R", Opts: []kgo.Opt{kgo.SeedBrokers(dead, c.ListenAddrs()[0])}}},
		Interval: 20 * time.Millisecond, Timeout: time.Second,
		Log: slog.New(slog.NewJSONHandler(logs, nil)),
	})
	runMonitor(t, m)
	up := waitState(t, m, 0, Reachable)
	for time.Since(up.Since) < time.Second {
		if st := m.Status()[0]; st.State != Reachable || !st.Since.Equal(up.Since) {
			t.Fatalf("%+v, want REACHABLE since %v throughout", st, up.Since)
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	if n := len(records(t, logs, "cluster unreachable")); n != 0 {
		t.Errorf("%d outage logs, want none", n)
	}
}
