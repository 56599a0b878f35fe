package replicator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"golang.org/x/sync/errgroup"

	"github.com/strait-replicator/strait/configs"
)

// Worker runs every enabled flow of a configuration in this process: a
// Kafka Connect worker in a group of one.
type Worker struct {
	cfgMu sync.Mutex
	cfg   *configs.Config // guarded by cfgMu; the file's, with settings set through the API

	flows      []*flow
	heartbeats []*flow // pairs that only emit heartbeats
	log        *slog.Logger
	ran        atomic.Bool
	ready      atomic.Bool
	// started is closed once Run prepared the flows or returned; requests
	// about connectors wait for it, at most startWait.
	started     chan struct{}
	startedOnce sync.Once
	startWait   time.Duration
	reach       *reachability // probes of the clusters (reachability.go)
}

// ClusterID is the Kafka cluster id of the first flow's target, which a
// Connect worker reports as the cluster it belongs to (GET /); empty before
// Run connected to it, or without flows.
func (w *Worker) ClusterID() string {
	if len(w.flows) > 0 {
		return w.flows[0].tgtClusterID.Load()
	}
	return ""
}

// Ready reports whether every flow has connected and started its tasks.
func (w *Worker) Ready() bool { return w.ready.Load() }

// TaskStatus is one task's state as the worker sees it.
type TaskStatus struct {
	ID         string // "A->B source 0"
	Flow       string // "A->B"
	State      string // StateRunning, StateFailed or StateUnassigned
	Err        error  // why it failed
	Partitions int    // partitions assigned
	// Assigned are the partitions as MM2 lists them in
	// task.assigned.partitions ("orders-3").
	Assigned []string
	Copied   int64 // records acknowledged by the target since the task started
	Lost     int64 // records found deleted on the source and skipped (data.loss.policy=skip)
	// Duplicates are records copied again after a restart: those a
	// previous run had copied past its last stored position (as its
	// offset syncs show), or, when it ran on this worker, those it had in
	// flight that reached the target.
	Duplicates int64
	// Elsewhere says another worker of the group runs the task; WorkerID
	// names it, as the status topic does, once that worker wrote there.
	Elsewhere bool
	WorkerID  string
	// FailedPartitions are the task's partitions that stopped copying
	// while the task runs on (a record the target refuses, or that
	// cannot be copied exactly), by topic and partition; each stays at
	// its Offset until the task restarts. Only for tasks this worker runs.
	FailedPartitions []PartitionFailure
}

// Option configures a Worker.
type Option func(*options)

type options struct {
	meterProvider metric.MeterProvider
	workerID      string
}

// WithWorkerID names the worker in the status topic and the REST API
// (Connect's advertised host:port). By default, "strait".
func WithWorkerID(id string) Option {
	return func(o *options) { o.workerID = id }
}

// WithMeterProvider sends the worker's metrics (record-count, byte-count,
// lost-record-count per source, target, topic and partition) to mp. By
// default they are dropped.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) { o.meterProvider = mp }
}

