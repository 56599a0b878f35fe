package replicator

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/internal/topicread"
	"github.com/strait-replicator/strait/replicator/connectstate"
)

// mirrorPackage prefixes MM2's connector class names.
const mirrorPackage = "org.apache.kafka.connect.mirror."

// ConnectorStatus is one of a flow's connectors, as a Kafka Connect REST
// API shows it.
type ConnectorStatus struct {
	// Name is "<source>.<target>.<Class>", e.g. "A.B.MirrorSourceConnector":
	// unique across flows and safe in a URL path (aliases have no dots).
	Name   string
	Class  string // the MM2 class, with its package
	Flow   string // "A->B"
	State  string // StateRunning or StatePaused
	Config map[string]string
	Tasks  []TaskStatus // by task number
}

// connectorRef finds a connector by name.
type connectorRef struct {
	name string
	kind connKind
	cfg  configs.Flow
	flow *flow
}

// stateful reports whether the connector's flow keeps Connect's state
// topics (configs, status): a heartbeat-only pair keeps none, so its
// connector is paused, resumed and restarted in this worker only and
// cannot be configured or deleted.
func (r connectorRef) stateful() bool { return !r.flow.heartbeatsOnly }

func connectorName(cfg configs.Flow, k connKind) string {
	return cfg.Source + "." + cfg.Target + "." + connClasses[k]
}

// refs lists the connectors, deleted ones included.
func (w *Worker) refs() []connectorRef {
	var out []connectorRef
	for _, f := range slices.Concat(w.flows, w.heartbeats) {
		cfg := *f.view.Load()
		for k := range connKinds {
			if f.runs(k) || f.ctl.isDeleted(k) {
				out = append(out, connectorRef{name: connectorName(cfg, k), kind: k, cfg: cfg, flow: f})
			}
		}
	}
	slices.SortFunc(out, func(a, b connectorRef) int { return strings.Compare(a.name, b.name) })
	return out
}

// ref finds a connector that is not deleted.
func (w *Worker) ref(name string) (connectorRef, error) {
	r, err := w.anyRef(name)
	if err == nil && r.control().isDeleted(r.kind) {
		err = fmt.Errorf("%w %s", ErrUnknownConnector, name)
	}
	return r, err
}

// anyRef finds a connector, deleted or not. Every request about a
// connector goes through it (or Connectors): before Run prepared the flows
// it returns ErrNotRunning, as their state is written by prepare.
func (w *Worker) anyRef(name string) (connectorRef, error) {
	if err := w.WaitRunning(); err != nil {
		return connectorRef{}, err
	}
	for _, r := range w.refs() {
		if r.name == name {
			return r, nil
		}
	}
	return connectorRef{}, fmt.Errorf("%w %s", ErrUnknownConnector, name)
}

func (r connectorRef) control() *control { return r.flow.ctl }

func (r connectorRef) status() ConnectorStatus {
	cfg := r.cfg.Settings()
	cfg["name"] = r.name
	cfg["connector.class"] = mirrorPackage + connClasses[r.kind]
	cfg["source.cluster.alias"] = r.cfg.Source
	cfg["target.cluster.alias"] = r.cfg.Target
	cs := ConnectorStatus{Name: r.name, Class: cfg["connector.class"], Flow: r.cfg.Name(), State: StateRunning, Config: cfg}
	if r.control().isPaused(r.kind) {
		cs.State = StatePaused
	}
	switch {
	case r.kind == sourceConnector:
		cs.Tasks = r.flow.statuses()
	case r.flow.runs(r.kind):
		cs.Tasks = []TaskStatus{r.flow.singleStatus(r.kind)}
	}
	return cs
}

