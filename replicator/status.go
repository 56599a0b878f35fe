package replicator

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

// statusRecord is Connect's status-topic value for a connector or task
// (schemas disabled).
type statusRecord struct {
	State      string  `json:"state"`
	Trace      *string `json:"trace"`
	WorkerID   string  `json:"worker_id"`
	Generation int     `json:"generation"`
}

// statusWriter writes connector and task states to the flow's status topic,
// under Connect's keys ("status-task-<connector>-<id>",
// "status-connector-<connector>"), asynchronously. The status topic is per
// flow, as in MM2's dedicated mode, so the connector is named by its class.
type statusWriter struct {
	topic    string
	workerID string
	cl       *kgo.Client // nil: writes nothing
	onError  func(error)
	// generation is the worker group's generation this worker has, which
	// every record carries (as Connect's do); set at each assignment.
	generation atomic.Int32
}

// setGeneration records the group generation of the assignment the flow
// got; the records written from then on carry it. Safe for concurrent use.
func (w *statusWriter) setGeneration(g int32) {
	if w != nil {
		w.generation.Store(g)
	}
}

func (w *statusWriter) write(key string, state string, err error) {
	if w == nil || w.cl == nil {
		return
	}
	rec := statusRecord{State: state, WorkerID: w.workerID, Generation: int(w.generation.Load())}
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

func (w *statusWriter) task(k connKind, id int, state string, err error) {
	w.write(taskStatusKey(k, id), state, err)
}

// taskStatusKey is Connect's status-topic key of task id of connector k.
func taskStatusKey(k connKind, id int) string {
	return "status-task-" + connClasses[k] + "-" + strconv.Itoa(id)
}

func (w *statusWriter) connector(k connKind, state string) {
	w.write("status-connector-"+connClasses[k], state, nil)
}

// statusView is what the status topic says of each connector and task, by
// key, as Connect's status store keeps it: how a worker shows the tasks
// other workers of its group run.
type statusView struct {
	mu sync.Mutex
	m  map[string]statusRecord
}

// apply takes a record of the status topic; it reports false for one that
// is not a status.
func (v *statusView) apply(r *kgo.Record) bool {
	var rec statusRecord
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
		v.m = map[string]statusRecord{}
	}
	v.m[string(r.Key)] = rec
	return true
}

// task returns the last status written for task id of connector k.
func (v *statusView) task(k connKind, id int) (statusRecord, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	rec, ok := v.m[taskStatusKey(k, id)]
	return rec, ok
}

// followStatus reads the flow's status topic from its start into
// f.statusView until ctx is done.
func (f *flow) followStatus(ctx context.Context) {
	topic := f.statusTopic
	fl := topicread.NewFollower(topic, func(r *kgo.Record) {
		if !f.statusView.apply(r) {
			f.log.Warn("skipping malformed record in status topic", "topic", topic, "partition", r.Partition, "offset", r.Offset)
		}
	})
	followTopic(ctx, fl, topic, f.tgtOpts, f.log)
}

// followTopic runs fl on topic until ctx is done, warning about fetch
// errors at most once a minute (the client retries them).
func followTopic(ctx context.Context, fl *topicread.Follower, topic string, opts []kgo.Opt, log *slog.Logger) {
	var warned time.Time
	fl.Run(ctx, opts, func(err error) {
		if time.Since(warned) > time.Minute {
			warned = time.Now()
			log.Warn("reading an internal topic failed; retrying", "topic", topic, "err", err)
		}
	})
}

// statusElsewhere returns how the status topic shows task id of connector k,
// run by another worker: its state, failure and worker; ok is false when
// the topic names no other worker for it.
func (f *flow) statusElsewhere(k connKind, id int) (state string, err error, worker string, ok bool) {
	rec, found := f.statusView.task(k, id)
	if !found || rec.WorkerID == f.workerID {
		return "", nil, "", false
	}
	if rec.Trace != nil {
		err = errors.New(*rec.Trace)
	}
	return rec.State, err, rec.WorkerID, true
}
