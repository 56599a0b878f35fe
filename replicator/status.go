package replicator

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"
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
}

func (w *statusWriter) write(key string, state string, err error) {
	if w == nil || w.cl == nil {
		return
	}
	rec := statusRecord{State: state, WorkerID: w.workerID}
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
	w.write("status-task-"+connClasses[k]+"-"+strconv.Itoa(id), state, err)
}

func (w *statusWriter) connector(k connKind, state string) {
	w.write("status-connector-"+connClasses[k], state, nil)
}