// ConnectorIncludingDeleted reports one connector as Connector does, but
// also a deleted one (whose tasks do not run), so that a caller of
// Configure can report the connector it configured even if a Delete came
// in between. The error wraps ErrUnknownConnector, or is ErrNotRunning.
func (w *Worker) ConnectorIncludingDeleted(name string) (ConnectorStatus, error) {
	r, err := w.anyRef(name)
	if err != nil {
		return ConnectorStatus{}, err
	}
	return r.status(), nil
}

// ErrNotRunning is returned for a request about connectors while the
// worker is not running its flows: Run has not connected to the clusters
// and read the internal topics within the start wait, or Run returned.
// The REST layer answers 503.
var ErrNotRunning = errors.New("worker is still starting up (or shutting down): its connectors are not known; retry shortly")

// defaultStartWait is how long a request about connectors waits for a
// starting worker, as a Connect worker's REST requests wait for its
// herder (90 s there).
const defaultStartWait = 90 * time.Second

// WaitRunning waits until every flow is prepared, for at most the start
// wait (defaultStartWait), and returns ErrNotRunning if they are not (or
// Run returned); nil at once while the worker runs. Run marks the worker
// ready only after prepare returned, so what prepare wrote is visible to a
// caller that saw it ready. Every method about connectors waits the same
// way; the REST API calls it first, to answer 503 without touching the
// request.
func (w *Worker) WaitRunning() error {
	if w.ready.Load() {
		return nil
	}
	wait := time.NewTimer(w.startWait)
	defer wait.Stop()
	select {
	case <-w.started:
	case <-wait.C:
	}
	if !w.ready.Load() {
		return ErrNotRunning
	}
	return nil
}

// Connectors reports every connector of every flow, by name; the error is
// ErrNotRunning while the worker starts.
func (w *Worker) Connectors() ([]ConnectorStatus, error) {
	if err := w.WaitRunning(); err != nil {
		return nil, err
	}
	var out []ConnectorStatus
	for _, r := range w.refs() {
		if !r.control().isDeleted(r.kind) {
			out = append(out, r.status())
		}
	}
	return out, nil
}

// Connector reports one connector; the error wraps ErrUnknownConnector, or
// is ErrNotRunning.
func (w *Worker) Connector(name string) (ConnectorStatus, error) {
	r, err := w.ref(name)
	if err != nil {
		return ConnectorStatus{}, err
	}
	return r.status(), nil
}

// Pause stops the connector's tasks (positions flushed) until Resume. The
// state is kept in the flow's configs topic, as Connect keeps it, so a
// restarted worker stays paused.
func (w *Worker) Pause(ctx context.Context, name string) error { return w.setPaused(ctx, name, true) }

// Resume starts a paused connector's tasks again.
func (w *Worker) Resume(ctx context.Context, name string) error { return w.setPaused(ctx, name, false) }

func (w *Worker) setPaused(ctx context.Context, name string, paused bool) error {
	r, err := w.ref(name)
	if err != nil {
		return err
	}
	if r.stateful() {
		state := "STARTED"
		if paused {
			state = "PAUSED"
		}
		if err := r.flow.writeTargetState(ctx, r.kind, state); err != nil {
			return err
		}
	}
	r.control().setPaused(r.kind, paused)
	state := StateRunning
	if paused {
		state = StatePaused
	}
	if r.stateful() {
		r.flow.status.Connector(connClasses[r.kind], state)
	}
	r.flow.log.Info("connector "+strings.ToLower(state)+" through the REST API", "connector", name)
	return nil
}

