package replicator

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// decodeExactBatch decodes raw with kmsg as a broker would take it: one v2
// batch whose length and CRC-32C hold, and its records, each with its
// timestamp (the batch's first plus its delta) and offset delta.
func decodeExactBatch(raw []byte) (kmsg.RecordBatch, []kmsg.Record, error) {
	var b kmsg.RecordBatch
	if err := b.ReadFrom(raw); err != nil {
		return b, nil, fmt.Errorf("batch: %w", err)
	}
	if int(b.Length) != len(raw)-12 {
		return b, nil, fmt.Errorf("length %d, the batch has %d bytes after it", b.Length, len(raw)-12)
	}
	if crc := crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)); uint32(b.CRC) != crc {
		return b, nil, fmt.Errorf("CRC %08x, want %08x", uint32(b.CRC), crc)
	}
	var out []kmsg.Record
	rest := b.Records
	for len(rest) > 0 {
		l, n := binary.Varint(rest) // Kafka's varints are zigzag, as Go's
		if n <= 0 || l < 0 || n+int(l) > len(rest) {
			return b, out, fmt.Errorf("record %d: bad length", len(out))
		}
		var r kmsg.Record
		if err := r.ReadFrom(rest[:n+int(l)]); err != nil {
			return b, out, fmt.Errorf("record %d: %w", len(out), err)
		}
		out = append(out, r)
		rest = rest[n+int(l):]
	}
	if len(out) != int(b.NumRecords) {
		return b, out, fmt.Errorf("%d records, the batch says %d", len(out), b.NumRecords)
	}
	return b, out, nil
}

// sameExact returns how the decoded batch differs from recs, written by a
// producer without id; empty if it does not.
func sameExact(recs []exactRecord, b kmsg.RecordBatch, got []kmsg.Record) string {
	maxTs := recs[0].ms
	for _, r := range recs {
		maxTs = max(maxTs, r.ms)
	}
	if b.FirstOffset != 0 || b.PartitionLeaderEpoch != -1 || b.Magic != 2 || b.Attributes != 0 || b.LastOffsetDelta != int32(len(recs)-1) ||
		b.FirstTimestamp != recs[0].ms || b.MaxTimestamp != maxTs || b.ProducerID != -1 || b.ProducerEpoch != -1 || b.FirstSequence != -1 {
		return fmt.Sprintf("batch header %+v", b)
	}
	if len(got) != len(recs) {
		return fmt.Sprintf("%d records, want %d", len(got), len(recs))
	}
	bs := func(w, g []byte) bool { return (w == nil) == (g == nil) && bytes.Equal(w, g) }
	for i, w := range recs {
		g := got[i]
		if ts := b.FirstTimestamp + g.TimestampDelta64; ts != w.ms || g.OffsetDelta != int32(i) || g.Attributes != 0 {
			return fmt.Sprintf("record %d: timestamp %d ms, offset delta %d, attributes %d; want %d ms, %d, 0", i, ts, g.OffsetDelta, g.Attributes, w.ms, i)
		}
		if !bs(w.rec.Key, g.Key) || !bs(w.rec.Value, g.Value) || len(g.Headers) != len(w.rec.Headers) {
			return fmt.Sprintf("record %d: key %q value %q %d headers, want %q %q %d", i, g.Key, g.Value, len(g.Headers), w.rec.Key, w.rec.Value, len(w.rec.Headers))
		}
		for j, h := range w.rec.Headers {
			if g.Headers[j].Key != h.Key || !bs(h.Value, g.Headers[j].Value) {
				return fmt.Sprintf("record %d header %d: %q=%q (null %v), want %q=%q (null %v)", i, j, g.Headers[j].Key, g.Headers[j].Value, g.Headers[j].Value == nil, h.Key, h.Value, h.Value == nil)
			}
		}
	}
	return ""
}

// TestExactBatch: a batch Strait encodes decodes with kmsg to the records
// and exact timestamps it was given (null keys, values and header values
// kept apart from empty ones, headers in order), with a valid length and
// CRC-32C, base offset 0 and no producer id; it is byte for byte the batch
// the tests write to the source, and the stored-timestamp reader reads
// its timestamps back.
func TestExactBatch(t *testing.T) {
	y3000 := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	y1000 := time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	rec := func(key, value []byte, headers ...kgo.RecordHeader) *kgo.Record {
		return &kgo.Record{Key: key, Value: value, Headers: headers}
	}
	for _, tc := range []struct {
		name string
		recs []exactRecord
	}{
		{"Long.MAX, null key and value", []exactRecord{{rec(nil, nil), math.MaxInt64}}},
		{"Long.MIN, empty key and value", []exactRecord{{rec([]byte{}, []byte{}), math.MinInt64}}},
		{"year 3000 with headers", []exactRecord{{rec([]byte("k"), []byte("v"),
			kgo.RecordHeader{Key: "a", Value: []byte("1")}, kgo.RecordHeader{Key: "a", Value: nil}, kgo.RecordHeader{Key: "", Value: []byte{}}), y3000}}},
		{"year 1000", []exactRecord{{rec([]byte("k"), bytes.Repeat([]byte("v"), 300)), y1000}}},
		{"-1", []exactRecord{{rec(nil, []byte("no timestamp")), -1}}},
		{"several, timestamps going back and forth", []exactRecord{
			{rec([]byte("0"), nil), y3000}, {rec(nil, []byte("1")), y1000}, {rec([]byte{}, []byte{}), -1}, {rec([]byte("3"), []byte("3")), math.MaxInt64}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if n := exactBatchLen(tc.recs, defaultMaxMessageBytes); n != len(tc.recs) {
				t.Fatalf("exactBatchLen %d, want all %d", n, len(tc.recs))
			}
			raw := encodeExactBatch(tc.recs)
			b, got, err := decodeExactBatch(raw)
			if err != nil {
				t.Fatal(err)
			}
			if d := sameExact(tc.recs, b, got); d != "" {
				t.Fatal(d)
			}
			var rr []rawRecord
			for _, r := range tc.recs {
				rr = append(rr, rawRecord{key: r.rec.Key, value: r.rec.Value, headers: r.rec.Headers, ts: r.ms})
			}
			if want := encodeBatch(rr); !bytes.Equal(raw, want) {
				t.Errorf("encoded\n%x\nthe tests' encoder\n%x", raw, want)
			}
			if len(tc.recs) == 1 && len(raw) != batchBytes(tc.recs[0].rec) {
				t.Errorf("%d bytes, batchBytes says %d", len(raw), batchBytes(tc.recs[0].rec))
			}
			stored, err := storedTimestamps(raw, 0, kgo.DefaultDecompressor())
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range tc.recs {
				if ms, ok := stored.ts[int64(i)]; !ok || ms != r.ms {
					t.Errorf("offset %d read as stored %d ms (found %v), want %d", i, ms, ok, r.ms)
				}
			}
		})
	}
}

