package replicator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A partition whose record cannot be copied exactly, or is refused by the
// target, stops alone: the poll loop produces none of its records after
// the failed one and pauses its fetching, its position stays at the last
// record acknowledged before it (nothing skipped: a restart of the task,
// once the cause is fixed, copies from there), and the task goes on with
// its other partitions. The failure shows in the task's status and in the
// partition-state metric.

// stop records that the partition stops at offset, the first record it
// does not copy, because of cause (what failed: verb the target, with
// cause); a failure at an earlier offset wins. It reports whether the
// partition was copying until now. ps.mu is held.
func (ps *partState) stop(offset int64, verb string, cause error) (first bool) {
	was := ps.stopped.Load()
	if was && offset >= ps.failure.offset {
		return false
	}
	t := ps.task
	ps.failure.offset = offset
	ps.failure.err = fmt.Errorf("%s %s/%d on cluster %s: %w", verb, ps.remote, ps.tp.Partition, t.cfg.Target, cause)
	ps.stopped.Store(true)
	return !was
}

// failureErr is why the partition stopped, naming flow, topic, partition
// and offset. ps.mu is held.
func (ps *partState) failureErr() *PartitionError {
	err := ps.failure.err
	if ps.largest.err != nil && ps.largest.offset != ps.failure.offset {
		err = fmt.Errorf("%w (the largest record refused with it: offset %d, %d bytes)", err, ps.largest.offset, ps.largest.size)
	}
	if ps.pastFailure > 0 {
		err = fmt.Errorf("%w; %d later records of the partition reached the target before the refusal was known: they are copied again, after it, when the partition resumes", err, ps.pastFailure)
	}
	return &PartitionError{Flow: ps.task.flowName, Topic: ps.tp.Topic, Partition: ps.tp.Partition, Offset: ps.failure.offset, Err: err}
}

// partitionStopped reports a partition that stopped: the poll loop pauses
// it, the log says why.
func (t *sourceTask) partitionStopped(ps *partState) {
	t.stops.Add(1)
	ps.mu.Lock()
	err := ps.failureErr()
	ps.mu.Unlock()
	t.log.Error("partition stopped; the task's other partitions go on, and a restart of the task copies it from this offset once the cause is fixed",
		"topic", ps.tp.Topic, "partition", ps.tp.Partition, "offset", err.Offset, "err", err)
}

// pauseStopped stops fetching the stopped partitions not paused yet. Poll
// loop only.
func (t *sourceTask) pauseStopped(consumer *kgo.Client) {
	pause := map[string][]int32{}
	for tp, ps := range t.parts {
		if ps.stopped.Load() && !ps.paused {
			ps.paused = true
			pause[tp.Topic] = append(pause[tp.Topic], tp.Partition)
		}
	}
	if len(pause) > 0 {
		consumer.PauseFetchPartitions(pause)
	}
}

// failedPartitions lists the task's stopped partitions, by topic and
// partition; none before the task started copying. Safe for any goroutine.
func (t *sourceTask) failedPartitions() []PartitionFailure {
	parts := t.published.Load()
	if parts == nil {
		return nil
	}
	var out []PartitionFailure
	for _, ps := range *parts {
		if !ps.stopped.Load() {
			continue
		}
		ps.mu.Lock()
		err := ps.failureErr()
		ps.mu.Unlock()
		out = append(out, PartitionFailure{Topic: ps.tp.Topic, Partition: ps.tp.Partition, Offset: err.Offset, Err: err})
	}
	slices.SortFunc(out, func(a, b PartitionFailure) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return out
}

// producedTopics are the topics the task's producer writes to: its remote
// topics and the offsets topic.
func (t *sourceTask) producedTopics() []string {
	out := []string{t.positions.offsetsTopic()}
	seen := map[string]bool{} // source topics: thousands of them, each of many partitions
	for _, tp := range t.tps {
		if !seen[tp.Topic] {
			seen[tp.Topic] = true
			out = append(out, t.cfg.Policy.FormatRemoteTopic(t.cfg.Source, tp.Topic))
		}
	}
	return out
}

// newProducer is a client with opts whose buffer takes a record of largest
// bytes: kgo refuses a record larger than MaxBufferedBytes (the task's
// share of memory.max.bytes, or buffer.memory), which must not refuse a
// record a topic takes.
func newProducer(opts []kgo.Opt, largest int) (*kgo.Client, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	if buf, ok := cl.OptValue(kgo.MaxBufferedBytes).(int64); ok && buf > 0 && buf < int64(largest) {
		cl.Close()
		return kgo.NewClient(append(slices.Clone(opts), kgo.MaxBufferedBytes(largest))...)
	}
	return cl, nil
}

// produceTight produces r, a record within three bytes of its topic's
// limit, alone: once every record before it is acknowledged (the client
// then knows the produce version of the brokers it wrote to, and takes r
// if the topic does), and waiting for its own acknowledgement, so that if
// the client refuses it anyway (the first record the task sends to a
// broker) the partition stops there, before any record after it.
// The waits end with ctx (the task's); r is produced with produceCtx,
// which the stop does not cancel (see Run).
func (t *sourceTask) produceTight(ctx, produceCtx context.Context, producer *kgo.Client, ps *partState, r *kgo.Record) {
	if producer.Flush(ctx) != nil {
		return // ctx is done: the task stops
	}
	producer.Produce(produceCtx, r, ps.onAck)
	if producer.Flush(ctx) != nil {
		return
	}
	ps.mu.Lock()
	if ps.stopped.Load() && ps.failure.offset == r.Offset && errors.Is(ps.failure.err, kerr.MessageTooLarge) {
		ps.failure.err = fmt.Errorf("%w (the record is within 3 bytes of max.message.bytes %d of %s, which franz-go refuses in the first batch it sends to a broker, counting a 4-byte length prefix until it knows the broker's produce version: raise the topic's max.message.bytes by 3)",
			ps.failure.err, ps.maxBytes, ps.remote)
	}
	ps.mu.Unlock()
}

// refuse stops ps at r, which cannot be copied exactly (why), unless the
// task is stopping. A timestamp is named as stored (stored covers r when
// why is about its timestamp: copyPartition read it).
func (t *sourceTask) refuse(ctx context.Context, ps *partState, r *kgo.Record, stored storedCheck, why error) {
	if ctx.Err() != nil {
		return // stopping: not a failure of the record
	}
	if errors.Is(why, ErrTimestampNotCopyable) {
		if _, verr := stored.verdict(r); verr != nil {
			why = verr
		}
		if t.cfg.ExactlyOnce {
			why = fmt.Errorf("%w; in exactly-once mode Strait does not write it itself, as it does in at-least-once mode: its own batch would be outside the task's transaction, whose producer's sequence it cannot share", why)
		}
	}
	ps.next = r.Offset
	ps.mu.Lock()
	first := ps.stop(r.Offset, "copy to", why)
	ps.mu.Unlock()
	if first {
		t.partitionStopped(ps)
	}
}
