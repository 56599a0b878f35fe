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
// open at a time), and the consumer, one fetch ahead, idles through the
// flush. Under a backlog the next fetch lands before the producer drains,
// so the transaction stays open up to holdFor and the stall is paid once
// per holdFor rather than per poll (per fetch: about 1 MiB per
// partition); with little to copy, the transaction ends when its records
// are acknowledged, as soon as it did. Memory is not held longer:
// acknowledged records are released as before, and the producer's buffer
// bounds the rest. One transactional id, its fencing, and the positions
// written in the transaction are as before.
//
// What waits in the producer when the transaction stops taking records is
// flushed before it commits: txnPace bounds it to what the target
// acknowledged in holdFor at the previous transaction's pace, so that a
// slow target's transaction commits within its timeout and its records
// show every few seconds, while a target that keeps up is not made to
// drain every few MiB (a fixed quarter of the producer's buffer did that:
// at 1 KiB, a commit every ~14 MB, half of each spent flushing).

// holdFor bounds how long a poll's transaction takes more records: what a
// read_committed reader waits for at most past the copy, under a backlog,
// and well within the transaction's timeout (transactionOpts). It also
// bounds the time the records waiting in the producer should take the
// target at its last pace (txnPace).
const holdFor = 2 * time.Second

// defaultWaitingBytes bounds the bytes waiting in the producer for a poll's
// transaction to take more records, before a transaction measured the
// target's pace, when the producer's buffer is not bounded in bytes.
const defaultWaitingBytes = 16 << 20

// txnPace is how fast the task's last committed transaction went, from its
// first records to its commit: with a backlog, how fast the target takes
// records (a source slower than the target never fills the producer).
// Poll loop only.
type txnPace struct {
	first int64   // the bound before a pace is known: a quarter of the producer's buffer
	rate  float64 // bytes per second; 0 before a transaction with records committed
}

// newTxnPace starts without a pace: until a transaction commits records, a
// quarter of the producer's buffer (its share of memory.max.bytes, or
// buffer.memory) may wait in it.
func newTxnPace(producer *kgo.Client) *txnPace {
	if n, ok := producer.OptValue(kgo.MaxBufferedBytes).(int64); ok && n > 0 {
		return &txnPace{first: max(n/4, 1)}
	}
	return &txnPace{first: defaultWaitingBytes}
}

// waiting is how many bytes may wait in the producer for the open
// transaction to take more records: what the target acknowledges in
// holdFor at the last pace. More means the target is slower than the
// source: the transaction commits.
func (p *txnPace) waiting() int64 {
	if p.rate <= 0 {
		return p.first
	}
	return max(int64(p.rate*holdFor.Seconds()), 1)
}

// committed records that a transaction of bytes (its records' keys,
// values and headers, as the producer counts its buffered bytes) committed
// took after its first records were polled; one without records says
// nothing of the target.
func (p *txnPace) committed(bytes int64, took time.Duration) {
	if bytes > 0 && took > 0 {
		p.rate = float64(bytes) / took.Seconds()
	}
}

// copyInTransaction produces fetches in the open transaction.
func (t *sourceTask) copyInTransaction(ctx context.Context, consumer, producer *kgo.Client, fetches kgo.Fetches) {
	reached := t.prepareFetches(fetches)
	fetches.EachRecord(func(r *kgo.Record) { t.txn.bytes += int64(recordSize(r)) })
	t.copyFetches(ctx, ctx, consumer, producer, fetches)
	t.stopPending(reached)
}

// holdWhileSending adds to the open transaction, whose first records were
// polled at began, the records of the polls that return before the
// producer has sent everything (its flush returns), until it has been open
// holdFor or more than waiting bytes wait in the producer. It returns with
// ctx done, or when the producer is drained: the transaction can commit.
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
