package replicator_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/strait-replicator/strait/replicator"
	"github.com/strait-replicator/strait/replicator/rest"
)

// TestRESTInputCannotHurt: a PUT of a connector config is refused (400
// with Connect's error body, or 413 past the size cap) when it names a key
// Strait does not read (suggesting the nearest known one), when it is null
// or has data after its JSON object, when it is too large, or when it
// holds a secret in the clear, and then nothing reaches the configs
// topic; numbers keep their exact text whatever their size. The
// connector-plugins endpoints list MM2's three connectors and validate a
// config per key.
func TestRESTInputCannotHurt(t *testing.T) {
	a, b := replicator.NewTestCluster(t, "A"), replicator.NewTestCluster(t, "B")
	w := replicator.NewABWorker(t, a, b)
	srv := httptest.NewServer(rest.NewHandler(w, rest.Config{Version: "test", WorkerID: "w1:8083"}))
	t.Cleanup(srv.Close)
	replicator.RunWorker(t, w)
	cl := &http.Client{Timeout: 30 * time.Second}
	src := srv.URL + "/connectors/A.B.MirrorSourceConnector"
	const configsTopic = "mm2-configs.A.internal"

	// put sends a config; a 409 (the previous config still applies) is
	// retried until the deadline.
	put := func(body string) (int, string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			code, answer := restCall(t, cl, "PUT", src+"/config", body)
			if code != http.StatusConflict || time.Now().After(deadline) {
				return code, answer
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	refused := func(name, body string, status int, wants ...string) {
		t.Helper()
		code, answer := put(body)
		var e struct {
			Code    int    `json:"error_code"`
			Message string `json:"message"`
		}
		if code != status || json.Unmarshal([]byte(answer), &e) != nil || e.Code != status {
			t.Errorf("%s: %d %.300s, want %d with Connect's error body", name, code, answer, status)
			return
		}
		for _, want := range wants {
			if !strings.Contains(e.Message, want) {
				t.Errorf("%s: message %q does not say %q", name, e.Message, want)
			}
		}
	}
	storedConfigs := func() string {
		var all strings.Builder
		for _, r := range replicator.ReadTopic(t, b, configsTopic) {
			all.WriteString(string(r.Key) + "=" + string(r.Value) + "\n")
		}
		return all.String()
	}

	if code, answer := put(`{"tasks.max": "2", "topics": "orders"}`); code != http.StatusOK {
		t.Fatalf("valid config: %d %s, want 200", code, answer)
	}
	before := storedConfigs()

	refused("unknown key", `{"topicz": "x"}`, http.StatusBadRequest, "topicz", "did you mean topics?")
	refused("unknown client key", `{"consumer.max.poll.recordz": "5"}`, http.StatusBadRequest, "did you mean consumer.max.poll.records?")
	refused("null body", `null`, http.StatusBadRequest)
	refused("data after the object", `{"tasks.max": "3"} garbage`, http.StatusBadRequest)
	refused("second object", `{"tasks.max": "3"}{"topics": "x"}`, http.StatusBadRequest)
	refused("body past the cap", `{"topics": "`+strings.Repeat("a", 2<<20)+`"}`, http.StatusRequestEntityTooLarge)
	jaas := `org.apache.kafka.common.security.plain.PlainLoginModule required username=\"alice\" password=\"hunter2\";`
	refused("secret", `{"sasl.jaas.config": "`+jaas+`"}`, http.StatusBadRequest, "sasl.jaas.config", "secret", "${file:")
	refused("client secret", `{"consumer.ssl.key.password": "hunter2"}`, http.StatusBadRequest, "consumer.ssl.key.password")
	if after := storedConfigs(); after != before {
		t.Errorf("refused configs reached the configs topic:\nbefore %s\nafter  %s", before, after)
	}
	// The flow applies a config after the PUT's answer: wait for the
	// valid one, which the refused ones left in place.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c, err := w.Connector("A.B.MirrorSourceConnector")
		if err == nil && c.Config["tasks.max"] == "2" && c.Config["topics"] == "orders" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("config after refused PUTs: %v %v, want tasks.max 2 and topics orders", c.Config, err)
		}
	}

	// Numbers keep their text: 1000000 is not "1e+06".
	if code, answer := put(`{"tasks.max": 2, "offset.lag.max": 1000000, "topics": "orders"}`); code != http.StatusOK || !strings.Contains(answer, `"offset.lag.max":"1000000"`) {
		t.Errorf("config with numbers: %d %s, want 200 with offset.lag.max 1000000", code, answer)
	}
	if after := storedConfigs(); !strings.Contains(after, `"offset.lag.max":"1000000"`) {
		t.Errorf("configs topic after PUT of 1000000: %s", after)
	}

	code, answer := restCall(t, cl, "GET", srv.URL+"/connector-plugins", "")
	var plugins []map[string]string
	if code != http.StatusOK || json.Unmarshal([]byte(answer), &plugins) != nil || len(plugins) != 3 {
		t.Fatalf("GET /connector-plugins: %d %s, want MM2's three connectors", code, answer)
	}
	for i, name := range []string{"MirrorCheckpointConnector", "MirrorHeartbeatConnector", "MirrorSourceConnector"} {
		if p := plugins[i]; p["class"] != "org.apache.kafka.connect.mirror."+name || p["type"] != "source" || p["version"] != "test" {
			t.Errorf("plugin %d: %v, want %s, a source, version test", i, p, name)
		}
	}

	code, answer = restCall(t, cl, "PUT", srv.URL+"/connector-plugins/MirrorSourceConnector/config/validate",
		`{"connector.class": "org.apache.kafka.connect.mirror.MirrorSourceConnector", "source.cluster.alias": "A", "target.cluster.alias": "B",
		  "topicz": "x", "tasks.max": "zero", "topics": "orders", "sasl.jaas.config": "secret"}`)
	var infos struct {
		Name       string   `json:"name"`
		ErrorCount int      `json:"error_count"`
		Groups     []string `json:"groups"`
		Configs    []struct {
			Definition struct {
				Name string `json:"name"`
				Type string `json:"type"`
			} `json:"definition"`
			Value struct {
				Name              string   `json:"name"`
				Value             *string  `json:"value"`
				RecommendedValues []string `json:"recommended_values"`
				Errors            []string `json:"errors"`
				Visible           bool     `json:"visible"`
			} `json:"value"`
		} `json:"configs"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(answer), &infos) != nil {
		t.Fatalf("validate: %d %s, want 200 with ConfigInfos", code, answer)
	}
	if infos.Name != "org.apache.kafka.connect.mirror.MirrorSourceConnector" || infos.ErrorCount != 3 || len(infos.Groups) == 0 {
		t.Errorf("validate: name %q, error_count %d, groups %v; want MirrorSourceConnector with 3 errors", infos.Name, infos.ErrorCount, infos.Groups)
	}
	errs := map[string]string{}
	for _, c := range infos.Configs {
		if c.Definition.Name != c.Value.Name || c.Definition.Type == "" || !c.Value.Visible || c.Value.RecommendedValues == nil || c.Value.Errors == nil {
			t.Errorf("validate: config entry %+v is not Connect's shape", c)
		}
		errs[c.Value.Name] = strings.Join(c.Value.Errors, "; ")
	}
	for key, want := range map[string]string{"topicz": "did you mean topics?", "tasks.max": `"zero"`, "sasl.jaas.config": "secret", "topics": "", "replication.factor": ""} {
		got, ok := errs[key]
		if !ok || (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("validate: errors of %s: %q (listed %v), want %q", key, got, ok, want)
		}
	}
	if code, answer := restCall(t, cl, "PUT", srv.URL+"/connector-plugins/FileStreamSinkConnector/config/validate", `{"connector.class": "FileStreamSinkConnector"}`); code != http.StatusBadRequest {
		t.Errorf("validate of another plugin: %d %s, want 400", code, answer)
	}
}
