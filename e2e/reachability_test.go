package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/strait-replicator/strait/internal/kafkatest"
)

// restartable is a kfake cluster on fixed ports whose data lives in a
// directory, so that it can be stopped and started again at the same
// addresses: an outage and its end, as a worker sees them.
type restartable struct {
	alias string
	ports []int
	dir   string
	*cluster
}

func newRestartable(t *testing.T, alias string, brokers int) *restartable {
	t.Helper()
	r := &restartable{alias: alias, dir: t.TempDir()}
	for len(r.ports) < brokers {
		if p := kafkatest.LowPort(t); !slices.Contains(r.ports, p) {
			r.ports = append(r.ports, p)
		}
	}
	r.start(t)
	t.Cleanup(func() {
		if r.cluster != nil {
			r.Close()
		}
	})
	return r
}

// start starts the cluster on its ports with its data.
func (r *restartable) start(t *testing.T) {
	t.Helper()
	c, err := kafkatest.NewCluster(r.alias, len(r.ports), kfake.Ports(r.ports...), kfake.DataDir(r.dir),
		kfake.GroupMinSessionTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	r.cluster = &cluster{r.alias, c}
}

// stop closes the cluster: its ports refuse connections until start.
func (r *restartable) stop() {
	r.Close()
	r.cluster = nil
}

// seedList is the cluster's bootstrap servers, known while it is down.
func (r *restartable) seedList() string {
	addrs := make([]string, len(r.ports))
	for i, p := range r.ports {
		addrs[i] = "127.0.0.1:" + strconv.Itoa(p)
	}
	return strings.Join(addrs, ",")
}

// outageWorker is `strait run` over two restartable clusters A and B with
// A->B enabled, a REST listener and JSON logs.
type outageWorker struct {
	a, b *restartable
	addr string // host:port of the REST API
	p    *process
}

func startOutageWorker(t *testing.T, extra ...string) *outageWorker {
	t.Helper()
	a, b := newRestartable(t, "A", 3), newRestartable(t, "B", 3)
	a.createTopic(t, "orders", 2, nil)
	a.produce(t, "orders", 2, 0, 50, "outage")
	addr := "127.0.0.1:" + strconv.Itoa(kafkatest.LowPort(t))
	lines := append([]string{"A->B.enabled = true", "listeners = http://" + addr}, extra...)
	// The restartable clusters' seeds are their fixed ports (props uses
	// the running listeners, the same).
	p := startProcess(t, "run", "--log-format", "json", "-c", writeFile(t, "mm2.properties", props([]*cluster{a.cluster, b.cluster}, lines...)))
	w := &outageWorker{a: a, b: b, addr: addr, p: p}
	logOnFailure(t, p)
	waitCopied(t, b.cluster, "A.orders", 100, 30*time.Second)
	waitFor(t, 15*time.Second, func() (bool, string) {
		code, body, _, err := w.get("/readyz")
		return err == nil && code == 200, fmt.Sprintf("/readyz: %d %s %v", code, body, err)
	})
	return w
}

// logOnFailure shows the worker's log when the test fails.
func logOnFailure(t *testing.T, p *process) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker output:\n%s", p.output)
		}
	})
}

// answerTimeout is the client timeout of every request made during an
// outage: status, metrics and readiness must answer before it.
const answerTimeout = time.Second

// get calls the REST API with answerTimeout and returns how long the answer
// took.
func (w *outageWorker) get(path string) (int, string, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), answerTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+w.addr+path, nil)
	if err != nil {
		return 0, "", 0, err
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", time.Since(start), err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), time.Since(start), err
}

// answers keeps the slowest answer of each path, and fails the test for a
// request that did not answer before answerTimeout.
type answers struct {
	t       *testing.T
	slowest map[string]time.Duration
}

