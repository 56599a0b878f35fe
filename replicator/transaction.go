package replicator

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/strait-replicator/strait/internal/connect"
)

// transactionalID is the id of task i's transactions, as Kafka Connect
// names them (KIP-618): "<group.id>-<connector>-<task>". MM2 running the
// same flow uses the same ids, so either fences the other's zombie tasks.
func transactionalID(groupID string, task int) string {
	return fmt.Sprintf("%s-%s-%d", groupID, connect.SourceConnector, task)
}

// transactionOpts are the producer options of task i in exactly-once mode.
func transactionOpts(groupID string, task int, interval time.Duration) []kgo.Opt {
	return []kgo.Opt{
		kgo.TransactionalID(transactionalID(groupID, task)),
		// A transaction stays open an interval (or one poll) and its
		// flush; Kafka's default cap (transaction.max.timeout.ms) is 15 min.
		kgo.TransactionTimeout(max(time.Minute, interval+30*time.Second)),
	}
}

// ErrTransactionAborted wraps the cause of an aborted transaction: its
// records were never visible to read_committed consumers, and the task
// starts again from the positions of the last committed transaction.
var ErrTransactionAborted = errors.New("transaction aborted")

// transact copies in transactions until ctx is done or a transaction
// fails: each holds the records of one poll and of those that return while
// they are sent (transaction.boundary = poll, see holdWhileSending), or of one
// transaction.boundary.interval, and the positions they reach, written to
// the offsets topic, so that a read_committed consumer of the target sees
// every source record once whatever crashes. Offset syncs of a
// transaction's records are written before it commits (they are not part
// of it: the offset-syncs topic may be on the other cluster). On a
// requested stop the open transaction commits. A transaction with a
// record the target refuses aborts, and the task goes on without that
// record's partition (transaction_rewind.go).
func (t *sourceTask) transact(ctx, taskCtx context.Context, consumer, producer *kgo.Client) error {
	interval := t.cfg.TransactionInterval
	maxRecords := t.consumer.maxPollRecords
	pace := newTxnPace(producer)
	for {
		if err := producer.BeginTransaction(); err != nil {
			return fmt.Errorf("%s: begin transaction: %w", t.id, err)
		}
		t.beginTransaction()
		began := time.Now()
		var copying time.Time // the first poll's return: an idle wait before it is not the target's
		for {
			pctx, cancel := taskCtx, context.CancelFunc(func() {})
			if interval > 0 {
				pctx, cancel = context.WithDeadline(taskCtx, began.Add(interval))
			}
			fetches := consumer.PollRecords(pctx, maxRecords)
			cancel()
			if taskCtx.Err() != nil {
				break
			}
			// Records canceled at stop (the produce context) fail the
			// transaction, which aborts: none of its records show.
			if copying.IsZero() {
				copying = time.Now()
			}
			t.copyInTransaction(taskCtx, consumer, producer, fetches)
			if interval == 0 {
				t.holdWhileSending(taskCtx, consumer, producer, copying, pace.waiting())
				break
			}
			if time.Since(began) >= interval {
				break
			}
		}
		// The commit is not cut short by a stop request: what was produced
		// commits (within stopTimeout), unless a record failed.
		stopping := taskCtx.Err() != nil
		endCtx, cancelEnd := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
		err := t.commitTransaction(endCtx, taskCtx, producer)
		cancelEnd()
		if err == nil {
			if !copying.IsZero() {
				pace.committed(t.txn.bytes, time.Since(copying))
			}
			if stopping || ctx.Err() != nil {
				return nil
			}
			continue
		}
		stopping = stopping || ctx.Err() != nil
		aerr := t.abortTransaction(ctx, producer, err)
		if cause := context.Cause(taskCtx); stopping && (cause == nil || errors.Is(cause, context.Canceled)) {
			t.log.Info("open transaction aborted at stop; its records are copied again by the next run", "err", err)
			return nil
		}
		if errors.Is(err, errRefusedInTransaction) && aerr == nil && !stopping {
			t.log.Info("transaction aborted: the target refused one of its records; its partitions start again from the last committed transaction, and the refused record's partition stops there", "err", err)
			t.rewind(consumer)
			continue
		}
		return fmt.Errorf("%s: %w: %w", t.id, ErrTransactionAborted, t.culprit(err))
	}
}

