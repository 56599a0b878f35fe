package replicator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/strait-replicator/strait/heartbeat"
	"github.com/strait-replicator/strait/internal/topicread"
	"github.com/strait-replicator/strait/policy"
	"github.com/strait-replicator/strait/replicator/reach"
)

// FlowView is one replication flow as the status page shows it: its source
// connector and each source partition it copies.
type FlowView struct {
	Flow           string // "A->B"
	Source, Target string // cluster aliases
	Connector      string // its source connector, "A.B.MirrorSourceConnector"
	Paused         bool   // the source connector is paused
	// SourceErr is why the source's log offsets could not be read: End and
	// Start then come from the tasks' last fetches, or are unknown.
	SourceErr  error
	Partitions []PartitionView // by topic and partition
}

// PartitionView is one source partition of a flow: where its copy is, who
// copies it and how it fares. Offsets are -1 where unknown.
type PartitionView struct {
	Topic     string // source topic
	Remote    string // remote topic on the target
	Partition int32
	// Task names the source task that copies the partition ("A->B source
	// 0"): the one this worker runs, else the one this worker's view of
	// the assignment gives it (another worker runs it); empty for none.
	Task string
	// Here says this worker runs the task; WorkerID names the worker that
	// does otherwise, once the status topic says.
	Here     bool
	WorkerID string
	// State is the task's state (StateRunning, StatePaused, StateFailed,
	// StateUnassigned); StateFailed also for a partition that stopped on
	// its own while its task runs on.
	State string
	// Err is the partition's last failure: why it stopped while its task
	// goes on, or the failure of its task when it names this partition
	// (PartitionError, DataLossError) or no partition at all. ErrOffset is
	// the upstream offset it names (the first record not copied), or -1.
	Err       error
	ErrOffset int64
	// Start and End are the source log's start and end offsets; End falls
	// back to the high watermark of the task's last fetch when the source
	// could not be asked.
	Start, End int64
	// Next is the next offset to copy: one past the position the task
	// running here has acknowledged, else one past the position stored in
	// the offsets topic, else the log start (nothing copied yet). Positions
	// only move forward, across pauses, restarts and reassignments, so a
	// rate taken from Next never counts a restart as progress lost.
	Next int64
	// Lag is End - Next, records on the source not yet copied (offset
	// gaps such as transaction markers count too); -1 when unknown, as
	// while the source cannot be asked.
	Lag int64
	// LatencyMs is the newest sampled replication latency of the task
	// running here; -1 for none.
	LatencyMs int64
	// CopiedBytes are the value bytes this worker copied of the partition
	// since it started, across task restarts.
	CopiedBytes int64
}

// FlowViews reports every replication flow and its partitions: the tasks'
// states and positions as this worker knows them (its own tasks, the
// offsets and status topics for the others') and the source's log offsets,
// asked of the source once per flow. It blocks on those requests until ctx
// is done; before Run prepared the flows it returns nil.
func (w *Worker) FlowViews(ctx context.Context) []FlowView {
	if !w.Ready() {
		// The flows' clients and topics are set by prepare; ready
		// publishes them.
		return nil
	}
	// Each flow asks its own source, at once: a source that does not
	// answer holds only its own flow's view, never another's.
	views := make([]*FlowView, len(w.flows))
	var g errgroup.Group
	for i, f := range w.flows {
		if f.ctl.isDeleted(sourceConnector) {
			continue // a deleted (stopped) connector copies nothing
		}
		g.Go(func() error {
			fv := f.flowView(ctx, w.probeFailure(f.src.Alias))
			views[i] = &fv
			return nil
		})
	}
	_ = g.Wait() // the goroutines return nil
	var out []FlowView
	for _, fv := range views {
		if fv != nil {
			out = append(out, *fv)
		}
	}
	return out
}

// probeFailure returns why the worker's probe of cluster alias fails while
// it is unreachable, or nil: a view does not ask a cluster known to be
// down, so that it answers at once during an outage.
func (w *Worker) probeFailure(alias string) error {
	for _, r := range w.Reachability() {
		if r.Alias == alias && r.State == reach.Unreachable.String() {
			return fmt.Errorf("unreachable since %s: %w", r.Since.UTC().Format(time.RFC3339), r.Err)
		}
	}
	return nil
}

