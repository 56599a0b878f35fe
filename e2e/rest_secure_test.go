package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strait-replicator/strait/configs"
)

// The REST API over https with Connect's basic authentication, checked with
// curl as an independent client: the fixtures of configs/testdata/tls (a CA,
// a server key store for 127.0.0.1 and localhost, a trust store, a client
// certificate).

// tlsFixtures is the absolute folder of the TLS fixtures.
func tlsFixtures(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "configs", "testdata", "tls"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// needCurl skips the test when curl is not installed.
func needCurl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
}

// curlResult is one curl run: the HTTP status (0 when there was no
// response), the response headers and body, and curl's exit code and
// error text.
type curlResult struct {
	status  int
	headers string
	body    string
	exit    int
	stderr  string
}

// curl runs curl with args and a 10 s limit.
func curl(t *testing.T, args ...string) curlResult {
	t.Helper()
	cmd := exec.Command("curl", append([]string{"-sS", "-i", "--max-time", "10", "-w", "\n%{http_code}"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	r := curlResult{stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.exit = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("curl: %v", err)
	}
	s := string(out)
	i := strings.LastIndex(s, "\n")
	r.status, _ = strconv.Atoi(s[i+1:])
	s = s[:max(i, 0)]
	r.headers, r.body, _ = strings.Cut(s, "\r\n\r\n")
	return r
}

// basicAuthFiles writes a users file and the JAAS file naming it, as for
// Connect, and returns the JAAS file.
func basicAuthFiles(t *testing.T) string {
	t.Helper()
	users := writeFile(t, "users.properties", "# user: password\nalice: s3cret-pw\nbob: other-pw\n")
	return writeFile(t, "connect.jaas", "KafkaConnect {\n  "+configs.PropertyFileLoginModuleName+" required\n  file=\""+users+"\";\n};\n")
}

// TestRESTHTTPSBasicAuth runs strait with an https listener (a PKCS12 key
// store) and basic authentication whose JAAS file is given the way Connect
// takes it, in KAFKA_OPTS: every endpoint answers 401 with a Basic
// challenge without good credentials and 200 with them; curl verifies the
// server's certificate with the CA; plain http to the port gets no answer
// from the API; no password reaches the log.
func TestRESTHTTPSBasicAuth(t *testing.T) {
	needCurl(t)
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 1, nil)
	tlsDir := tlsFixtures(t)
	addr := freeAddr(t)
	cfg := writeFile(t, "mm2.properties", props([]*cluster{a, b}, "A->B.enabled = true",
		"emit.checkpoints.enabled = false", "emit.heartbeats.enabled = false",
		"listeners = https://"+addr,
		"listeners.https.ssl.keystore.location = "+filepath.Join(tlsDir, "server.p12"),
		"listeners.https.ssl.keystore.type = PKCS12",
		"listeners.https.ssl.keystore.password = server-pass-5",
		"rest.extension.classes = "+configs.BasicAuthExtensionClass))
	p := startProcessEnv(t, []string{"KAFKA_OPTS=-Xms64m -D" + configs.JAASSystemProperty + "=" + basicAuthFiles(t)}, "run", "-c", cfg)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("strait output:\n%s", p.output)
		}
	})
	base := "https://" + addr
	ca := filepath.Join(tlsDir, "ca.pem")
	waitFor(t, 30*time.Second, func() (bool, string) {
		r := curl(t, "--cacert", ca, "-u", "alice:s3cret-pw", base+"/connectors")
		return r.status == 200 && strings.Contains(r.body, "A.B.MirrorSourceConnector"), fmt.Sprintf("GET /connectors: %d %s %s", r.status, r.body, r.stderr)
	})

	for _, path := range []string{"/", "/connectors", "/connectors/A.B.MirrorSourceConnector/status", "/healthz", "/readyz", "/metrics", "/ui/", "/nope"} {
		for _, creds := range [][]string{nil, {"-u", "alice:wrong"}, {"-u", "mallory:s3cret-pw"}, {"-H", "Authorization: Bearer abc"}, {"-H", "Authorization: Basic !!!"}} {
			r := curl(t, append(append([]string{"--cacert", ca}, creds...), base+path)...)
			if r.status != 401 || !strings.Contains(strings.ToLower(r.headers), "www-authenticate: basic ") || r.body != "User cannot access the resource." {
				t.Errorf("GET %s with %v: %d, headers %q, body %q; want 401 with a Basic challenge", path, creds, r.status, r.headers, r.body)
			}
		}
	}
	if r := curl(t, "--cacert", ca, "-u", "bob:other-pw", base+"/connectors/A.B.MirrorSourceConnector/status"); r.status != 200 || !strings.Contains(r.body, `"RUNNING"`) && !strings.Contains(r.body, `"UNASSIGNED"`) {
		t.Errorf("status with good credentials: %d %s", r.status, r.body)
	}
	if r := curl(t, "--cacert", ca, "-u", "alice:s3cret-pw", "-X", "PUT", base+"/connectors/A.B.MirrorSourceConnector/pause"); r.status != 202 {
		t.Errorf("pause with good credentials: %d %s", r.status, r.body)
	}
	if r := curl(t, "--cacert", ca, "-X", "PUT", base+"/connectors/A.B.MirrorSourceConnector/resume"); r.status != 401 {
		t.Errorf("resume without credentials: %d, want 401", r.status)
	}
	// The certificate is checked: without the CA curl refuses the server.
	if r := curl(t, "-u", "alice:s3cret-pw", base+"/connectors"); r.exit == 0 || r.status != 0 {
		t.Errorf("curl without --cacert: exit %d, status %d; want a certificate error", r.exit, r.status)
	}
	// localhost is in the certificate too.
	if r := curl(t, "--cacert", ca, "-u", "alice:s3cret-pw", "https://localhost:"+addr[strings.LastIndex(addr, ":")+1:]+"/connectors"); r.status != 200 {
		t.Errorf("https://localhost: %d %s %s", r.status, r.body, r.stderr)
	}
	// Plain http to the https port: Go's TLS server answers 400 and the API
	// never sees the request.
	if r := curl(t, "-u", "alice:s3cret-pw", "http://"+addr+"/connectors"); r.status == 200 || strings.Contains(r.body, "MirrorSourceConnector") {
		t.Errorf("plain http to the https port: %d %s", r.status, r.body)
	}

	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if out := p.output.String(); strings.Contains(out, "s3cret-pw") || strings.Contains(out, "other-pw") {
		t.Errorf("a password is in the log:\n%s", out)
	}
}

