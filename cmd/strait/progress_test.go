package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/strait-replicator/strait/replicator"
)

// TestProgressOnlyWithBacklog: the progress line is logged only while a
// flow has records left to copy, with a rate that is never negative; a
// flow caught up (even one still copying a trickle) or whose lag is
// unknown logs nothing.
func TestProgressOnlyWithBacklog(t *testing.T) {
	var out bytes.Buffer
	p := progressLog{every: 10 * time.Second, log: slog.New(slog.NewTextHandler(&out, nil)), last: map[string]int64{}}
	for _, tt := range []struct {
		name     string
		progress replicator.FlowProgress
		want     string // "" for no line
	}{
		{"backlog", replicator.FlowProgress{Flow: "A->B", Copied: 1000, Remaining: 5000, LagKnown: true}, "copied=1000 remaining=5000 records_per_second=100 eta=50s"},
		{"still behind", replicator.FlowProgress{Flow: "A->B", Copied: 2000, Remaining: 4000, LagKnown: true}, "copied=2000 remaining=4000 records_per_second=100 eta=40s"},
		{"caught up while copying a trickle", replicator.FlowProgress{Flow: "A->B", Copied: 2010, LagKnown: true}, ""},
		{"caught up", replicator.FlowProgress{Flow: "A->B", Copied: 2010, LagKnown: true}, ""},
		{"lag unknown", replicator.FlowProgress{Flow: "A->B", Copied: 2010, Remaining: 7}, ""},
		{"behind, nothing copied", replicator.FlowProgress{Flow: "A->B", Copied: 2010, Remaining: 7, LagKnown: true}, "copied=2010 remaining=7 records_per_second=0 eta=unknown"},
		{"a count that went back never makes a negative rate", replicator.FlowProgress{Flow: "A->B", Copied: 10, Remaining: 7, LagKnown: true}, "copied=10 remaining=7 records_per_second=0 eta=unknown"},
	} {
		out.Reset()
		p.tick([]replicator.FlowProgress{tt.progress})
		got := strings.TrimSpace(out.String())
		if tt.want == "" {
			if got != "" {
				t.Errorf("%s: logged %q, want nothing", tt.name, got)
			}
			continue
		}
		if !strings.Contains(got, "msg=progress flow=A->B "+tt.want) {
			t.Errorf("%s: logged %q, want %q", tt.name, got, tt.want)
		}
	}
}