// New builds a worker for cfg. It checks every client setting and reads
// the TLS files but connects to nothing; the warnings are settings it
// ignores.
func New(cfg *configs.Config, log *slog.Logger, opts ...Option) (*Worker, []string, error) {
	o := options{meterProvider: noop.NewMeterProvider(), workerID: "strait"}
	for _, opt := range opts {
		opt(&o)
	}
	w := &Worker{log: log, cfg: cfg, started: make(chan struct{}), startWait: defaultStartWait}
	tasks := cfg.Tasks()
	// The record buffers' part of memory.max.bytes (the binary, the
	// runtime, clients and the collector's headroom are kept out of it).
	// Each flow's share is fixed; its tasks split it, however many
	// tasks.max gives it later.
	memory := cfg.Memory().Records
	ms, err := newMetrics(o.meterProvider, w)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	if w.reach, err = newReachability(cfg, log, o.meterProvider); err != nil {
		return nil, nil, fmt.Errorf("reachability: %w", err)
	}
	if err := registerRateLimitMetrics(o.meterProvider, w); err != nil {
		return nil, nil, fmt.Errorf("rate-limit metrics: %w", err)
	}
	if err := registerGroupMetrics(o.meterProvider, w); err != nil {
		return nil, nil, fmt.Errorf("group metrics: %w", err)
	}
	var warnings []string
	for _, fc := range cfg.Flows {
		src, _ := cfg.Cluster(fc.Source)
		tgt, _ := cfg.Cluster(fc.Target)
		f, warn, err := newFlow(fc, src, tgt, log, ms, memory*int64(fc.TasksMax)/int64(max(tasks, 1)))
		if f != nil {
			f.workerID = o.workerID
			f.overlay = func(settings map[string]string) (configs.Flow, error) {
				return w.overlay(fc.Source, fc.Target, settings)
			}
		}
		if err != nil {
			return nil, nil, err
		}
		warnings = append(warnings, warn...)
		for i := range cfg.Flows {
			if r := &cfg.Flows[i]; r.Source == fc.Target && r.Target == fc.Source {
				f.reverse = r
			}
		}
		w.flows = append(w.flows, f)
	}
	for _, fc := range cfg.HeartbeatFlows {
		tgt, _ := cfg.Cluster(fc.Target)
		h, err := newHeartbeatsFlow(fc, tgt, log, ms)
		if err != nil {
			return nil, nil, err
		}
		h.workerID = o.workerID
		w.heartbeats = append(w.heartbeats, h)
	}
	return w, warnings, nil
}

// Run replicates until ctx is done, then stops every task, flushing its
// positions, and returns nil. It returns early with the error of a flow
// that cannot run at all (a cluster unreachable, internal topics that
// cannot be created); failed tasks do not stop the worker, they show in
// Status. Run may be called once.
func (w *Worker) Run(ctx context.Context) error {
	if !w.ran.CompareAndSwap(false, true) {
		return ErrClosed
	}
	defer w.markStarted() // a failed start releases the waiting requests too
	// The probes start before connecting: an outage at start shows too.
	defer w.startReachability(ctx)()
	// Prepare every flow before any runs, and report every flow that
	// cannot: an operator fixes them all at once.
	runners := slices.Concat(w.flows, w.heartbeats)
	names := make([]string, len(runners))
	for i, f := range runners {
		names[i] = f.name
		if f.heartbeatsOnly {
			names[i] += " (heartbeats)"
		}
	}
	errs := make([]error, len(runners))
	var prep errgroup.Group
	for i, r := range runners {
		prep.Go(func() error {
			if err := r.prepare(ctx); err != nil {
				errs[i] = fmt.Errorf("flow %s: %w", names[i], err)
			}
			return nil
		})
	}
	_ = prep.Wait() // errors are in errs
	if err := errors.Join(errs...); err != nil {
		for _, f := range runners {
			f.close()
		}
		return err
	}

	w.ready.Store(true)
	defer w.ready.Store(false)
	w.markStarted()
	g, ctx := errgroup.WithContext(ctx)
	for i, r := range runners {
		g.Go(func() error {
			if err := r.run(ctx); err != nil {
				return fmt.Errorf("flow %s: %w", names[i], err)
			}
			return nil
		})
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() { // stopped once the flows are
		defer close(watched)
		w.watchMemory(watchCtx)
	}()
	err := g.Wait()
	stopWatch()
	<-watched
	return err
}

// Status reports every task of every flow.
func (w *Worker) Status() []TaskStatus {
	var out []TaskStatus
	for _, f := range w.flows {
		out = append(out, f.statuses()...)
	}
	return out
}

// markStarted releases the requests waiting for the worker to start.
func (w *Worker) markStarted() { w.startedOnce.Do(func() { close(w.started) }) }
