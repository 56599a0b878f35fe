package replicator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/checkpoint"
	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/internal/kclient"
	"github.com/strait-replicator/strait/internal/topicread"
	"github.com/strait-replicator/strait/policy"
	"github.com/strait-replicator/strait/replicator/connectstate"
	"github.com/strait-replicator/strait/replicator/group"
	"github.com/strait-replicator/strait/replicator/task"
	"github.com/strait-replicator/strait/replicator/topicsync"
)

// Task states, as Kafka Connect names them.
const (
	StateRunning    = task.Running
	StateFailed     = task.Failed
	StateUnassigned = task.Unassigned
)

// flow runs one source->target flow's connectors: it keeps the remote
// topics in line with the source and runs the tasks that copy records,
// checkpoints and heartbeats. It owns its admin clients, the offset-sync
// producer and every task.
//
// A pair whose replication is not enabled is a flow too, with only a
// heartbeat connector (heartbeatsOnly), as MM2 runs a heartbeat connector
// for every pair: it reaches only its target, keeps no Connect state
// topics and syncs no topics, and its one task runs through the same
// group, reconcile step and runner.
type flow struct {
	name           string
	heartbeatsOnly bool
	cfg            configs.Flow
	src, tgt       configs.Cluster
	log            *slog.Logger
	srcOpts        []kgo.Opt
	tgtOpts        []kgo.Opt
	consumer       consumerSettings // the source tasks'; set with producerOpts by useClientSettings
	producerOpts   []kgo.Opt
	// memory is the flow's share of memory.max.bytes for record buffers,
	// split over its source tasks.
	memory int64
	// configsTopic and statusTopic are the worker's state topics, fixed
	// for the process: the followers read them while the run loop may
	// replace cfg.
	configsTopic, statusTopic string

	metrics        *metrics
	srcAdm, tgtAdm *kadm.Client
	srcCl          *kgo.Client // the client srcAdm wraps, for requests kadm does not send as they are
	offsets        *connectstate.Offsets
	status         *connectstate.StatusWriter // nil for a heartbeat-only flow
	statusView     connectstate.StatusView    // the status topic, for tasks other workers run
	listTxnsFailed bool                       // the run loop only: ListTransactions failed once (said once)
	syncs          *syncWriter                // nil when offset syncs are off
	syncTopic      string
	syncsOnTarget  bool
	// reverse is the flow in the other direction, when it is enabled: its
	// offset syncs translate topics that came from our target.
	reverse *configs.Flow

	// copiedBefore is, per partition, the upstream offset of the newest
	// offset sync found at start: a previous run copied at least that far.
	// Written by prepare only.
	copiedBefore map[topicPartition]int64

	// topics keeps the remote topics, their configs and ACLs in line
	// with the source; set by connect.
	topics *topicsync.Syncer

	// tasks are the tasks this worker runs (or shows paused); only
	// reconcileTasks starts and stops them. sourceTasks is the number of
	// source tasks of the last assignment, for status readers.
	tasks       task.Set
	sourceTasks atomic.Int32

	ctl *control
	// view is cfg for readers outside the run loop (REST); the run loop
	// owns cfg and changes both only while no task runs.
	view atomic.Pointer[configs.Flow]
	// overlay validates stored connector settings against the whole
	// configuration (the worker's) and returns the flow they give.
	overlay func(settings map[string]string) (configs.Flow, error)

	tgtClusterID atomicString
	workerID     string // what the status topic names this worker by

	loads loadMeter // bytes copied per partition, for tasks.assignment = load
	lag   lagWatch  // the partitions' lag, measured by watch

	// instance tells this flow's records in the configs topic from other
	// workers'; configsFrom is where following that topic starts (its end
	// before prepare read it). stored are the connector configs in it, per
	// connector.
	instance    string
	configsFrom int64
	storedMu    sync.Mutex
	stored      [connKinds]map[string]string // guarded by storedMu

	// member keeps this worker in the flow's worker group; set by prepare.
	member *group.Member
	// assigned is this worker's share of the tasks, from the group; only
	// the run loop touches it.
	assigned group.Assignment
	// wanted are the tasks the flow wants run (what this worker assigns
	// when it leads the group), set by the run loop.
	wantedMu    sync.Mutex
	wanted      []group.Spec // guarded by wantedMu
	wantedTasks int          // guarded by wantedMu: number of source tasks
	// wantedVersion counts changes of wanted, and ledVersion is the one
	// this worker last assigned as leader; both guarded by wantedMu.
	wantedVersion, ledVersion int
	// owned are the tasks this worker runs or is stopping (task id ->
	// digest), as the group is told; published by the run loop.
	owned atomic.Pointer[group.Owned]
	// lastAssign is the last assignment of partitions the run loop made.
	lastAssign lastAssign
	// workCancel cuts short the cluster work the run loop is doing
	// (clusterWork); nil while it does none. Guarded by workMu.
	workMu     sync.Mutex
	workCancel context.CancelCauseFunc
}

// atomicString is a string read and written from several goroutines.
type atomicString struct{ v atomic.Value }

func (s *atomicString) Load() string {
	v, _ := s.v.Load().(string)
	return v
}

func (s *atomicString) Store(v string) { s.v.Store(v) }

