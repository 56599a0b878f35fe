package connectstate

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/internal/topicread"
)

// Status is Connect's status-topic value for a connector or task.
type Status struct {
	State      string  `json:"state"`
	Trace      *string `json:"trace"`
	WorkerID   string  `json:"worker_id"`
	Generation int     `json:"generation"`
}

// TaskStatusKey is Connect's status-topic key of task id of connector
// class ("status-task-MirrorSourceConnector-0"). The status topic is per
// flow, as in MM2's dedicated mode, so a connector is named by its class.
func TaskStatusKey(class string, id int) string {
	return "status-task-" + class + "-" + strconv.Itoa(id)
}

// ConnectorStatusKey is Connect's status-topic key of connector class.
func ConnectorStatusKey(class string) string { return "status-connector-" + class }

// StatusWriter writes connector and task states to a flow's status topic,
// asynchronously. A nil *StatusWriter writes nothing (a flow without
// state topics). Safe for concurrent use.
type StatusWriter struct {
	topic    string
	workerID string
	cl       *kgo.Client
	onError  func(error)
	// generation is the worker group's generation this worker has, which
	// every record carries (as Connect's do); set at each assignment.
	generation atomic.Int32
}

// NewStatusWriter writes to topic through cl, which it owns (Close closes
// it), naming this worker workerID; onError hears failed writes.
func NewStatusWriter(topic, workerID string, cl *kgo.Client, onError func(error)) *StatusWriter {
	return &StatusWriter{topic: topic, workerID: workerID, cl: cl, onError: onError}
}

// SetGeneration records the group generation of the assignment the flow
// got; the records written from then on carry it.
func (w *StatusWriter) SetGeneration(g int32) {
	if w != nil {
		w.generation.Store(g)
	}
}

// Task writes the state of task id of connector class; err is its trace.
func (w *StatusWriter) Task(class string, id int, state string, err error) {
	w.write(TaskStatusKey(class, id), state, err)
}

// Connector writes the state of connector class.
func (w *StatusWriter) Connector(class, state string) {
	w.write(ConnectorStatusKey(class), state, nil)
}

func (w *StatusWriter) write(key string, state string, err error) {
	if w == nil {
		return
	}
	rec := Status{State: state, WorkerID: w.workerID, Generation: int(w.generation.Load())}
	if err != nil {
		trace := err.Error()
		rec.Trace = &trace
	}
	value, _ := json.Marshal(rec)
	w.cl.Produce(context.Background(), &kgo.Record{Topic: w.topic, Key: []byte(key), Value: value}, func(_ *kgo.Record, err error) {
		if err != nil && !errors.Is(err, kgo.ErrClientClosed) && w.onError != nil {
			w.onError(err)
		}
	})
}

// Close closes the writer's client; writes not yet acknowledged are
// dropped.
func (w *StatusWriter) Close() {
	if w != nil {
		w.cl.Close()
	}
}

// StatusView is what a status topic says of each connector and task, by
// key, as Connect's status store keeps it: how a worker shows the tasks
// other workers of its group run. Safe for concurrent use.
type StatusView struct {
	mu sync.Mutex
	m  map[string]Status
}

// Apply takes a record of the status topic; it reports false for one that
// is not a status.
func (v *StatusView) Apply(r *kgo.Record) bool {
	var rec Status
	if r.Value != nil && (json.Unmarshal(r.Value, &rec) != nil || rec.State == "") {
		return false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if r.Value == nil {
		delete(v.m, string(r.Key))
		return true
	}
	if v.m == nil {
		v.m = map[string]Status{}
	}
	v.m[string(r.Key)] = rec
	return true
}

// Task returns the last status written for task id of connector class.
func (v *StatusView) Task(class string, id int) (Status, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	rec, ok := v.m[TaskStatusKey(class, id)]
	return rec, ok
}

// Follow reads topic from its start into v until ctx is done; opts are the
// target cluster's client options. Malformed records are logged and
// skipped.
func (v *StatusView) Follow(ctx context.Context, topic string, opts []kgo.Opt, log *slog.Logger) {
	fl := topicread.NewFollower(topic, func(r *kgo.Record) {
		if !v.Apply(r) {
			log.Warn("skipping malformed record in status topic", "topic", topic, "partition", r.Partition, "offset", r.Offset)
		}
	})
	follow(ctx, fl, topic, opts, log)
}

// follow runs fl on topic until ctx is done, warning about fetch errors at
// most once a minute (the client retries them). log says which cluster.
func follow(ctx context.Context, fl *topicread.Follower, topic string, opts []kgo.Opt, log *slog.Logger) {
	fl.Run(ctx, opts, topicread.WarnEvery(log, time.Minute, "reading an internal topic failed; retrying", "topic", topic))
}
