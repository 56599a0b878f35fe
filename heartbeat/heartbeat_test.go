package heartbeat

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/strait-replicator/strait/policy"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHeartbeatGolden checks MM2.md §2.1's example: A->B at 1700000000000.
func TestHeartbeatGolden(t *testing.T) {
	h := Heartbeat{Source: "A", Target: "B", Timestamp: 1700000000000}
	wantKey, wantValue := unhex(t, "00 01 41 00 01 42"), unhex(t, "00 00 00 00 01 8b cf e5 68 00")
	if got := h.AppendKey(nil); !bytes.Equal(got, wantKey) {
		t.Errorf("key % x", got)
	}
	if got := h.AppendValue(nil); !bytes.Equal(got, wantValue) {
		t.Errorf("value % x", got)
	}
	if got, err := Decode(wantKey, wantValue); err != nil || got != h {
		t.Errorf("decode = %+v, %v", got, err)
	}
	for _, bad := range [][2][]byte{{nil, wantValue}, {wantKey[:4], wantValue}, {wantKey, wantValue[:6]}} {
		if _, err := Decode(bad[0], bad[1]); err == nil {
			t.Errorf("decoded truncated % x / % x", bad[0], bad[1])
		}
	}
}

func FuzzDecodeHeartbeat(f *testing.F) {
	h := Heartbeat{Source: "A", Target: "B", Timestamp: 1700000000000}
	f.Add(h.AppendKey(nil), h.AppendValue(nil))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		h, err := Decode(key, value)
		if err != nil {
			return
		}
		if again, err := Decode(h.AppendKey(nil), h.AppendValue(nil)); err != nil || again != h {
			t.Fatalf("round trip of %+v: %+v, %v", h, again, err)
		}
	})
}

func TestPaths(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	obs := func(cluster, topic, src, tgt string, ago time.Duration) Observed {
		return Observed{Cluster: cluster, Topic: topic, Heartbeat: Heartbeat{Source: src, Target: tgt, Timestamp: now.Add(-ago).UnixMilli()}}
	}
	seen := []Observed{
		obs("B", "heartbeats", "A", "B", 2*time.Second),
		obs("B", "heartbeats", "A", "B", time.Second), // newer on the same path
		obs("C", "heartbeats", "B", "C", time.Second),
		obs("C", "B.heartbeats", "A", "B", 3*time.Second),
		obs("D", "C.B.heartbeats", "A", "B", 4*time.Second),
		obs("C", "orders", "A", "B", 0), // not a heartbeats topic
	}
	got := Paths(policy.Default{}, seen)
	var lines []string
	for _, p := range got {
		lines = append(lines, fmt.Sprintf("%s (%d) %s", p, p.Hops(), now.Sub(p.Newest)))
	}
	want := []string{
		"A -> B (1) 1s",
		"B -> C (1) 1s",
		"A -> B -> C (2) 3s",
		"A -> B -> C -> D (3) 4s",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("paths:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
