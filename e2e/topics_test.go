package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/strait-replicator/strait/internal/kafkatest"
)

// deleteTopic deletes topic on c and waits until it is gone.
func (c *cluster) deleteTopic(t *testing.T, topic string) {
	t.Helper()
	resp, err := c.admin(t).DeleteTopics(context.Background(), topic)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("delete %s on %s: %v", topic, c.alias, err)
	}
	waitFor(t, 10*time.Second, func() (bool, string) {
		td, err := c.admin(t).ListTopics(context.Background(), topic)
		return err == nil && !td.Has(topic), fmt.Sprintf("%s still listed on %s", topic, c.alias)
	})
}

// TestTopicsDeletedWhileRunning deletes and recreates a source topic, and
// deletes a remote topic, while a worker runs: the new source topic is
// copied from its start, the remote topic is created again and the copy
// goes on, and no task fails.
func TestTopicsDeletedWhileRunning(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 2, nil)
	a.createTopic(t, "payments", 2, nil)
	a.produce(t, "orders", 2, 0, 50, "old")
	a.produce(t, "payments", 2, 0, 50, "pay")
	logs := &kafkatest.LogBuffer{}
	w := startWorkerLogging(t, props([]*cluster{a, b}, "A->B.enabled = true", "tasks.max = 2"), logs)
	waitCopied(t, b, "A.orders", 100, 60*time.Second)
	waitCopied(t, b, "A.payments", 100, 60*time.Second)
	waitFor(t, 30*time.Second, func() (bool, string) {
		n := storedPositions(t, b, "mm2-offsets.A.internal", "orders")
		return n == 100, fmt.Sprintf("positions cover %d of 100 records of orders", n)
	})

	// The source topic is deleted and created again, with fewer records
	// than the old one had: the new ones are copied after the old ones.
	a.deleteTopic(t, "orders")
	a.createTopic(t, "orders", 2, nil)
	a.produce(t, "orders", 2, 0, 20, "new")
	waitFor(t, 60*time.Second, func() (bool, string) {
		got := b.read(t, "A.orders")
		n := 0
		for _, d := range got {
			n += len(d)
		}
		return n == 140, fmt.Sprintf("A.orders has %d records, want 100 old + 40 new", n)
	})
	src := a.read(t, "orders")
	dst := b.read(t, "A.orders")
	for p, d := range src {
		if tail := dst[p][len(dst[p])-len(d):]; fmt.Sprint(tail) != fmt.Sprint(d) {
			t.Errorf("partition %d: the new topic's records are not the tail of A.orders", p)
		}
	}

	// The remote topic is deleted on the target: created again, and what
	// comes after is copied.
	b.deleteTopic(t, "A.payments")
	a.produce(t, "payments", 2, 50, 30, "pay")
	waitFor(t, 60*time.Second, func() (bool, string) {
		td, err := b.admin(t).ListTopics(context.Background(), "A.payments")
		if err != nil || !td.Has("A.payments") {
			return false, "A.payments not created again"
		}
		got := b.read(t, "A.payments")
		ok := true
		for p := range int32(2) {
			d := got[p]
			want := a.read(t, "payments")[p]
			if len(d) < 30 || fmt.Sprint(d[len(d)-30:]) != fmt.Sprint(want[50:]) {
				ok = false
			}
		}
		return ok, "the records produced after the deletion are not all on the new A.payments"
	})
	for _, st := range w.Status() {
		if st.State == "FAILED" {
			t.Errorf("task %s failed: %v", st.ID, st.Err)
		}
	}
	if !strings.Contains(logs.String(), "deleted and created again") {
		t.Errorf("the recreated source topic was not reported in the log")
	}
}