// newFlow builds a flow whose tasks together keep their record buffers
// within memory bytes.
func newFlow(cfg configs.Flow, src, tgt configs.Cluster, log *slog.Logger, ms *metrics, memory int64) (*flow, []string, error) {
	f := &flow{name: cfg.Name(), cfg: cfg, src: src, tgt: tgt, log: log.With("flow", cfg.Name()), metrics: ms, ctl: newControl(), instance: newInstanceID(),
		memory: memory, configsTopic: cfg.ConfigsTopic, statusTopic: cfg.StatusTopic}
	f.view.Store(&cfg)
	var err error
	if f.srcOpts, err = kclient.ClusterOpts(src, cfg.Name()+"|replication-consumer"); err != nil {
		return nil, nil, err
	}
	if f.tgtOpts, err = kclient.ClusterOpts(tgt, cfg.Name()+"|replication-producer"); err != nil {
		return nil, nil, err
	}
	f.useClientSettings(cfg)
	f.offsets = connectstate.NewOffsets(cfg.OffsetsTopic, cfg.Source, f.log.With("cluster", tgt.Alias))
	return f, nil, nil
}

// newHeartbeatsFlow builds the flow of a pair that only emits heartbeats.
func newHeartbeatsFlow(cfg configs.Flow, tgt configs.Cluster, log *slog.Logger, ms *metrics) (*flow, error) {
	f := &flow{name: cfg.Name(), heartbeatsOnly: true, cfg: cfg, tgt: tgt, log: log.With("flow", cfg.Name()), metrics: ms, ctl: newControl(), instance: newInstanceID()}
	f.view.Store(&cfg)
	var err error
	if f.tgtOpts, err = kclient.ClusterOpts(tgt, cfg.Name()+"|heartbeats"); err != nil {
		return nil, err
	}
	return f, nil
}

// useClientSettings sets the source tasks' consumer and producer options
// from cfg: each task's record buffers get an equal part of the flow's
// memory, and the client settings of cfg come after (they win).
func (f *flow) useClientSettings(cfg configs.Flow) {
	budget := f.memory / int64(max(cfg.TasksMax, 1))
	f.consumer = newConsumerSettings(cfg.SourceConsumer)
	f.consumer.opts = slices.Concat(budgetConsumerOpts(budget), f.consumer.opts)
	f.producerOpts = slices.Concat(budgetProducerOpts(budget), kclient.Opts(cfg.Producer, configs.RoleProducer))
}

// newInstanceID is a random id for a flow of this process.
func newInstanceID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// connectTimeout bounds the first contact with each cluster.
const connectTimeout = 20 * time.Second

// openAdmin opens an admin client for cluster c and checks it answers,
// naming the cluster when it does not. It returns the number of brokers.
func openAdmin(ctx context.Context, c configs.Cluster, opts []kgo.Opt) (*kadm.Client, int, error) {
	cl, brokers, err := dialAdmin(ctx, c, opts)
	if err != nil {
		return nil, 0, err
	}
	return kadm.NewClient(cl), brokers, nil
}

// dialAdmin is openAdmin's client, for a caller that also sends requests
// kadm does not.
func dialAdmin(ctx context.Context, c configs.Cluster, opts []kgo.Opt) (*kgo.Client, int, error) {
	// Admin answers must see topics created a moment ago.
	cl, err := kgo.NewClient(append(slices.Clone(opts), kgo.MetadataMinAge(250*time.Millisecond))...)
	if err != nil {
		return nil, 0, &ClusterError{Alias: c.Alias, Servers: c.BootstrapServers, Err: err}
	}
	adm := kadm.NewClient(cl)
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	md, err := adm.BrokerMetadata(cctx)
	if err != nil {
		cl.Close()
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		return nil, 0, &ClusterError{Alias: c.Alias, Servers: c.BootstrapServers, Err: unreachable(c, err)}
	}
	return cl, len(md.Brokers), nil
}

// unreachable says why a cluster did not answer, naming what to check: with
// SASL, a refused login (some brokers just close the connection) looks like
// a cluster that is down.
func unreachable(c configs.Cluster, err error) error {
	s := c.Security
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed):
		return fmt.Errorf("SASL %s login as %q refused: check sasl.jaas.config: %w", s.SASLConfig.Mechanism, s.SASLConfig.Username, err)
	case s.SASL():
		return fmt.Errorf("unreachable, or SASL %s login as %q refused (check bootstrap.servers, security.protocol = %s and the credentials in sasl.jaas.config): %w", s.SASLConfig.Mechanism, s.SASLConfig.Username, s.Protocol, err)
	case s.TLS():
		return fmt.Errorf("unreachable over TLS (check bootstrap.servers and the ssl.* settings): %w", err)
	}
	return fmt.Errorf("unreachable: %w", err)
}

// connect opens the admin clients of both clusters. It returns the number
// of brokers of each.
func (f *flow) connect(ctx context.Context) (srcBrokers, tgtBrokers int, err error) {
	if f.srcCl, srcBrokers, err = dialAdmin(ctx, f.src, slices.Concat(f.srcOpts, kclient.Opts(f.cfg.SourceAdmin, configs.RoleAdmin))); err != nil {
		return 0, 0, err
	}
	f.srcAdm = kadm.NewClient(f.srcCl)
	if f.tgtAdm, tgtBrokers, err = openAdmin(ctx, f.tgt, slices.Concat(f.tgtOpts, kclient.Opts(f.cfg.TargetAdmin, configs.RoleAdmin))); err != nil {
		return 0, 0, err
	}
	if md, err := f.tgtAdm.BrokerMetadata(ctx); err == nil {
		f.tgtClusterID.Store(md.Cluster)
	}
	f.topics = topicsync.New(topicsync.Config{Flow: f.cfg, SourceAdmin: f.srcAdm, TargetAdmin: f.tgtAdm, SourceClient: f.srcCl,
		SourceOpts: f.srcOpts, TargetOpts: f.tgtOpts, Log: f.log})
	return srcBrokers, tgtBrokers, nil
}