// TestRESTForwardedOverHTTPS runs two workers whose https listeners require
// client certificates and basic authentication: a task restart sent to the
// worker that does not run the task is forwarded to the one that does over
// https (trusting the trust store, showing the key store's certificate) with
// the caller's credentials, and that worker restarts the task.
func TestRESTForwardedOverHTTPS(t *testing.T) {
	needCurl(t)
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 2, nil)
	tlsDir := tlsFixtures(t)
	jaas := basicAuthFiles(t)
	addrs := []string{freeAddr(t), freeAddr(t)}
	procs := make([]*process, len(addrs))
	for i, addr := range addrs {
		cfg := writeFile(t, fmt.Sprintf("worker%d.properties", i), props([]*cluster{a, b}, "A->B.enabled = true",
			"tasks.max = 2", "emit.checkpoints.enabled = false", "emit.heartbeats.enabled = false",
			"listeners = https://"+addr,
			"listeners.https.ssl.keystore.location = "+filepath.Join(tlsDir, "server.p12"),
			"listeners.https.ssl.keystore.type = PKCS12",
			"listeners.https.ssl.keystore.password = server-pass-5",
			"listeners.https.ssl.truststore.location = "+filepath.Join(tlsDir, "truststore.jks"),
			"listeners.https.ssl.truststore.password = trust-pass-1",
			"listeners.https.ssl.client.auth = required",
			"rest.extension.classes = "+configs.BasicAuthExtensionClass,
			"rest.basic.auth.jaas.config.file = "+jaas))
		p := startProcess(t, "run", "-c", cfg)
		procs[i] = p
		t.Cleanup(func() {
			p.cmd.Process.Signal(syscall.SIGTERM)
			p.wait(t, 15*time.Second)
			if t.Failed() {
				t.Logf("worker %d output:\n%s", i, p.output)
			}
		})
	}
	tlsArgs := []string{"--cacert", filepath.Join(tlsDir, "ca.pem"), "--cert", filepath.Join(tlsDir, "client-chain.pem"), "--key", filepath.Join(tlsDir, "client.key")}
	authed := append(append([]string{}, tlsArgs...), "-u", "alice:s3cret-pw")
	const conn = "/connectors/A.B.MirrorSourceConnector"

	// Each worker runs one of the two tasks.
	var owner map[int]string
	waitFor(t, 60*time.Second, func() (bool, string) {
		r := curl(t, append(authed, "https://"+addrs[0]+conn+"/status")...)
		var st struct {
			Tasks []struct {
				ID       int    `json:"id"`
				State    string `json:"state"`
				WorkerID string `json:"worker_id"`
			} `json:"tasks"`
		}
		if r.status != 200 || json.Unmarshal([]byte(r.body), &st) != nil {
			return false, fmt.Sprintf("status: %d %s %s", r.status, r.body, r.stderr)
		}
		owner = map[int]string{}
		for _, tk := range st.Tasks {
			if tk.State == "RUNNING" {
				owner[tk.ID] = tk.WorkerID
			}
		}
		return len(owner) == 2 && owner[0] != owner[1], fmt.Sprintf("tasks: %+v", st.Tasks)
	})
	task := 0
	if owner[1] == addrs[1] {
		task = 1
	}
	if owner[task] != addrs[1] {
		t.Fatalf("no task on worker 1 (%s): %v", addrs[1], owner)
	}
	restart := fmt.Sprintf("https://%s%s/tasks/%d/restart", addrs[0], conn, task)
	started := func() int {
		n := 0
		for _, line := range strings.Split(procs[1].output.String(), "\n") {
			if strings.Contains(line, "starting task") && strings.Contains(line, fmt.Sprintf(" task=%d ", task)) {
				n++
			}
		}
		return n
	}
	before := started()

	// No client certificate: the TLS handshake fails. No credentials: 401,
	// nothing forwarded.
	if r := curl(t, "--cacert", filepath.Join(tlsDir, "ca.pem"), "-u", "alice:s3cret-pw", "-X", "POST", restart); r.status != 0 || r.exit == 0 {
		t.Errorf("without a client certificate: %d, exit %d", r.status, r.exit)
	}
	if r := curl(t, append(tlsArgs, "-X", "POST", restart)...); r.status != 401 {
		t.Errorf("restart without credentials: %d %s, want 401", r.status, r.body)
	}
	// Forwarded to worker 1 with the caller's credentials: 204 (409 while
	// a rebalance settles).
	waitFor(t, 20*time.Second, func() (bool, string) {
		r := curl(t, append(authed, "-X", "POST", restart)...)
		return r.status == 204, fmt.Sprintf("restart of task %d through worker 0: %d %s %s", task, r.status, r.body, r.stderr)
	})
	waitFor(t, 20*time.Second, func() (bool, string) {
		n := started()
		return n > before, fmt.Sprintf("worker 1 started task %d %d times, %d before the restart", task, n, before)
	})
	// Worker 1 itself refuses the forwarded form of the request without
	// credentials, so worker 0 must have passed them on.
	if r := curl(t, append(tlsArgs, "-X", "POST", fmt.Sprintf("https://%s%s/tasks/%d/restart?forward=false", addrs[1], conn, task))...); r.status != 401 {
		t.Errorf("forwarded form without credentials: %d", r.status)
	}
}