// flowView builds the flow's view: its partitions from its tasks, then the
// source's log offsets, unless srcDown says why the source cannot be asked.
func (f *flow) flowView(ctx context.Context, srcDown error) FlowView {
	cfg := *f.view.Load()
	fv := FlowView{Flow: f.name, Source: f.src.Alias, Target: f.tgt.Alias,
		Connector: connectorName(cfg, sourceConnector), Paused: f.ctl.isPaused(sourceConnector)}
	parts := map[topicPartition]*PartitionView{}
	add := func(tp topicPartition) *PartitionView {
		pv := &PartitionView{Topic: tp.Topic, Remote: cfg.Policy.FormatRemoteTopic(cfg.Source, tp.Topic), Partition: tp.Partition,
			State: StateUnassigned, ErrOffset: -1, Start: -1, End: -1, Next: -1, Lag: -1, LatencyMs: -1}
		parts[tp] = pv
		return pv
	}
	// The tasks this worker runs (or shows paused).
	for _, t := range f.sourceRuns() {
		state, err := t.status.Get()
		stopped := map[topicPartition]PartitionFailure{}
		for _, pf := range t.failedPartitions() {
			stopped[topicPartition{Topic: pf.Topic, Partition: pf.Partition}] = pf
		}
		published := map[topicPartition]*partState{}
		if list := t.published.Load(); list != nil {
			for _, ps := range *list {
				published[ps.tp] = ps
			}
		}
		for _, tp := range t.tps {
			if parts[tp] != nil {
				continue
			}
			pv := add(tp)
			pv.Task, pv.Here, pv.State = t.id, true, state
			pv.setFailure(f.name, tp, state, err)
			if pf, ok := stopped[tp]; ok && state != StatePaused {
				// Stopped on its own while the task goes on.
				pv.State, pv.Err, pv.ErrOffset = StateFailed, pf.Err, pf.Offset
			}
			if ps := published[tp]; ps != nil {
				ps.mu.Lock()
				acked, hwm := ps.pos.acked, ps.hwm
				ps.mu.Unlock()
				if acked >= 0 {
					pv.Next = acked + 1
				}
				pv.End = hwm // replaced by the source's end offset below
				pv.LatencyMs = ps.lastLatency.Load()
				pv.CopiedBytes = ps.copiedBytes.Load()
			}
		}
	}
	// The others, as this worker would assign them, with their state from
	// the status topic.
	for _, spec := range f.wantedSources() {
		state, err, worker, found := f.statusElsewhere(sourceConnector, spec.ID.Index)
		for _, tp := range spec.Partitions {
			if parts[tp] != nil {
				continue
			}
			pv := add(tp)
			pv.Task = taskName(f.name, spec.ID)
			if found {
				pv.State, pv.WorkerID = state, worker
				pv.setFailure(f.name, tp, state, err)
			}
		}
	}
	if len(parts) == 0 {
		return fv
	}
	stored := f.offsets.Stored()
	topics := map[string]bool{}
	for tp, pv := range parts {
		topics[tp.Topic] = true
		if pos, ok := stored[tp]; ok && pv.Next < 0 {
			pv.Next = pos + 1
		}
	}
	var ends, starts kadm.ListedOffsets
	err := srcDown
	if err == nil {
		ends, starts, err = sourceOffsets(ctx, f.srcAdm, slices.Sorted(maps.Keys(topics)))
	}
	if err != nil {
		fv.SourceErr = &ClusterError{Alias: f.src.Alias, Servers: f.src.BootstrapServers, Err: err}
	}
	for tp, pv := range parts {
		if o, ok := starts.Lookup(tp.Topic, tp.Partition); ok && o.Err == nil {
			pv.Start = o.Offset
		}
		if o, ok := ends.Lookup(tp.Topic, tp.Partition); ok && o.Err == nil {
			pv.End = o.Offset
		}
		if pv.Next < 0 {
			pv.Next = pv.Start // never copied: from the log start
		}
		if pv.End >= 0 && pv.Next >= 0 && fv.SourceErr == nil {
			pv.Lag = max(pv.End-pv.Next, 0)
		}
	}
	// The flow's own lag measure, where it has the partition, knows what
	// this read cannot: transaction markers and aborted records are not
	// lag (an offset past the last record copied is not a record to copy).
	if snap := f.lag.snapshot(); snap != nil && snap.err == nil && fv.SourceErr == nil {
		for _, pl := range snap.parts {
			if pv := parts[pl.tp]; pv != nil && pl.known && pl.span == (lagSpan{next: pv.Next, end: pv.End}) {
				pv.Lag = pl.lag
			}
		}
	}
	fv.Partitions = make([]PartitionView, 0, len(parts))
	for _, pv := range parts {
		fv.Partitions = append(fv.Partitions, *pv)
	}
	slices.SortFunc(fv.Partitions, func(a, b PartitionView) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return fv
}

// setFailure records the failure of the partition's task: a failure that
// names another partition leaves this one's error empty.
func (pv *PartitionView) setFailure(flow string, tp topicPartition, state string, err error) {
	if err == nil || state != StateFailed {
		return
	}
	var pe *PartitionError
	var loss *DataLossError
	switch {
	case errors.As(err, &pe):
		if pe.Flow != flow || pe.Topic != tp.Topic || pe.Partition != tp.Partition {
			return
		}
		pv.ErrOffset = pe.Offset
	case errors.As(err, &loss):
		if loss.Flow != flow || loss.Topic != tp.Topic || loss.Partition != tp.Partition {
			return
		}
		pv.ErrOffset = loss.From
	}
	pv.Err = err
}

// sourceOffsets lists the log start and end offsets of topics on the
// source; what it could read is returned with the error.
func sourceOffsets(ctx context.Context, adm *kadm.Client, topics []string) (ends, starts kadm.ListedOffsets, err error) {
	ends, err = adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, nil, fmt.Errorf("list end offsets: %w", err)
	}
	starts, err = adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return ends, nil, fmt.Errorf("list start offsets: %w", err)
	}
	return ends, starts, nil
}