// Restart restarts the connector's tasks: with includeTasks every task (or,
// with onlyFailed, the failed ones); without it only the connector itself,
// which in Strait has no state to restart. It returns the status with the
// tasks to restart shown RESTARTING.
//
// The request is written to the flow's configs topic as Connect writes it
// (KIP-745), so that every worker of the group restarts the tasks it runs.
func (w *Worker) Restart(ctx context.Context, name string, includeTasks, onlyFailed bool) (ConnectorStatus, error) {
	r, err := w.ref(name)
	if err != nil {
		return ConnectorStatus{}, err
	}
	st := r.status()
	if !includeTasks {
		return st, nil
	}
	req := restartRequest{all: true, onlyFailed: onlyFailed}
	for i := range st.Tasks {
		if req.wants(i, st.Tasks[i].State) && st.Tasks[i].State != StatePaused {
			st.Tasks[i].State = StateRestarting
		}
	}
	if r.stateful() {
		value := connectstate.RestartValue(true, onlyFailed)
		if err := r.flow.writeConfigsRecord(ctx, r.kind, connectstate.RestartKey(connClasses[r.kind]), value); err != nil {
			return ConnectorStatus{}, err
		}
	}
	r.control().requestRestart(r.kind, req)
	r.flow.log.Info("restart of the connector's tasks asked through the REST API", "connector", name, "only_failed", onlyFailed)
	return st, nil
}

// RestartTask restarts task id of the connector; the error wraps
// ErrUnknownConnector, ErrUnknownTask or ErrConflict (another worker runs
// it, not known which yet), or is a *NotAssignedError naming the worker
// that runs the task.
func (w *Worker) RestartTask(name string, id int) error {
	r, err := w.ref(name)
	if err != nil {
		return err
	}
	tasks := r.status().Tasks
	if id < 0 || id >= len(tasks) {
		return fmt.Errorf("%w %s-%d", ErrUnknownTask, name, id)
	}
	if tasks[id].Elsewhere {
		if worker := tasks[id].WorkerID; worker != "" {
			return &NotAssignedError{Task: fmt.Sprintf("%s-%d", name, id), Worker: worker}
		}
		// Another worker runs it and has not said so yet: a rebalance.
		return fmt.Errorf("task %s-%d: %w", name, id, ErrConflict)
	}
	r.control().requestRestart(r.kind, restartRequest{tasks: []int{id}})
	r.flow.log.Info("task restart asked through the REST API", "connector", name, "task", id)
	return nil
}

// singleConfigured reports whether a flow with cfg runs connector k's task.
func singleConfigured(cfg configs.Flow, k connKind) bool {
	switch k {
	case checkpointConnector:
		return cfg.EmitCheckpointsInterval > 0 && cfg.EmitOffsetSyncs
	case heartbeatConnector:
		return cfg.EmitHeartbeatsInterval > 0
	}
	return false
}

// ConfigError is a connector config that does not validate; the REST
// layer answers 400 with its problems.
type ConfigError struct {
	Problems []string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("Connector configuration is invalid and contains the following %d error(s):\n%s", len(e.Problems), strings.Join(e.Problems, "\n"))
}

// ErrNotConfigurable is returned for connectors whose config cannot change
// through the API (the heartbeat connector of a pair with replication off).
var ErrNotConfigurable = errors.New("this connector's config comes from the configuration file only")

