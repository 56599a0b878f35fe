package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	restapi "github.com/strait-replicator/strait/replicator/rest"
)

// rest calls the API and decodes the JSON answer into out (if not nil).
func rest(t *testing.T, method, url string, wantStatus int, out any) {
	t.Helper()
	restBody(t, method, url, "", wantStatus, out)
}

// restBody is rest with a JSON request body.
func restBody(t *testing.T, method, url, body string, wantStatus int, out any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: %d %s, want %d", method, url, resp.StatusCode, answer, wantStatus)
	}
	if out != nil {
		if err := json.Unmarshal(answer, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, answer)
		}
	}
}

type connectorState struct {
	Name      string `json:"name"`
	Connector struct {
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
	} `json:"connector"`
	Tasks []struct {
		ID               int    `json:"id"`
		State            string `json:"state"`
		Trace            string `json:"trace"`
		FailedPartitions []struct {
			Topic     string `json:"topic"`
			Partition int32  `json:"partition"`
			Error     string `json:"error"`
		} `json:"failed_partitions"`
	} `json:"tasks"`
	Type string `json:"type"`
}

func restServer(t *testing.T, w *worker) string {
	t.Helper()
	srv := httptest.NewServer(restapi.NewHandler(w.Worker, restapi.Config{Version: "test", WorkerID: "w1:8083"}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRESTAPI drives the Connect-style API over HTTP: listings, info,
// config, tasks, status, 404s; pause stops copying and resume restarts it;
// the paused state survives a restart of the worker; restarting a failed
// task brings it back.
func TestRESTAPI(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 2, nil)
	a.produce(t, "orders", 2, 0, 100, "rest")
	text := props([]*cluster{a, b}, "A->B.enabled = true", "tasks.max = 2", "emit.heartbeats.enabled = false")
	w := startWorker(t, text)
	url := restServer(t, w)
	waitCopied(t, b, "A.orders", 200, 30*time.Second)
	src := url + "/connectors/A.B.MirrorSourceConnector"

	var info struct {
		Version string `json:"version"`
	}
	rest(t, "GET", url+"/", 200, &info)
	var names []string
	rest(t, "GET", url+"/connectors", 200, &names)
	if strings.Join(names, ",") != "A.B.MirrorCheckpointConnector,A.B.MirrorSourceConnector" {
		t.Errorf("connectors: %v", names)
	}
	var expanded map[string]map[string]json.RawMessage
	rest(t, "GET", url+"/connectors?expand=status&expand=info", 200, &expanded)
	if len(expanded["A.B.MirrorSourceConnector"]["status"]) == 0 || len(expanded["A.B.MirrorSourceConnector"]["info"]) == 0 {
		t.Errorf("expand: %v", expanded)
	}
	var ci struct {
		Name   string            `json:"name"`
		Config map[string]string `json:"config"`
		Tasks  []struct {
			Connector string `json:"connector"`
			Task      int    `json:"task"`
		} `json:"tasks"`
		Type string `json:"type"`
	}
	rest(t, "GET", src, 200, &ci)
	if ci.Config["connector.class"] != "org.apache.kafka.connect.mirror.MirrorSourceConnector" || ci.Config["tasks.max"] != "2" || len(ci.Tasks) != 2 || ci.Type != "source" {
		t.Errorf("info: %+v", ci)
	}
	var cfg map[string]string
	rest(t, "GET", src+"/config", 200, &cfg)
	if cfg["source.cluster.alias"] != "A" || cfg["target.cluster.alias"] != "B" || cfg["name"] != "A.B.MirrorSourceConnector" {
		t.Errorf("config: %v", cfg)
	}
	var tasks []struct {
		Config map[string]string `json:"config"`
	}
	rest(t, "GET", src+"/tasks", 200, &tasks)
	if len(tasks) != 2 || tasks[0].Config["task.assigned.partitions"] != "orders-0" {
		t.Errorf("tasks: %+v", tasks)
	}
	var st connectorState
	rest(t, "GET", src+"/status", 200, &st)
	if st.Connector.State != "RUNNING" || st.Connector.WorkerID != "w1:8083" || len(st.Tasks) != 2 || st.Tasks[1].State != "RUNNING" {
		t.Errorf("status: %+v", st)
	}
	var ts struct {
		ID    int    `json:"id"`
		State string `json:"state"`
	}
	rest(t, "GET", src+"/tasks/1/status", 200, &ts)
	if ts.ID != 1 || ts.State != "RUNNING" {
		t.Errorf("task status: %+v", ts)
	}
	var e struct {
		Code    int    `json:"error_code"`
		Message string `json:"message"`
	}
	for _, c := range []struct{ method, path, msg string }{
		{"GET", "/connectors/nope", "Connector nope not found"},
		{"GET", "/connectors/nope/status", "No status found for connector nope"},
		{"GET", "/connectors/A.B.MirrorSourceConnector/tasks/7/status", "No status found for task A.B.MirrorSourceConnector-7"},
		{"PUT", "/connectors/nope/pause", "Unknown connector nope"},
		{"POST", "/connectors/nope/restart", "Unknown connector: nope"},
		{"POST", "/connectors/A.B.MirrorSourceConnector/tasks/9/restart", "Unknown task: A.B.MirrorSourceConnector-9"},
		{"GET", "/no/such/route", "HTTP 404 Not Found"},
	} {
		rest(t, c.method, url+c.path, 404, &e)
		if e.Code != 404 || e.Message != c.msg {
			t.Errorf("%s %s: %+v, want message %q", c.method, c.path, e, c.msg)
		}
	}

	// Pause: tasks stop within 2 s, and nothing is copied while paused.
	rest(t, "PUT", src+"/pause", 202, nil)
	waitFor(t, 2*time.Second, func() (bool, string) {
		rest(t, "GET", src+"/status", 200, &st)
		return st.Connector.State == "PAUSED" && len(st.Tasks) == 2 && st.Tasks[0].State == "PAUSED" && st.Tasks[1].State == "PAUSED", fmt.Sprintf("%+v", st)
	})
	a.produce(t, "orders", 2, 100, 50, "rest")
	// Nothing can signal that a stopped task stays stopped (no event
	// follows a copy that does not happen): a bounded window is the only
	// check. 1.5 s is three position flushes (500 ms) and a topic refresh
	// (1 s), and a running task copies these 100 records in far less:
	// the resume below must copy them within 2 s.
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if got := b.endOffsets(t, "A.orders"); got != 200 {
			t.Fatalf("A.orders grew to %d while paused", got)
		}
		time.Sleep(100 * time.Millisecond) // sampling interval of the observation window
	}

	// States are in the status topic under Connect's keys.
	waitFor(t, 5*time.Second, func() (bool, string) {
		latest := map[string]string{}
		for _, r := range b.rawRecords(t, "mm2-status.A.internal") {
			latest[string(r.Key)] = string(r.Value)
		}
		ok := strings.Contains(latest["status-task-MirrorSourceConnector-1"], `"state":"PAUSED"`) &&
			strings.Contains(latest["status-connector-MirrorSourceConnector"], `"state":"PAUSED"`) &&
			strings.Contains(latest["status-task-MirrorCheckpointConnector-0"], `"state":"RUNNING"`)
		return ok, fmt.Sprintf("status topic: %v", latest)
	})

	// The paused state survives a restart of the worker.
	w.stop(t)
	w = startWorker(t, text)
	url = restServer(t, w)
	src = url + "/connectors/A.B.MirrorSourceConnector"
	waitFor(t, 10*time.Second, func() (bool, string) {
		rest(t, "GET", src+"/status", 200, &st)
		return st.Connector.State == "PAUSED" && len(st.Tasks) == 2 && st.Tasks[0].State == "PAUSED", fmt.Sprintf("after restart: %+v", st)
	})
	if got := b.endOffsets(t, "A.orders"); got != 200 {
		t.Fatalf("A.orders grew to %d while paused across a restart", got)
	}

	// Resume: copying restarts within 2 s.
	rest(t, "PUT", src+"/resume", 202, nil)
	waitCopied(t, b, "A.orders", 300, 2*time.Second)

	// A failed partition comes back with a task restart: make the target
	// refuse partition 1's next record, then lift the limit.
	setMax := func(v string) {
		t.Helper()
		resp, err := b.admin(t).AlterTopicConfigs(t.Context(), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "max.message.bytes", Value: &v}}, "A.orders")
		if err == nil {
			var r kadm.AlterConfigsResponse
			if r, err = resp.On("A.orders", nil); err == nil {
				err = r.Err
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	rest(t, "GET", src+"/status", 200, &st)
	setMax("1000")
	a.produceRandom(t, "orders", 1, 4000)
	// The refused record stops only its partition: the task runs on and
	// names the partition, as its trace does.
	waitFor(t, 10*time.Second, func() (bool, string) {
		rest(t, "GET", src+"/status", 200, &st)
		fp := st.Tasks[1].FailedPartitions
		return st.Tasks[1].State == "RUNNING" && len(fp) == 1 && fp[0].Topic == "orders" &&
			strings.Contains(fp[0].Error, "MESSAGE_TOO_LARGE") && strings.Contains(st.Tasks[1].Trace, "MESSAGE_TOO_LARGE"), fmt.Sprintf("%+v", st)
	})
	setMax("1048588")
	rest(t, "POST", src+"/tasks/1/restart", 204, nil)
	waitFor(t, 2*time.Second, func() (bool, string) {
		rest(t, "GET", src+"/status", 200, &st)
		return st.Tasks[1].State == "RUNNING", fmt.Sprintf("%+v", st)
	})
	waitCopied(t, b, "A.orders", 301, 10*time.Second)

	// Restart with includeTasks answers 202 with the plan.
	var plan connectorState
	rest(t, "POST", src+"/restart?includeTasks=true", 202, &plan)
	if plan.Tasks[0].State != "RESTARTING" || plan.Tasks[1].State != "RESTARTING" {
		t.Errorf("restart plan: %+v", plan)
	}
	rest(t, "POST", src+"/restart", 204, nil)

	// PUT config: validated like the file, applied, kept across restarts.
	restBody(t, "PUT", src+"/config", `{"tasks.max": "zero", "topics": "("}`, 400, &e)
	if !strings.Contains(e.Message, "contains the following 2 error(s)") || !strings.Contains(e.Message, "A->B.tasks.max") {
		t.Errorf("invalid config: %+v", e)
	}
	restBody(t, "PUT", src+"/config", `{"name": "other", "tasks.max": 1}`, 400, &e)
	restBody(t, "PUT", url+"/connectors/X.Y.MirrorSourceConnector/config", `{"tasks.max": "1"}`, 400, &e)
	restBody(t, "POST", url+"/connectors", `{"name": "A.B.MirrorSourceConnector", "config": {}}`, 409, &e)
	if e.Message != "Connector A.B.MirrorSourceConnector already exists" {
		t.Errorf("409: %+v", e)
	}
	restBody(t, "PUT", src+"/config", `{"tasks.max": 1, "connector.class": "org.apache.kafka.connect.mirror.MirrorSourceConnector"}`, 200, &ci)
	if ci.Config["tasks.max"] != "1" {
		t.Errorf("PUT answer: %+v", ci)
	}
	waitFor(t, 5*time.Second, func() (bool, string) {
		rest(t, "GET", src+"/status", 200, &st)
		return len(st.Tasks) == 1 && st.Tasks[0].State == "RUNNING", fmt.Sprintf("after tasks.max=1: %+v", st)
	})
	a.produce(t, "orders", 2, 150, 10, "rest")
	waitCopied(t, b, "A.orders", 321, 10*time.Second)

	// DELETE removes the checkpoint connector; PUT brings it back (201).
	cp := url + "/connectors/A.B.MirrorCheckpointConnector"
	rest(t, "DELETE", cp, 204, nil)
	rest(t, "GET", cp, 404, &e)
	rest(t, "DELETE", cp, 404, &e)
	rest(t, "GET", url+"/connectors", 200, &names)
	if strings.Join(names, ",") != "A.B.MirrorSourceConnector" {
		t.Errorf("connectors after delete: %v", names)
	}

	w.stop(t)
	w = startWorker(t, text)
	url = restServer(t, w)
	src = url + "/connectors/A.B.MirrorSourceConnector"
	cp = url + "/connectors/A.B.MirrorCheckpointConnector"
	waitFor(t, 10*time.Second, func() (bool, string) {
		rest(t, "GET", src+"/status", 200, &st)
		return len(st.Tasks) == 1 && st.Tasks[0].State == "RUNNING", fmt.Sprintf("after restart, tasks.max=1 from the configs topic: %+v", st)
	})
	rest(t, "GET", cp, 404, &e)
	restBody(t, "PUT", cp+"/config", `{"tasks.max": "1"}`, 201, &ci)
	waitFor(t, 5*time.Second, func() (bool, string) {
		rest(t, "GET", cp+"/status", 200, &st)
		return st.Connector.State == "RUNNING" && len(st.Tasks) == 1 && st.Tasks[0].State == "RUNNING", fmt.Sprintf("re-created: %+v", st)
	})
}
