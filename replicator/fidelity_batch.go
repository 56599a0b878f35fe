package replicator

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Record batches Strait encodes itself, for records whose stored timestamp
// franz-go's producer cannot write (fidelity.go): the batch a producer
// without an id sends, each record with its timestamp exactly. Pure
// functions: no client, no clock.

// exactRecord is a record to write with the timestamp stored on the
// source: key, value and headers are rec's; rec's Timestamp is not used.
type exactRecord struct {
	rec *kgo.Record
	ms  int64 // the stored timestamp, any int64
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendExactRecord appends r as the record at offsetDelta of a batch
// whose first timestamp is first: its length, attributes 0, timestamp
// delta, offset delta, key, value (null kept apart from empty) and
// headers in order. The delta is ms - first, which exactBatchLen keeps
// from overflowing.
func appendExactRecord(dst []byte, r exactRecord, first int64, offsetDelta int32) []byte {
	body := kbin.AppendInt8(nil, 0)
	body = kbin.AppendVarlong(body, r.ms-first)
	body = kbin.AppendVarint(body, offsetDelta)
	body = kbin.AppendVarintBytes(body, r.rec.Key)
	body = kbin.AppendVarintBytes(body, r.rec.Value)
	body = kbin.AppendVarint(body, int32(len(r.rec.Headers)))
	for _, h := range r.rec.Headers {
		body = kbin.AppendVarintString(body, h.Key)
		body = kbin.AppendVarintBytes(body, h.Value)
	}
	dst = kbin.AppendVarint(dst, int32(len(body)))
	return append(dst, body...)
}

// deltaFits reports whether ms - first is an int64: a record's timestamp
// is stored as a delta from its batch's first.
func deltaFits(first, ms int64) bool {
	d := ms - first
	return (ms >= first) == (d >= 0)
}

// exactBatchLen returns how many records at the head of recs go in one
// batch no larger than limit bytes (as a broker measures it against
// max.message.bytes): at least one, if it fits alone (batchBytes), and no
// record whose timestamp delta from the first would overflow.
func exactBatchLen(recs []exactRecord, limit int) int {
	if len(recs) == 0 {
		return 0
	}
	size := recordBatchOverhead
	var scratch []byte
	for i, r := range recs {
		if !deltaFits(recs[0].ms, r.ms) {
			return i
		}
		scratch = appendExactRecord(scratch[:0], r, recs[0].ms, int32(i))
		if size += len(scratch); size > limit {
			return i
		}
	}
	return len(recs)
}

// encodeExactBatch returns recs as one v2 record batch: base offset 0
// (the broker assigns offsets), no partition leader epoch, CreateTime,
// uncompressed, not transactional, producer id, epoch and first sequence
// -1, the first record's timestamp as the batch's first, the largest as
// its max, and the CRC-32C of what follows it. recs are at least one, and
// their deltas fit (exactBatchLen).
func encodeExactBatch(recs []exactRecord) []byte {
	first, maxTs := recs[0].ms, recs[0].ms
	var records []byte
	for i, r := range recs {
		records = appendExactRecord(records, r, first, int32(i))
		maxTs = max(maxTs, r.ms)
	}
	b := kmsg.RecordBatch{
		FirstOffset:          0,
		PartitionLeaderEpoch: -1,
		Magic:                2,
		Attributes:           0,
		LastOffsetDelta:      int32(len(recs) - 1),
		FirstTimestamp:       first,
		MaxTimestamp:         maxTs,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		FirstSequence:        -1,
		NumRecords:           int32(len(recs)),
		Records:              records,
	}
	raw := b.AppendTo(make([]byte, 0, recordBatchOverhead+len(records)))
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], castagnoli))
	return raw
}