func (a *answers) get(w *outageWorker, path string) (int, string) {
	a.t.Helper()
	code, body, took, err := w.get(path)
	if err != nil {
		a.t.Fatalf("GET %s did not answer before the %s client timeout: %v", path, answerTimeout, err)
	}
	key, _, _ := strings.Cut(path, "?")
	if took > a.slowest[key] {
		a.slowest[key] = took
	}
	return code, body
}

// reachStatus is the part of Connect's status answer that tells an outage.
type reachStatus struct {
	Connector struct {
		State       string `json:"state"`
		Trace       string `json:"trace"`
		StraitState string `json:"strait_state"`
	} `json:"connector"`
	Tasks []struct {
		ID          int    `json:"id"`
		State       string `json:"state"`
		WorkerID    string `json:"worker_id"`
		Trace       string `json:"trace"`
		StraitState string `json:"strait_state"`
	} `json:"tasks"`
}

// metricValue is the value of the series of name whose labels contain
// every one of labels in a Prometheus text answer, or "" if absent.
func metricValue(body, name string, labels ...string) string {
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, name+"{") && containsAll(line, labels) {
			f := strings.Fields(line)
			return f[len(f)-1]
		}
	}
	return ""
}

// logLines are the worker's JSON log lines with level and msg as given
// whose attributes include attrs (string values).
func logLines(output, level, msg string, attrs map[string]string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) != nil || m["level"] != level || m["msg"] != msg {
			continue
		}
		match := true
		for k, v := range attrs {
			if m[k] != v {
				match = false
			}
		}
		if match {
			out = append(out, m)
		}
	}
	return out
}

const (
	logOutageStart = "cluster unreachable"
	logOutageEnd   = "cluster reachable again"
)

