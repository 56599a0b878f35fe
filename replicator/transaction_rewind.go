package replicator

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/checkpoint"
)

// In exactly-once mode a record the target refuses (refusedRecord) stops
// its partition only, as in at-least-once mode (fidelity_stop.go), but
// the transaction that held it cannot commit: it aborts, and every
// partition it held goes back to where the last committed transaction
// left it (position, offset-sync state, fetch offset; nothing of the
// aborted transaction is counted as copied). The refused partition then
// copies again, in the next transaction, the records before the refused
// one, and stops at it, before producing it: what a read_committed
// reader sees of it is its records up to the refused offset, once. A
// partition stopped before producing a record (checkRecord, a timestamp)
// whose transaction aborts for another's refusal is handled the same
// way. Connect's transactional semantics are untouched: one producer,
// one transactional id, the positions in the transaction.

// txnState is what the exactly-once poll loop knows of the open
// transaction's partitions. Poll loop only.
type txnState struct {
	// marks are the partitions with records fetched in the open
	// transaction, as they were before it: where a rewind takes them.
	marks map[*partState]txnMark
	// pending are the stops an aborted transaction undid: the partition
	// copies the records before offset again, then stops at it with err.
	pending map[*partState]pendingStop
	// bytes are the bytes (keys, values, headers) of the records fetched
	// in the open transaction: its pace once it commits (txnPace).
	bytes int64
}

// txnMark is a partition's state before the open transaction.
type txnMark struct {
	first      int64 // the first offset fetched in the transaction
	acked      int64
	sync       checkpoint.SyncState
	downstream int64
}

type pendingStop struct {
	offset int64
	err    error
}

// errRefusedInTransaction says the target refused a record of the open
// transaction: it aborts, and the task goes on without the partition.
var errRefusedInTransaction = errors.New("the target refused a record of the transaction")

// beginTransaction forgets the previous transaction's partitions.
func (t *sourceTask) beginTransaction() {
	if t.txn.marks == nil {
		t.txn.marks = map[*partState]txnMark{}
		t.txn.pending = map[*partState]pendingStop{}
	}
	clear(t.txn.marks)
	t.txn.bytes = 0
}

// prepareFetches marks the partitions fetches bring records of, before
// any of them is produced, and cuts the records of a partition with a
// pending stop at its offset; it returns the partitions that reach it,
// to stop once the records before it are produced (stopPending).
func (t *sourceTask) prepareFetches(fetches kgo.Fetches) (reached []*partState) {
	for i := range fetches {
		for j := range fetches[i].Topics {
			ft := &fetches[i].Topics[j]
			for k := range ft.Partitions {
				fp := &ft.Partitions[k]
				ps := t.parts[topicPartition{Topic: ft.Topic, Partition: fp.Partition}]
				if ps == nil || len(fp.Records) == 0 || ps.stopped.Load() {
					continue
				}
				if _, ok := t.txn.marks[ps]; !ok {
					ps.mu.Lock()
					t.txn.marks[ps] = txnMark{first: fp.Records[0].Offset, acked: ps.pos.acked, sync: ps.sync, downstream: ps.downstream}
					ps.mu.Unlock()
				}
				p, ok := t.txn.pending[ps]
				if !ok {
					continue
				}
				for n, r := range fp.Records {
					if r.Offset >= p.offset {
						fp.Records = fp.Records[:n]
						reached = append(reached, ps)
						break
					}
				}
			}
		}
	}
	return reached
}

// stopPending stops the partitions whose pending stop their copy reached.
func (t *sourceTask) stopPending(reached []*partState) {
	for _, ps := range reached {
		p := t.txn.pending[ps]
		delete(t.txn.pending, ps)
		ps.next = p.offset
		ps.mu.Lock()
		was := ps.stopped.Load()
		if !was {
			ps.failure.offset, ps.failure.err = p.offset, p.err
			ps.stopped.Store(true)
		}
		ps.mu.Unlock()
		if !was {
			t.partitionStopped(ps)
		}
	}
}

// refusedInTransaction returns the error of a partition of the open
// transaction the target refused a record of (ack stopped it), or nil.
func (t *sourceTask) refusedInTransaction() error {
	for ps := range t.txn.marks {
		ps.mu.Lock()
		refused := ps.stopped.Load() && ps.pos.failed
		var err error
		if refused {
			err = ps.failureErr()
		}
		ps.mu.Unlock()
		if refused {
			return errors.Join(errRefusedInTransaction, err)
		}
	}
	return nil
}

// rewind takes the partitions of the aborted transaction back to where the
// last committed transaction left them, fetching included; a partition it
// stopped stops again when its copy reaches the same offset. Poll loop
// only, with nothing in flight.
func (t *sourceTask) rewind(consumer *kgo.Client) {
	seek := map[string]map[int32]kgo.EpochOffset{}
	resume := map[string][]int32{}
	for ps, m := range t.txn.marks {
		ps.mu.Lock()
		if ps.stopped.Load() {
			t.txn.pending[ps] = pendingStop{offset: ps.failure.offset, err: ps.failure.err}
			ps.stopped.Store(false)
		}
		ps.pos = newPosition(m.acked)
		ps.sync, ps.downstream = m.sync, m.downstream
		ps.pastFailure = 0
		ps.meter = ackMeter{} // nothing of the transaction is counted
		ps.mu.Unlock()
		if ps.paused {
			ps.paused = false
			resume[ps.tp.Topic] = append(resume[ps.tp.Topic], ps.tp.Partition)
		}
		ps.next = m.first
		if seek[ps.tp.Topic] == nil {
			seek[ps.tp.Topic] = map[int32]kgo.EpochOffset{}
		}
		seek[ps.tp.Topic][ps.tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: m.first}
	}
	if len(resume) > 0 {
		consumer.ResumeFetchPartitions(resume)
	}
	consumer.SetOffsets(seek)
	clear(t.txn.marks)
}

// countCommitted moves the counts of the committed transaction's records
// to the status and the metrics.
func (t *sourceTask) countCommitted(ctx context.Context) {
	for ps := range t.txn.marks {
		ps.mu.Lock()
		counts := ps.meter.take()
		ps.mu.Unlock()
		ps.count(ctx, counts)
	}
}

// hold counts one acknowledged record (dup: one copied before) until
// take: exactly-once mode counts a transaction's records once it commits.
func (a *ackMeter) hold(valueBytes int, dup bool) {
	a.n++
	a.bytes += int64(valueBytes)
	if dup {
		a.dups++
	}
}
