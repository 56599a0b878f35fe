package e2e

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	restapi "github.com/strait-replicator/strait/replicator/rest"
)

// The status page tests render /ui/ in headless Chromium and check what
// the page shows through its rendered DOM; each also saves a screenshot of
// that same rendering, in $STRAIT_UI_SCREENSHOTS when set (kept), else in
// the test's temporary directory.

// chromiumPath returns Chromium's path, or skips the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install chromium): the status page is not rendered in a browser")
	}
	return chromium
}

// pageServer serves w's REST API and status page. Headless Chromium's
// virtual time skips the page's one-second wait between polls, so each
// answer to the page's poll (/ui/progress) is held until pace after the
// previous one: the page then sees the worker's clock move between polls
// as a browser would. This paces the page; it synchronises nothing.
func pageServer(t *testing.T, w *worker, pace time.Duration) string {
	t.Helper()
	h := restapi.NewHandler(w.Worker, restapi.Config{Version: "test", WorkerID: "w1:8083"})
	var mu sync.Mutex
	var last time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ui/progress" {
			mu.Lock()
			time.Sleep(time.Until(last.Add(pace))) // pacing, see above
			last = time.Now()
			mu.Unlock()
		}
		h.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// screenshotPath is where the screenshot named name goes.
func screenshotPath(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("STRAIT_UI_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name+".png")
}

// waitPage renders url (with polls of the page's own data) until cond
// holds of what it shows, each try's screenshot at shot, and returns that
// page.
func waitPage(t *testing.T, timeout time.Duration, chromium, url, shot string, polls int, cond func(p page, dom string) (bool, string)) page {
	t.Helper()
	var p page
	waitFor(t, timeout, func() (bool, string) {
		dom, err := renderPage(t, chromium, url, shot, polls)
		if err != nil {
			return false, err.Error()
		}
		p = page(dom)
		return cond(p, dom)
	})
	return p
}

// renderPage loads url's status page in headless Chromium for polls of
// the page, saves a screenshot of it to shot and returns its DOM as
// rendered then.
func renderPage(t *testing.T, chromium, url, shot string, polls int) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--hide-scrollbars", "--window-size=1400,1900",
		"--virtual-time-budget="+strconv.Itoa(polls*1000), "--screenshot="+shot, "--dump-dom", url+"/ui/").Output()
	if err != nil {
		return "", fmt.Errorf("chromium: %w", err)
	}
	return string(out), nil
}

// page is a status page's rendered DOM, read through the attributes and
// texts the page gives the elements it draws.
type page string

var attrRE = regexp.MustCompile(`([a-z-]+)="([^"]*)"`)

// element returns the opening tag of the first element of tag whose
// attributes include attr (as written, `data-flow="A->B"`), its
// attributes, and the markup from it to the end of the element's
// first closing tag of tag (the whole element for those that do not nest
// in themselves: tr, span, svg); ok is false if there is none.
func (p page) element(tag, attr string) (attrs map[string]string, markup string, ok bool) {
	k, v, _ := strings.Cut(attr, "=")
	want := k + `="` + html.EscapeString(strings.Trim(v, `"`)) + `"`
	want = strings.ReplaceAll(want, "&#34;", "&quot;")
	s := string(p)
	for i := 0; ; {
		j := strings.Index(s[i:], "<"+tag+" ")
		if j < 0 {
			return nil, "", false
		}
		start := i + j
		end := strings.Index(s[start:], ">")
		if end < 0 {
			return nil, "", false
		}
		open := s[start : start+end+1]
		i = start + 1
		if !strings.Contains(open, " "+want) {
			continue
		}
		attrs = map[string]string{}
		for _, m := range attrRE.FindAllStringSubmatch(open, -1) {
			attrs[m[1]] = html.UnescapeString(m[2])
		}
		closing := strings.Index(s[start:], "</"+tag+">")
		if closing < 0 {
			closing = len(s) - start
		} else {
			closing += len("</" + tag + ">")
		}
		return attrs, s[start : start+closing], true
	}
}

