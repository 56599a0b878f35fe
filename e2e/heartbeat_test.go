package e2e

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
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
