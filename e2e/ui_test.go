package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStatusPageInChromium loads /ui/ in headless Chromium and checks the
// rendered DOM: every connector with its state, and the flow's copied
// count as a live number.
func TestStatusPageInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install chromium): the status page is not rendered in a browser")
	}
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 2, nil)
	a.produce(t, "orders", 2, 0, 500, "ui")
	w := startWorker(t, props([]*cluster{a, b}, "A->B.enabled = true"))
	url := restServer(t, w)
	waitCopied(t, b, "A.orders", 1000, 30*time.Second)

	var dom string
	copied := regexp.MustCompile(`data-flow="A-&gt;B"><td>A-&gt;B</td><td class="num copied">(\d+)</td>`)
	waitFor(t, 60*time.Second, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
			"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir="+t.TempDir(), "--virtual-time-budget=3000", "--dump-dom", url+"/ui/").Output()
		if err != nil {
			return false, fmt.Sprintf("chromium: %v", err)
		}
		dom = string(out)
		m := copied.FindStringSubmatch(dom)
		if m == nil {
			return false, "no copied count for A->B in the rendered page:\n" + dom
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			t.Fatalf("copied count %q: %v", m[1], err)
		}
		return n >= 1000, fmt.Sprintf("copied %d, want at least 1000", n)
	})
	for _, want := range []string{
		`data-connector="A.B.MirrorSourceConnector"><td>A.B.MirrorSourceConnector</td><td class="RUNNING">RUNNING</td>`,
		`data-connector="A.B.MirrorCheckpointConnector"`,
		`data-connector="A.B.MirrorHeartbeatConnector"`,
		`data-connector="B.A.MirrorHeartbeatConnector"`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered page lacks %s", want)
		}
	}
}