// flowCard returns the markup of flow's card: from its opening tag to
// the next card or the end of the flows.
func (p page) flowCard(flow string) (attrs map[string]string, markup string, ok bool) {
	attrs, _, ok = p.element("div", "data-flow="+flow)
	if !ok {
		return nil, "", false
	}
	s := string(p)
	start := strings.Index(s, `data-flow="`+html.EscapeString(flow)+`"`)
	rest := s[start:]
	end := len(rest)
	for _, stop := range []string{`<div class="flow `, `</section>`} {
		if k := strings.Index(rest[1:], stop); k >= 0 && k+1 < end {
			end = k + 1
		}
	}
	return attrs, rest[:end], true
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// text is the markup's text, tags removed and entities resolved.
func text(markup string) string { return html.UnescapeString(tagRE.ReplaceAllString(markup, "")) }

// spanText returns the text of the first span of class cls in markup.
func spanText(markup, cls string) string {
	m := regexp.MustCompile(`<span class="` + regexp.QuoteMeta(cls) + `">([^<]*)</span>`).FindStringSubmatch(markup)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func atoi(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// etaRE is an ETA in human units: "ETA 45 s", "ETA 3 min 20 s", "ETA 2 h 5 min".
var etaRE = regexp.MustCompile(`^ETA \d+ (d|h|min|s)( \d+ (h|min|s))?$`)

// flowLag sums the lag of the flow's partitions as the worker reports it;
// ok is false while any partition's lag is unknown.
func flowLag(w *worker, flow string) (copied, lag int64, ok bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, fv := range w.FlowViews(ctx) {
		if fv.Flow != flow || len(fv.Partitions) == 0 {
			continue
		}
		for _, p := range fv.Partitions {
			if p.Lag < 0 || p.Start < 0 {
				return 0, 0, false
			}
			copied += p.Next - p.Start
			lag += p.Lag
		}
		return copied, lag, true
	}
	return 0, 0, false
}

// TestStatusPageBacklog renders the page while a backlog is copied (the
// source answers each fetch slowly, one small batch at a time): the flow
// shows RUNNING with a progress bar part way, its lag, a positive rate, an
// ETA in human units and both charts with points; every connector, the
// partitions and the heartbeat paths are listed.
func TestStatusPageBacklog(t *testing.T) {
	chromium := chromiumPath(t)
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 2, nil)
	cl := a.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic("orders"))
	const batches, perBatch = 150, 10
	for i := range batches {
		var recs []*kgo.Record
		for p := range int32(2) {
			for j := range perBatch {
				r := record("ui", p, i*perBatch+j)
				r.Timestamp = time.Now() // the page shows the latency of these
				recs = append(recs, r)
			}
		}
		if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	const total = 2 * batches * perBatch
	// One batch per partition and fetch (max.partition.fetch.bytes = 1), and each fetch from A
	// answered a little late: the copy takes tens of seconds.
	a.ControlKey(int16(kmsg.Fetch), func(kmsg.Request) (kmsg.Response, error, bool) {
		a.KeepControl()
		a.SleepControl(func() { time.Sleep(150 * time.Millisecond) }) // throttles the copy
		return nil, nil, false
	})
	w := startWorker(t, props([]*cluster{a, b}, "A->B.enabled = true", "A->B.source.consumer.max.partition.fetch.bytes = 1"))
	url := pageServer(t, w, 500*time.Millisecond)
	waitFor(t, 60*time.Second, func() (bool, string) {
		copied, lag, ok := flowLag(w, "A->B")
		return ok && copied > 0 && lag > total/2, fmt.Sprintf("A->B copied %d, lag %d (known: %v), want some copied and more than half to go", copied, lag, ok)
	})

	shot := screenshotPath(t, "backlog")
	p := waitPage(t, 90*time.Second, chromium, url, shot, 12, func(p page, dom string) (bool, string) {
		attrs, card, ok := p.flowCard("A->B")
		if !ok {
			return false, "no card for A->B in the rendered page:\n" + dom
		}
		if eta := spanText(card, "eta"); !etaRE.MatchString(eta) {
			return false, fmt.Sprintf("A->B shows %q, want an ETA in human units (rate %q, lag %s)", eta, attrs["data-rate"], attrs["data-lag"])
		}
		return true, ""
	})
	attrs, card, _ := p.flowCard("A->B")
	t.Logf("screenshot %s: %s", shot, strings.Join(strings.Fields(text(card)), " "))
	if attrs["data-state"] != "RUNNING" {
		t.Errorf("A->B is %s, want RUNNING", attrs["data-state"])
	}
	copied, lag := atoi(attrs["data-copied"]), atoi(attrs["data-lag"])
	if copied <= 0 || lag <= 0 || copied+lag < total {
		t.Errorf("A->B shows %d copied and a lag of %d, want both positive and at least %d in all (orders, and heartbeats)", copied, lag, total)
	}
	if rate, err := strconv.ParseFloat(attrs["data-rate"], 64); err != nil || rate <= 0 {
		t.Errorf("A->B shows a rate of %q records/s, want a positive rate", attrs["data-rate"])
	}
	bar, _, ok := page(card).element("div", `role=progressbar`)
	if pct, err := strconv.ParseFloat(bar["aria-valuenow"], 64); !ok || err != nil || pct <= 0 || pct >= 100 {
		t.Errorf("A->B's progress bar is at %q %%, want part way", bar["aria-valuenow"])
	}
	if got := spanText(card, "copied"); atoi(strings.ReplaceAll(got, ",", "")) != copied {
		t.Errorf("A->B's bar says %q copied, its card %d", got, copied)
	}
	for _, cls := range []string{"chart chart-rate", "chart chart-lag"} {
		chart, _, ok := page(card).element("svg", "class="+cls)
		if n := atoi(chart["data-points"]); !ok || n < 2 {
			t.Errorf("A->B's %s has %d points, want at least 2", cls, n)
		}
		if max, err := strconv.ParseFloat(chart["data-max"], 64); err != nil || max <= 0 {
			t.Errorf("A->B's %s peaks at %q, want above zero", cls, chart["data-max"])
		}
	}
	if strings.Contains(card, "caught up") {
		t.Error("A->B shows caught up with a backlog")
	}
	for _, part := range []string{"orders/0", "orders/1"} {
		row, markup, ok := p.element("tr", "data-partition="+part)
		if !ok || row["data-state"] != "RUNNING" || atoi(row["data-lag"]) <= 0 || atoi(row["data-lag"]) > lag {
			t.Errorf("partition %s: %v, want a RUNNING row with part of the flow's lag of %d", part, row, lag)
			continue
		}
		if !strings.Contains(markup, "source 0") {
			t.Errorf("partition %s's row does not name its task: %s", part, text(markup))
		}
	}
	if topic, _, ok := p.element("tr", "data-topic=orders"); !ok || topic["data-state"] != "RUNNING" {
		t.Errorf("topic orders: %v, want a RUNNING row", topic)
	}
	if _, chip, ok := p.element("span", "class=chip warn"); !ok || text(chip) != "1 flow behind" {
		t.Errorf("summary shows %q, want 1 flow behind", text(chip))
	}
	for _, c := range []string{"A.B.MirrorSourceConnector", "A.B.MirrorCheckpointConnector", "A.B.MirrorHeartbeatConnector", "B.A.MirrorHeartbeatConnector"} {
		if _, _, ok := p.element("tr", "data-connector="+c); !ok {
			t.Errorf("rendered page lacks connector %s", c)
		}
	}
	if _, _, ok := p.element("div", "data-cluster=A"); !ok {
		t.Error("rendered page lacks cluster A")
	}
	// Heartbeats: A->B's on B, and the heartbeat-only pair B->A's on A.
	for _, path := range []string{"A->B", "B->A"} {
		if _, row, ok := p.element("tr", "data-path="+path); !ok || !strings.Contains(text(row), strings.ReplaceAll(path, "->", " → ")) {
			t.Errorf("heartbeat path %s: %q, want a row", path, text(row))
		}
	}
}

// TestStatusPagePausedWithLag pauses the source connector after a first
// copy, then writes more to the source: the page shows the flow PAUSED
// with the new records as its lag (read from the source, not from the
// stopped tasks), what was copied before the pause still counted, no ETA
// and nothing caught up. Resumed with tasks.max changed, it shows every
// record copied: the count does not start over with the new tasks.
func TestStatusPagePausedWithLag(t *testing.T) {
	chromium := chromiumPath(t)
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 2, nil)
	a.produce(t, "orders", 2, 0, 100, "ui")
	w := startWorker(t, props([]*cluster{a, b}, "A->B.enabled = true", "tasks.max = 2", "emit.heartbeats.enabled = false"))
	url := pageServer(t, w, 300*time.Millisecond)
	waitCopied(t, b, "A.orders", 200, 30*time.Second)

	const connector = "A.B.MirrorSourceConnector"
	pauseConnector(t, w, connector, 2, nil)
	ctx := context.Background()
	a.produce(t, "orders", 2, 100, 150, "ui-paused")

	shot := screenshotPath(t, "paused")
	p := waitPage(t, 60*time.Second, chromium, url, shot, 4, func(p page, dom string) (bool, string) {
		attrs, _, ok := p.flowCard("A->B")
		return ok && attrs["data-lag"] == "300", fmt.Sprintf("A->B shows %v, want a lag of 300:\n%s", attrs, dom)
	})
	attrs, card, _ := p.flowCard("A->B")
	t.Logf("screenshot %s: %s", shot, strings.Join(strings.Fields(text(card)), " "))
	if attrs["data-state"] != "PAUSED" || spanText(card, "badge state PAUSED") != "PAUSED" {
		t.Errorf("A->B shows %s, want PAUSED", attrs["data-state"])
	}
	if attrs["data-copied"] != "200" || spanText(card, "copied") != "200" {
		t.Errorf("A->B shows %s (%q) copied, want the 200 copied before the pause", attrs["data-copied"], spanText(card, "copied"))
	}
	if eta := spanText(card, "eta"); eta != "paused: no ETA" {
		t.Errorf("A->B's ETA shows %q, want paused: no ETA", eta)
	}
	if strings.Contains(card, "caught up") {
		t.Errorf("A->B shows caught up while 300 records wait: %s", text(card))
	}
	for _, part := range []string{"orders/0", "orders/1"} {
		if row, _, ok := p.element("tr", "data-partition="+part); !ok || row["data-state"] != "PAUSED" || row["data-lag"] != "150" {
			t.Errorf("partition %s: %v, want PAUSED with a lag of 150", part, row)
		}
	}
	if _, chip, ok := p.element("span", "class=chip warn"); !ok || text(chip) != "1 flow paused" {
		t.Errorf("summary shows %q, want 1 flow paused first", text(chip))
	}
	if row, markup, ok := p.element("tr", "data-connector="+connector); !ok || !strings.Contains(markup, `<td class="PAUSED">PAUSED</td>`) {
		t.Errorf("connector row %v: %s, want PAUSED", row, text(markup))
	}

	// Resumed with one task instead of two: new tasks, whose own counts
	// start at zero, yet the page counts all 500 copied.
	if _, err := w.Configure(ctx, connector, map[string]string{"tasks.max": "1"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Resume(ctx, connector); err != nil {
		t.Fatal(err)
	}
	waitCopied(t, b, "A.orders", 500, 30*time.Second)
	shot = screenshotPath(t, "resumed")
	p = waitPage(t, 60*time.Second, chromium, url, shot, 4, func(p page, dom string) (bool, string) {
		attrs, _, ok := p.flowCard("A->B")
		return ok && attrs["data-lag"] == "0" && attrs["data-state"] == "RUNNING", fmt.Sprintf("A->B shows %v, want RUNNING with a lag of 0", attrs)
	})
	attrs, card, _ = p.flowCard("A->B")
	t.Logf("screenshot %s: %s", shot, strings.Join(strings.Fields(text(card)), " "))
	if attrs["data-copied"] != "500" || spanText(card, "eta") != "caught up" {
		t.Errorf("A->B shows %s copied, %q, want all 500 copied and caught up", attrs["data-copied"], spanText(card, "eta"))
	}
	for _, part := range []string{"orders/0", "orders/1"} {
		if _, row, ok := p.element("tr", "data-partition="+part); !ok || !strings.Contains(row, `<td class="task">source 0</td>`) {
			t.Errorf("partition %s: %q, want it copied by source 0, the one task", part, text(row))
		}
	}
}

// TestStatusPageFailedPartition makes the target refuse the records of one
// partition (INVALID_RECORD, which no retry cures): the page shows that
// partition FAILED with its error and the offset it failed at, the flow
// FAILED, and the summary counts the failed partition.
func TestStatusPageFailedPartition(t *testing.T) {
	chromium := chromiumPath(t)
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 2, nil)
	a.produce(t, "orders", 2, 0, 50, "ui")
	w := startWorker(t, props([]*cluster{a, b}, "A->B.enabled = true", "emit.heartbeats.enabled = false"))
	url := pageServer(t, w, 300*time.Millisecond)
	waitCopied(t, b, "A.orders", 100, 30*time.Second)
	b.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "A.orders", Partitions: []int32{1}, Err: kerr.InvalidRecord, Count: -1})
	a.produce(t, "orders", 2, 50, 20, "ui-refused")

	shot := screenshotPath(t, "failed-partition")
	p := waitPage(t, 60*time.Second, chromium, url, shot, 3, func(p page, dom string) (bool, string) {
		row, _, ok := p.element("tr", "data-partition=orders/1")
		return ok && row["data-state"] == "FAILED", fmt.Sprintf("orders/1 shows %v, want FAILED", row)
	})
	attrs, card, _ := p.flowCard("A->B")
	t.Logf("screenshot %s: %s", shot, strings.Join(strings.Fields(text(card)), " "))
	_, row, _ := p.element("tr", "data-partition=orders/1")
	if msg := text(row); !strings.Contains(msg, "at offset 50:") || !strings.Contains(msg, "orders/1") || !strings.Contains(msg, "INVALID_RECORD") {
		t.Errorf("orders/1's row shows %q, want its error at offset 50 naming the partition and INVALID_RECORD", msg)
	}
	if attrs["data-state"] != "FAILED" {
		t.Errorf("A->B shows %s, want FAILED", attrs["data-state"])
	}
	if strings.Contains(card, "caught up") {
		t.Errorf("A->B shows caught up with a failed partition: %s", text(card))
	}
	if _, chip, ok := p.element("span", "class=chip bad"); !ok || text(chip) != "1 partition failed" {
		t.Errorf("summary shows %q, want 1 partition failed", text(chip))
	}
	if topic, markup, ok := p.element("tr", "data-topic=orders"); !ok || topic["data-state"] != "FAILED" || !strings.Contains(text(markup), "INVALID_RECORD") {
		t.Errorf("topic orders: %v %q, want FAILED with the partition's error", topic, text(markup))
	}
}