// TestOutageShows: while the target cluster and then the source cluster is
// down, the worker says so everywhere an operator looks, and answers while
// it does: the connector and its tasks carry Connect's trace and
// strait_state UNREACHABLE_TARGET (or _SOURCE), /metrics has
// cluster_reachable 0 for the cluster, /readyz turns not ready once the
// outage is older than readiness.unreachable.timeout.ms, and the log has
// one WARN when the outage starts and one INFO with its duration when it
// ends. Every request answers before a 1 s client timeout.
func TestOutageShows(t *testing.T) {
	w := startOutageWorker(t, "readiness.unreachable.timeout.ms = 2000")
	ans := &answers{t: t, slowest: map[string]time.Duration{}}
	const status = "/connectors/A.B.MirrorSourceConnector/status"
	for _, tc := range []struct {
		down             *restartable
		other            *restartable
		straitState, was string
	}{
		{down: w.b, other: w.a, straitState: "UNREACHABLE_TARGET", was: "target"},
		{down: w.a, other: w.b, straitState: "UNREACHABLE_SOURCE", was: "source"},
	} {
		alias := tc.down.alias
		t.Logf("stopping %s (the %s)", alias, tc.was)
		stopped := time.Now()
		tc.down.stop()
		waitFor(t, 30*time.Second, func() (bool, string) {
			code, body := ans.get(w, status)
			var st reachStatus
			if code != 200 || json.Unmarshal([]byte(body), &st) != nil {
				return false, fmt.Sprintf("status: %d %s", code, body)
			}
			if st.Connector.StraitState != tc.straitState || !strings.Contains(st.Connector.Trace, "cluster "+alias) {
				return false, fmt.Sprintf("connector strait_state %q trace %q, want %s and a trace naming cluster %s: %s", st.Connector.StraitState, st.Connector.Trace, tc.straitState, alias, body)
			}
			if len(st.Tasks) == 0 {
				return false, "the status lists no task: " + body
			}
			for _, task := range st.Tasks {
				if task.StraitState != tc.straitState || task.Trace == "" {
					return false, fmt.Sprintf("task %d: strait_state %q trace %q, want %s: %s", task.ID, task.StraitState, task.Trace, tc.straitState, body)
				}
			}
			_, metrics := ans.get(w, "/metrics")
			down, up := metricValue(metrics, "cluster_reachable", `cluster="`+alias+`"`), metricValue(metrics, "cluster_reachable", `cluster="`+tc.other.alias+`"`)
			if down != "0" || up != "1" {
				return false, fmt.Sprintf("cluster_reachable %s=%q (want 0), %s=%q (want 1)", alias, down, tc.other.alias, up)
			}
			return true, ""
		})
		t.Logf("%s down: status and metrics showed it after %s", alias, time.Since(stopped).Round(time.Millisecond))
		// A task's own status says it too, and the tasks stay listed
		// (UNASSIGNED once the worker is out of the group with the
		// target down) for as long as the outage lasts.
		waitFor(t, 10*time.Second, func() (bool, string) {
			var st reachStatus
			_, body := ans.get(w, status)
			if json.Unmarshal([]byte(body), &st) != nil || len(st.Tasks) == 0 {
				return false, fmt.Sprintf("%s down: status lists no task: %s", alias, body)
			}
			code, body := ans.get(w, fmt.Sprintf("/connectors/A.B.MirrorSourceConnector/tasks/%d/status", st.Tasks[0].ID))
			var task struct {
				StraitState string `json:"strait_state"`
				Trace       string `json:"trace"`
			}
			ok := code == 200 && json.Unmarshal([]byte(body), &task) == nil && task.StraitState == tc.straitState && strings.Contains(task.Trace, "cluster "+alias)
			return ok, fmt.Sprintf("%s down: task status %d %s, want strait_state %s and a trace naming the cluster", alias, code, body, tc.straitState)
		})
		waitFor(t, 30*time.Second, func() (bool, string) {
			code, body := ans.get(w, "/readyz")
			return code == 503 && strings.Contains(body, alias), fmt.Sprintf("/readyz: %d %s, want 503 naming %s", code, body, alias)
		})
		t.Logf("%s down: /readyz not ready after %s", alias, time.Since(stopped).Round(time.Millisecond))
		// Keep asking for a while into the outage: every answer comes
		// before the client timeout.
		for range 20 {
			var st reachStatus
			if _, body := ans.get(w, status); json.Unmarshal([]byte(body), &st) != nil || len(st.Tasks) == 0 {
				t.Errorf("%s down: the status lists no task: %s", alias, body)
			}
			ans.get(w, "/metrics")
			ans.get(w, "/readyz")
			ans.get(w, "/connectors?expand=status")
		}
		starts := logLines(w.p.output.String(), "WARN", logOutageStart, map[string]string{"cluster": alias})
		if len(starts) != 1 {
			t.Errorf("%d WARN %q logs for %s, want 1", len(starts), logOutageStart, alias)
		}

		t.Logf("starting %s again", alias)
		tc.down.start(t)
		waitFor(t, 30*time.Second, func() (bool, string) {
			code, body := ans.get(w, status)
			var st reachStatus
			if code != 200 || json.Unmarshal([]byte(body), &st) != nil {
				return false, fmt.Sprintf("status: %d %s", code, body)
			}
			if st.Connector.StraitState != "" {
				return false, "connector strait_state still " + st.Connector.StraitState
			}
			if len(st.Tasks) == 0 {
				return false, "the status lists no task: " + body
			}
			for _, task := range st.Tasks {
				if task.State != "RUNNING" || task.StraitState != "" {
					return false, fmt.Sprintf("task %d is %s (strait_state %q), want RUNNING again: %s", task.ID, task.State, task.StraitState, body)
				}
			}
			_, metrics := ans.get(w, "/metrics")
			if v := metricValue(metrics, "cluster_reachable", `cluster="`+alias+`"`); v != "1" {
				return false, fmt.Sprintf("cluster_reachable %s=%q, want 1", alias, v)
			}
			code, body = ans.get(w, "/readyz")
			return code == 200, fmt.Sprintf("/readyz: %d %s", code, body)
		})
		ends := logLines(w.p.output.String(), "INFO", logOutageEnd, map[string]string{"cluster": alias})
		if len(ends) != 1 {
			t.Fatalf("%d INFO %q logs for %s, want 1", len(ends), logOutageEnd, alias)
		}
		if d, err := time.ParseDuration(fmt.Sprint(ends[0]["outage"])); err != nil || d < 2*time.Second {
			t.Errorf("outage of %s logged as %v, want a duration of at least the 2 s it was unreachable before /readyz said so", alias, ends[0]["outage"])
		}
		if starts := logLines(w.p.output.String(), "WARN", logOutageStart, map[string]string{"cluster": alias}); len(starts) != 1 {
			t.Errorf("%d WARN %q logs for %s after the outage, want 1", len(starts), logOutageStart, alias)
		}
	}
	// Replication goes on after both outages.
	w.a.produce(t, "orders", 2, 50, 10, "outage")
	waitCopied(t, w.b.cluster, "A.orders", 120, 60*time.Second)
	t.Logf("slowest answers during the outages: %v", ans.slowest)
}

