package replicator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-replicator/strait/internal/rawlog"
)

// Records whose stored timestamp franz-go's producer cannot write
// (outside 1677-09-21..2262-04-11, fidelity.go) are written by the task
// itself, in at-least-once mode: once every record of the partition
// produced before them is acknowledged (as a record near the size limit
// is, produceTight), in a batch Strait encodes (fidelity_batch.go) sent
// with a ProduceRequest of its own to the remote partition's leader, and
// acknowledged as the producer acknowledges a record (partState.ack):
// position, counts, offset sync. Records after them are produced once the
// batch is acknowledged, so the partition's order is kept. The batch has
// no producer id: a retry after a lost answer may write it twice, as
// at-least-once allows. In exactly-once mode the partition stops there
// instead: the batch would be outside the task's transaction, and the
// transactional producer's sequence cannot be shared with it.

// exactRun returns the records at the head of recs that franz-go's
// producer cannot write with their stored timestamp (stored, which covers
// recs[0]) and that the task writes itself: none in exactly-once mode, or
// when recs[0]'s stored timestamp is not known (a v0/v1 message set). A
// first record too large for its topic is refused with checkRecord's
// error.
func (t *sourceTask) exactRun(ps *partState, recs []*kgo.Record, stored storedCheck) ([]exactRecord, error) {
	if t.cfg.ExactlyOnce {
		return nil, nil
	}
	var out []exactRecord
	for _, r := range recs {
		ms, ok := stored.ts[r.Offset]
		if !ok || r.Offset > stored.through || ms >= minCopyableMillis && ms <= maxCopyableMillis {
			break
		}
		if b := batchBytes(r); b > ps.maxBytes {
			if len(out) == 0 {
				return nil, fmt.Errorf("record of %d bytes (as a batch of its own) is larger than the target topic's max.message.bytes %d: %w", b, ps.maxBytes, kerr.MessageTooLarge)
			}
			break
		}
		out = append(out, exactRecord{rec: r, ms: ms})
	}
	return out, nil
}

// writeExact writes recs, consecutive records of ps (exactRun's), to ps's
// remote partition with their stored timestamps, once every record
// produced before them is acknowledged, and acknowledges each with ps.ack
// (as the producer would: the offset the target gave it, or the error).
// It reports whether the partition goes on: false when it stopped, the
// task stops or failed, or the write failed (then ps.ack stopped the
// partition or failed the task). Poll loop only; waits end with ctx.
func (t *sourceTask) writeExact(ctx context.Context, producer *kgo.Client, ps *partState, recs []exactRecord) bool {
	if producer.Flush(ctx) != nil || ctx.Err() != nil || ps.stopped.Load() {
		return false // the task stops or failed, or a record before them was refused
	}
	if d, ok := producer.OptValue(kgo.RecordDeliveryTimeout).(time.Duration); ok && d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	for len(recs) > 0 {
		n := max(1, exactBatchLen(recs, ps.maxBytes))
		batch := recs[:n]
		recs = recs[n:]
		ps.mu.Lock()
		for _, r := range batch {
			ps.pos.sent(r.rec.Offset)
		}
		ps.mu.Unlock()
		base, err := t.produceExact(ctx, producer, ps, encodeExactBatch(batch))
		for i, r := range batch {
			r.rec.Topic = ps.remote
			if err == nil {
				r.rec.Offset = base + int64(i)
			}
			ps.ack(r.rec, err)
		}
		if err != nil {
			return false
		}
	}
	return true
}

// produceExact sends batch to ps's remote partition with acks=all and the
// producer's request timeout, through the partition's leader as the
// target's metadata names it (asked again before each try), and returns
// the offset of its first record. Retriable errors (a leader that moved, a
// broker down) are retried until ctx ends; a refusal (too large, an
// invalid timestamp) is returned at once.
func (t *sourceTask) produceExact(ctx context.Context, producer *kgo.Client, ps *partState, batch []byte) (int64, error) {
	timeout, _ := producer.OptValue(kgo.ProduceRequestTimeout).(time.Duration)
	adm := kadm.NewClient(producer)
	var last error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return -1, fmt.Errorf("write a batch of %d bytes after %d tries: %w (last: %w)", len(batch), attempt, ctx.Err(), last)
			case <-time.After(min(100*time.Millisecond<<min(attempt-1, 4), time.Second)):
			}
		}
		base, err := produceBatch(ctx, adm, producer, ps.remote, ps.tp.Partition, batch, timeout)
		if err == nil {
			return base, nil
		}
		if ctx.Err() != nil {
			return -1, fmt.Errorf("write a batch of %d bytes: %w (%w)", len(batch), ctx.Err(), err)
		}
		missing := errors.Is(err, kerr.UnknownTopicOrPartition)
		if missing && attempt == 0 {
			t.topics.remoteMissing() // the flow looks for it and creates it again
		}
		// A remote topic still missing after as many tries as the
		// producer makes (UnknownTopicRetries) fails the write, as it
		// fails a produced record.
		if !retriable(err) || refusedRecord(err) || missing && attempt+1 >= unknownTopicTries {
			return -1, err
		}
		last = err
		t.log.Debug("retrying the write of records with timestamps franz-go cannot write", "topic", ps.tp.Topic, "partition", ps.tp.Partition, "err", err)
	}
}

// unknownTopicTries is how often the task's own write tries a remote
// topic the target does not know: as often as its producer does
// (kgo.UnknownTopicRetries in Run).
const unknownTopicTries = 20

// produceBatch sends batch once to topic/partition's leader and returns
// the offset the leader gave its first record.
func produceBatch(ctx context.Context, adm *kadm.Client, cl *kgo.Client, topic string, partition int32, batch []byte, timeout time.Duration) (int64, error) {
	id, leader, err := rawlog.Leader(ctx, adm, topic, partition)
	if err != nil {
		return -1, err
	}
	req := kmsg.NewPtrProduceRequest()
	// acks=all, as the producer client is configured: kgo sends a
	// ProduceRequest with the client's acks.
	req.Acks, req.TimeoutMillis = -1, int32(timeout.Milliseconds())
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic, rt.TopicID = topic, id
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, batch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl.Broker(int(leader)))
	if err != nil {
		return -1, err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return -1, fmt.Errorf("produce to %s/%d: answer for %d topics", topic, partition, len(resp.Topics))
	}
	p := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
		if p.ErrorMessage != nil && *p.ErrorMessage != "" {
			return -1, fmt.Errorf("%w: %s", err, *p.ErrorMessage)
		}
		return -1, err
	}
	return p.BaseOffset, nil
}
