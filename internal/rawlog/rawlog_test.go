package rawlog

import (
	"bytes"
	"encoding/binary"
	"maps"
	"math"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// batch encodes a v2 record batch at base holding records with timestamps
// ts (the first is the batch's first timestamp), its records compressed
// with cc when given.
func batch(t *testing.T, base int64, attrs int16, cc kgo.Compressor, ts ...int64) []byte {
	t.Helper()
	var records []byte
	for i, v := range ts {
		r := kmsg.Record{TimestampDelta64: v - ts[0], OffsetDelta: int32(i), Key: []byte("k"), Value: []byte("value")}
		r.Length = int32(len(r.AppendTo(nil)) - 1) // the body after a one-byte length of 0
		records = r.AppendTo(records)
	}
	if cc != nil {
		records, _ = cc.Compress(new(bytes.Buffer), records)
	}
	b := kmsg.RecordBatch{FirstOffset: base, Magic: 2, Attributes: attrs, LastOffsetDelta: int32(len(ts) - 1),
		FirstTimestamp: ts[0], MaxTimestamp: ts[len(ts)-1], ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1,
		NumRecords: int32(len(ts)), Records: records}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	return raw
}

// TestTimestamps: the stored timestamps of v2 batches are read as stored,
// compressed or not, with the batch's for LogAppendTime, from the offset
// asked on; transaction markers, v0/v1 message sets and a partial batch at
// the end are passed over, and the last offset read is said.
func TestTimestamps(t *testing.T) {
	lz4, err := kgo.DefaultCompressor(kgo.Lz4Compression())
	if err != nil {
		t.Fatal(err)
	}
	v1 := make([]byte, 30) // a v1 message set's header: offset 40, size, crc, magic 1
	binary.BigEndian.PutUint64(v1, 40)
	binary.BigEndian.PutUint32(v1[8:], uint32(len(v1)-12))
	v1[16] = 1
	for _, tt := range []struct {
		name    string
		batches [][]byte
		from    int64
		want    map[int64]int64
		through int64
	}{
		{"from an offset within a batch", [][]byte{batch(t, 10, 0, nil, 1, math.MaxInt64, -1)}, 11,
			map[int64]int64{11: math.MaxInt64, 12: -1}, 12},
		{"a marker passed over", [][]byte{batch(t, 0, 0, nil, 5), batch(t, 1, 0x20, nil, 6), batch(t, 2, 0, nil, 7)}, 0,
			map[int64]int64{0: 5, 2: 7}, 2},
		{"compressed", [][]byte{batch(t, 3, 0x03, lz4, math.MinInt64, 0, 3)}, 0,
			map[int64]int64{3: math.MinInt64, 4: 0, 5: 3}, 5},
		{"LogAppendTime: the batch's", [][]byte{batch(t, 7, 0x08, nil, 5, 6)}, 0,
			map[int64]int64{7: 6, 8: 6}, 8},
		{"a partial batch at the end", [][]byte{batch(t, 0, 0, nil, 1), batch(t, 1, 0, nil, 2)[:30]}, 0,
			map[int64]int64{0: 1}, 0},
		{"a v1 message set", [][]byte{v1}, 0, map[int64]int64{}, 40},
		{"a batch before from", [][]byte{batch(t, 0, 0, nil, 1, 2)}, 5, map[int64]int64{}, 1},
		{"nothing", nil, 0, map[int64]int64{}, -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var all []byte
			for _, b := range tt.batches {
				all = append(all, b...)
			}
			ts, through, err := Timestamps(all, tt.from, kgo.DefaultDecompressor())
			if err != nil || through != tt.through || !maps.Equal(ts, tt.want) {
				t.Fatalf("Timestamps = %v through %d (%v), want %v through %d", ts, through, err, tt.want, tt.through)
			}
		})
	}
	// Records cut short inside a whole batch are an error, not a guess.
	b := batch(t, 0, 0, nil, 1, 2)
	binary.BigEndian.PutUint32(b[57:], 3) // NumRecords: one more than it holds
	if _, _, err := Timestamps(b, 0, kgo.DefaultDecompressor()); err == nil {
		t.Error("a batch claiming more records than it holds read without error")
	}
}
