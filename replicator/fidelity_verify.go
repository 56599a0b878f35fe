package replicator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/internal/rawlog"
)

// franz-go's consumer (through v1.22.3, source.go timeFromMillis) decodes a
// record's timestamp as time.Unix(0, ms*1e6), which wraps outside
// 1677-09-21..2262-04-11 as the producer's conversion does: the fetched
// record may not carry the stored timestamp. A wrapped value is mostly not
// a whole millisecond. It is a whole millisecond when the wrap is a
// multiple of 15,625·2^64 ns = 2^58 ms: for timestamps within 2^63 ns of
// j·2^58 ms (j = ±1..±32, some 9 million years apart), which decode into
// the range, Long.MAX as -1 and Long.MIN as 0. The stored timestamp is
// read from the source (readStored) for a fetched one that is not a whole
// millisecond and for one at or below zero (ambiguousTimestamp: the
// neighbourhood of Long.MAX whole, half of the others, Long.MIN); a
// stored timestamp the producer cannot write is then written by the task
// itself in at-least-once mode (fidelity_write.go), or stops the
// partition. Those that decode above zero cannot be told from real ones:
// the consumer hands over neither the stored timestamp nor the batch's
// bytes (its hooks see batch sizes only), so telling them apart would
// take reading every batch raw a second time; they are copied with the
// timestamp the consumer decoded, the one blind spot, until franz-go is
// fixed (time.UnixMilli in timeFromMillis, and Timestamp.UnixMilli() in
// the sink). Reading the stored batches costs a fetch of the source per
// fetched batch holding such a timestamp (legacy data stamped -1),
// nothing otherwise.

// ambiguousTimestamp reports whether a fetched timestamp may stand for
// another one stored: a whole millisecond at or below zero (real ones
// there, such as Kafka's "no timestamp" -1, are rare).
func ambiguousTimestamp(ts time.Time) bool { return ts.UnixMilli() <= 0 }

// storedCheck is what readStored found of a partition's stored timestamps:
// each record's from the offset it read from to through.
type storedCheck struct {
	ts      map[int64]int64 // ms by offset, v2 batches only
	through int64           // last offset read; -1 for none
}

// verdict says whether r's fetched timestamp is the one stored: ok, or
// the stored timestamp's error; unknown when r is past what was read.
func (c *storedCheck) verdict(r *kgo.Record) (known bool, err error) {
	if r.Offset > c.through {
		return false, nil
	}
	if ms, ok := c.ts[r.Offset]; ok && ms != r.Timestamp.UnixMilli() {
		return true, fmt.Errorf("%w: stored as %d ms (%s), which the client reads as %s: it converts through nanoseconds, exact only from %d to %d ms (1677-09-21 to 2262-04-11)",
			ErrTimestampNotCopyable, ms, time.UnixMilli(ms).UTC().Format(time.RFC3339Nano), r.Timestamp.UTC().Format(time.RFC3339Nano), minCopyableMillis, maxCopyableMillis)
	}
	// Not found: a v0/v1 message set, whose timestamps this does not
	// read (none in v0).
	return true, nil
}

// readStored reads tp from offset on as stored on the source, raw, and
// returns the timestamps of the records of its v2 batches.
func (t *sourceTask) readStored(ctx context.Context, consumer *kgo.Client, tp topicPartition, offset int64) (storedCheck, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	batches, err := rawlog.Fetch(ctx, consumer, t.srcAdm, tp.Topic, tp.Partition, offset)
	if err != nil {
		return storedCheck{}, err
	}
	return storedTimestamps(batches, offset, kgo.DefaultDecompressor())
}

// storedTimestamps returns the stored timestamp of each record of the v2
// batches in batches (one partition's, as a fetch answers them) from
// offset from on, and the last offset read (rawlog.Timestamps).
func storedTimestamps(batches []byte, from int64, decompressor kgo.Decompressor) (storedCheck, error) {
	ts, through, err := rawlog.Timestamps(batches, from, decompressor)
	return storedCheck{ts: ts, through: through}, err
}

// readStoredRetrying is readStored, tried three times over about a second
// (a leader that moved), reading at least offset.
func (t *sourceTask) readStoredRetrying(ctx context.Context, consumer *kgo.Client, tp topicPartition, offset int64) (storedCheck, error) {
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return storedCheck{}, ctx.Err()
			case <-time.After(time.Duration(attempt) * 300 * time.Millisecond):
			}
		}
		var c storedCheck
		if c, err = t.readStored(ctx, consumer, tp, offset); err == nil {
			if c.through >= offset {
				return c, nil
			}
			err = errors.New("the fetch read nothing")
		}
	}
	return storedCheck{}, fmt.Errorf("read the stored batch of %s/%d at offset %d: %w", tp.Topic, tp.Partition, offset, err)
}

// sourceUnreadable fails the task because the stored batch of r (a record
// whose fetched timestamp must be checked against it) cannot be read from
// the source: a problem of the source cluster, not of the record, which
// the target never saw. Nothing of the partition from r on is produced;
// a run of the task after the failure copies it from there. A stopping
// task (ctx done) does not fail.
func (t *sourceTask) sourceUnreadable(ctx context.Context, consumer *kgo.Client, ps *partState, r *kgo.Record, err error) {
	if ctx.Err() != nil {
		return
	}
	seeds, _ := consumer.OptValue(kgo.SeedBrokers).([]string)
	t.failure(&PartitionError{Flow: t.flowName, Topic: ps.tp.Topic, Partition: ps.tp.Partition, Offset: r.Offset,
		Err: &ClusterError{Alias: t.cfg.Source, Servers: seeds,
			Err: fmt.Errorf("the client reads the record's timestamp as %s, which only its stored batch can confirm: %w", r.Timestamp.UTC().Format(time.RFC3339Nano), err)}})
}