// heartbeatTail is how many of the newest records of each partition of a
// heartbeats topic HeartbeatPaths reads: a topic gets one heartbeat per
// pair and interval, so its tail holds every pair's newest unless very
// many pairs write there.
const heartbeatTail = 256

// HeartbeatPaths reads the newest heartbeats on every cluster this
// worker's flows write to (the tail of each heartbeats topic there) and
// returns the paths they travelled, with the newest heartbeat of each
// (heartbeat.Paths), by cluster. It blocks on the reads until ctx is done;
// a cluster it could not read is named in the error, and the paths found
// on the others are returned. Before Run prepared the flows it returns
// ErrNotRunning.
func (w *Worker) HeartbeatPaths(ctx context.Context) ([]heartbeat.Path, error) {
	if !w.Ready() {
		return nil, ErrNotRunning
	}
	var out []heartbeat.Path
	var errs []error
	seen := map[string]bool{}
	for _, f := range slices.Concat(w.flows, w.heartbeats) {
		if f.tgtAdm == nil || seen[f.tgt.Alias] {
			continue
		}
		seen[f.tgt.Alias] = true
		p := f.view.Load().Policy
		observed, err := ReadHeartbeats(ctx, f.tgtAdm, f.tgtOpts, f.tgt.Alias, p, heartbeatTail)
		if err != nil {
			errs = append(errs, &ClusterError{Alias: f.tgt.Alias, Servers: f.tgt.BootstrapServers, Err: err})
		}
		out = append(out, heartbeat.Paths(p, observed)...)
	}
	return out, errors.Join(errs...)
}

// ReadHeartbeats reads every heartbeats topic on cluster (adm and opts are
// its admin and client options), the newest tail records of each
// partition, or all of them when tail is 0.
func ReadHeartbeats(ctx context.Context, adm *kadm.Client, opts []kgo.Opt, cluster string, p policy.Policy, tail int64) ([]heartbeat.Observed, error) {
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	var out []heartbeat.Observed
	for _, name := range topics.Names() {
		if !policy.IsHeartbeatsTopic(p, name) {
			continue
		}
		observe := func(r *kgo.Record) {
			if h, err := heartbeat.Decode(r.Key, r.Value); err == nil {
				out = append(out, heartbeat.Observed{Cluster: cluster, Topic: name, Heartbeat: h})
			}
		}
		if tail > 0 {
			err = topicread.ReadTail(ctx, adm, opts, name, tail, observe)
		} else {
			err = topicread.ReadToEnd(ctx, adm, opts, name, observe)
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}
