package replicator

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"golang.org/x/sync/errgroup"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/internal/kclient"
	"github.com/strait-replicator/strait/replicator/reach"
)

// metricClusterReachable is the gauge of each cluster's reachability
// (cluster_reachable in Prometheus).
const metricClusterReachable = "cluster-reachable"

// A connector's reachability, as the REST status shows it next to
// Connect's state (strait_state): its tasks cannot reach a cluster they
// use.
const (
	UnreachableSource          = "UNREACHABLE_SOURCE"
	UnreachableTarget          = "UNREACHABLE_TARGET"
	UnreachableSourceAndTarget = "UNREACHABLE_SOURCE_AND_TARGET"
)

// reachability probes every cluster the worker's flows use (a
// reach.Monitor, run by Run) and exports what it sees.
type reachability struct {
	mon *reach.Monitor
	// timeout is readiness.unreachable.timeout.ms: how long a cluster may
	// be unreachable before the worker is not ready.
	timeout time.Duration
}

// newReachability sets up the probes of cfg's clusters that flows use
// (sources and targets, heartbeat-only targets) and the cluster-reachable
// gauge. It connects to nothing.
func newReachability(cfg *configs.Config, log *slog.Logger, mp metric.MeterProvider) (*reachability, error) {
	used := map[string]bool{}
	for _, f := range cfg.Flows {
		used[f.Source], used[f.Target] = true, true
	}
	for _, f := range cfg.HeartbeatFlows {
		used[f.Target] = true
	}
	var clusters []reach.Cluster
	for _, c := range cfg.Clusters {
		if !used[c.Alias] {
			continue
		}
		opts, err := kclient.ClusterOpts(c, "strait-reachability")
		if err != nil {
			return nil, err
		}
		clusters = append(clusters, reach.Cluster{Alias: c.Alias, Opts: opts})
	}
	r := &reachability{mon: reach.New(reach.Config{Clusters: clusters, Log: log}), timeout: cfg.ReadinessUnreachableTimeout}
	m := mp.Meter("github.com/strait-replicator/strait/replicator")
	gauge, err := m.Int64ObservableGauge(metricClusterReachable, metric.WithDescription(
		"1 while the worker's probe of the cluster (a metadata request every second) is answered, 0 while it fails; absent before the first probe ended"))
	if err != nil {
		return nil, err
	}
	_, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for _, c := range r.mon.Status() {
			if c.State == reach.Unknown {
				continue
			}
			v := int64(0)
			if c.State == reach.Reachable {
				v = 1
			}
			o.ObserveInt64(gauge, v, metric.WithAttributes(attribute.String("cluster", c.Alias)))
		}
		return nil
	}, gauge)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// startReachability starts probing the clusters until ctx is done or the
// returned stop is called; stop waits for the probes to end. Run starts
// them before it connects, so that a cluster down at start shows too.
func (w *Worker) startReachability(ctx context.Context) (stop func()) {
	if w.reach == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var g errgroup.Group
	g.Go(func() error {
		if err := w.reach.mon.Run(ctx); err != nil {
			w.log.Error("cannot probe the clusters: their reachability stays unknown", "err", err)
		}
		return nil
	})
	return func() {
		cancel()
		_ = g.Wait() // the goroutine returns nil
	}
}

// ClusterReachability is one cluster's reachability as the worker's probes
// see it.
type ClusterReachability struct {
	Alias string
	// State is REACHABLE, UNREACHABLE, or UNKNOWN before the first probe
	// ended.
	State string
	// Since is when State began: for UNREACHABLE, when the outage
	// started.
	Since time.Time
	// Err is why the last probe failed, while UNREACHABLE.
	Err error
	// NotReady says the cluster has been unreachable for longer than
	// readiness.unreachable.timeout.ms: the worker is not ready.
	NotReady bool
}

// Reachability reports every cluster the worker's flows use, in the
// configuration's order. It never waits for a probe, so it answers at
// once during an outage.
func (w *Worker) Reachability() []ClusterReachability {
	if w.reach == nil {
		return nil
	}
	now := time.Now()
	var out []ClusterReachability
	for _, c := range w.reach.mon.Status() {
		out = append(out, ClusterReachability{
			Alias: c.Alias, State: c.State.String(), Since: c.Since, Err: c.Err,
			NotReady: c.State == reach.Unreachable && c.UnreachableFor(now) > w.reach.timeout,
		})
	}
	return out
}

// ConnectorReachability says whether c's tasks can reach the clusters they
// use: state is "" when they can, else UnreachableSource,
// UnreachableTarget or UnreachableSourceAndTarget, and trace says which
// cluster, for how long and why (for Connect's trace field). A heartbeat
// connector uses its target only.
func (w *Worker) ConnectorReachability(c ConnectorStatus) (state, trace string) {
	src, tgt := c.Config["source.cluster.alias"], c.Config["target.cluster.alias"]
	if strings.HasSuffix(c.Class, connClasses[heartbeatConnector]) {
		src = ""
	}
	now := time.Now()
	rs := w.Reachability()
	var lines []string
	down := func(alias, role string) bool {
		for _, r := range rs {
			if alias != "" && r.Alias == alias && r.State == reach.Unreachable.String() {
				lines = append(lines, fmt.Sprintf("cluster %s (the %s of %s) unreachable for %s, since %s: %v",
					r.Alias, role, c.Flow, now.Sub(r.Since).Round(time.Second), r.Since.UTC().Format(time.RFC3339), r.Err))
				return true
			}
		}
		return false
	}
	srcDown, tgtDown := down(src, "source"), down(tgt, "target")
	switch {
	case srcDown && tgtDown:
		state = UnreachableSourceAndTarget
	case srcDown:
		state = UnreachableSource
	case tgtDown:
		state = UnreachableTarget
	}
	return state, strings.Join(lines, "\n")
}
