package replicator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

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

// fenceTask fences task's transactional id, as Connect's leader does before
// an exactly-once task starts (KIP-618): a transaction a previous owner left
// open (a crashed or cut-off worker) is aborted and that producer can no
// longer commit, so the positions read next are final.
func fenceTask(ctx context.Context, opts []kgo.Opt, groupID string, task int) error {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	id := transactionalID(groupID, task)
	for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 2*time.Second) {
		req := kmsg.NewPtrInitProducerIDRequest()
		req.TransactionalID = &id
		req.TransactionTimeoutMillis = int32(time.Minute / time.Millisecond)
		req.ProducerID, req.ProducerEpoch = -1, -1
		resp, err := req.RequestWith(ctx, cl)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		if err == nil {
			return nil
		}
		// A transaction being completed answers CONCURRENT_TRANSACTIONS
		// for a moment.
		if !errors.Is(err, kerr.ConcurrentTransactions) || ctx.Err() != nil {
			return fmt.Errorf("fence transactional id %s: %w", id, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
	}
}

// ErrTransactionAborted wraps the cause of an aborted transaction: its
// records were never visible to read_committed consumers, and the task
// starts again from the positions of the last committed transaction.
var ErrTransactionAborted = errors.New("transaction aborted")

// transact copies in transactions until ctx is done or a transaction
// fails: each holds the records of one poll (or of one
// transaction.boundary.interval) and the positions they reach, written to
// the offsets topic, so that a read_committed consumer of the target sees
// every source record once whatever crashes. Offset syncs of a
// transaction's records are written before it commits (they are not part
// of it: the offset-syncs topic may be on the other cluster). On a
// requested stop the open transaction commits.
func (t *sourceTask) transact(ctx, taskCtx context.Context, consumer, producer *kgo.Client) error {
	interval := t.flow.cfg.TransactionInterval
	maxRecords := t.flow.consumer.maxPollRecords
	for {
		if err := producer.BeginTransaction(); err != nil {
			return fmt.Errorf("%s: begin transaction: %w", t.id, err)
		}
		began := time.Now()
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
			t.copyFetches(taskCtx, consumer, producer, fetches)
			if interval == 0 || time.Since(began) >= interval {
				break
			}
		}
		// The commit is not cut short by a stop request: what was produced
		// commits (within stopTimeout), unless a record failed.
		stopping := taskCtx.Err() != nil
		endCtx, cancelEnd := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
		err := t.commitTransaction(endCtx, taskCtx, producer)
		cancelEnd()
		if err != nil {
			stopping = stopping || ctx.Err() != nil
			abortCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
			defer cancel()
			aerr := producer.AbortBufferedRecords(abortCtx)
			if aerr == nil {
				aerr = producer.EndTransaction(abortCtx, kgo.TryAbort)
			}
			if aerr != nil {
				t.log.Warn("aborting the transaction failed; the next owner of the task fences it", "err", aerr)
			}
			if cause := context.Cause(taskCtx); stopping && (cause == nil || errors.Is(cause, context.Canceled)) {
				t.log.Info("open transaction aborted at stop; its records are copied again by the next run", "err", err)
				return nil
			}
			return fmt.Errorf("%s: %w: %w", t.id, ErrTransactionAborted, t.culprit(err))
		}
		if stopping || ctx.Err() != nil {
			return nil
		}
	}
}

// commitTransaction commits the open transaction with the positions its
// records reach, unless a record failed (taskCtx's cause).
func (t *sourceTask) commitTransaction(ctx, taskCtx context.Context, producer *kgo.Client) error {
	if err := producer.Flush(ctx); err != nil {
		return fmt.Errorf("flush records: %w", err)
	}
	if cause := context.Cause(taskCtx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	positions := t.acknowledged(ctx)
	for tp, ps := range t.parts {
		ps.mu.Lock()
		failed, pending := ps.pos.failed, ps.pos.pending()
		ps.mu.Unlock()
		if failed || pending > 0 {
			// Canceled at stop: part of the transaction never landed.
			return fmt.Errorf("records of %s/%d not acknowledged", tp.Topic, tp.Partition)
		}
	}
	if err := t.flow.flushSyncs(ctx); err != nil {
		return err
	}
	if err := t.flow.offsets.write(ctx, producer, positions); err != nil {
		return err
	}
	if err := producer.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	t.written(positions)
	return nil
}

// fenced reports whether err says another producer took the task's
// transactional id over: the task must stop, not retry.
func fenced(err error) bool {
	return errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) ||
		errors.Is(err, kerr.TransactionalIDAuthorizationFailed)
}

// refused reports whether err says the target refuses the records
// themselves or Strait's access: running again would fail the same way.
func refused(err error) bool {
	for _, e := range []error{kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.InvalidRecord, kerr.CorruptMessage,
		kerr.TopicAuthorizationFailed, kerr.ClusterAuthorizationFailed, kerr.GroupAuthorizationFailed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// retriable reports whether a task that failed with err may run again: the
// failure was passing (a broker, a connection, a transaction aborted for
// such a reason), not about the data, permissions or ownership.
func retriable(err error) bool {
	if err == nil || lasting(err) || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, ErrTransactionAborted) {
		// Whatever went wrong with the transaction (a coordinator that
		// moved or lost its state, a timeout), a new run starts from the
		// committed positions with a new producer: nothing is lost or
		// written twice.
		return true
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Retriable || errors.Is(err, kerr.TransactionAbortable) || errors.Is(err, kerr.UnknownProducerID) ||
			errors.Is(err, kerr.InvalidProducerIDMapping) || errors.Is(err, kerr.OperationNotAttempted)
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, kgo.ErrRecordTimeout)
}

// Backoff between runs of a task that failed for a passing reason.
const (
	retryBackoffMin = 500 * time.Millisecond
	retryBackoffMax = 30 * time.Second
)

// runRetrying runs the task until ctx is done, starting it again (from its
// stored positions, after a growing pause) when it fails for a passing
// reason, and up to unknownRetries times in a row for a reason not known
// either way (an admin request that timed out on every broker, say). It
// returns the first failure that is known to last (fenced, refused records
// or access, lost data) or that outlived those retries.
func (t *sourceTask) runRetrying(ctx context.Context) error {
	backoff := retryBackoffMin
	unknown := 0
	for {
		began := time.Now()
		err := t.run(ctx)
		if ctx.Err() != nil && !fenced(err) {
			return nil // stopped, whatever the interrupted step said
		}
		if err == nil || lasting(err) {
			return err
		}
		if time.Since(began) > time.Minute {
			backoff, unknown = retryBackoffMin, 0
		}
		if !retriable(err) {
			if unknown++; unknown > unknownRetries {
				return err
			}
		}
		t.log.Warn("task failed; starting it again from its stored positions", "in", backoff, "err", err)
		t.status.set(StateRunning, nil)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, retryBackoffMax)
	}
}

// unknownRetries is how many times in a row a task runs again after a
// failure not known to be passing.
const unknownRetries = 3

// lasting reports whether running the task again cannot help: it was
// fenced, the target refuses its records or Strait's access, or source
// data was lost.
func lasting(err error) bool {
	var loss *DataLossError
	return fenced(err) || refused(err) || errors.As(err, &loss)
}
