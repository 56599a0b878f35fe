package replicator

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"
)

// With transaction.boundary = poll, a transaction holds one poll's records
// and those of the polls that return while its records are still on their
// way to the target, up to the producer's buffer in bytes
// (transactionBytes). A transaction's fixed cost is a stall: nothing is
// produced between its flush (which waits for the slowest acknowledgement)
// and the next transaction's first records, past the positions, EndTxn and
// its markers (one producer has one transaction open at a time). Under a
// backlog the next fetch lands before the producer drains, so the
// transaction grows to the budget and the stall is paid per budget's worth
// of records rather than per poll (per fetch: about 1 MiB per partition);
// with little to copy, the transaction ends when its records are
// acknowledged, as soon as it did. One transactional id, its fencing, and
// the positions written in the transaction are as before.

// defaultTransactionBytes bounds a transaction's records when the
// producer's buffer is not bounded in bytes.
const defaultTransactionBytes = 64 << 20

// transactionBytes is how many bytes of records a poll's transaction holds
// at most: the producer's buffer (its share of memory.max.bytes, or
// buffer.memory).
func transactionBytes(producer *kgo.Client) int64 {
	if n, ok := producer.OptValue(kgo.MaxBufferedBytes).(int64); ok && n > 0 {
		return n
	}
	return defaultTransactionBytes
}

// copyInTransaction produces fetches in the open transaction and returns
// the bytes of their records.
func (t *sourceTask) copyInTransaction(ctx context.Context, consumer, producer *kgo.Client, fetches kgo.Fetches) int64 {
	reached := t.prepareFetches(fetches)
	var n int64
	fetches.EachRecord(func(r *kgo.Record) { n += int64(len(r.Key) + len(r.Value)) })
	t.copyFetches(ctx, ctx, consumer, producer, fetches)
	t.stopPending(reached)
	return n
}

// holdFor bounds how long a poll's transaction takes more records: well
// within its timeout (transactionOpts), the flush of what it holds
// included.
const holdFor = 10 * time.Second

// holdWhileSending adds to the open transaction, which began at began and
// holds held bytes of records, the records of the polls that return before
// the producer has sent everything (its flush returns), until it holds
// limit bytes, has been open holdFor, or a quarter of limit waits in the
// producer (the target is slower than the source: what the transaction
// holds must be sent within its timeout). It returns with ctx done, or
// when the producer is drained: the transaction can commit.
func (t *sourceTask) holdWhileSending(ctx context.Context, consumer, producer *kgo.Client, began time.Time, held, limit int64) {
	for held < limit && time.Since(began) < holdFor && producer.BufferedProduceBytes() < limit/4 && ctx.Err() == nil {
		pctx, cancel := context.WithCancel(ctx)
		var drained errgroup.Group
		drained.Go(func() error {
			_ = producer.Flush(pctx) // returns when drained, or with pctx
			cancel()
			return nil
		})
		more := consumer.PollRecords(pctx, t.consumer.maxPollRecords)
		cancel()
		_ = drained.Wait()
		if ctx.Err() != nil {
			return
		}
		n := more.NumRecords()
		held += t.copyInTransaction(ctx, consumer, producer, more) // with its fetch errors
		if n == 0 {
			return
		}
	}
}

// sentPositions returns the position each partition of the open
// transaction reaches once its records are acknowledged: its last record
// produced.
func (t *sourceTask) sentPositions() map[topicPartition]int64 {
	out := map[topicPartition]int64{}
	for ps := range t.txn.marks {
		ps.mu.Lock()
		if last := ps.pos.last(); last > ps.written {
			out[ps.tp] = last
		}
		ps.mu.Unlock()
	}
	return out
}

// last is the last upstream offset produced, or the last acknowledged when
// none is in flight.
func (p *position) last() int64 {
	if p.pending() > 0 {
		return p.inflight[len(p.inflight)-1]
	}
	return p.acked
}
