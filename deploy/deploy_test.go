package deploy

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/knadh/koanf/parsers/yaml"
)

const (
	alertsFile    = "prometheus/strait-alerts.yml"
	alertTests    = "prometheus/strait-alerts.test.yml"
	dashboardFile = "grafana/strait-dashboard.json"
)

// The alert rules are valid and pass their unit tests.
func TestPromtoolRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian: apt-get install prometheus): the alert rules are not checked")
	}
	for _, args := range [][]string{{"check", "rules", alertsFile}, {"test", "rules", alertTests}} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// alertRules reads the rules of the alerts file: alert name -> rule.
func alertRules(t *testing.T) map[string]map[string]any {
	t.Helper()
	data, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := yaml.Parser().Unmarshal(data)
	if err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	out := map[string]map[string]any{}
	groups, _ := doc["groups"].([]any)
	for _, g := range groups {
		rules, _ := g.(map[string]any)["rules"].([]any)
		for _, r := range rules {
			rule := r.(map[string]any)
			out[rule["alert"].(string)] = rule
		}
	}
	return out
}

// variable is a dashboard's template variable.
type variable struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Definition string `json:"definition"`
}

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	Title      string `json:"title"`
	UID        string `json:"uid"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID         int    `json:"id"`
		Type       string `json:"type"`
		Title      string `json:"title"`
		Datasource struct {
			Type string `json:"type"`
			UID  string `json:"uid"`
		} `json:"datasource"`
		GridPos struct{ H, W, X, Y int } `json:"gridPos"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// The dashboard imports anywhere: a uid and title, every panel on the
// data source variable with a query, panels placed within the 24-column
// grid, unique ids.
func TestDashboardShape(t *testing.T) {
	d := readDashboard(t)
	if d.Title == "" || d.UID == "" {
		t.Errorf("title %q, uid %q: want both", d.Title, d.UID)
	}
	if !slices.ContainsFunc(d.Templating.List, func(v variable) bool { return v.Name == "datasource" && v.Type == "datasource" }) {
		t.Error("no datasource variable: the dashboard would be tied to one data source")
	}
	ids := map[int]bool{}
	queries := 0
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.X < 0 || p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 || p.GridPos.H <= 0 {
			t.Errorf("panel %q: gridPos %+v outside the 24-column grid", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource.UID != "${datasource}" || p.Datasource.Type != "prometheus" {
			t.Errorf("panel %q: datasource %+v, want the ${datasource} variable", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			if strings.TrimSpace(q.Expr) == "" {
				t.Errorf("panel %q: empty query", p.Title)
			}
			queries++
		}
	}
	if queries < 10 {
		t.Errorf("%d queries, want the dashboard's (at least 10)", queries)
	}
}

// The alerts the operators were promised exist.
func TestAlertsPresent(t *testing.T) {
	rules := alertRules(t)
	for _, name := range []string{"StraitClusterUnreachable", "StraitReplicationLagGrowing", "StraitTaskFailed", "StraitPartitionFailed",
		"StraitHeartbeatPathStale", "StraitCheckpointStale", "StraitDuplicates"} {
		r, ok := rules[name]
		if !ok {
			t.Errorf("no alert %s in %s", name, alertsFile)
			continue
		}
		if labels, _ := r["labels"].(map[string]any); labels["severity"] == nil {
			t.Errorf("alert %s has no severity label", name)
		}
	}
}

// exportedMetrics returns the Prometheus names of the metrics the
// replicator defines (its metric* string constants, "-" as "_"), with the
// suffixes the exporter and the windowed gauges add.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("../replicator/*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if !strings.HasPrefix(id.Name, "metric") || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, _ := strconv.Unquote(lit.Value)
					base := strings.ReplaceAll(v, "-", "_")
					for _, suffix := range []string{"", "_total", "_bucket", "_sum", "_count", "_min", "_max", "_avg"} {
						out[base+suffix] = true
					}
				}
			}
		}
	}
	if !out["cluster_reachable"] || !out["record_count_total"] {
		t.Fatalf("metric names read from ../replicator: %d, without cluster_reachable or record_count_total", len(out))
	}
	return out
}

var (
	stringLit  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	dollarVar  = regexp.MustCompile(`\$\{?\w+\}?`)
	identifier = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
)

// metricNames returns the metric names in a PromQL expression: the
// identifiers with an underscore that are not functions (Strait's labels
// have none).
func metricNames(expr string) []string {
	expr = dollarVar.ReplaceAllString(stringLit.ReplaceAllString(expr, `""`), "")
	var out []string
	for _, loc := range identifier.FindAllStringIndex(expr, -1) {
		name := expr[loc[0]:loc[1]]
		rest := strings.TrimLeft(expr[loc[1]:], " ")
		if !strings.Contains(name, "_") || strings.HasPrefix(rest, "(") {
			continue
		}
		out = append(out, name)
	}
	return out
}

func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`cluster_reachable == 0`, []string{"cluster_reachable"}},
		{`sum by (source, target) (rate(record_count_total{job=~"$job"}[$__rate_interval]))`, []string{"record_count_total"}},
		{`histogram_quantile(0.99, sum by (le) (rate(replication_latency_ms_bucket[5m])))`, []string{"replication_latency_ms_bucket"}},
		{`count(task_state{state="FAILED",x="a_b"} == 1) or vector(0)`, []string{"task_state"}},
		{`label_values(cluster_reachable, job)`, []string{"cluster_reachable"}},
	} {
		if got := metricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.expr, got, tc.want)
		}
	}
}

// Every metric the alerts and the dashboard use is one Strait exports: a
// renamed metric fails here, not in an operator's silent dashboard.
func TestDeployUsesExportedMetrics(t *testing.T) {
	known := exportedMetrics(t)
	check := func(where, expr string) {
		names := metricNames(expr)
		if len(names) == 0 {
			t.Errorf("%s: no metric in %q", where, expr)
		}
		for _, n := range names {
			if !known[n] {
				t.Errorf("%s: %s is not a metric Strait exports (in %q)", where, n, expr)
			}
		}
	}
	for name, r := range alertRules(t) {
		check(alertsFile+" "+name, r["expr"].(string))
	}
	d := readDashboard(t)
	for _, p := range d.Panels {
		for _, q := range p.Targets {
			check(dashboardFile+" "+p.Title, q.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if v.Definition != "" {
			check(dashboardFile+" variable "+v.Name, v.Definition)
		}
	}
}
