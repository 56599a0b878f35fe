package reach

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"golang.org/x/sync/errgroup"
)

// Default probe timing: an outage shows within about Interval + Timeout
// (Interval and a few retries when the brokers refuse connections).
const (
	DefaultInterval = time.Second
	DefaultTimeout  = 5 * time.Second
)

// A probe's request is retried probeRetries times, probeBackoff apart.
const (
	probeRetries = 3
	probeBackoff = 100 * time.Millisecond
)

// Cluster is one cluster to probe.
type Cluster struct {
	Alias string
	// Opts reach it: seed brokers, TLS, SASL (the cluster's own client
	// settings, as its other clients have them).
	Opts []kgo.Opt
}

// Config configures a Monitor.
type Config struct {
	Clusters []Cluster
	// Interval is the time between the starts of two probes of a
	// cluster (DefaultInterval if 0); Timeout bounds one probe
	// (DefaultTimeout if 0). A probe that takes longer than Interval
	// delays the next.
	Interval, Timeout time.Duration
	// Log receives the outages; nil discards.
	Log *slog.Logger
}

// ClusterStatus is one cluster's Status.
type ClusterStatus struct {
	Alias string
	Status
}

// Monitor probes clusters and keeps each one's Status.
type Monitor struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	trackers []Tracker // guarded by mu; by the index of cfg.Clusters
}

// New returns a monitor of cfg's clusters, every one Unknown; it opens
// nothing before Run.
func New(cfg Config) *Monitor {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.Clusters = slices.Clone(cfg.Clusters)
	return &Monitor{cfg: cfg, log: log, trackers: make([]Tracker, len(cfg.Clusters))}
}

// Status returns every cluster's status in the order of Config.Clusters.
// It does not wait for probes.
func (m *Monitor) Status() []ClusterStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]ClusterStatus, len(m.cfg.Clusters))
	for i, c := range m.cfg.Clusters {
		out[i] = ClusterStatus{Alias: c.Alias, Status: m.trackers[i].Status()}
	}
	return out
}

// Run probes every cluster until ctx is done and returns nil once every
// probe stopped and every client is closed; it returns an error at once
// if a client cannot be built from its options. Run may be called once.
func (m *Monitor) Run(ctx context.Context) error {
	clients := make([]*kgo.Client, 0, len(m.cfg.Clusters))
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for _, c := range m.cfg.Clusters {
		// A few quick retries: a probe fails soon when the brokers
		// refuse connections, instead of retrying until Timeout.
		opts := append(slices.Clone(c.Opts), kgo.RequestRetries(probeRetries), kgo.RetryBackoffFn(func(int) time.Duration { return probeBackoff }))
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return fmt.Errorf("probe cluster %s: %w", c.Alias, err)
		}
		clients = append(clients, cl)
	}
	g, ctx := errgroup.WithContext(ctx)
	for i, cl := range clients {
		g.Go(func() error {
			m.probeLoop(ctx, i, cl)
			return nil
		})
	}
	return g.Wait()
}

// probeLoop probes cluster i every Interval until ctx is done.
func (m *Monitor) probeLoop(ctx context.Context, i int, cl *kgo.Client) {
	alias := m.cfg.Clusters[i].Alias
	tick := time.NewTicker(m.cfg.Interval)
	defer tick.Stop()
	for {
		r := m.probe(ctx, cl)
		if ctx.Err() != nil {
			return // stopping: a probe cut short says nothing
		}
		m.mu.Lock()
		ev := m.trackers[i].Observe(r)
		m.mu.Unlock()
		switch ev.Kind {
		case OutageStarted:
			m.log.Warn("cluster unreachable", "cluster", alias, "since", ev.Start, "err", ev.Err)
		case OutageEnded:
			m.log.Info("cluster reachable again", "cluster", alias, "outage", ev.Duration.Round(time.Millisecond).String(), "since", ev.Start)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// probe asks the cluster for its brokers (a metadata request for no
// topics), within Timeout. The request goes to a broker each time:
// kadm's BrokerMetadata may answer from the client's metadata cache.
func (m *Monitor) probe(ctx context.Context, cl *kgo.Client) Result {
	pctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = []kmsg.MetadataRequestTopic{}
	r := Result{Sent: time.Now()}
	resp, err := req.RequestWith(pctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	r.Done = time.Now()
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		err = fmt.Errorf("no answer within %s: %w", m.cfg.Timeout, err)
	}
	r.Err = err
	return r
}
