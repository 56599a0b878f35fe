package replicator

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/strait-replicator/strait/configs"
)

// closedAddr is a loopback address nothing listens on: a cluster there
// refuses connections.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestConnectorReachability: with A up and B, C down, the worker's probes
// say which clusters are unreachable (Reachability, the cluster-reachable
// gauge) and what that means for each connector: its source, its target
// or both, and for a heartbeat connector only its target; /readyz's
// NotReady follows readiness.unreachable.timeout.ms.
func TestConnectorReachability(t *testing.T) {
	a := newTestCluster(t, "A")
	b, c := closedAddr(t), closedAddr(t)
	text := fmt.Sprintf("clusters = A, B, C\nA.bootstrap.servers = %s\nB.bootstrap.servers = %s\nC.bootstrap.servers = %s\nA->B.enabled = true\nC->B.enabled = true\nreadiness.unreachable.timeout.ms = 0\n",
		strings.Join(a.ListenAddrs(), ","), b, c)
	cfg, _, err := configs.Parse([]byte(text), configs.Properties, nil)
	if err != nil {
		t.Fatal(err)
	}
	reader := sdkmetric.NewManualReader()
	w, _, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range w.Reachability() {
		if r.State != "UNKNOWN" || r.NotReady {
			t.Errorf("before probing: %+v, want UNKNOWN and ready", r)
		}
	}
	stop := w.startReachability(context.Background())
	defer stop()
	waitUntil(t, 20*time.Second, func() (bool, string) {
		got := map[string]string{}
		for _, r := range w.Reachability() {
			got[r.Alias] = r.State
		}
		return got["A"] == "REACHABLE" && got["B"] == "UNREACHABLE" && got["C"] == "UNREACHABLE", fmt.Sprintf("states %v", got)
	})
	for _, r := range w.Reachability() {
		down := r.Alias != "A"
		if r.NotReady != down || (r.Err != nil) != down || r.Since.IsZero() {
			t.Errorf("%+v: want NotReady and an error only for B and C (timeout 0), and a time", r)
		}
	}

	connector := func(src, tgt, class string) ConnectorStatus {
		return ConnectorStatus{Name: src + "." + tgt + "." + class, Class: mirrorPackage + class, Flow: src + "->" + tgt,
			Config: map[string]string{"source.cluster.alias": src, "target.cluster.alias": tgt}}
	}
	for _, tc := range []struct {
		c          ConnectorStatus
		want       string
		traceNames []string
	}{
		{connector("A", "B", "MirrorSourceConnector"), UnreachableTarget, []string{"cluster B (the target of A->B) unreachable", "since", "connection refused"}},
		{connector("A", "B", "MirrorCheckpointConnector"), UnreachableTarget, []string{"cluster B (the target of A->B)"}},
		{connector("A", "B", "MirrorHeartbeatConnector"), UnreachableTarget, []string{"cluster B (the target of A->B)"}},
		{connector("C", "B", "MirrorSourceConnector"), UnreachableSourceAndTarget, []string{"cluster C (the source of C->B)", "\ncluster B (the target of C->B)"}},
		{connector("B", "A", "MirrorSourceConnector"), UnreachableSource, []string{"cluster B (the source of B->A)"}},
		// Heartbeats are written to the target only.
		{connector("B", "A", "MirrorHeartbeatConnector"), "", nil},
	} {
		state, trace := w.ConnectorReachability(tc.c)
		if state != tc.want {
			t.Errorf("%s: %q, want %q (trace %q)", tc.c.Name, state, tc.want, trace)
		}
		if tc.traceNames == nil && trace != "" {
			t.Errorf("%s: trace %q, want none", tc.c.Name, trace)
		}
		for _, s := range tc.traceNames {
			if !strings.Contains(trace, s) {
				t.Errorf("%s: trace %q lacks %q", tc.c.Name, trace, s)
			}
		}
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != metricClusterReachable {
				continue
			}
			for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
				alias, _ := dp.Attributes.Value("cluster")
				got[alias.AsString()] = dp.Value
			}
		}
	}
	if len(got) != 3 || got["A"] != 1 || got["B"] != 0 || got["C"] != 0 {
		t.Errorf("%s: %v, want A=1 B=0 C=0", metricClusterReachable, got)
	}

	// With the default timeout (30 s), a fresh outage keeps the worker
	// ready.
	cfg.ReadinessUnreachableTimeout = 30 * time.Second
	w2, _, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	stop2 := w2.startReachability(context.Background())
	defer stop2()
	waitUntil(t, 20*time.Second, func() (bool, string) {
		rs := w2.Reachability()
		return len(rs) == 3 && rs[1].State == "UNREACHABLE", fmt.Sprintf("%+v", rs)
	})
	for _, r := range w2.Reachability() {
		if r.NotReady {
			t.Errorf("%+v: not ready within 30 s of the outage's start", r)
		}
	}
}
