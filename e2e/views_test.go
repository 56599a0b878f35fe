package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-replicator/strait/replicator"
)

// TestFlowViewsOneSourceDown: with two flows into B and A's cluster hung,
// the flows' views (the status page's data) name A's outage for A->B at
// once, from the worker's probes, and C->B, whose source answers, is
// whole: its source's offsets are read and its lag is known. Before, the
// views asked each source in turn under one deadline, so A's outage spent
// it and C->B showed an error of its own source.
func TestFlowViewsOneSourceDown(t *testing.T) {
	a, b, c := newCluster(t, "A", 3), newCluster(t, "B", 3), newCluster(t, "C", 3)
	a.createTopic(t, "orders", 2, nil)
	c.createTopic(t, "orders", 2, nil)
	a.produce(t, "orders", 2, 0, 20, "views")
	c.produce(t, "orders", 2, 0, 20, "views")
	w := startWorker(t, props([]*cluster{a, b, c}, "A->B.enabled = true", "C->B.enabled = true", "emit.heartbeats.enabled = false"))
	waitCopied(t, b, "A.orders", 40, 30*time.Second)
	waitCopied(t, b, "C.orders", 40, 30*time.Second)

	// A hangs: its requests are held until the test ends, as a cluster
	// that stopped answering holds them.
	var mu sync.Mutex // guards down
	down := false
	release := make(chan struct{})
	a.Control(func(kmsg.Request) (kmsg.Response, error, bool) {
		a.KeepControl()
		mu.Lock()
		d := down
		mu.Unlock()
		if !d {
			return nil, nil, false
		}
		<-release
		return nil, fmt.Errorf("outage: cluster A is down"), true // closes the connection
	})
	mu.Lock()
	down = true
	mu.Unlock()
	defer func() { // the worker stops cleanly
		mu.Lock()
		down = false
		mu.Unlock()
		close(release)
	}()
	waitFor(t, 30*time.Second, func() (bool, string) {
		for _, r := range w.Reachability() {
			if r.Alias == "A" {
				return r.State == "UNREACHABLE", "cluster A is " + r.State
			}
		}
		return false, "cluster A not probed"
	})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	views := map[string]replicator.FlowView{}
	for _, v := range w.FlowViews(ctx) {
		views[v.Flow] = v
	}
	if v := views["A->B"]; v.SourceErr == nil || !strings.Contains(v.SourceErr.Error(), "unreachable since") {
		t.Errorf("A->B's view says %v about its source, want A unreachable since the outage began", v.SourceErr)
	}
	v, ok := views["C->B"]
	if !ok || v.SourceErr != nil {
		t.Fatalf("C->B's view (present %v) has source error %v while C answers", ok, v.SourceErr)
	}
	if len(v.Partitions) != 2 {
		t.Fatalf("C->B shows %d partitions, want 2", len(v.Partitions))
	}
	for _, p := range v.Partitions {
		if p.End != 20 || p.Lag != 0 {
			t.Errorf("C->B partition %s/%d shows end %d and lag %d, want 20 and 0", p.Topic, p.Partition, p.End, p.Lag)
		}
	}
}
