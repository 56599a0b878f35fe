package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRESTInputCannotHurt: `strait run`'s REST API refuses, with Connect's
// error body, a connector config naming an unknown key (suggesting the
// key meant), a null body, data after the JSON object, a body past 1 MiB
// (413, read no further) and a secret in the clear; none reaches the
// configs topic, and the worker keeps running and answering. A number of
// a million is taken as written. GET /connector-plugins lists MM2's
// connectors.
func TestRESTInputCannotHurt(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	addr := freeAddr(t)
	p := startProcess(t, "run", "-c", writeFile(t, "mm2.properties", props([]*cluster{a, b}, "A->B.enabled = true", "listeners = http://"+addr)))
	src := "http://" + addr + "/connectors/A.B.MirrorSourceConnector"
	call := func(method, url, body string) (int, string) {
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(answer)
	}
	waitFor(t, 30*time.Second, func() (bool, string) {
		code, body := call("GET", src+"/status", "")
		return code == 200, fmt.Sprintf("status: %d %s; strait:\n%s", code, body, p.output)
	})

	for _, tc := range []struct {
		name, body string
		status     int
		says       string
	}{
		{"unknown key", `{"topicz": "orders"}`, 400, "did you mean topics?"},
		{"null", `null`, 400, "not null"},
		{"data after the object", `{"tasks.max": "2"}]`, 400, "nothing after it"},
		{"past 1 MiB", `{"topics": "` + strings.Repeat("x", 8<<20) + `"}`, 413, "larger than 1048576 bytes"},
		{"secret", `{"sasl.jaas.config": "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"hunter2\";"}`, 400, "${env:"},
	} {
		code, answer := call("PUT", src+"/config", tc.body)
		var e struct {
			Code    int    `json:"error_code"`
			Message string `json:"message"`
		}
		if code != tc.status || json.Unmarshal([]byte(answer), &e) != nil || e.Code != tc.status || !strings.Contains(e.Message, tc.says) {
			t.Errorf("PUT config, %s: %d %.200s, want %d with Connect's error body saying %q", tc.name, code, answer, tc.status, tc.says)
		}
	}
	if code, answer := call("PUT", src+"/config", `{"offset.lag.max": 1000000}`); code != 200 || !strings.Contains(answer, `"offset.lag.max":"1000000"`) {
		t.Errorf("PUT config with a number of a million: %d %s", code, answer)
	}
	for _, r := range b.committedRecords(t, "mm2-configs.A.internal") {
		if v := string(r.Value); strings.Contains(v, "hunter2") || strings.Contains(v, "topicz") || strings.Contains(v, "xxxx") {
			t.Errorf("a refused config reached the configs topic: %s = %.200s", r.Key, v)
		}
	}
	if code, answer := call("GET", "http://"+addr+"/connector-plugins", ""); code != 200 || strings.Count(answer, `"type":"source"`) != 3 {
		t.Errorf("GET /connector-plugins: %d %s, want MM2's three source connectors", code, answer)
	}
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.output)
	}
}