// TestStatusPageSourceOutage makes every request to the source cluster
// fail (its connections dropped) and then lifts the outage: the page shows
// cluster A unreachable, for how long and why (the worker's probes), B
// reachable, the flow UNREACHABLE without an ETA and the summary naming
// the cluster; once A answers again, A is reachable.
func TestStatusPageSourceOutage(t *testing.T) {
	chromium := chromiumPath(t)
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 2, nil)
	a.produce(t, "orders", 2, 0, 50, "ui")
	w := startWorker(t, props([]*cluster{a, b}, "A->B.enabled = true", "emit.heartbeats.enabled = false"))
	url := pageServer(t, w, 300*time.Millisecond)
	waitCopied(t, b, "A.orders", 100, 30*time.Second)

	var down sync.Mutex // held while A is down
	var isDown bool
	setDown := func(d bool) { down.Lock(); isDown = d; down.Unlock() }
	a.Control(func(kmsg.Request) (kmsg.Response, error, bool) {
		a.KeepControl()
		down.Lock()
		defer down.Unlock()
		if isDown {
			return nil, fmt.Errorf("outage: cluster A is down"), true // closes the connection
		}
		return nil, nil, false
	})
	setDown(true)
	defer setDown(false) // the worker stops cleanly

	shot := screenshotPath(t, "source-outage")
	p := waitPage(t, 60*time.Second, chromium, url, shot, 2, func(p page, dom string) (bool, string) {
		c, _, ok := p.element("div", "data-cluster=A")
		return ok && c["data-state"] == "UNREACHABLE", fmt.Sprintf("cluster A shows %v, want UNREACHABLE", c)
	})
	attrs, card, _ := p.flowCard("A->B")
	t.Logf("screenshot %s: %s", shot, strings.Join(strings.Fields(text(card)), " "))
	if _, c, _ := p.element("div", "data-cluster=A"); !regexp.MustCompile(`^A unreachable for (under )?\d+ (min|s)`).MatchString(text(c)) || !strings.Contains(c, `class="why"`) {
		t.Errorf("cluster A shows %q, want unreachable for how long, and why", text(c))
	}
	if b, _, ok := p.element("div", "data-cluster=B"); !ok || b["data-state"] != "REACHABLE" {
		t.Errorf("cluster B shows %v, want REACHABLE", b)
	}
	if attrs["data-state"] != "UNREACHABLE" || spanText(card, "eta") != "cluster unreachable: no ETA" || strings.Contains(card, "caught up") {
		t.Errorf("A->B shows %s: %q, want UNREACHABLE, no ETA and not caught up", attrs["data-state"], text(card))
	}
	if attrs["data-lag"] != "-1" || spanText(card, "lag") != "unknown" {
		t.Errorf("A->B shows a lag of %s (%q) while its source is down, want unknown", attrs["data-lag"], spanText(card, "lag"))
	}
	if row, _, ok := p.element("tr", "data-partition=orders/0"); !ok || row["data-lag"] != "-1" {
		t.Errorf("partition orders/0 shows %v while its source is down, want its lag unknown (-1)", row)
	}
	if _, chip, ok := p.element("span", "class=chip bad"); !ok || text(chip) != "cluster A unreachable" {
		t.Errorf("summary shows %q, want cluster A unreachable", text(chip))
	}

	setDown(false)
	waitPage(t, 60*time.Second, chromium, url, screenshotPath(t, "source-back"), 2, func(p page, _ string) (bool, string) {
		c, _, ok := p.element("div", "data-cluster=A")
		return ok && c["data-state"] == "REACHABLE", fmt.Sprintf("cluster A shows %v after the outage, want REACHABLE", c)
	})
}

