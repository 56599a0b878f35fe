package e2e

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strait-replicator/strait/heartbeat"
	"github.com/strait-replicator/strait/replicator"
)

// TestHeartbeatChain: with A->B->C, heartbeats reach C along every path:
// B.A.heartbeats appears on C, the heartbeats on B decode with a decoder
// written here from MM2.md §2.1, and `strait topology` prints the 2-hop
// path A -> B -> C.
func TestHeartbeatChain(t *testing.T) {
	a, b, c := newCluster(t, "A", 3), newCluster(t, "B", 3), newCluster(t, "C", 3)
	text := props([]*cluster{a, b, c}, "A->B.enabled = true", "B->C.enabled = true")
	startWorker(t, text)

	waitFor(t, 60*time.Second, func() (bool, string) {
		topics := c.topics(t)
		return slices.Contains(topics, "B.A.heartbeats") && slices.Contains(topics, "B.heartbeats"),
			fmt.Sprintf("topics on C: %v", topics)
	})

	// Independent decoder: key = two INT16-length strings; value = INT16
	// version 0 and INT64 milliseconds.
	str := func(b []byte) (string, []byte) {
		n := int(binary.BigEndian.Uint16(b))
		return string(b[2 : 2+n]), b[2+n:]
	}
	waitFor(t, 30*time.Second, func() (bool, string) {
		for _, r := range b.rawRecords(t, "heartbeats") {
			src, rest := str(r.Key)
			tgt, rest := str(rest)
			if len(rest) != 0 || len(r.Value) != 10 || r.Partition != 0 {
				t.Fatalf("heartbeat record shape: key % x value % x partition %d", r.Key, r.Value, r.Partition)
			}
			version := int16(binary.BigEndian.Uint16(r.Value))
			ts := int64(binary.BigEndian.Uint64(r.Value[2:]))
			if version != 0 || ts != r.Timestamp.UnixMilli() {
				t.Fatalf("heartbeat value: version %d, timestamp %d (record timestamp %d)", version, ts, r.Timestamp.UnixMilli())
			}
			if src == "A" && tgt == "B" && time.Since(time.UnixMilli(ts)) < time.Minute {
				return true, ""
			}
		}
		return false, "no A->B heartbeat on B"
	})

	cfg := writeFile(t, "mm2.properties", text)
	var out string
	waitFor(t, 30*time.Second, func() (bool, string) {
		p := startProcess(t, "topology", "-c", cfg)
		if code := p.wait(t, 60*time.Second); code != 0 {
			t.Fatalf("topology exit %d:\n%s", code, p.output)
		}
		out = p.output.String()
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) >= 7 && f[0] == "C" && strings.Join(f[1:6], " ") == "A -> B -> C" && f[6] == "2" {
				return true, ""
			}
		}
		return false, "no 2-hop path A -> B -> C in:\n" + out
	})
	t.Logf("strait topology:\n%s", out)
}

// TestHeartbeatsFromOneWorker: with two workers of the same group, each
// heartbeat task (the A->B flow's, and the heartbeat-only pair B->A's)
// runs on one worker only: one heartbeat per interval reaches each
// cluster, not one per worker.
func TestHeartbeatsFromOneWorker(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 2, nil)
	text := props([]*cluster{a, b}, "A->B.enabled = true", "tasks.max = 2", "emit.checkpoints.enabled = false",
		"emit.heartbeats.interval.seconds = 1")
	workers := []*worker{startWorker(t, text, replicator.WithWorkerID("w0")), startWorker(t, text, replicator.WithWorkerID("w1"))}
	// Both workers are in the group once each runs some of its 3 tasks
	// (2 source, 1 heartbeat), and the heartbeat task runs on one.
	waitFor(t, 30*time.Second, func() (bool, string) {
		var src, hb []int
		for _, w := range workers {
			src, hb = append(src, runsHere(t, w, "A.B.MirrorSourceConnector")), append(hb, runsHere(t, w, "A.B.MirrorHeartbeatConnector"))
		}
		return src[0]+hb[0] > 0 && src[1]+hb[1] > 0 && src[0]+src[1] == 2 && hb[0]+hb[1] == 1,
			fmt.Sprintf("source tasks run per worker %v, heartbeat tasks %v", src, hb)
	})
	from := time.Now().Add(2 * time.Second).UnixMilli()
	to := from + 6000
	beats := func(c *cluster, source string) (n int, closed bool) {
		for _, r := range c.rawRecords(t, "heartbeats") {
			h, err := heartbeat.Decode(r.Key, r.Value)
			if err != nil {
				t.Fatalf("heartbeat on %s: %v", c.alias, err)
			}
			if h.Source != source {
				continue
			}
			if h.Timestamp >= from && h.Timestamp < to {
				n++
			}
			closed = closed || h.Timestamp >= to
		}
		return n, closed
	}
	for _, c := range []struct {
		on     *cluster
		source string
	}{{b, "A"}, {a, "B"}} {
		var n int
		waitFor(t, 30*time.Second, func() (bool, string) {
			var closed bool
			n, closed = beats(c.on, c.source)
			return closed, fmt.Sprintf("no heartbeat %s->%s after the window yet", c.source, c.on.alias)
		})
		// One emitter beats 6 times in 6 s (a rebalance may skip or
		// repeat one); two would beat about 12 times.
		if n < 4 || n > 8 {
			t.Errorf("%d heartbeats %s->%s in 6 s on %s, want about 6 (one worker emitting)", n, c.source, c.on.alias, c.on.alias)
		}
		t.Logf("%d heartbeats %s->%s in a 6 s window with two workers", n, c.source, c.on.alias)
	}
}

// runsHere counts the tasks of connector that w runs itself.
func runsHere(t *testing.T, w *worker, connector string) (n int) {
	st, err := w.Connector(connector)
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range st.Tasks {
		if task.State == replicator.StateRunning && !task.Elsewhere {
			n++
		}
	}
	return n
}
