package replicator

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/internal/topicread"
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
	flow *flow          // nil for a heartbeat-only pair
	hb   *heartbeatFlow // set for a heartbeat-only pair
}

func connectorName(cfg configs.Flow, k connKind) string {
	return cfg.Source + "." + cfg.Target + "." + connClasses[k]
}

func (w *Worker) refs() []connectorRef {
	var out []connectorRef
	for _, f := range w.flows {
		for k := range connKinds {
			if k == sourceConnector || f.singleConfigured(k) {
				out = append(out, connectorRef{name: connectorName(f.cfg, k), kind: k, cfg: f.cfg, flow: f})
			}
		}
	}
	for _, h := range w.heartbeats {
		out = append(out, connectorRef{name: connectorName(h.cfg, heartbeatConnector), kind: heartbeatConnector, cfg: h.cfg, hb: h})
	}
	slices.SortFunc(out, func(a, b connectorRef) int { return strings.Compare(a.name, b.name) })
	return out
}

func (w *Worker) ref(name string) (connectorRef, error) {
	for _, r := range w.refs() {
		if r.name == name {
			return r, nil
		}
	}
	return connectorRef{}, fmt.Errorf("%w %s", ErrUnknownConnector, name)
}

func (r connectorRef) control() *control {
	if r.flow != nil {
		return r.flow.ctl
	}
	return r.hb.ctl
}

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
	case r.hb != nil:
		cs.Tasks = []TaskStatus{r.hb.task.taskStatus(r.cfg.Name())}
	case r.kind == sourceConnector:
		cs.Tasks = r.flow.statuses()
	default:
		cs.Tasks = []TaskStatus{r.flow.singles[r.kind].taskStatus(r.cfg.Name())}
	}
	return cs
}

func (s *single) taskStatus(flow string) TaskStatus {
	state, err := s.status.get()
	return TaskStatus{ID: s.id, Flow: flow, State: state, Err: err}
}

// Connectors reports every connector of every flow, by name.
func (w *Worker) Connectors() []ConnectorStatus {
	var out []ConnectorStatus
	for _, r := range w.refs() {
		out = append(out, r.status())
	}
	return out
}

// Connector reports one connector; the error wraps ErrUnknownConnector.
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
	if r.flow != nil {
		if err := r.flow.writeTargetState(ctx, r.kind, paused); err != nil {
			return err
		}
	}
	r.control().setPaused(r.kind, paused)
	return nil
}

// Restart restarts the connector's tasks: with includeTasks every task (or,
// with onlyFailed, the failed ones); without it only the connector itself,
// which in Strait has no state to restart. It returns the status with the
// tasks to restart shown RESTARTING.
func (w *Worker) Restart(name string, includeTasks, onlyFailed bool) (ConnectorStatus, error) {
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
	r.control().requestRestart(r.kind, req)
	return st, nil
}

// RestartTask restarts task id of the connector; the error wraps
// ErrUnknownConnector or ErrUnknownTask.
func (w *Worker) RestartTask(name string, id int) error {
	r, err := w.ref(name)
	if err != nil {
		return err
	}
	if n := len(r.status().Tasks); id < 0 || id >= n {
		return fmt.Errorf("%w %s-%d", ErrUnknownTask, name, id)
	}
	r.control().requestRestart(r.kind, restartRequest{tasks: []int{id}})
	return nil
}

// singleConfigured reports whether the flow runs connector k's task.
func (f *flow) singleConfigured(k connKind) bool {
	switch k {
	case checkpointConnector:
		return f.cfg.EmitCheckpointsInterval > 0 && f.cfg.EmitOffsetSyncs
	case heartbeatConnector:
		return f.cfg.EmitHeartbeatsInterval > 0
	}
	return false
}

// targetState is Connect's configs-topic record of a connector's target
// state (schemas disabled), under key "target-state-<connector>".
type targetState struct {
	State   string `json:"state"`
	StateV2 string `json:"state.v2,omitempty"`
}

func targetStateKey(k connKind) string { return "target-state-" + connClasses[k] }

// loadTargetStates reads the paused connectors from the configs topic. The
// topic is per flow, as in MM2's dedicated mode, so the keys name MM2's
// connectors and MM2 reads the same states.
func (f *flow) loadTargetStates(ctx context.Context) error {
	return topicread.ReadToEnd(ctx, f.tgtAdm, f.tgtOpts, f.cfg.ConfigsTopic, func(r *kgo.Record) {
		for k := range connKinds {
			if string(r.Key) != targetStateKey(k) {
				continue
			}
			var ts targetState
			if r.Value != nil && json.Unmarshal(r.Value, &ts) != nil {
				f.log.Warn("skipping malformed record in configs topic", "topic", f.cfg.ConfigsTopic, "offset", r.Offset)
				return
			}
			state := ts.StateV2
			if state == "" {
				state = ts.State
			}
			f.ctl.setPaused(k, state == "PAUSED" || state == "STOPPED")
		}
	})
}

// writeTargetState records a connector's target state in the configs topic.
func (f *flow) writeTargetState(ctx context.Context, k connKind, paused bool) error {
	state := "STARTED"
	if paused {
		state = "PAUSED"
	}
	value, _ := json.Marshal(targetState{State: state, StateV2: state})
	cl, err := kgo.NewClient(append(slices.Clone(f.tgtOpts), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	rec := &kgo.Record{Topic: f.cfg.ConfigsTopic, Partition: 0, Key: []byte(targetStateKey(k)), Value: value}
	if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return fmt.Errorf("write target state of %s to %s on cluster %s: %w", connectorName(f.cfg, k), f.cfg.ConfigsTopic, f.cfg.Target, err)
	}
	return nil
}