// silentCluster listens on a port below 32768, accepts connections and
// never answers: a cluster behind a firewall that drops packets, as a
// client sees it. It stops when the test ends.
func silentCluster(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(kafkatest.LowPort(t)))
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() { // joined in Cleanup
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

// TestOutageAtStart: a worker started while its target does not answer
// says so while it is still trying to connect: /metrics has
// cluster_reachable 0 for the target (1 for the source), the log has one
// WARN naming it, and /readyz names it once the outage is older than
// readiness.unreachable.timeout.ms; all answer before a 1 s client
// timeout. (A target that refuses connections fails the start at once,
// naming the cluster.)
func TestOutageAtStart(t *testing.T) {
	a := newCluster(t, "A", 1)
	addr := "127.0.0.1:" + strconv.Itoa(kafkatest.LowPort(t))
	text := fmt.Sprintf("clusters = A, B\nA.bootstrap.servers = %s\nB.bootstrap.servers = %s\nA->B.enabled = true\nlisteners = http://%s\nreadiness.unreachable.timeout.ms = 1000\n",
		a.seeds(), silentCluster(t), addr)
	p := startProcess(t, "run", "--log-format", "json", "-c", writeFile(t, "mm2.properties", text))
	logOnFailure(t, p)
	w := &outageWorker{addr: addr, p: p}
	ans := &answers{t: t, slowest: map[string]time.Duration{}}
	// The listener opens a moment after the process starts.
	waitFor(t, 10*time.Second, func() (bool, string) {
		code, body, _, err := w.get("/healthz")
		return code == 200, fmt.Sprintf("/healthz: %d %s %v", code, body, err)
	})
	waitFor(t, 15*time.Second, func() (bool, string) {
		code, metrics := ans.get(w, "/metrics")
		b, a := metricValue(metrics, "cluster_reachable", `cluster="B"`), metricValue(metrics, "cluster_reachable", `cluster="A"`)
		return code == 200 && b == "0" && a == "1", fmt.Sprintf("/metrics %d: cluster_reachable B=%q (want 0), A=%q (want 1)", code, b, a)
	})
	waitFor(t, 10*time.Second, func() (bool, string) {
		code, body := ans.get(w, "/readyz")
		return code == 503 && strings.Contains(body, `"unreachable":["B"]`), fmt.Sprintf("/readyz: %d %s, want 503 naming B", code, body)
	})
	if n := len(logLines(p.output.String(), "WARN", logOutageStart, map[string]string{"cluster": "B"})); n != 1 {
		t.Errorf("%d WARN %q logs for B, want 1", n, logOutageStart)
	}
	if n := len(logLines(p.output.String(), "WARN", logOutageStart, map[string]string{"cluster": "A"})); n != 0 {
		t.Errorf("%d WARN %q logs for A, which answers, want 0", n, logOutageStart)
	}
	t.Logf("slowest answers while B did not answer at start: %v", ans.slowest)
}
