package replicator_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-replicator/strait/replicator"
	"github.com/strait-replicator/strait/replicator/rest"
)

// TestRESTWhileWorkerStarts: requests about connectors that arrive while
// Run still prepares the flows (here: the target's first CreateTopics is
// held) wait for it, as Connect's wait for its herder, and touch no flow
// state meanwhile (run with -race: requests are fired from the moment Run
// is called); past the start wait they answer 503 with Connect's error
// body. GET /, the health probes and /metrics answer at once; a request
// waiting when the worker starts succeeds.
func TestRESTWhileWorkerStarts(t *testing.T) {
	a, b := replicator.NewTestCluster(t, "A"), replicator.NewTestCluster(t, "B")
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	b.ControlKey(int16(kmsg.CreateTopics), func(kmsg.Request) (kmsg.Response, error, bool) {
		b.KeepControl()
		once.Do(func() {
			close(held)
			b.SleepControl(func() { <-release })
		})
		return nil, nil, false
	})
	var releaseOnce sync.Once
	unhold := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(unhold)

	w := replicator.NewABWorker(t, a, b)
	const startWait = 3 * time.Second
	w.SetStartWait(startWait)
	metrics := http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(http.StatusOK) })
	srv := httptest.NewServer(rest.NewHandler(w, rest.Config{Version: "test", WorkerID: "w1:8083", Metrics: metrics}))
	t.Cleanup(srv.Close)
	cl := &http.Client{Timeout: 3 * startWait}
	src := srv.URL + "/connectors/A.B.MirrorSourceConnector"
	type request struct{ method, url, body string }
	flowRequests := []request{
		{"GET", srv.URL + "/connectors", ""},
		{"GET", src + "/status", ""},
		{"GET", src + "/tasks", ""},
		{"PUT", src + "/config", `{"tasks.max": "2"}`},
		{"PUT", src + "/pause", ""},
		{"PUT", src + "/resume", ""},
		{"POST", src + "/restart?includeTasks=true", ""},
	}

	// Hammer from before Run is called until the worker runs: each answer
	// is 503 or, once it runs, a success.
	var stop atomic.Bool
	var hammer sync.WaitGroup
	for _, req := range flowRequests {
		hammer.Go(func() {
			for !stop.Load() {
				code, body := restCall(t, cl, req.method, req.url, req.body)
				if code != http.StatusServiceUnavailable && code/100 != 2 {
					t.Errorf("%s %s while starting: %d %s, want 503 or a success", req.method, req.url, code, body)
					return
				}
			}
		})
	}
	replicator.RunWorker(t, w)
	t.Cleanup(func() { stop.Store(true); hammer.Wait() })

	select {
	case <-held:
	case <-time.After(20 * time.Second):
		t.Fatal("the worker never created its internal topics")
	}
	var waited sync.WaitGroup
	for _, req := range flowRequests {
		waited.Go(func() {
			began := time.Now()
			code, body := restCall(t, cl, req.method, req.url, req.body)
			var e struct {
				Code    int    `json:"error_code"`
				Message string `json:"message"`
			}
			if code != http.StatusServiceUnavailable || json.Unmarshal([]byte(body), &e) != nil || e.Code != 503 || e.Message == "" {
				t.Errorf("%s %s while the worker prepares: %d %s, want 503 with an error body", req.method, req.url, code, body)
			}
			if d := time.Since(began); d < startWait {
				t.Errorf("%s %s answered after %v, want a wait of %v for the worker to start", req.method, req.url, d, startWait)
			}
		})
	}
	waited.Wait()
	for path, want := range map[string]int{"/": 200, "/healthz": 200, "/metrics": 200, "/readyz": 503} {
		if code, body := restCall(t, cl, "GET", srv.URL+path, ""); code != want {
			t.Errorf("GET %s while the worker prepares: %d %s, want %d", path, code, body, want)
		}
	}

	// A request waiting when the worker starts gets its answer.
	waiting := make(chan string, 1)
	go func() { // joined through waiting
		code, body := restCall(t, cl, "GET", src+"/status", "")
		waiting <- fmt.Sprint(code, " ", body)
	}()
	unhold()
	if got := <-waiting; !strings.HasPrefix(got, "200 ") {
		t.Errorf("status asked while the worker started: %s, want 200", got)
	}
	stop.Store(true)
	hammer.Wait()
	if code, body := restCall(t, cl, "PUT", src+"/pause", ""); code != http.StatusAccepted {
		t.Errorf("pause once running: %d %s, want 202", code, body)
	}
}

// restCall sends a request with a JSON body (none if empty) and returns the
// status and the answer.
func restCall(t *testing.T, cl *http.Client, method, url, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cl.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(answer)
}
