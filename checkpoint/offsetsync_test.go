package checkpoint

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOffsetSyncGolden checks the worked example of MM2.md §2.3: orders/3,
// 100 -> 42.
func TestOffsetSyncGolden(t *testing.T) {
	s := OffsetSync{Topic: "orders", Partition: 3, Upstream: 100, Downstream: 42}
	wantKey := unhex(t, "00 06 6f 72 64 65 72 73 00 00 00 03")
	wantValue := unhex(t, "00 00 00 00 00 00 00 64 00 00 00 00 00 00 00 2a")
	if got := s.AppendKey(nil); !bytes.Equal(got, wantKey) {
		t.Errorf("key % x, want % x", got, wantKey)
	}
	if got := s.AppendValue(nil); !bytes.Equal(got, wantValue) {
		t.Errorf("value % x, want % x", got, wantValue)
	}
	got, err := DecodeOffsetSync(wantKey, append(wantValue, 0xff)) // trailing bytes ignored
	if err != nil || got != s {
		t.Errorf("decode = %+v, %v", got, err)
	}
}

func TestDecodeOffsetSyncErrors(t *testing.T) {
	tests := []struct {
		name       string
		key, value string
		want       string
	}{
		{"empty key", "", "00000000000000640000000000000000", "topic"},
		{"short partition", "0001 41 0000", "00000000000000640000000000000000", "partition"},
		{"negative length", "ffff", "00000000000000640000000000000000", "negative"},
		{"short value", "0001 41 00000000", "0000000000000064", "offset"},
	}
	for _, tt := range tests {
		_, err := DecodeOffsetSync(unhex(t, tt.key), unhex(t, tt.value))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want mention of %q", tt.name, err, tt.want)
		}
	}
}

func FuzzDecodeOffsetSync(f *testing.F) {
	f.Add([]byte("\x00\x06orders\x00\x00\x00\x03"), []byte("\x00\x00\x00\x00\x00\x00\x00\x64\x00\x00\x00\x00\x00\x00\x00\x2a"))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		s, err := DecodeOffsetSync(key, value)
		if err != nil {
			return
		}
		again, err := DecodeOffsetSync(s.AppendKey(nil), s.AppendValue(nil))
		if err != nil || again != s {
			t.Fatalf("round trip of %+v: %+v, %v", s, again, err)
		}
	})
}

func TestSyncStateRules(t *testing.T) {
	type step struct {
		up, down int64
		due      bool
	}
	tests := []struct {
		name   string
		maxLag int64
		steps  []step
	}{
		{"first record is due", 100, []step{{0, 0, true}, {1, 1, false}, {2, 2, false}}},
		{"upstream gap is due", 100, []step{{0, 0, true}, {1, 1, false}, {5, 2, true}, {6, 3, false}}},
		{"downstream truncation is due", 100, []step{{0, 10, true}, {1, 11, false}, {2, 0, true}}},
		{"lag reaches offset.lag.max", 3, []step{{0, 0, true}, {1, 1, false}, {2, 2, false}, {3, 3, false}, {4, 4, true}, {5, 5, false}}},
		{"lag max 0 syncs every record", 0, []step{{0, 0, true}, {1, 1, true}, {2, 2, true}}},
		{"downstream gap is due (Strait)", 100, []step{{0, 0, true}, {1, 5, true}, {2, 6, false}}},
		{"equal gaps on both sides still due (MM2's upstream rule)", 100, []step{{0, 0, true}, {3, 3, true}, {4, 4, false}}},
		{"shifted start keeps difference", 100, []step{{10, 0, true}, {11, 1, false}, {12, 2, false}}},
	}
	for _, tt := range tests {
		s := NewSyncState(tt.maxLag)
		for i, st := range tt.steps {
			if got := s.Update(OffsetSync{Upstream: st.up, Downstream: st.down}); got != st.due {
				t.Errorf("%s: step %d (%d->%d): due = %v, want %v", tt.name, i, st.up, st.down, got, st.due)
			}
		}
	}
}

func TestSyncStateDelayed(t *testing.T) {
	s := NewSyncState(100)
	if _, ok := s.TakeDelayed(); ok {
		t.Fatal("delayed sync before any record")
	}
	s.Update(OffsetSync{Upstream: 0, Downstream: 0})
	if _, ok := s.TakeDelayed(); ok {
		t.Fatal("a due sync is not also delayed")
	}
	s.Update(OffsetSync{Upstream: 1, Downstream: 1})
	s.Update(OffsetSync{Upstream: 2, Downstream: 2})
	d, ok := s.TakeDelayed()
	if !ok || d.Upstream != 2 {
		t.Fatalf("delayed = %+v, %v; want the latest (2)", d, ok)
	}
	if _, ok := s.TakeDelayed(); ok {
		t.Fatal("delayed sync taken twice")
	}
	// The delayed sync counts as sent: the lag is measured from it.
	s.Update(OffsetSync{Upstream: 3, Downstream: 3})
	if !s.hasDelayed || s.lastSyncDownstream != 2 {
		t.Errorf("state after flush: %+v", s)
	}
}

// TestOffsetSyncGoldenBytes: MM2.md §2.3's example decoded from its exact
// bytes, the value exactly 16 bytes (no version), and the formatter text.
func TestOffsetSyncGoldenBytes(t *testing.T) {
	key := unhex(t, "00 06 6f 72 64 65 72 73 00 00 00 03")
	value := unhex(t, "00 00 00 00 00 00 00 64 00 00 00 00 00 00 00 2a")
	s, err := DecodeOffsetSync(key, value)
	if err != nil || s != (OffsetSync{Topic: "orders", Partition: 3, Upstream: 100, Downstream: 42}) {
		t.Fatalf("decode = %+v, %v", s, err)
	}
	if n := len(s.AppendValue(nil)); n != 16 {
		t.Errorf("value is %d bytes, want 16", n)
	}
	if got := s.String(); got != "OffsetSync{topicPartition=orders-3, upstreamOffset=100, downstreamOffset=42}" {
		t.Errorf("String() = %s", got)
	}
	big := OffsetSync{Topic: "t", Partition: 2147483647, Upstream: 1 << 40, Downstream: -1}
	if got, err := DecodeOffsetSync(big.AppendKey(nil), big.AppendValue(nil)); err != nil || got != big {
		t.Errorf("round trip %+v: %+v, %v", big, got, err)
	}
}
