package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/knadh/koanf/parsers/yaml"

	"github.com/strait-replicator/strait/internal/kafkatest"
)

// The deploy files the test runs Prometheus with.
const (
	alertRulesFile = "../deploy/prometheus/strait-alerts.yml"
	dashboardJSON  = "../deploy/grafana/strait-dashboard.json"
)

// prometheus is a real Prometheus server run by the test.
type prometheus struct {
	url    string // http://127.0.0.1:port
	output *kafkatest.LogBuffer
}

// testRules writes the alert rules of deploy/ with the for-duration of
// StraitClusterUnreachable cut to forDur (1 m in the file), so that the
// test need not wait a minute; everything else is the file's.
func testRules(t *testing.T, forDur string) string {
	t.Helper()
	data, err := os.ReadFile(alertRulesFile)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := yaml.Parser().Unmarshal(data)
	if err != nil {
		t.Fatalf("%s: %v", alertRulesFile, err)
	}
	found := false
	groups, _ := doc["groups"].([]any)
	for _, g := range groups {
		rules, _ := g.(map[string]any)["rules"].([]any)
		for _, r := range rules {
			if rule := r.(map[string]any); rule["alert"] == "StraitClusterUnreachable" {
				rule["for"] = forDur
				found = true
			}
		}
	}
	if !found {
		t.Fatalf("%s has no StraitClusterUnreachable alert", alertRulesFile)
	}
	out, err := yaml.Parser().Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "strait-alerts.yml", string(out))
}

// startPrometheus runs /usr/bin/prometheus on 127.0.0.1 with its own
// storage, scraping the worker at target every second and evaluating the
// rules every second, until the test ends.
func startPrometheus(t *testing.T, target, rules string) *prometheus {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus not installed (Debian: apt-get install prometheus); CI installs it")
	}
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files:
  - %s
scrape_configs:
  - job_name: strait
    static_configs:
      - targets: ['%s']
`, rules, target)
	addr := "127.0.0.1:" + strconv.Itoa(kafkatest.LowPort(t))
	p := &prometheus{url: "http://" + addr, output: &kafkatest.LogBuffer{}}
	cmd := exec.Command(bin, "--config.file="+writeFile(t, "prometheus.yml", config), "--storage.tsdb.path="+filepath.Join(t.TempDir(), "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = p.output, p.output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }() // joined in Cleanup
	t.Cleanup(func() {
		if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Errorf("kill prometheus: %v", err)
		}
		<-exited
		if t.Failed() {
			t.Logf("prometheus output:\n%s", p.output)
		}
	})
	waitFor(t, 30*time.Second, func() (bool, string) {
		select {
		case <-exited:
			t.Fatalf("prometheus exited:\n%s", p.output)
		default:
		}
		resp, err := http.Get(p.url + "/-/ready")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, "prometheus /-/ready: " + resp.Status
	})
	return p
}

// api calls Prometheus's HTTP API and decodes its data into out.
func (p *prometheus) api(t *testing.T, path string, out any) error {
	t.Helper()
	resp, err := http.Get(p.url + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var answer struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("GET %s: %v in %s", path, err, body)
	}
	if answer.Status != "success" {
		return fmt.Errorf("GET %s: %s: %s", path, answer.Status, answer.Error)
	}
	return json.Unmarshal(answer.Data, out)
}

// query evaluates expr now and returns its series: labels and value.
func (p *prometheus) query(t *testing.T, expr string) ([]promSample, error) {
	t.Helper()
	var data struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := p.api(t, "/api/v1/query?query="+url.QueryEscape(expr), &data); err != nil {
		return nil, err
	}
	var out []promSample
	for _, r := range data.Result {
		v, _ := r.Value[1].(string)
		out = append(out, promSample{r.Metric, v})
	}
	return out, nil
}

type promSample struct {
	labels map[string]string
	value  string
}

// alertState is the state (pending, firing) of the active alert name
// whose labels include cluster, or "" when it is not active.
func (p *prometheus) alertState(t *testing.T, name, cluster string) string {
	t.Helper()
	var data struct {
		Alerts []struct {
			Labels map[string]string `json:"labels"`
			State  string            `json:"state"`
		} `json:"alerts"`
	}
	if err := p.api(t, "/api/v1/alerts", &data); err != nil {
		t.Fatal(err)
	}
	for _, a := range data.Alerts {
		if a.Labels["alertname"] == name && a.Labels["cluster"] == cluster {
			return a.State
		}
	}
	return ""
}

// dashboardQueries returns the queries of the deploy dashboard, with its
// variables replaced by what Grafana would send: every job, a 1 m rate
// interval.
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(dashboardJSON)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardJSON, err)
	}
	var out []string
	r := strings.NewReplacer("$__rate_interval", "1m", "$job", ".*")
	for _, p := range d.Panels {
		for _, q := range p.Targets {
			out = append(out, r.Replace(q.Expr))
		}
	}
	return out
}

// TestPrometheusAlertsOnTargetOutage: a real Prometheus scrapes a worker
// with the alert rules of deploy/ (StraitClusterUnreachable's for cut to
// 2 s); StraitClusterUnreachable fires for the target while it is down,
// not for the source, and resolves once the target is back. Every query
// of the deploy dashboard is valid PromQL for that Prometheus.
func TestPrometheusAlertsOnTargetOutage(t *testing.T) {
	w := startOutageWorker(t)
	p := startPrometheus(t, w.addr, testRules(t, "2s"))
	waitFor(t, 30*time.Second, func() (bool, string) {
		s, err := p.query(t, `cluster_reachable{job="strait"}`)
		return err == nil && len(s) == 2 && s[0].value == "1" && s[1].value == "1", fmt.Sprintf("cluster_reachable in Prometheus: %v %v, want A and B at 1", s, err)
	})
	for _, q := range dashboardQueries(t) {
		if _, err := p.query(t, q); err != nil {
			t.Errorf("dashboard query %q: %v", q, err)
		}
	}
	if st := p.alertState(t, "StraitClusterUnreachable", "B"); st != "" {
		t.Fatalf("StraitClusterUnreachable for B is %s before the outage", st)
	}

	stopped := time.Now()
	w.b.stop()
	waitFor(t, 60*time.Second, func() (bool, string) {
		st := p.alertState(t, "StraitClusterUnreachable", "B")
		return st == "firing", fmt.Sprintf("StraitClusterUnreachable for B: %q, want firing", st)
	})
	t.Logf("StraitClusterUnreachable fired %s after B stopped", time.Since(stopped).Round(time.Millisecond))
	if st := p.alertState(t, "StraitClusterUnreachable", "A"); st != "" {
		t.Errorf("StraitClusterUnreachable for A, which is up: %s", st)
	}

	restarted := time.Now()
	w.b.start(t)
	waitFor(t, 60*time.Second, func() (bool, string) {
		st := p.alertState(t, "StraitClusterUnreachable", "B")
		return st == "", fmt.Sprintf("StraitClusterUnreachable for B: %q, want resolved", st)
	})
	t.Logf("StraitClusterUnreachable resolved %s after B started again", time.Since(restarted).Round(time.Millisecond))
}