// Configure replaces a connector's config, as PUT /connectors/{name}/config
// does: the settings apply to its flow as "<source>-><target>.<key>" keys
// would in the file, are validated like the file, stored in the flow's
// configs topic (so a restarted worker keeps them) and applied by
// restarting the flow's tasks. A key Strait does not read in a flow's
// settings, or a secret written in the clear (configs.CheckFlowSetting),
// is refused with the other problems in a *ConfigError, before anything
// is written. created reports that the connector had been
// deleted and is back. While the flow still applies a config set before,
// it returns ErrConflict and writes nothing.
func (w *Worker) Configure(ctx context.Context, name string, settings map[string]string) (created bool, err error) {
	r, err := w.anyRef(name)
	if err != nil {
		return false, err
	}
	if !r.stateful() {
		return false, ErrNotConfigurable
	}
	// The worker's configuration changes only once the new one is stored
	// and queued: a refused PUT (400, 409, a failed write) leaves it as is.
	w.cfgMu.Lock()
	defer w.cfgMu.Unlock()
	// Settings sent through the API must be ones Strait reads, and no
	// secret in the clear: they are stored as sent.
	var ce ConfigError
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		if p := configs.CheckFlowSetting(k, settings[k]); p != "" {
			ce.Problems = append(ce.Problems, p)
		}
	}
	next, cfg, err := w.withSettings(r.cfg.Source, r.cfg.Target, settings)
	if err != nil || len(ce.Problems) > 0 {
		for _, e := range settingsErrors(err) {
			ce.Problems = append(ce.Problems, e.Error())
		}
		return false, &ce
	}
	// Refused before anything is written: other workers apply what the
	// configs topic holds, and a restarted worker reads it back.
	if r.flow.ctl.configPending() {
		return false, ErrConflict
	}
	if err := r.flow.writeConnectorConfig(ctx, r.kind, settings); err != nil {
		return false, err
	}
	// cfgMu keeps other PUTs out, but the configs-topic follower may have
	// queued a config read before this one was written: this one, newer in
	// the topic and built on it (the follower overlays under cfgMu too),
	// replaces it.
	r.flow.ctl.replaceConfig(cfg)
	w.cfg = next
	r.flow.log.Info("connector config set through the REST API", "connector", name, "keys", slices.Sorted(maps.Keys(settings)))
	if created = r.flow.ctl.isDeleted(r.kind); created {
		if err := r.flow.writeTargetState(ctx, r.kind, "STARTED"); err != nil {
			return true, err
		}
		r.flow.ctl.setDeleted(r.kind, false)
		r.flow.ctl.setPaused(r.kind, false)
	}
	return created, nil
}

// overlay validates settings for flow source->target against the whole
// configuration and keeps the result as the worker's configuration.
func (w *Worker) overlay(source, target string, settings map[string]string) (configs.Flow, error) {
	w.cfgMu.Lock()
	defer w.cfgMu.Unlock()
	next, f, err := w.withSettings(source, target, settings)
	if err == nil {
		w.cfg = next
	}
	return f, err
}

// withSettings validates settings for flow source->target against the
// worker's configuration and returns the configuration and flow they give;
// the caller holds cfgMu. Invalid settings are a *ConfigError.
func (w *Worker) withSettings(source, target string, settings map[string]string) (*configs.Config, configs.Flow, error) {
	next, err := w.cfg.WithFlowSettings(source, target, settings)
	if err != nil {
		ce := &ConfigError{}
		for _, e := range settingsErrors(err) {
			ce.Problems = append(ce.Problems, e.Error())
		}
		return nil, configs.Flow{}, ce
	}
	f, _ := next.Flow(source, target)
	return next, f, nil
}

// settingsErrors lists the errors of configs.WithFlowSettings, one per
// invalid key (*configs.KeyError); none for nil.
func settingsErrors(err error) []error {
	var merr *multierror.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &merr):
		return merr.Errors
	}
	return []error{err}
}

// ValidateSettings checks a connector config for flow source->target as
// Configure would, without applying or writing anything, and returns the
// problems by key as sent (a problem with another key of the
// configuration under that key, one tied to no key under
// connector.class); none for a valid config. With source or target
// empty only the keys themselves are checked. It does not wait for the
// worker to run.
func (w *Worker) ValidateSettings(source, target string, settings map[string]string) map[string][]string {
	problems := map[string][]string{}
	for k, v := range settings {
		if p := configs.CheckFlowSetting(k, v); p != "" {
			problems[k] = append(problems[k], p)
		}
	}
	if source == "" || target == "" {
		return problems
	}
	w.cfgMu.Lock()
	_, err := w.cfg.WithFlowSettings(source, target, settings)
	w.cfgMu.Unlock()
	prefix := source + "->" + target + "."
	for _, e := range settingsErrors(err) {
		key, problem := "connector.class", e.Error()
		if ke := (*configs.KeyError)(nil); errors.As(e, &ke) {
			key, problem = strings.TrimPrefix(ke.Key, prefix), ke.Problem
		}
		problems[key] = append(problems[key], problem)
	}
	return problems
}

