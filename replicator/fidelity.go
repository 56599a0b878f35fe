package replicator

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Record fidelity: what a source task checks of each fetched record before
// it produces it, so that a record reaches the target exactly as it is on
// the source, or its partition stops with an error naming it. Pure
// functions: no client, no clock.

// ErrTimestampNotCopyable says franz-go's producer cannot copy a record's
// timestamp exactly. franz-go (through v1.22.3) converts timestamps
// through nanoseconds both ways, time.Unix(0, ms*1e6) when it reads a
// record (source.go, timeFromMillis) and Timestamp.UnixNano()/1e6 when it
// writes one (sink.go), which wrap outside 1677-09-21..2262-04-11: year
// 3000 would come out negative, Long.MAX as -1. Kafka itself allows any
// int64. In at-least-once mode the task writes such a record itself, with
// the timestamp read from its stored batch (fidelity_write.go); in
// exactly-once mode, or when the stored timestamp cannot be read (a v0/v1
// message set), the record stops its partition with this error.
var ErrTimestampNotCopyable = errors.New("timestamp cannot be copied exactly")

// copyableTimestamp reports whether the producer writes ts as it is: a
// whole millisecond from -9223372036854 to 9223372036854 ms, where
// UnixNano()/1e6 is UnixMilli() (Kafka's "no timestamp" -1 among them);
// outside, UnixNano wraps by a multiple of 2^64 ns and the producer writes
// another timestamp. A fetched timestamp that is not a whole millisecond
// is one the consumer wrapped (fidelity_verify.go: some it wraps to whole
// milliseconds).
func copyableTimestamp(ts time.Time) bool {
	ms := ts.UnixMilli() // UnixNano()/1e6 == UnixMilli() exactly in this range, for whole milliseconds
	return ts.Nanosecond()%1e6 == 0 && ms >= minCopyableMillis && ms <= maxCopyableMillis
}

// recordBatchOverhead is a v2 record batch's header: what a broker counts
// besides the records when it measures a batch against max.message.bytes.
const recordBatchOverhead = 61

// batchBytes is the size of a record batch holding only r, uncompressed, as
// a broker measures it against max.message.bytes: the largest record a
// topic takes is the one whose batchBytes is its max.message.bytes.
func batchBytes(r *kgo.Record) int {
	body := 1 + 1 + 1 + // attributes, timestamp delta 0, offset delta 0
		kbin.VarintLen(int32(len(r.Key))) + len(r.Key) + // a null key's -1 is one byte, as 0 is
		kbin.VarintLen(int32(len(r.Value))) + len(r.Value) +
		kbin.VarintLen(int32(len(r.Headers)))
	for _, h := range r.Headers {
		body += kbin.VarintLen(int32(len(h.Key))) + len(h.Key) + kbin.VarintLen(int32(len(h.Value))) + len(h.Value)
	}
	return recordBatchOverhead + kbin.VarintLen(int32(body)) + body
}

// batchBound is an upper bound of batchBytes(r) that costs no varint
// arithmetic: each varint takes at most five bytes.
func batchBound(r *kgo.Record) int {
	n := recordBatchOverhead + 5 + 3 + 5 + len(r.Key) + 5 + len(r.Value) + 5
	for _, h := range r.Headers {
		n += 10 + len(h.Key) + len(h.Value)
	}
	return n
}

// checkRecord returns why r cannot be copied exactly to a topic whose
// max.message.bytes is limit, or nil. Its errors wrap
// ErrTimestampNotCopyable or kerr.MessageTooLarge. tight says r is within
// three bytes of the limit, where the producer client may refuse it in the
// first batch it sends to a broker (see batchCap): the caller produces it
// once the records before it were acknowledged.
func checkRecord(r *kgo.Record, limit int) (tight bool, err error) {
	if !copyableTimestamp(r.Timestamp) {
		if r.Timestamp.Nanosecond()%1e6 != 0 {
			return false, fmt.Errorf("%w: the client reads it as %s, not a whole millisecond: the stored one is outside %d to %d ms (1677-09-21 to 2262-04-11), which franz-go converts through nanoseconds",
				ErrTimestampNotCopyable, r.Timestamp.UTC().Format(time.RFC3339Nano), minCopyableMillis, maxCopyableMillis)
		}
		return false, fmt.Errorf("%w: %d ms (%s) is outside %d to %d ms (1677-09-21 to 2262-04-11), which franz-go's producer writes exactly",
			ErrTimestampNotCopyable, r.Timestamp.UnixMilli(), r.Timestamp.UTC().Format(time.RFC3339Nano), minCopyableMillis, maxCopyableMillis)
	}
	if batchBound(r) <= limit-3 {
		return false, nil
	}
	b := batchBytes(r)
	if b > limit {
		return false, fmt.Errorf("record of %d bytes (as a batch of its own) is larger than the target topic's max.message.bytes %d: %w", b, limit, kerr.MessageTooLarge)
	}
	return b > int(batchCap(limit))-4, nil
}

// The range of copyable timestamps, for messages.
const (
	maxCopyableMillis int64 = (1<<63 - 1) / 1_000_000
	minCopyableMillis       = -maxCopyableMillis
)

// refusedRecord reports whether err says the target refuses records
// themselves, so that sending them again can only fail again: their
// partition stops there, its task goes on. Other errors (a topic gone,
// access, timeouts) are about the task and fail it.
func refusedRecord(err error) bool {
	for _, e := range []error{kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.InvalidRecord, kerr.CorruptMessage,
		kerr.InvalidTimestamp, kerr.UnsupportedForMessageFormat, ErrTimestampNotCopyable} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// PartitionFailure is a source partition that stopped copying while the
// rest of its task goes on: the target refused one of its records, or the
// record cannot be copied exactly. The partition's position stays before
// Offset; a restart of the task, once the cause is fixed, copies from
// there.
type PartitionFailure struct {
	Topic     string // source topic
	Partition int32
	Offset    int64 // the first record not copied
	Err       error // a *PartitionError naming flow, topic, partition and offset
}
