package replicator

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
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
	td, err := t.srcAdm.ListTopics(ctx, tp.Topic)
	if err != nil {
		return storedCheck{}, err
	}
	d, ok := td[tp.Topic]
	if !ok || d.Err != nil {
		return storedCheck{}, fmt.Errorf("describe %s: %w", tp.Topic, orUnknown(d.Err))
	}
	pd, ok := d.Partitions[tp.Partition]
	if !ok || pd.Err != nil {
		return storedCheck{}, fmt.Errorf("describe %s/%d: %w", tp.Topic, tp.Partition, orUnknown(pd.Err))
	}
	req := kmsg.NewPtrFetchRequest()
	req.MinBytes, req.MaxBytes = 1, 64<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = tp.Topic, d.ID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = tp.Partition, offset, 8<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, consumer.Broker(int(pd.Leader)))
	if err != nil {
		return storedCheck{}, err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return storedCheck{}, fmt.Errorf("fetch %s/%d: answer for %d topics", tp.Topic, tp.Partition, len(resp.Topics))
	}
	p := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
		return storedCheck{}, err
	}
	return storedTimestamps(p.RecordBatches, offset, kgo.DefaultDecompressor())
}

// orUnknown is a described topic's or partition's error, or
// UNKNOWN_TOPIC_OR_PARTITION for one the answer left out.
func orUnknown(err error) error {
	if err != nil {
		return err
	}
	return kerr.UnknownTopicOrPartition
}

// storedTimestamps returns the stored timestamp of each record of the v2
// batches in batches (one partition's, as a fetch answers them) from
// offset from on, and the last offset read. A partial batch at the end is
// left out, as consumers leave it.
func storedTimestamps(batches []byte, from int64, decompressor kgo.Decompressor) (storedCheck, error) {
	c := storedCheck{ts: map[int64]int64{}, through: -1}
	for len(batches) >= 17 {
		size := 12 + int(int32(binary.BigEndian.Uint32(batches[8:])))
		if size < 17 || size > len(batches) {
			break
		}
		raw := batches[:size]
		batches = batches[size:]
		if magic := raw[16]; magic != 2 {
			// A v0/v1 message set: offset of its (last) message.
			c.through = max(c.through, int64(binary.BigEndian.Uint64(raw)))
			continue
		}
		var b kmsg.RecordBatch
		if err := b.ReadFrom(raw); err != nil {
			return c, fmt.Errorf("read batch at offset %d: %w", int64(binary.BigEndian.Uint64(raw)), err)
		}
		last := b.FirstOffset + int64(b.LastOffsetDelta)
		if last < from || b.Attributes&0x20 != 0 { // before from, or a transaction marker
			c.through = max(c.through, last)
			continue
		}
		records := b.Records
		if codec := kgo.CompressionCodecType(b.Attributes & 0x07); codec != kgo.CodecNone {
			var err error
			if records, err = decompressor.Decompress(records, codec); err != nil {
				return c, fmt.Errorf("decompress batch at offset %d: %w", b.FirstOffset, err)
			}
		}
		rd := kbin.Reader{Src: records}
		for range b.NumRecords {
			length := int(rd.Varint())
			body := kbin.Reader{Src: rd.Span(length)}
			body.Int8() // attributes
			tsDelta := body.Varlong()
			offset := b.FirstOffset + int64(body.Varint())
			if !rd.Ok() || !body.Ok() {
				return c, fmt.Errorf("read records of the batch at offset %d: %w", b.FirstOffset, kerr.CorruptMessage)
			}
			ts := b.FirstTimestamp + tsDelta
			if b.Attributes&0x08 != 0 { // LogAppendTime: the batch's, as consumers read it
				ts = b.MaxTimestamp
			}
			if offset >= from {
				c.ts[offset] = ts
			}
		}
		c.through = max(c.through, last)
	}
	return c, nil
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