// Delete stops a connector and removes it from the listings; the state is
// kept in the configs topic (tombstone of its config, target state
// STOPPED), so a restarted worker keeps it deleted. PUT config brings it
// back.
func (w *Worker) Delete(ctx context.Context, name string) error {
	r, err := w.ref(name)
	if err != nil {
		return err
	}
	if !r.stateful() {
		return ErrNotConfigurable
	}
	if err := r.flow.writeConnectorConfig(ctx, r.kind, nil); err != nil {
		return err
	}
	if err := r.flow.writeTargetState(ctx, r.kind, "STOPPED"); err != nil {
		return err
	}
	r.flow.ctl.setDeleted(r.kind, true)
	r.flow.log.Info("connector deleted (stopped) through the REST API", "connector", name)
	return nil
}

// applyRestartRecord takes a restart request another worker wrote to the
// configs topic: this worker restarts the tasks it runs. Requests are
// acted on only as they arrive, never when the topic is loaded at start
// (as Connect). It reports whether r was one.
func (f *flow) applyRestartRecord(r *kgo.Record) bool {
	rec, ok, err := connectstate.ParseConfigsRecord(r, connClasses[:])
	if !ok || rec.Kind != connectstate.Restart {
		return false
	}
	if err != nil {
		f.log.Warn("skipping malformed record in configs topic", "topic", f.configsTopic, "err", err)
		return true
	}
	if rec.IncludeTasks {
		k := connKindOf(rec.Class)
		f.log.Info("restarting tasks as another worker was asked", "connector", rec.Class, "only_failed", rec.OnlyFailed)
		f.ctl.requestRestart(k, restartRequest{all: true, onlyFailed: rec.OnlyFailed})
	}
	return true
}

// connKindOf is the kind of connector class.
func connKindOf(class string) connKind {
	return connKind(slices.Index(connClasses[:], class))
}

// loadConnectorStates reads the connectors' target states and the configs
// set through the API from the configs topic, and returns those configs
// merged (nil for none). The topic is per flow, as in MM2's dedicated
// mode, so the keys name MM2's connectors and MM2 reads the same states.
func (f *flow) loadConnectorStates(ctx context.Context) (map[string]string, error) {
	err := topicread.ReadToEnd(ctx, f.tgtAdm, f.tgtOpts, f.configsTopic, func(r *kgo.Record) { f.applyConfigsRecord(r) })
	return f.storedSettings(), err
}

// applyConfigsRecord applies a record of the configs topic: a connector's
// target state (paused, stopped, started) goes to the control, a connector
// config is kept. It reports whether it was a connector config.
func (f *flow) applyConfigsRecord(r *kgo.Record) (config bool) {
	rec, ok, err := connectstate.ParseConfigsRecord(r, connClasses[:])
	switch {
	case !ok || rec.Kind == connectstate.Restart:
		return false
	case err != nil:
		f.log.Warn("skipping malformed record in configs topic", "topic", f.configsTopic, "err", err)
		return false
	}
	k := connKindOf(rec.Class)
	if rec.Kind == connectstate.ConnectorConfig && !slices.ContainsFunc(r.Headers, func(h kgo.RecordHeader) bool { return h.Key == instanceHeader }) {
		// MM2 (or a Connect worker running MM2's connectors) writes the
		// config it was started with: Strait's comes from its own file,
		// and only settings set through Strait's REST API override it.
		f.log.Info("ignoring a connector config Strait did not write (MM2's); the configuration file is used", "connector", rec.Class, "topic", f.configsTopic, "offset", r.Offset)
		return false
	}
	if rec.Kind == connectstate.TargetState {
		deleted, paused := rec.State == connectstate.Stopped, rec.State == connectstate.Paused || rec.State == connectstate.Stopped
		if f.ctl.isDeleted(k) != deleted || f.ctl.isPaused(k) != paused {
			f.log.Info("connector target state read from the configs topic", "connector", rec.Class, "state", rec.State, "topic", f.configsTopic, "offset", r.Offset)
		}
		f.ctl.setDeleted(k, deleted)
		f.ctl.setPaused(k, paused)
		return false
	}
	f.storedMu.Lock()
	f.stored[k] = rec.Properties // nil for a tombstone
	f.storedMu.Unlock()
	return true
}