// prepare connects to both clusters, checks their size against every
// replication factor, creates the internal topics and loads the stored
// positions. On error the caller closes the flow.
func (f *flow) prepare(ctx context.Context) error {
	if f.heartbeatsOnly {
		return f.prepareHeartbeats(ctx)
	}
	srcBrokers, tgtBrokers, err := f.connect(ctx)
	if err != nil {
		return err
	}
	if err := f.setUp(ctx, srcBrokers, tgtBrokers); err != nil {
		return err
	}
	if err := f.loadCopiedBefore(ctx); err != nil {
		return fmt.Errorf("read offset syncs: %w", err)
	}
	if err := f.join(); err != nil {
		return err
	}
	ends, err := topicread.Ends(ctx, f.tgtAdm, f.cfg.ConfigsTopic)
	if err != nil {
		return fmt.Errorf("read configs topic: %w", err)
	}
	f.configsFrom = ends[0]
	settings, err := f.loadConnectorStates(ctx)
	if err != nil {
		return fmt.Errorf("load connector states: %w", err)
	}
	if settings != nil && f.overlay != nil {
		cfg, err := f.overlay(settings)
		if err != nil {
			f.log.Error("connector config stored in the configs topic is invalid; using the file's", "topic", f.cfg.ConfigsTopic, "err", err)
		} else {
			f.log.Info("using the connector config stored in the configs topic (set through the REST API)", "topic", f.cfg.ConfigsTopic)
			f.cfg = cfg
			f.view.Store(&cfg)
			f.topics.SetFlow(cfg)
			if err := f.ensureTaskTopics(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// prepareHeartbeats prepares a heartbeat-only flow: it reaches the target,
// creates its heartbeats topic and joins the pair's worker group. On error
// the caller closes the flow.
func (f *flow) prepareHeartbeats(ctx context.Context) error {
	var brokers int
	var err error
	if f.tgtAdm, brokers, err = openAdmin(ctx, f.tgt, f.tgtOpts); err != nil {
		return err
	}
	if md, err := f.tgtAdm.BrokerMetadata(ctx); err == nil {
		f.tgtClusterID.Store(md.Cluster)
	}
	t := heartbeatsTopic(f.cfg)
	if int(t.RF) > brokers {
		return fmt.Errorf("cluster %s has %d broker(s), fewer than %s = %d (%s): lower %s", f.tgt.Alias, brokers, t.RFKey, t.RF, t.Name, t.RFKey)
	}
	if err := topicsync.EnsureInternal(ctx, f.tgtAdm, f.tgt.Alias, t); err != nil {
		return err
	}
	f.setWanted(nil) // the heartbeat task, whichever worker leads
	return f.join()
}

// join makes the flow's member of its worker group (group.id on the
// target), which shares the flow's tasks among the group's workers.
func (f *flow) join() error {
	memberClient, err := kgo.NewClient(f.tgtOpts...)
	if err != nil {
		return err
	}
	mcfg := group.Config{
		Group: f.cfg.GroupID, WorkerID: f.workerID, Cluster: f.tgt.Alias,
		SessionTimeout: f.cfg.SessionTimeout, HeartbeatInterval: f.cfg.HeartbeatInterval, RebalanceTimeout: f.cfg.RebalanceTimeout,
		Client: memberClient, Log: f.log,
		Owned:  f.ownedTasks,
		Wanted: f.wantedSpecs,
		Urgent: f.interruptWork,
	}
	if f.cfg.LoadAware {
		mcfg.Loads, mcfg.GotLoads = f.loads.measured, f.loads.setPeers
	}
	f.member = group.NewMember(mcfg)
	f.owned.Store(&group.Owned{})
	return nil
}

// run reconciles topics and tasks every refresh interval and topic configs
// every config sync interval, and runs the checkpoint and heartbeat tasks,
// until ctx is done. It returns after every task stopped and closes the
// flow. prepare must have succeeded.
func (f *flow) run(ctx context.Context) error {
	defer f.close()
	// The group is left only after every task stopped, so that no other
	// worker starts one of them while it still runs here.
	f.member.Start(ctx)
	defer f.member.Leave()
	defer f.tasks.StopAll()
	// Configs, pauses and resumes set through other workers.
	var follow sync.WaitGroup
	defer follow.Wait()
	fctx, stopFollow := context.WithCancel(ctx)
	defer stopFollow()
	if !f.heartbeatsOnly {
		follow.Go(func() { f.followConfigs(fctx, f.configsFrom) })
		follow.Go(func() { f.statusView.Follow(fctx, f.statusTopic, f.tgtOpts, f.log.With("cluster", f.tgt.Alias)) })
		follow.Go(func() { f.offsets.Follow(fctx, f.tgtOpts) })
		follow.Go(func() { f.watch(fctx) }) // counts and lag, for the metrics and the status
	}
	paused, _ := f.ctl.take()
	for k := range connKinds {
		if f.runs(k) {
			state := StateRunning
			if paused[k] {
				state = StatePaused
			}
			f.status.Connector(connClasses[k], state)
		}
	}

	refresh := newTicker(f.topicsEvery(f.cfg.RefreshTopicsInterval))
	defer refresh.Stop()
	configSync := newTicker(f.topicsEvery(f.cfg.SyncTopicConfigsInterval))
	defer configSync.Stop()
	aclSync := newTicker(f.topicsEvery(f.cfg.SyncTopicACLsInterval))
	defer aclSync.Stop()
	f.reconcile(ctx, noRestarts)
	for {
		// An assignment goes first: with many partitions a refresh takes
		// seconds, and a refresh ticker that fired meanwhile would win the
		// select below half the time, delaying the tasks' start by
		// refreshes.
		select {
		case a := <-f.member.Assignments():
			f.takeAssignment(ctx, a)
			continue
		default:
		}
		select {
		case <-ctx.Done():
			return nil
		case <-f.member.Done():
			return f.member.Err()
		case a := <-f.member.Assignments():
			f.takeAssignment(ctx, a)
		case <-refresh.C:
			f.reconcile(ctx, noRestarts)
		case <-configSync.C:
			if f.member.Leader() {
				f.clusterWork(ctx, f.topics.Configs)
			}
		case <-aclSync.C:
			if f.member.Leader() {
				f.clusterWork(ctx, f.topics.ACLs)
			}
		case <-f.ctl.wake:
			if cfg := f.ctl.takeConfig(); cfg != nil {
				f.applyConfig(ctx, *cfg)
				for _, t := range []struct {
					ticker **time.Ticker
					every  time.Duration
				}{{&refresh, f.cfg.RefreshTopicsInterval}, {&configSync, f.cfg.SyncTopicConfigsInterval}, {&aclSync, f.cfg.SyncTopicACLsInterval}} {
					(*t.ticker).Stop()
					*t.ticker = newTicker(f.topicsEvery(t.every))
				}
			}
			_, restarts := f.ctl.take()
			f.reconcile(ctx, restarts)
		}
	}
}

// takeAssignment starts and stops the flow's tasks as the group's
// assignment a says; the leader also asks for a new rebalance when the
// tasks it wants changed meanwhile, and syncs topic configs and ACLs
// after its first assignment. The run loop only.
func (f *flow) takeAssignment(ctx context.Context, a group.Assignment) {
	first := f.assigned.Tasks == nil && a.Generation >= 0
	f.assigned = a
	f.status.SetGeneration(a.Generation)
	_, restarts := f.ctl.take()
	f.reconcileTasks(ctx, restarts)
	if f.member.Leader() {
		if f.wantedStale() {
			f.member.RequestRejoin()
		}
		if first && f.topicsEvery(f.cfg.SyncTopicConfigsInterval) > 0 {
			f.clusterWork(ctx, f.topics.Configs)
		}
		if first && f.topicsEvery(f.cfg.SyncTopicACLsInterval) > 0 {
			f.clusterWork(ctx, f.topics.ACLs)
		}
	}
}

// runs reports whether the flow runs connector k: a heartbeat-only flow
// runs only its heartbeat connector, another flow its source connector and
// the checkpoint and heartbeat connectors its config enables. Safe for
// concurrent use (it reads the config's view).
func (f *flow) runs(k connKind) bool {
	if f.heartbeatsOnly {
		return k == heartbeatConnector
	}
	return k == sourceConnector || singleConfigured(*f.view.Load(), k)
}

// topicsEvery is how often the flow syncs topics every d asks: never for
// a heartbeat-only flow, which syncs none.
func (f *flow) topicsEvery(d time.Duration) time.Duration {
	if f.heartbeatsOnly {
		return 0
	}
	return d
}

// wantedSpecs returns the tasks the flow wants run and how many of them
// are source tasks; the group member calls it when this worker leads.
func (f *flow) wantedSpecs() ([]group.Spec, int) {
	f.wantedMu.Lock()
	defer f.wantedMu.Unlock()
	f.ledVersion = f.wantedVersion
	return slices.Clone(f.wanted), f.wantedTasks
}

// wantedSources returns the source tasks the flow wants run, as this
// worker would assign them.
func (f *flow) wantedSources() []group.Spec {
	f.wantedMu.Lock()
	defer f.wantedMu.Unlock()
	var out []group.Spec
	for _, spec := range f.wanted {
		if spec.ID.Kind == sourceConnector {
			out = append(out, spec)
		}
	}
	return out
}

// wantedStale reports whether the tasks wanted changed since this worker
// last assigned them.
func (f *flow) wantedStale() bool {
	f.wantedMu.Lock()
	defer f.wantedMu.Unlock()
	return f.wantedVersion != f.ledVersion
}

// setWanted records the tasks the flow wants and reports whether they
// changed.
func (f *flow) setWanted(desired [][]topicPartition) bool {
	specs := make([]group.Spec, 0, len(desired)+2)
	for i, tps := range desired {
		specs = append(specs, group.Spec{ID: sourceTaskID(i), Partitions: tps})
	}
	for k := checkpointConnector; k < connKinds; k++ {
		if f.runs(k) {
			specs = append(specs, group.Spec{ID: singleTaskID(k)})
		}
	}
	f.wantedMu.Lock()
	defer f.wantedMu.Unlock()
	// Compared partition by partition, not by digest: a digest is a
	// string of every partition (800 KB at 50,000), built anew each time.
	changed := f.wantedTasks != len(desired) || !slices.EqualFunc(f.wanted, specs, func(a, b group.Spec) bool {
		return a.ID == b.ID && slices.Equal(a.Partitions, b.Partitions)
	})
	f.wanted, f.wantedTasks = specs, len(desired)
	if changed {
		f.wantedVersion++
	}
	return changed
}

// wantedHere is the tasks of this worker's assignment that the flow's
// config has, paused where their connector is.
func (f *flow) wantedHere() []task.Wanted {
	var out []task.Wanted
	for _, t := range f.assigned.Tasks {
		k := t.ID.Kind
		if k == sourceConnector && t.ID.Index >= f.assigned.SourceTasks || !f.runs(k) {
			continue
		}
		out = append(out, task.Wanted{ID: t.ID, Partitions: t.Partitions, Paused: f.ctl.isPaused(k)})
	}
	return out
}

// ownedTasks returns what publishOwned last published.
func (f *flow) ownedTasks() group.Owned { return *f.owned.Load() }

// publishOwned tells the group which tasks this worker runs now: those of
// its assignment (stopped ones are not in it any more).
func (f *flow) publishOwned() {
	owned := ownedOf(f.tasks.Snapshot())
	f.owned.Store(&group.Owned{Tasks: owned, Seq: f.assigned.Seq})
}

// ownedOf is what a worker running rs tells its group it owns: task id
// -> config digest.
func ownedOf(rs []*task.Runner) map[TaskID]string {
	owned := make(map[TaskID]string, len(rs))
	for _, r := range rs {
		owned[r.ID] = r.Digest
	}
	return owned
}

// newRunner makes the runner of a task of the flow; nil for a task the
// flow's config does not have.
func (f *flow) newRunner(w task.Wanted) *task.Runner {
	r := &task.Runner{ID: w.ID, Digest: w.Digest(), Status: task.NewStatus(StateUnassigned), Log: f.log.With("task", w.ID.Kind.String()), Classify: classify,
		Fenced: func() {
			if f.member != nil {
				f.member.RequestRejoin()
			}
		}}
	switch w.ID.Kind {
	case sourceConnector:
		t := f.newSourceTask(w.ID.Index, w.Partitions, r.Status)
		r.Task, r.Log, r.Started = t, t.log, []any{"partitions", len(t.tps)}
	case checkpointConnector:
		if t := f.checkpointTask(); t != nil {
			r.Task = t
		}
	case heartbeatConnector:
		if f.cfg.EmitHeartbeatsInterval > 0 {
			r.Task = newHeartbeatTask(f.cfg, slices.Concat(f.tgtOpts, kclient.Opts(f.cfg.Producer, configs.RoleProducer)), f.log, f.metrics)
		}
	}
	if r.Task == nil {
		return nil
	}
	r.Status.OnChange = func(state string, err error) { f.status.Task(connClasses[w.ID.Kind], w.ID.Index, state, err) }
	return r
}

// applyConfig reconfigures the flow as Connect reconfigures a connector:
// every task stops (flushing its positions), the new configuration takes
// over, and the tasks it asks for start at the next reconcile.
func (f *flow) applyConfig(ctx context.Context, cfg configs.Flow) {
	f.log.Info("applying a new connector config", "tasks_max", cfg.TasksMax)
	f.tasks.Apply(ctx, task.Plan(nil, f.tasks.States(), restartsOf(noRestarts)), nil)
	f.cfg = cfg
	f.useClientSettings(cfg)
	f.view.Store(&cfg)
	if f.topics != nil { // nil for a heartbeat-only flow (which gets no config: it is not stateful)
		f.topics.SetFlow(cfg)
	}
	if err := f.ensureTaskTopics(ctx); err != nil {
		f.log.Error("creating internal topics for the new config failed", "err", err)
	}
}

// loadCopiedBefore reads the flow's own offset syncs: the newest per
// partition says how far a previous run copied, so that the records copied
// again after a crash are counted as duplicates.
func (f *flow) loadCopiedBefore(ctx context.Context) error {
	f.copiedBefore = map[topicPartition]int64{}
	if f.syncTopic == "" {
		return nil
	}
	adm, opts := f.srcAdm, f.srcOpts
	if f.syncsOnTarget {
		adm, opts = f.tgtAdm, f.tgtOpts
	}
	return topicread.ReadToEnd(ctx, adm, opts, f.syncTopic, func(r *kgo.Record) {
		if s, err := checkpoint.DecodeOffsetSync(r.Key, r.Value); err == nil {
			f.copiedBefore[topicPartition{Topic: s.Topic, Partition: s.Partition}] = s.Upstream
		}
	})
}

// ensureTaskTopics creates the checkpoints and heartbeats topics f.cfg
// needs; existing ones are left as they are.
func (f *flow) ensureTaskTopics(ctx context.Context) error {
	var topics []topicsync.InternalTopic
	if f.cfg.EmitCheckpointsInterval > 0 {
		topics = append(topics, topicsync.InternalTopic{Name: f.cfg.Policy.CheckpointsTopic(f.cfg.Source), Partitions: 1, RF: f.cfg.CheckpointsTopicRF, RFKey: configs.KeyCheckpointsTopicRF})
	}
	if f.cfg.EmitHeartbeatsInterval > 0 {
		topics = append(topics, heartbeatsTopic(f.cfg))
	}
	return topicsync.EnsureInternal(ctx, f.tgtAdm, f.tgt.Alias, topics...)
}

// newTicker ticks every d, or never for d == 0.
func newTicker(d time.Duration) *time.Ticker {
	if d <= 0 {
		t := time.NewTicker(time.Hour)
		t.Stop()
		return t
	}
	return time.NewTicker(d)
}

func (f *flow) setUp(ctx context.Context, srcBrokers, tgtBrokers int) error {
	targetTopics := []topicsync.InternalTopic{
		{Name: f.cfg.OffsetsTopic, Partitions: f.cfg.OffsetsTopicPartitions, RF: f.cfg.OffsetsTopicRF, RFKey: configs.KeyOffsetStorageRF, Configs: f.cfg.OffsetsTopicConfigs},
		{Name: f.cfg.ConfigsTopic, Partitions: 1, RF: f.cfg.ConfigsTopicRF, RFKey: configs.KeyConfigStorageRF, Configs: f.cfg.ConfigsTopicConfigs},
		{Name: f.cfg.StatusTopic, Partitions: f.cfg.StatusTopicPartitions, RF: f.cfg.StatusTopicRF, RFKey: configs.KeyStatusStorageRF, Configs: f.cfg.StatusTopicConfigs},
	}
	var syncTopic topicsync.InternalTopic
	syncOnTarget := false
	if f.cfg.EmitOffsetSyncs {
		syncTopic.Name, syncOnTarget = f.cfg.OffsetSyncsTopic()
		syncTopic.Partitions, syncTopic.RF, syncTopic.RFKey = 1, f.cfg.OffsetSyncsTopicRF, configs.KeyOffsetSyncsTopicRF
	}
	// Every replication factor the clusters cannot meet, at once.
	var problems []error
	check := func(alias string, brokers int, rf int16, key, what string) {
		if int(rf) > brokers {
			problems = append(problems, fmt.Errorf("cluster %s has %d broker(s), fewer than %s = %d (%s): lower %s", alias, brokers, key, rf, what, key))
		}
	}
	check(f.tgt.Alias, tgtBrokers, f.cfg.ReplicationFactor, configs.KeyReplicationFactor, "remote topics")
	for _, t := range targetTopics {
		check(f.tgt.Alias, tgtBrokers, t.RF, t.RFKey, t.Name)
	}
	syncAdm, syncAlias, syncBrokers, syncOpts := f.srcAdm, f.src.Alias, srcBrokers, f.srcOpts
	if syncOnTarget {
		syncAdm, syncAlias, syncBrokers, syncOpts = f.tgtAdm, f.tgt.Alias, tgtBrokers, f.tgtOpts
	}
	if f.cfg.EmitOffsetSyncs {
		check(syncAlias, syncBrokers, syncTopic.RF, syncTopic.RFKey, syncTopic.Name)
	}
	if f.cfg.EmitCheckpointsInterval > 0 {
		check(f.tgt.Alias, tgtBrokers, f.cfg.CheckpointsTopicRF, configs.KeyCheckpointsTopicRF, f.cfg.Policy.CheckpointsTopic(f.cfg.Source))
	}
	if f.cfg.EmitHeartbeatsInterval > 0 {
		check(f.tgt.Alias, tgtBrokers, f.cfg.HeartbeatsTopicRF, configs.KeyHeartbeatsTopicRF, policy.HeartbeatsTopic)
	}
	if len(problems) > 0 {
		return errors.Join(problems...)
	}
	if err := topicsync.EnsureInternal(ctx, f.tgtAdm, f.tgt.Alias, targetTopics...); err != nil {
		return err
	}
	if err := f.ensureTaskTopics(ctx); err != nil {
		return err
	}
	statusClient, err := kgo.NewClient(append(slices.Clone(f.tgtOpts), kgo.DefaultProduceTopic(f.cfg.StatusTopic))...)
	if err != nil {
		return err
	}
	f.status = connectstate.NewStatusWriter(f.cfg.StatusTopic, f.workerID, statusClient, func(err error) {
		f.metrics.writeErrors.Add(context.Background(), 1)
		f.log.Warn("status not written", "topic", f.cfg.StatusTopic, "err", err)
	})
	if !f.cfg.EmitOffsetSyncs {
		return nil
	}
	if err := topicsync.EnsureInternal(ctx, syncAdm, syncAlias, syncTopic); err != nil {
		return err
	}
	f.syncTopic, f.syncsOnTarget = syncTopic.Name, syncOnTarget
	// Offset syncs linger longer than data (unless linger.ms is set for
	// them): a busy flow makes one due every offset.lag.max records of
	// each partition, hundreds a second, and at kgo's 10 ms that is a
	// produce request to the syncs' cluster (the source, by default) for
	// every data produce. What must wait for the syncs (a position
	// write, a transaction's commit) flushes them: sent at once.
	cl, err := kgo.NewClient(slices.Concat(syncOpts, []kgo.Opt{kgo.ProducerLinger(syncLinger)}, kclient.Opts(f.cfg.OffsetSyncProducer, configs.RoleProducer), []kgo.Opt{
		kgo.DefaultProduceTopic(syncTopic.Name),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	})...)
	if err != nil {
		return err
	}
	f.syncs = &syncWriter{topic: syncTopic.Name, cl: cl, log: f.log, writeErrors: f.metrics.writeErrors}
	return nil
}

// checkpointTask builds the flow's checkpoint task; nil when offset syncs
// are off (checkpoints need them).
func (f *flow) checkpointTask() *checkpoint.Task {
	if !f.cfg.EmitOffsetSyncs {
		f.log.Warn("checkpoints need offset syncs: set emit.offset-syncs.enabled = true")
		return nil
	}
	t := &checkpoint.Task{
		Flow: f.name, Source: f.cfg.Source, Target: f.cfg.Target,
		Policy: f.cfg.Policy, Topics: f.cfg.Topics.Filter, Groups: f.cfg.Groups,
		Interval: f.cfg.EmitCheckpointsInterval, SyncGroupsInterval: f.cfg.SyncGroupOffsetsInterval,
		Syncs:            f.syncsAt(f.syncTopic, f.syncsOnTarget),
		CheckpointsTopic: f.cfg.Policy.CheckpointsTopic(f.cfg.Source),
		SourceAdmin:      f.srcAdm, TargetAdmin: f.tgtAdm, TargetOpts: slices.Concat(f.tgtOpts, kclient.Opts(f.cfg.Producer, configs.RoleProducer)),
		Log:     f.log.With("task", "checkpoint"),
		Latency: f.metrics.checkpoint, LatencyPerPartition: f.metrics.perPartition, WriteErrors: f.metrics.writeErrors,
	}
	if f.reverse != nil && f.reverse.EmitOffsetSyncs {
		// The reverse flow writes its syncs on its source (our target) or
		// its target (our source).
		topic, onItsTarget := f.reverse.OffsetSyncsTopic()
		s := f.syncsAt(topic, !onItsTarget)
		t.Reverse = &s
	}
	return t
}

// syncsAt names an offset-syncs topic on the target (onTarget) or the
// source of this flow.
func (f *flow) syncsAt(topic string, onTarget bool) checkpoint.Syncs {
	if onTarget {
		return checkpoint.Syncs{Topic: topic, Cluster: f.tgt.Alias, Admin: f.tgtAdm, Opts: slices.Concat(f.tgtOpts, kclient.Opts(f.cfg.TargetConsumer, configs.RoleConsumer))}
	}
	return checkpoint.Syncs{Topic: topic, Cluster: f.src.Alias, Admin: f.srcAdm, Opts: slices.Concat(f.srcOpts, kclient.Opts(f.cfg.SourceConsumer, configs.RoleConsumer))}
}

func (f *flow) close() {
	if f.member != nil {
		f.member.Close()
	}
	f.syncs.close()
	f.status.Close()
	if f.srcAdm != nil {
		f.srcAdm.Close()
	}
	if f.tgtAdm != nil {
		f.tgtAdm.Close()
	}
}

// reconcile brings the remote topics in line with the source and the tasks
// in line with the partitions to copy. Errors are logged and retried at the
// next refresh.
func (f *flow) reconcile(ctx context.Context, restarts [connKinds]restartRequest) {
	if f.heartbeatsOnly {
		if f.setWanted(nil) && f.member.Leader() {
			f.member.RequestRejoin()
		}
		f.reconcileTasks(ctx, restarts)
		return
	}
	refreshed := false
	if f.clusterWork(ctx, func(ctx context.Context) { refreshed = f.refreshTopics(ctx) }) {
		// Cut short by an assignment, which the run loop takes next:
		// refresh again after it.
		f.ctl.signal()
	} else if !refreshed {
		return
	}
	f.reconcileTasks(ctx, restarts)
}

// refreshTopics brings the remote topics in line with the source and
// decides the tasks wanted; it reports whether it could.
func (f *flow) refreshTopics(ctx context.Context) bool {
	began := time.Now()
	tps, err := f.topics.Topics(ctx)
	if err != nil {
		if ctx.Err() == nil {
			f.log.Warn("topic refresh failed; retrying at the next refresh", "err", err)
		}
		return false
	}
	f.resetRecreated(ctx)
	changed := f.setWanted(f.assignAgain(tps))
	if f.cfg.ExactlyOnce && f.member.Leader() {
		f.wantedMu.Lock()
		tasks := f.wantedTasks
		f.wantedMu.Unlock()
		f.fenceRemovedTasks(ctx, tasks)
	}
	// With load-aware assignment the leader hears the other workers'
	// loads at each rebalance: ask for one every refresh (cooperative:
	// nothing stops unless it moves).
	if f.member.Leader() && (changed || f.cfg.LoadAware && f.member.Members() > 1) {
		f.member.RequestRejoin()
	}
	replicated, listed := f.topics.LastRefresh()
	f.log.Debug("refreshed topics", "topics", replicated, "partitions", len(tps), "listed_on_target", listed,
		"duration_ms", time.Since(began).Milliseconds(), "source_listing_ms", f.topics.SourceListing().Milliseconds())
	return true
}

// errInterrupted cuts the run loop's cluster work short: the group handed
// an urgent assignment.
var errInterrupted = errors.New("cut short by a worker group assignment")

// clusterWork runs fn, work of the run loop that talks to the clusters,
// with a context that an urgent assignment of the group cancels
// (interruptWork): a worker out of its group stops its tasks at once, not
// once requests to a cluster that does not answer gave up (after the
// client's retry timeout, 30 s by default), and one given its tasks back starts
// them at once. It reports whether fn was cut short so (or not run, an
// assignment waiting already): the caller runs it again later.
func (f *flow) clusterWork(ctx context.Context, fn func(context.Context)) (interrupted bool) {
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	f.workMu.Lock()
	f.workCancel = cancel
	f.workMu.Unlock()
	defer func() {
		f.workMu.Lock()
		f.workCancel = nil
		f.workMu.Unlock()
	}()
	// After workCancel is set: an assignment handed before it is seen
	// here, one handed after it cancels wctx.
	if len(f.member.Assignments()) > 0 {
		return true
	}
	fn(wctx)
	return errors.Is(context.Cause(wctx), errInterrupted)
}

// interruptWork cuts short the run loop's cluster work, if any: the group
// handed an urgent assignment. Called from the group member's goroutine.
func (f *flow) interruptWork() {
	f.workMu.Lock()
	defer f.workMu.Unlock()
	if f.workCancel != nil {
		f.workCancel(errInterrupted)
	}
}

// assignAgain is assign, except that a round-robin assignment of the very
// partitions the last refresh returned (the topic sync returns the same
// slice for an unchanged source) is the last one again: the same input
// gives the same output, and making it costs milliseconds at 50,000
// partitions. The run loop only.
func (f *flow) assignAgain(tps []topicPartition) [][]topicPartition {
	last := &f.lastAssign
	if !f.cfg.LoadAware && len(tps) > 0 && len(tps) == len(last.from) && &tps[0] == &last.from[0] && last.tasksMax == f.cfg.TasksMax {
		return last.tasks
	}
	tasks := f.assign(tps)
	*last = lastAssign{from: tps, tasksMax: f.cfg.TasksMax, tasks: tasks}
	return tasks
}

// lastAssign is the last assignment assignAgain made.
type lastAssign struct {
	from     []topicPartition
	tasksMax int
	tasks    [][]topicPartition
}

// assign spreads tps over the flow's tasks as tasks.assignment says.
func (f *flow) assign(tps []topicPartition) [][]topicPartition {
	if !f.cfg.LoadAware {
		return assignRoundRobin(tps, f.cfg.TasksMax)
	}
	specs, n := f.wantedSpecs()
	current := make([][]topicPartition, n)
	for _, s := range specs {
		if s.ID.Kind == sourceConnector && s.ID.Index < n {
			current[s.ID.Index] = s.Partitions
		}
	}
	desired := assignByLoad(tps, f.cfg.TasksMax, f.loads.withPeers(f.loads.take(time.Now())), current)
	if len(desired) == len(current) {
		moved := 0
		for i := range desired {
			had := make(map[topicPartition]bool, len(current[i])) // not slices.Contains: quadratic in partitions
			for _, tp := range current[i] {
				had[tp] = true
			}
			for _, tp := range desired[i] {
				if !had[tp] {
					moved++
				}
			}
		}
		if moved > 0 {
			f.log.Info("moving partitions between tasks by load", "moved", moved)
		}
	}
	return desired
}

// noRestarts asks for no restart.
var noRestarts [connKinds]restartRequest

// reconcileTasks is the one place where the flow's tasks start and stop:
// it brings them in line with this worker's assignment, the paused
// connectors and the restarts asked for (planTasks says how), then tells
// the group what this worker runs.
func (f *flow) reconcileTasks(ctx context.Context, restarts [connKinds]restartRequest) {
	f.sourceTasks.Store(int32(f.assigned.SourceTasks))
	f.tasks.Apply(ctx, task.Plan(f.wantedHere(), f.tasks.States(), restartsOf(restarts)), f.newRunner)
	f.publishOwned()
}

// newSourceTask is source task i copying tps, reporting to status. It
// gets the flow's current config and client settings, and reaches the
// flow only through its positions, offset syncs, load counters and topic
// events.
func (f *flow) newSourceTask(i int, tps []topicPartition, status *task.Status) *sourceTask {
	t := &sourceTask{id: taskName(f.name, sourceTaskID(i)), index: i, tps: tps, log: f.log.With("task", i), status: status,
		flowName: f.name, cfg: f.cfg, srcOpts: f.srcOpts, tgtOpts: f.tgtOpts, producerOpts: f.producerOpts, consumer: f.consumer,
		srcAdm: f.srcAdm, tgtAdm: f.tgtAdm, metrics: f.metrics, positions: storePositions{store: f.offsets, adm: f.tgtAdm},
		syncs: f.syncs, loads: &f.loads, topics: f, copiedBefore: f.copiedBefore}
	t.limiter = newLimiter(f.cfg.BytesPerSecond, &f.sourceTasks)
	return t
}

// remoteMissing implements topicEvents: the next refresh lists every
// remote topic and creates the missing ones, now.
func (f *flow) remoteMissing() {
	f.topics.ListAll()
	f.ctl.signal()
}

// sourceRecreated implements topicEvents.
func (f *flow) sourceRecreated(topic string, id kadm.TopicID) bool {
	if !f.topics.IDChanged(topic, id) {
		return false
	}
	f.ctl.signal()
	return true
}

// taskName is how the status page and logs name a task: "A->B source 0".
func taskName(flow string, id TaskID) string {
	return flow + " " + id.Kind.String() + " " + itoa(int64(id.Index))
}

// statuses reports every source task of the flow: those this worker runs
// and, as the status topic shows them, the others.
func (f *flow) statuses() []TaskStatus {
	// The tasks of the last assignment, or those the flow wants when it
	// has none (out of the group while the target is down): a task that
	// runs nowhere is listed UNASSIGNED, not left out.
	f.wantedMu.Lock()
	n := max(int(f.sourceTasks.Load()), f.wantedTasks)
	f.wantedMu.Unlock()
	out := make([]TaskStatus, 0, n)
	for i := range n {
		id := sourceTaskID(i)
		r := f.tasks.Get(id)
		t, ok := (*sourceTask)(nil), false
		if r != nil {
			t, ok = r.Task.(*sourceTask)
		}
		if !ok {
			ts := TaskStatus{ID: taskName(f.name, id), Flow: f.name, State: StateUnassigned, Elsewhere: true}
			if st, serr, worker, ok := f.statusElsewhere(sourceConnector, i); ok {
				ts.State, ts.Err, ts.WorkerID = st, serr, worker
			}
			out = append(out, ts)
			continue
		}
		state, err := r.Status.Get()
		assigned := make([]string, len(t.tps))
		for i, tp := range t.tps {
			assigned[i] = tp.Topic + "-" + itoa(int64(tp.Partition))
		}
		out = append(out, TaskStatus{ID: t.id, Flow: f.name, State: state, Err: err, Partitions: len(t.tps),
			Assigned: assigned, Copied: t.copied(), Lost: r.Status.Lost.Load(), Duplicates: r.Status.Duplicates.Load(),
			FailedPartitions: t.failedPartitions()})
	}
	return out
}

// singleStatus reports the checkpoint or heartbeat task k: as this worker
// runs it, else as the status topic shows it.
func (f *flow) singleStatus(k connKind) TaskStatus {
	id := singleTaskID(k)
	ts := TaskStatus{ID: taskName(f.name, id), Flow: f.name, State: StateUnassigned}
	if r := f.tasks.Get(id); r != nil {
		ts.State, ts.Err = r.Status.Get()
		return ts
	}
	if st, err, worker, ok := f.statusElsewhere(k, 0); ok {
		ts.State, ts.Err, ts.WorkerID, ts.Elsewhere = st, err, worker, true
	}
	return ts
}

// statusElsewhere returns how the status topic shows task id of connector k,
// run by another worker: its state, failure and worker; ok is false when
// the topic names no other worker for it.
func (f *flow) statusElsewhere(k connKind, id int) (state string, err error, worker string, ok bool) {
	rec, found := f.statusView.Task(connClasses[k], id)
	if !found || rec.WorkerID == f.workerID {
		return "", nil, "", false
	}
	if rec.Trace != nil {
		err = errors.New(*rec.Trace)
	}
	return rec.State, err, rec.WorkerID, true
}

// sourceRuns returns the source tasks this worker runs (or shows paused).
func (f *flow) sourceRuns() []*sourceTask {
	var out []*sourceTask
	for _, r := range f.tasks.Snapshot() {
		if t, ok := r.Task.(*sourceTask); ok {
			out = append(out, t)
		}
	}
	return out
}