// abortTransaction aborts the open transaction, which failed with err.
func (t *sourceTask) abortTransaction(ctx context.Context, producer *kgo.Client, err error) error {
	abortCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
	defer cancel()
	aerr := producer.AbortBufferedRecords(abortCtx)
	// A fenced producer's transaction was aborted by the fencer; asking
	// to abort it again could only re-initialise this producer's id
	// (KIP-360), which Kafka refuses to a fenced epoch.
	if aerr == nil && !fenced(err) {
		aerr = producer.EndTransaction(abortCtx, kgo.TryAbort)
	}
	if aerr != nil {
		t.log.Warn("aborting the transaction failed; the next owner of the task fences it", "err", aerr)
	}
	return aerr
}

// commitTransaction commits the open transaction with the positions its
// records reach, unless a record failed (taskCtx's cause). The positions
// are known once the records are produced (each partition's last one):
// they are written while the records are in flight, and the transaction
// commits only if the acknowledgements reach exactly them.
func (t *sourceTask) commitTransaction(ctx, taskCtx context.Context, producer *kgo.Client) error {
	positions := t.sentPositions()
	var writing errgroup.Group
	writing.Go(func() error { return t.positions.write(ctx, producer, positions) })
	ferr := producer.Flush(ctx)
	werr := writing.Wait()
	if ferr != nil {
		return fmt.Errorf("flush records: %w", ferr)
	}
	if cause := context.Cause(taskCtx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	if err := t.refusedInTransaction(); err != nil {
		return err
	}
	if werr != nil {
		return werr
	}
	acked := t.acknowledged(ctx) // and the delayed offset syncs
	for tp, ps := range t.parts {
		ps.mu.Lock()
		failed, pending := ps.pos.failed, ps.pos.pending()
		ps.mu.Unlock()
		if failed || pending > 0 {
			// Canceled at stop: part of the transaction never landed.
			return fmt.Errorf("records of %s/%d not acknowledged", tp.Topic, tp.Partition)
		}
	}
	if !maps.Equal(acked, positions) {
		return fmt.Errorf("the records acknowledged reach positions %v, not the %v written", acked, positions)
	}
	if err := t.syncs.flush(ctx); err != nil {
		return err
	}
	if err := producer.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	t.written(positions)
	t.countCommitted(ctx)
	return nil
}

// fenced reports whether err says another producer took the task's
// transactional id over: the task must stop, not retry.
func fenced(err error) bool {
	return errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) ||
		errors.Is(err, kerr.TransactionalIDAuthorizationFailed)
}

// removedTaskID reports whether txnID is the transactional id of a source
// task of groupID that no longer exists when the flow has tasks tasks: a
// transaction such a task left open (it crashed, then tasks.max went down)
// is aborted by nobody else until it times out, and holds back every
// read_committed reader of the offsets topic until then.
func removedTaskID(groupID, txnID string, tasks int) bool {
	rest, ok := strings.CutPrefix(txnID, groupID+"-"+connect.SourceConnector+"-")
	if !ok {
		return false
	}
	i, err := strconv.Atoi(rest)
	return err == nil && i >= tasks && strconv.Itoa(i) == rest
}

// fenceRemovedTasks fences the transactional ids of removed source tasks
// (removedTaskID) that have a transaction open, as Connect fences the
// previous task generation's ids. It needs brokers with ListTransactions
// (Kafka 3.0+) and DESCRIBE on the ids; without them it says so once.
func (f *flow) fenceRemovedTasks(ctx context.Context, tasks int) {
	listed, err := f.tgtAdm.ListTransactions(ctx, nil, []string{"Ongoing"})
	if err != nil {
		if !f.listTxnsFailed {
			f.listTxnsFailed = true
			f.log.Info("cannot list open transactions; a crashed task removed by a tasks.max decrease keeps its transaction open until it times out", "cluster", f.cfg.Target, "err", err)
		}
		return
	}
	for _, id := range listed.TransactionalIDs() {
		if !removedTaskID(f.cfg.GroupID, id, tasks) || listed[id].State != "Ongoing" {
			continue
		}
		if err := fenceTransactionalID(ctx, f.tgtOpts, id); err != nil {
			f.log.Warn("fencing the open transaction of a removed task failed", "transactional_id", id, "err", err)
			continue
		}
		f.log.Info("fenced the open transaction of a removed task", "transactional_id", id)
	}
}

// fenceTransactionalID initialises a producer id for id, which aborts its
// open transaction and fences the producer that had it.
func fenceTransactionalID(ctx context.Context, opts []kgo.Opt, id string) error {
	cl, err := kgo.NewClient(append(slices.Clone(opts), kgo.TransactionalID(id))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	_, _, err = cl.ProducerID(ctx)
	return err
}