// TestStatusPageGroups: a consumer group committed on A shows on the page
// with its checkpointed partitions, the time of its newest checkpoint and
// ready for failover, as the checkpoint task this worker runs reports it.
func TestStatusPageGroups(t *testing.T) {
	chromium := chromiumPath(t)
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 2, nil)
	a.produce(t, "orders", 2, 0, 100, "ui")
	w := startWorker(t, props([]*cluster{a, b}, "A->B.enabled = true", "emit.heartbeats.enabled = false",
		"emit.checkpoints.interval.seconds = 1", "sync.group.offsets.enabled = false"))
	url := pageServer(t, w, 300*time.Millisecond)
	waitCopied(t, b, "A.orders", 200, 30*time.Second)
	var committed kadm.Offsets
	for p := range int32(2) {
		committed.Add(kadm.Offset{Topic: "orders", Partition: p, At: 60, LeaderEpoch: -1})
	}
	resp, err := a.admin(t).CommitOffsets(context.Background(), "billing", committed)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("commit billing on A: %v", err)
	}

	shot := screenshotPath(t, "groups")
	var row map[string]string
	var markup string
	waitPage(t, 60*time.Second, chromium, url, shot, 3, func(pg page, dom string) (bool, string) {
		var ok bool
		row, markup, ok = pg.element("tr", "data-group=billing")
		return ok && strings.Contains(markup, `<td class="num">2</td>`), fmt.Sprintf("no row of group billing with 2 partitions checkpointed:\n%s", dom)
	})
	t.Logf("screenshot %s: %s", shot, strings.Join(strings.Fields(text(markup)), " "))
	if row["data-flow"] != "A->B" || row["data-ready"] != "true" || !strings.Contains(markup, `<td class="RUNNING">ready</td>`) || !strings.Contains(text(markup), " ago") {
		t.Errorf("group billing: %v (%s), want flow A->B, a checkpoint some seconds ago, ready for failover", row, text(markup))
	}
}
