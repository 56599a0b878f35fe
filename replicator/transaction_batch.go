package replicator

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"
)

// With transaction.boundary = poll, a transaction holds one poll's records
// and those of the polls that return while its records are still on their
// way to the target, for at most holdFor. A transaction's fixed cost is a
// stall: nothing is produced between its flush (which waits for the
// slowest acknowledgement) and the next transaction's first records, past
// the positions, EndTxn and its markers (one producer has one transaction
// open at a time). Under a backlog the next fetch lands before the
// producer drains, so the transaction stays open up to holdFor and the
// stall is paid once per holdFor rather than per poll (per fetch: about
// 1 MiB per partition); with little to copy, the transaction ends when its
// records are acknowledged, as soon as it did. Memory is not held longer:
// acknowledged records are released as before, and the producer's buffer
// bounds the rest. One transactional id, its fencing, and the positions
// written in the transaction are as before.

// holdFor bounds how long a poll's transaction takes more records: what a
// read_committed reader waits for at most past the copy, under a backlog,
// and well within the transaction's timeout (transactionOpts).
const holdFor = 2 * time.Second

// defaultWaitingBytes bounds the bytes waiting in the producer for a poll's
// transaction to take more records when the producer's buffer is not
// bounded in bytes.
const defaultWaitingBytes = 16 << 20

// waitingBytes is how many bytes may wait in the producer for a poll's
// transaction to take more records: a quarter of the producer's buffer (its
// share of memory.max.bytes, or buffer.memory). More means the target is
// slower than the source: the transaction commits, so that what it holds
// is sent within its timeout.
func waitingBytes(producer *kgo.Client) int64 {
	if n, ok := producer.OptValue(kgo.MaxBufferedBytes).(int64); ok && n > 0 {
		return max(n/4, 1)
	}
	return defaultWaitingBytes
}

// copyInTransaction produces fetches in the open transaction.
func (t *sourceTask) copyInTransaction(ctx context.Context, consumer, producer *kgo.Client, fetches kgo.Fetches) {
	reached := t.prepareFetches(fetches)
	t.copyFetches(ctx, ctx, consumer, producer, fetches)
	t.stopPending(reached)
}

// holdWhileSending adds to the open transaction, which began at began, the
// records of the polls that return before the producer has sent everything
// (its flush returns), until it has been open holdFor or more than
// waiting bytes wait in the producer. It returns with ctx done, or when the
// producer is drained: the transaction can commit.
func (t *sourceTask) holdWhileSending(ctx context.Context, consumer, producer *kgo.Client, began time.Time, waiting int64) {
	for time.Since(began) < holdFor && producer.BufferedProduceBytes() <= waiting && ctx.Err() == nil {
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
		t.copyInTransaction(ctx, consumer, producer, more) // with its fetch errors
		if more.NumRecords() == 0 {
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
