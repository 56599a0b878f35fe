package replicator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-replicator/strait/replicator"
	"github.com/strait-replicator/strait/replicator/rest"
)

// TestStatusAnswersWhileTasksStop: pausing a connector whose task cannot
// flush (the target holds every produce request, so the stopping task
// waits for its in-flight records, up to its 6 s bound) leaves
// GET .../status answering at once: tasks stop outside the lock that
// status readers take.
func TestStatusAnswersWhileTasksStop(t *testing.T) {
	a, b := replicator.NewTestCluster(t, "A"), replicator.NewTestCluster(t, "B")
	hold := holdProduces(b, "A.orders") // only the copy to the remote topic, not the state topics

	src, err := kgo.NewClient(kgo.SeedBrokers(a.ListenAddrs()...), kgo.DefaultProduceTopic("orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := kadm.NewClient(src).CreateTopic(ctx, 1, -1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	var produce sync.WaitGroup
	produce.Go(func() { // records keep coming while the connector is paused
		for ctx.Err() == nil {
			src.Produce(ctx, &kgo.Record{Value: []byte("v")}, nil)
			time.Sleep(time.Millisecond)
		}
	})
	t.Cleanup(func() { cancel(); produce.Wait() })

	w := replicator.NewABWorker(t, a, b)
	replicator.RunWorker(t, w)
	// Cleanups run last first: the held requests go before the worker
	// stops (its task waits for them) and the clusters close.
	t.Cleanup(hold.unhold)
	srv := httptest.NewServer(rest.NewHandler(w, rest.Config{Version: "test", WorkerID: "w1:8083"}))
	t.Cleanup(srv.Close)
	url := srv.URL + "/connectors/A.B.MirrorSourceConnector"
	cl := &http.Client{Timeout: 10 * time.Second}
	type status struct {
		Connector struct {
			State string `json:"state"`
		} `json:"connector"`
		Tasks []struct {
			State string `json:"state"`
		} `json:"tasks"`
	}
	get := func() (status, time.Duration) {
		t.Helper()
		began := time.Now()
		resp, err := cl.Get(url + "/status")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st status
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("status: %d, %v", resp.StatusCode, err)
		}
		return st, time.Since(began)
	}
	replicator.WaitUntil(t, 30*time.Second, func() (bool, string) {
		st, _ := get()
		return len(st.Tasks) == 1 && st.Tasks[0].State == replicator.StateRunning, fmt.Sprintf("status %+v", st)
	})

	tgt, err := kgo.NewClient(kgo.SeedBrokers(b.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tgt.Close)
	topics, err := kadm.NewClient(tgt).ListTopics(ctx, "A.orders")
	if err != nil || !topics.Has("A.orders") {
		t.Fatalf("A.orders on B: %v, %v", topics, err)
	}
	id := [16]byte(topics["A.orders"].ID)
	hold.remoteID.Store(&id)
	hold.on.Store(true)
	replicator.WaitUntil(t, 10*time.Second, func() (bool, string) { return hold.held.Load() > 0, "no produce request held" })
	req, _ := http.NewRequest(http.MethodPut, url+"/pause", nil)
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("pause: %d", resp.StatusCode)
	}
	// For 2 s the task is stopping (its records are held): every status
	// call answers at once, and shows the connector paused and the task
	// not stopped yet.
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		st, took := get()
		if took > 300*time.Millisecond {
			t.Fatalf("GET status took %v while the task was stopping", took)
		}
		if st.Connector.State != replicator.StatePaused || len(st.Tasks) != 1 || st.Tasks[0].State != replicator.StateRunning {
			t.Fatalf("while the task stops: %+v, want the connector PAUSED and its task still RUNNING", st)
		}
	}
	hold.unhold()
	replicator.WaitUntil(t, 15*time.Second, func() (bool, string) {
		st, _ := get()
		return len(st.Tasks) == 1 && st.Tasks[0].State == replicator.StatePaused, fmt.Sprintf("status %+v", st)
	})
}

// produceHold holds, while on, the produce requests a test cluster gets
// for one topic, until unhold.
type produceHold struct {
	on       atomic.Bool
	remoteID atomic.Pointer[[16]byte] // the topic's id, once known (requests may name it by id)
	held     atomic.Int32             // requests held so far
	release  chan struct{}
	once     sync.Once
}

// holdProduces installs a produceHold on c for topic, off at first.
func holdProduces(c *kfake.Cluster, topic string) *produceHold {
	h := &produceHold{release: make(chan struct{})}
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if h.on.Load() && producesTo(req, topic, h.remoteID.Load()) {
			h.held.Add(1)
			c.SleepControl(func() { <-h.release })
		}
		return nil, nil, false
	})
	return h
}

// unhold lets every held request, and those to come, through.
func (h *produceHold) unhold() { h.once.Do(func() { close(h.release) }) }

// producesTo reports whether a produce request writes to topic (named, or
// by id from version 13 on).
func producesTo(req kmsg.Request, topic string, id *[16]byte) bool {
	p, ok := req.(*kmsg.ProduceRequest)
	if !ok {
		return false
	}
	for _, t := range p.Topics {
		if t.Topic == topic || id != nil && t.TopicID == *id {
			return true
		}
	}
	return false
}