// storedSettings merges the connector configs read from the configs topic;
// nil when there is none.
func (f *flow) storedSettings() map[string]string {
	f.storedMu.Lock()
	defer f.storedMu.Unlock()
	var merged map[string]string
	for _, m := range f.stored {
		for k, v := range m {
			if merged == nil {
				merged = map[string]string{}
			}
			merged[k] = v
		}
	}
	return merged
}

// instanceHeader marks the records of the configs topic a flow wrote, so
// that it does not apply them a second time when it follows the topic.
const instanceHeader = "strait-instance"

// followConfigs applies, until ctx is done, the connector configs and
// target states other workers of the group write to the configs topic
// (through their REST API) from offset from on: a pause, a resume or a new
// config set on any worker reaches every worker. A config replaces one
// the run loop has not taken yet: the newest wins.
func (f *flow) followConfigs(ctx context.Context, from int64) {
	topic := f.configsTopic
	fl := topicread.NewFollowerFrom(topic, map[int32]int64{0: from}, func(r *kgo.Record) {
		for _, h := range r.Headers {
			if h.Key == instanceHeader && string(h.Value) == f.instance {
				return
			}
		}
		if f.applyRestartRecord(r) || !f.applyConfigsRecord(r) || f.overlay == nil {
			return
		}
		cfg, err := f.overlay(f.storedSettings())
		if err != nil {
			f.log.Error("connector config written by another worker is invalid; ignoring it", "topic", topic, "offset", r.Offset, "err", err)
			return
		}
		f.log.Info("applying the connector config written by another worker", "topic", topic, "offset", r.Offset)
		f.ctl.replaceConfig(cfg)
	})
	fl.Run(ctx, f.tgtOpts, topicread.WarnEvery(f.log, time.Minute, "reading the configs topic failed; retrying", "topic", topic, "cluster", f.tgt.Alias))
}

// writeConnectorConfig records a connector's config (nil: a tombstone) in
// the configs topic.
func (f *flow) writeConnectorConfig(ctx context.Context, k connKind, settings map[string]string) error {
	value := connectstate.ConnectorConfigValue(settings)
	if err := f.writeConfigsRecord(ctx, k, connectstate.ConnectorKey(connClasses[k]), value); err != nil {
		return err
	}
	f.storedMu.Lock()
	f.stored[k] = settings
	f.storedMu.Unlock()
	return nil
}

// writeTargetState records a connector's target state (STARTED, PAUSED or
// STOPPED) in the configs topic.
func (f *flow) writeTargetState(ctx context.Context, k connKind, state string) error {
	return f.writeConfigsRecord(ctx, k, connectstate.TargetStateKey(connClasses[k]), connectstate.TargetStateValue(state))
}

func (f *flow) writeConfigsRecord(ctx context.Context, k connKind, key string, value []byte) error {
	cfg := f.view.Load()
	cl, err := kgo.NewClient(append(slices.Clone(f.tgtOpts), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	rec := &kgo.Record{Topic: cfg.ConfigsTopic, Partition: 0, Key: []byte(key), Value: value,
		Headers: []kgo.RecordHeader{{Key: instanceHeader, Value: []byte(f.instance)}}}
	if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return fmt.Errorf("write %s of %s to %s on cluster %s: %w", key, connectorName(*cfg, k), cfg.ConfigsTopic, cfg.Target, err)
	}
	return nil
}
