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

// TestHeartbeatDecodeLenient: like MM2, any value version is read with the
// version 0 layout, trailing bytes are ignored, and the key's two strings
// are told apart.
func TestHeartbeatDecodeLenient(t *testing.T) {
	key := unhex(t, "00 02 75 73 00 02 65 75") // us -> eu
	want := Heartbeat{Source: "us", Target: "eu", Timestamp: 1700000000000}
	for _, value := range []string{
		"00 00 00 00 01 8b cf e5 68 00",
		"00 07 00 00 01 8b cf e5 68 00",
		"00 00 00 00 01 8b cf e5 68 00 ff ff",
	} {
		if got, err := Decode(append(key, 0x01), unhex(t, value)); err != nil || got != want {
			t.Errorf("decode %s = %+v, %v", value, got, err)
		}
	}
	if _, err := Decode(key, unhex(t, "00 00 00 00 01 8b cf e5 68")); err == nil || !strings.Contains(err.Error(), "timestamp") {
		t.Errorf("short timestamp: %v", err)
	}
	if _, err := Decode(key[:5], unhex(t, "00 00 00 00 01 8b cf e5 68 00")); err == nil || !strings.Contains(err.Error(), "targetClusterAlias") {
		t.Errorf("short target: %v", err)
	}
}

// TestPathsOrder: paths are sorted by the cluster they reach, then by
// hops, then by name; the newest heartbeat of a path wins whatever the
// order it was read in; a custom separator is followed.
func TestPathsOrder(t *testing.T) {
	at := func(s int64) int64 { return 1_700_000_000_000 + s*1000 }
	seen := []Observed{
		{Cluster: "C", Topic: "heartbeats", Heartbeat: Heartbeat{Source: "B", Target: "C", Timestamp: at(5)}},
		{Cluster: "C", Topic: "heartbeats", Heartbeat: Heartbeat{Source: "B", Target: "C", Timestamp: at(3)}}, // older, read later
		{Cluster: "A", Topic: "heartbeats", Heartbeat: Heartbeat{Source: "Z", Target: "A", Timestamp: at(1)}},
		{Cluster: "C", Topic: "A_heartbeats", Heartbeat: Heartbeat{Source: "Z", Target: "A", Timestamp: at(2)}},
		{Cluster: "C", Topic: "heartbeats", Heartbeat: Heartbeat{Source: "A", Target: "C", Timestamp: at(4)}},
		{Cluster: "C", Topic: "A.heartbeats", Heartbeat: Heartbeat{Source: "Z", Target: "A", Timestamp: at(2)}}, // "." is not the separator
		// The target known under another alias downstream: both kept.
		{Cluster: "D", Topic: "C_X_heartbeats", Heartbeat: Heartbeat{Source: "A", Target: "B", Timestamp: at(6)}},
	}
	var lines []string
	for _, p := range Paths(policy.Default{Separator: "_"}, seen) {
		lines = append(lines, fmt.Sprintf("%s (%d) %d", p, p.Hops(), p.Newest.UnixMilli()-at(0)))
	}
	want := []string{
		"Z -> A (1) 1000",
		"A -> C (1) 4000",
		"B -> C (1) 5000",
		"Z -> A -> C (2) 2000",
		"A -> B -> X -> C -> D (4) 6000",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("paths:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// selfUpstream is a policy under which a plain topic has a source but is
// its own upstream (as Identity's non-heartbeat topics are): the walk up
// a heartbeats topic's name must stop there.
type selfUpstream struct{ policy.Default }

func (p selfUpstream) TopicSource(t string) (string, bool) {
	if !strings.Contains(t, ".") {
		return "X", true
	}
	return p.Default.TopicSource(t)
}

func (p selfUpstream) UpstreamTopic(t string) (string, bool) {
	if !strings.Contains(t, ".") {
		return t, true
	}
	return p.Default.UpstreamTopic(t)
}

func TestPathsStopAtSelfUpstream(t *testing.T) {
	seen := []Observed{{Cluster: "C", Topic: "B.heartbeats", Heartbeat: Heartbeat{Source: "A", Target: "B", Timestamp: 1}}}
	got := Paths(selfUpstream{}, seen)
	if len(got) != 1 || got[0].String() != "A -> B -> C" {
		t.Errorf("paths = %v, want A -> B -> C", got)
	}
}