// TestExactBatchLen: a batch takes records while it stays within the
// limit and their timestamp deltas from the first fit an int64.
func TestExactBatchLen(t *testing.T) {
	r := func(n int, ms int64) exactRecord {
		return exactRecord{rec: &kgo.Record{Value: make([]byte, n)}, ms: ms}
	}
	one := len(encodeExactBatch([]exactRecord{r(100, 5)}))
	two := len(encodeExactBatch([]exactRecord{r(100, 5), r(100, 5)}))
	for _, tc := range []struct {
		name  string
		recs  []exactRecord
		limit int
		want  int
	}{
		{"none", nil, 1000, 0},
		{"all fit", []exactRecord{r(100, 5), r(100, 5), r(100, 5)}, 1000, 3},
		{"two fit exactly", []exactRecord{r(100, 5), r(100, 5), r(100, 5)}, two, 2},
		{"a byte short of two", []exactRecord{r(100, 5), r(100, 5)}, two - 1, 1},
		{"the first alone does not fit", []exactRecord{r(100, 5)}, one - 1, 0},
		{"Long.MIN then Long.MAX: the delta overflows", []exactRecord{r(1, math.MinInt64), r(1, math.MaxInt64)}, 1000, 1},
		{"Long.MAX then Long.MIN", []exactRecord{r(1, math.MaxInt64), r(1, -1), r(1, math.MinInt64)}, 1000, 2},
		{"Long.MIN then -1 fits", []exactRecord{r(1, math.MinInt64), r(1, -1)}, 1000, 2},
	} {
		if got := exactBatchLen(tc.recs, tc.limit); got != tc.want {
			t.Errorf("%s: %d records, want %d", tc.name, got, tc.want)
		}
	}
}

// FuzzExactBatch: whatever the records and timestamps, the records
// exactBatchLen puts in a batch encode within the limit and decode with
// kmsg to themselves, timestamps exact; the next one would not fit.
func FuzzExactBatch(f *testing.F) {
	f.Add([]byte("k"), false, []byte("v"), false, "h", []byte("x"), false, uint8(2), int64(math.MaxInt64), int64(math.MinInt64), int64(-1), 4096)
	f.Add([]byte(nil), true, []byte(nil), true, "", []byte(nil), true, uint8(1), int64(-1), int64(0), maxCopyableMillis+1, 100)
	f.Add([]byte{}, false, bytes.Repeat([]byte("v"), 300), false, "dup", []byte{}, false, uint8(5), minCopyableMillis-1, int64(math.MaxInt64), int64(7), 700)
	f.Fuzz(func(t *testing.T, key []byte, keyNull bool, value []byte, valueNull bool, hk string, hv []byte, hvNull bool, nh uint8, ts0, ts1, ts2 int64, limit int) {
		var recs []exactRecord
		for i, ts := range []int64{ts0, ts1, ts2} {
			rr := fuzzRecord(key, keyNull, value, valueNull, hk, hv, hvNull, nh+uint8(i), ts)
			recs = append(recs, exactRecord{rec: rr.record(), ms: ts})
		}
		n := exactBatchLen(recs, limit)
		if n < len(recs) && n > 0 {
			if next := recs[:n+1]; deltaFits(recs[0].ms, recs[n].ms) && len(encodeExactBatch(next)) <= limit {
				t.Fatalf("%d records taken, but %d fit in %d bytes", n, n+1, limit)
			}
		}
		if n == 0 {
			if len(encodeExactBatch(recs[:1])) <= limit {
				t.Fatalf("no record taken, but the first fits in %d bytes", limit)
			}
			return
		}
		raw := encodeExactBatch(recs[:n])
		if len(raw) > limit {
			t.Fatalf("%d records encode to %d bytes, over the limit %d", n, len(raw), limit)
		}
		b, got, err := decodeExactBatch(raw)
		if err != nil {
			t.Fatal(err)
		}
		if d := sameExact(recs[:n], b, got); d != "" {
			t.Fatal(d)
		}
	})
}
