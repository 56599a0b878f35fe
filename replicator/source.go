package replicator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/strait-replicator/strait/checkpoint"
	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/replicator/connectstate"
	"github.com/strait-replicator/strait/replicator/task"
)

// sourceTask copies a fixed set of source partitions to the same partitions
// of their remote topics. It owns one consumer on the source and one
// producer on the target; both are closed when Run returns. What it needs
// of its flow comes through small interfaces: one record's path reads one
// way, fetch -> produce -> acknowledgement -> position and offset sync ->
// flush.
type sourceTask struct {
	id     string
	index  int // the task number: transactional ids and status keys name it
	tps    []topicPartition
	log    *slog.Logger
	status *task.Status

	flowName string
	cfg      configs.Flow // the flow's, when the task was made
	// Client options: the source and target clusters', the consumer's
	// and the data producer's (with the task's memory budget).
	srcOpts, tgtOpts, producerOpts []kgo.Opt
	consumer                       consumerSettings
	srcAdm                         *kadm.Client // log starts, topic ids
	tgtAdm                         *kadm.Client // the remote topics' max.message.bytes
	metrics                        *metrics
	positions                      positions
	syncs                          offsetSyncs
	loads                          loadReporter
	topics                         topicEvents
	// copiedBefore is, per partition, the upstream offset of the newest
	// offset sync found at start (a previous run copied that far).
	copiedBefore map[topicPartition]int64

	parts   map[topicPartition]*partState // set once by run before it copies
	failure context.CancelCauseFunc
	// limits are the max.message.bytes of the topics the producer writes
	// to, as read when Run started.
	limits messageLimits
	// stops counts the partitions that stopped; the poll loop pauses the
	// fetching of those it has not paused yet when it changed.
	stops       atomic.Int64
	pausedStops int64 // poll loop only: stops when it last paused
	// published lists the partitions for readers outside the task (the
	// metrics callback), once parts is complete.
	published atomic.Pointer[[]*partState]
	limiter   *limiter // the task's share of replication.bytes.per.second; nil: no limit
	txn       txnState // exactly-once mode: the open transaction's partitions (transaction_rewind.go)
	// started is when Run began; copiedOnce counts the partitions with a
	// record acknowledged in this run. Both only feed the start-up debug
	// logs (how long until the first and until every partition copied).
	started    time.Time
	copiedOnce atomic.Int64
}

// positions is where a source task reads and writes the positions of its
// partitions: the flow's offset store.
type positions interface {
	// current returns the stored positions, as the offsets topic holds
	// them now (exactly-once mode).
	current(ctx context.Context) (map[topicPartition]int64, error)
	// resume returns where each partition resumes: current's position,
	// or how far a previous run on this worker got (keep), unless the
	// offsets topic shows that someone else wrote the position since.
	resume(ctx context.Context) (map[topicPartition]connectstate.ResumePoint, error)
	// keep remembers how far a stopping task got, acknowledged positions
	// it could not write included, for the next run on this worker.
	// Never in exactly-once mode.
	keep(map[topicPartition]connectstate.Kept)
	// write stores positions with producer (in its open transaction, in
	// exactly-once mode).
	write(ctx context.Context, producer *kgo.Client, positions map[topicPartition]int64) error
	// offsetsTopic names the offsets topic, which the task's producer
	// writes to besides the remote topics.
	offsetsTopic() string
}

// offsetSyncs is where a source task sends the offset syncs it decides.
type offsetSyncs interface {
	send(checkpoint.OffsetSync)
	// flush waits for the syncs sent so far.
	flush(ctx context.Context) error
}

// loadReporter counts the bytes copied per partition, for load-aware
// assignment.
type loadReporter interface {
	counter(tp topicPartition) *atomic.Int64
}

// topicEvents tells the flow what a task finds out about its topics.
type topicEvents interface {
	// remoteMissing reports a remote topic gone from the target: the flow
	// looks for it and creates it again.
	remoteMissing()
	// sourceRecreated reports whether topic's id is no longer the one the
	// flow knows (deleted and created again); the flow then starts its
	// copy over.
	sourceRecreated(topic string, id kadm.TopicID) bool
}

// partState is one partition's state in a task. The poll loop calls sent,
// kgo's promise goroutine calls onAck and the commit loop reads what was
// acknowledged; mu guards pos, sync, written, largest, failure,
// pastFailure and quiet.
type partState struct {
	task     *sourceTask
	tp       topicPartition
	remote   string
	onAck    func(*kgo.Record, error) // ps.ack, bound once, not per record
	metrics  partMetrics
	maxBytes int // the remote topic's max.message.bytes, as the producer's limits say (set before the task copies)

	// stopped is set once the partition stops copying (failure says why)
	// while its task goes on; the poll loop reads it without the lock.
	stopped atomic.Bool
	paused  bool // poll loop only: its fetching is paused
	// copied says a record of the partition was acknowledged in this run
	// (for the start-up debug logs).
	copied bool

	mu      sync.Mutex // guards the fields below, and copied
	pos     position
	sync    checkpoint.SyncState
	written int64 // last position written to the offsets topic; -1 for none
	// stored says the offsets topic held a position of the partition when
	// the task started (written is then that position, or a later one).
	stored bool
	// downstream is the offset in the remote partition of the record at
	// pos.acked; -1 if not known.
	downstream int64
	hwm        int64 // the source's high watermark at the last fetch; -1 before one
	meter      ackMeter
	// copiedBefore is the highest upstream offset a previous run is known
	// (from its offset syncs) to have copied; records up to it are copied
	// again. Set before the task copies; -1 for none.
	copiedBefore int64
	// landed is the number of records after the resume position that a
	// previous run on this worker had in flight when it stopped and that
	// reached the remote partition: the next ones copied are copies
	// again. Set before the task copies.
	landed int64

	copiedBytes *atomic.Int64 // the flow's count for this partition, for load-aware assignment
	lastLatency atomic.Int64  // newest sampled replication latency in ms; -1 for none
	next        int64         // next upstream offset expected from the source (poll loop only)

	// largest is the largest record refused as too large: a broker refuses
	// the whole batch, so the first failed offset need not be the culprit.
	largest struct {
		offset int64
		size   int
		err    error
	}
	// failure is why the partition stopped and the first record it did
	// not copy; set with stopped.
	failure struct {
		offset int64
		err    error
	}
	// pastFailure counts records of the partition acknowledged after a
	// record before them was refused: produced in the moment between the
	// refusal and the task hearing of it (kgo fails every record it holds
	// for the partition with the refused one, not those produced after).
	pastFailure int64
	quiet       quietWatch
}

func recordSize(r *kgo.Record) int {
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

// ack is the promise of a record of the partition: kgo calls it in the
// order the records were produced, except that a record failed before it
// was buffered (a Produce waiting for buffer space as the producer
// closes) is promised ahead of those buffered before it. Its failure is
// then charged to the oldest record in flight, which only holds the
// position back (those records are copied again, none is skipped).
func (ps *partState) ack(r *kgo.Record, err error) {
	t := ps.task
	ps.mu.Lock()
	up, _ := ps.pos.ack(err == nil)
	if errors.Is(err, kerr.MessageTooLarge) {
		if size := recordSize(r); size > ps.largest.size {
			ps.largest.offset, ps.largest.size, ps.largest.err = up, size, err
		}
	}
	var counts acks
	dup := up <= ps.copiedBefore
	switch {
	case err == nil && !ps.pos.failed:
		if !ps.copied {
			ps.copied = true
			t.copiedFirst()
		}
		if ps.landed > 0 {
			// A record the previous run on this worker had in flight,
			// which landed after all: this is its second copy.
			dup = true
			ps.landed--
		}
		ps.downstream = r.Offset
		sync := checkpoint.OffsetSync{Topic: ps.tp.Topic, Partition: ps.tp.Partition, Upstream: up, Downstream: r.Offset}
		due := ps.sync.Update(sync)
		if t.cfg.ExactlyOnce {
			ps.meter.hold(len(r.Value), dup) // counted when its transaction commits
		} else {
			counts = ps.meter.add(len(r.Value), dup)
		}
		if due {
			// Under the lock, as the delayed syncs: in upstream order.
			t.syncs.send(sync)
		}
	case err == nil:
		ps.pastFailure++
	}
	// A record the target refuses stops its partition only. In
	// exactly-once mode its transaction aborts, and the partition stops
	// once the next one copied the records before it (see
	// transaction_rewind.go).
	stop, first := err != nil && refusedRecord(err), false
	if stop {
		first = ps.stop(up, "produce to", err)
	}
	ps.mu.Unlock()
	if stop {
		if first && !t.cfg.ExactlyOnce {
			t.partitionStopped(ps)
		}
		return
	}
	if err != nil {
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			// The remote topic is gone (deleted on the target): have the
			// flow look for it and create it again now.
			t.topics.remoteMissing()
		}
		if !errors.Is(err, context.Canceled) && !errors.Is(err, kgo.ErrClientClosed) {
			t.failure(&PartitionError{Flow: t.flowName, Topic: ps.tp.Topic, Partition: ps.tp.Partition, Offset: up,
				Err: fmt.Errorf("produce to %s/%d on cluster %s: %w", ps.remote, ps.tp.Partition, t.cfg.Target, err)})
		}
		return
	}
	ps.count(context.Background(), counts)
	if ms, ok := ps.metrics.acked(context.Background(), up, r.Timestamp); ok {
		ps.lastLatency.Store(ms)
	}
}

// stopTimeout bounds the flush of a stopping task: in-flight records and
// their positions get this long to be acknowledged, the positions at
// least positionsTimeout.
const (
	stopTimeout      = 6 * time.Second
	positionsTimeout = time.Second
)

// Run replicates until ctx is done or a partition fails. On the way out it
// waits for in-flight records, writes the positions they reached (or, out
// of exactly-once mode, keeps them for its next run on this worker when
// the target does not answer) and closes its clients. It returns nil on a
// requested stop and the failure otherwise. It implements Task.
func (t *sourceTask) Run(ctx context.Context) error {
	t.started = time.Now()
	// The producer's limits follow the remote topics' max.message.bytes
	// (they win over batch.size and max.request.size): a record a topic
	// takes is never refused by the client, and the task refuses one the
	// topic does not take before producing it.
	limits, warnings := readMessageLimits(ctx, t.tgtAdm, t.producedTopics())
	for _, w := range warnings {
		t.log.Warn(w)
	}
	t.limits = limits
	popts := slices.Concat(t.tgtOpts, t.producerOpts, limits.producerOpts(), []kgo.Opt{
		kgo.RecordPartitioner(partitioner(t.positions.offsetsTopic())),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		// A remote topic created a moment ago may take a while to show in
		// a real cluster's metadata: wait for it rather than fail.
		kgo.UnknownTopicRetries(20),
	})
	if t.cfg.ExactlyOnce {
		popts = append(popts, transactionOpts(t.cfg.GroupID, t.index, t.cfg.TransactionInterval)...)
	}
	producer, err := newProducer(popts, limits.largest())
	if err != nil {
		return fmt.Errorf("%s: target producer: %w", t.id, err)
	}
	closeProducer := sync.OnceFunc(producer.Close)
	defer closeProducer()
	if t.cfg.ExactlyOnce {
		// The producer that commits the task's transactions fences its
		// transactional id before the positions are read (KIP-618): a
		// previous owner's open transaction is aborted, and a worker
		// that still believes it runs the task can no longer commit, so
		// the positions read next are final for as long as this producer
		// commits. (Fencing with another client first would leave a
		// window in which that worker fences back after the read.)
		if _, _, err := producer.ProducerID(ctx); err != nil {
			return fmt.Errorf("%s: fence transactional id %s: %w", t.id, transactionalID(t.cfg.GroupID, t.index), err)
		}
	}
	starts, unwritten, err := t.startOffsets(ctx)
	if err != nil {
		return err
	}
	consumer, err := kgo.NewClient(slices.Concat(t.srcOpts, t.consumer.opts, []kgo.Opt{
		kgo.ConsumePartitions(starts),
		kgo.ConsumeResetOffset(kgo.NoResetOffset()),
		kgo.FetchIsolationLevel(isolation(t.consumer.readCommitted)),
	})...)
	if err != nil {
		return fmt.Errorf("%s: source consumer: %w", t.id, err)
	}
	defer consumer.Close()
	t.log.Debug("source consumer created", "partitions", len(t.tps), "since_start", time.Since(t.started))

	taskCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	t.failure = cancel
	t.status.Set(StateRunning, nil)
	if t.cfg.ExactlyOnce {
		quietCtx, stopQuiet := context.WithCancel(taskCtx)
		var quiet errgroup.Group
		quiet.Go(func() error { t.quietSyncs(quietCtx); return nil })
		err := t.transact(ctx, taskCtx, consumer, producer)
		stopQuiet()
		_ = quiet.Wait() // returns nil when its ctx is done
		return err
	}

	// The poll loop copies; the commit loop (below) writes positions on
	// its own clock, so an idle source (a poll waiting for records) still
	// gets its positions and delayed syncs flushed; the quiet-sync loop
	// writes the last offset sync of a partition gone quiet. Records are
	// produced with a context the stop does not cancel: a Produce waiting
	// for buffer space fails at once when its context ends, and kgo
	// promises that failure ahead of the records buffered before it, so
	// that the position stopped at the oldest of those (seconds of
	// records copied again), while the rest of the fetch, produced after
	// the failed record, landed before it (out of order once copied
	// again). The stop flushes, then closes the producer: nothing is sent
	// after a failed record.
	produceCtx := context.WithoutCancel(ctx)
	polled := make(chan struct{})
	var g errgroup.Group
	g.Go(func() error {
		defer close(polled)
		t.poll(taskCtx, produceCtx, consumer, producer)
		return nil
	})
	g.Go(func() error { t.quietSyncs(taskCtx); return nil })
	if len(unwritten) > 0 {
		// Kept positions of a previous run, which the target did not
		// take then: write them now that it answers.
		if err := t.commit(taskCtx, producer); err != nil && taskCtx.Err() == nil {
			t.log.Warn("writing the positions kept from the previous run failed; will retry at the next flush", "partitions", len(unwritten), "err", err)
		} else if err == nil {
			t.log.Info("wrote the positions kept from the previous run", "partitions", len(unwritten))
		}
	}
	flush := time.NewTicker(t.cfg.OffsetFlushInterval)
	for taskCtx.Err() == nil {
		select {
		case <-taskCtx.Done():
		case <-flush.C:
			if err := t.commit(taskCtx, producer); err != nil && taskCtx.Err() == nil {
				t.log.Warn("writing positions failed; will retry at the next flush", "err", err)
			}
		}
	}
	flush.Stop()
	t.stop(ctx, producer, closeProducer, polled)
	_ = g.Wait() // the loops have returned: closing the producer ended any wait for buffer space
	t.keep()
	if cause := context.Cause(taskCtx); cause != nil && !errors.Is(cause, context.Canceled) {
		return t.culprit(cause)
	}
	return nil
}

// stop lets what is in flight land (the poll loop ends with the fetch it
// copies: it may wait for buffer space), writes the positions it reached
// and closes the producer, which fails what it still holds: a gapless
// prefix of each partition's records reaches the target.
func (t *sourceTask) stop(ctx context.Context, producer *kgo.Client, closeProducer func(), polled <-chan struct{}) {
	defer closeProducer() // also ends a Produce waiting for buffer space
	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
	defer cancel()
	select {
	case <-polled:
	case <-flushCtx.Done():
	}
	if err := producer.Flush(flushCtx); err != nil {
		t.log.Warn("records still in flight at stop; those not acknowledged are copied again by the next run", "err", err)
	}
	deadline, _ := flushCtx.Deadline()
	writeCtx, cancelWrite := context.WithTimeout(context.WithoutCancel(ctx), max(time.Until(deadline), positionsTimeout))
	defer cancelWrite()
	if err := t.commit(writeCtx, producer); err != nil {
		t.log.Warn("writing positions at stop failed; this worker keeps them for the task's next run here", "err", err)
	}
	if err := t.syncs.flush(writeCtx); err != nil {
		t.log.Warn("offset syncs still in flight at stop", "err", err)
	}
}

// keep hands how far the task got to the offset store, for its next run on
// this worker: positions it could not write are not lost, and the records
// it had in flight that landed are counted when copied again.
func (t *sourceTask) keep() {
	kept := make(map[topicPartition]connectstate.Kept, len(t.parts))
	for tp, ps := range t.parts {
		ps.mu.Lock()
		if ps.pos.acked >= 0 {
			written := ps.written
			if written < 0 && !ps.stored {
				written = connectstate.NoPosition
			}
			kept[tp] = connectstate.Kept{Acked: ps.pos.acked, Written: written, Downstream: ps.downstream}
		}
		ps.mu.Unlock()
	}
	t.positions.keep(kept)
}

// culprit names the record a too-large failure is about: the largest
// refused record rather than the first of its batch.
func (t *sourceTask) culprit(cause error) error {
	var pe *PartitionError
	if !errors.As(cause, &pe) {
		return cause
	}
	ps := t.parts[topicPartition{Topic: pe.Topic, Partition: pe.Partition}]
	if ps == nil {
		return cause
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.largest.err == nil {
		return cause
	}
	return &PartitionError{Flow: pe.Flow, Topic: pe.Topic, Partition: pe.Partition, Offset: ps.largest.offset,
		Err: fmt.Errorf("record of %d bytes refused by %s/%d on cluster %s (max.message.bytes): %w", ps.largest.size, ps.remote, pe.Partition, t.cfg.Target, ps.largest.err)}
}

// poll copies records until ctx is done, producing them with produceCtx.
func (t *sourceTask) poll(ctx, produceCtx context.Context, consumer, producer *kgo.Client) {
	maxRecords := t.consumer.maxPollRecords
	first := true
	for ctx.Err() == nil {
		fetches := consumer.PollRecords(ctx, maxRecords)
		if ctx.Err() != nil {
			return
		}
		if first && fetches.NumRecords() > 0 {
			first = false
			t.log.Debug("first records polled", "records", fetches.NumRecords(), "since_start", time.Since(t.started))
		}
		t.copyFetches(ctx, produceCtx, consumer, producer, fetches)
	}
}

// copiedFirst counts a partition's first acknowledged record of the run,
// and logs when it is the first partition and when it is the last: at
// tens of thousands of partitions, the time to every partition's first
// copy is the start-up cost (consumer start, then the producer learning
// each remote topic's metadata).
func (t *sourceTask) copiedFirst() {
	switch n := t.copiedOnce.Add(1); {
	case n == 1:
		t.log.Debug("first record copied", "since_start", time.Since(t.started))
	case n == int64(len(t.tps)):
		t.log.Debug("every partition has copied a record", "partitions", n, "since_start", time.Since(t.started))
	}
}

// copyFetches produces the fetched records to the target with produceCtx
// (which also bounds a wait for buffer space) and handles the fetch
// errors.
func (t *sourceTask) copyFetches(ctx, produceCtx context.Context, consumer, producer *kgo.Client, fetches kgo.Fetches) {
	if n := t.stops.Load(); n != t.pausedStops {
		t.pausedStops = n
		t.pauseStopped(consumer)
	}
	fetches.EachError(func(topic string, p int32, err error) {
		t.fetchError(ctx, consumer, topicPartition{Topic: topic, Partition: p}, err)
	})
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		ps := t.parts[topicPartition{Topic: fp.Topic, Partition: fp.Partition}]
		if ps == nil || len(fp.Records) == 0 || ps.stopped.Load() {
			return
		}
		t.limiter.wait(ctx, fp.Records) // delays, never drops: see ratelimit.go
		t.copyPartition(ctx, produceCtx, consumer, producer, ps, fp)
	})
}

// copyPartition produces one partition's fetched records. A record that
// cannot be copied exactly stops the partition before it: those before it
// are copied, it and those after it are not. A record whose stored
// timestamp franz-go's producer cannot write is written by the task
// itself in at-least-once mode (fidelity_write.go), in order with the
// others.
func (t *sourceTask) copyPartition(ctx, produceCtx context.Context, consumer, producer *kgo.Client, ps *partState, fp kgo.FetchTopicPartition) {
	if ctx.Err() != nil {
		// The task failed or stops: a partition that failed it (the
		// source unreadable at a record) must not go on past that
		// record with the rest of the fetch.
		return
	}
	ps.mu.Lock()
	ps.hwm = fp.HighWatermark
	ps.mu.Unlock()
	// record-age-ms: the oldest record of the batch, once.
	ps.metrics.age(ctx, time.Since(fp.Records[0].Timestamp).Milliseconds())
	ps.next = fp.Records[len(fp.Records)-1].Offset + 1
	recs := fp.Records
	stored := storedCheck{through: -1} // read when a fetched timestamp is ambiguous or not copyable
	for len(recs) > 0 {
		// Positions first, under one lock for the records: an
		// acknowledgement may come back before Produce returns.
		n := len(recs)
		var refused error
		anyTight, verify := false, false
		ps.mu.Lock()
		for i, r := range recs {
			tight, err := checkRecord(r, ps.maxBytes)
			if err == nil && ambiguousTimestamp(r.Timestamp) || err != nil && errors.Is(err, ErrTimestampNotCopyable) {
				// The stored timestamp decides (fidelity_verify.go).
				if r.Offset > stored.through {
					n, verify = i, true
					break
				}
				if err == nil {
					_, err = stored.verdict(r)
				}
			}
			if err != nil {
				n, refused = i, err
				break
			}
			anyTight = anyTight || tight
			ps.pos.sent(r.Offset)
		}
		ps.mu.Unlock()
		for i, r := range recs[:n] {
			if ps.stopped.Load() {
				// The target refused a record produced before: none
				// after it may be written.
				ps.mu.Lock()
				ps.pos.unsend(n - i)
				ps.mu.Unlock()
				return
			}
			// The fetched record is produced as it is, renamed: key,
			// value, headers, timestamp and partition are kept, and
			// nothing is allocated or copied per record. kgo sets the
			// rest (offset, producer id, attributes).
			r.Topic = ps.remote
			if anyTight {
				if tight, _ := checkRecord(r, ps.maxBytes); tight {
					t.produceTight(ctx, produceCtx, producer, ps, r)
					continue
				}
			}
			producer.Produce(produceCtx, r, ps.onAck)
		}
		recs = recs[n:]
		if verify {
			var err error
			if stored, err = t.readStoredRetrying(ctx, consumer, ps.tp, recs[0].Offset); err != nil {
				t.sourceUnreadable(ctx, consumer, ps, recs[0], err)
				return
			}
			continue
		}
		if refused == nil {
			continue
		}
		if errors.Is(refused, ErrTimestampNotCopyable) {
			exact, err := t.exactRun(ps, recs, stored)
			if len(exact) > 0 {
				if !t.writeExact(ctx, producer, ps, exact) {
					return
				}
				recs = recs[len(exact):]
				continue
			}
			if err != nil {
				refused = err
			}
		}
		t.refuse(ctx, ps, recs[0], stored, refused)
		return
	}
}

func isolation(readCommitted bool) kgo.IsolationLevel {
	if readCommitted {
		return kgo.ReadCommitted()
	}
	return kgo.ReadUncommitted()
}

// startOffsets decides where each partition resumes: one past its stored
// position (or past the position a previous run on this worker kept,
// returned in unwritten when the offsets topic does not hold it yet), or
// the log start (log end with auto.offset.reset=latest) for a partition
// never copied. A position below the log start means records were deleted
// before they were copied: that fails the task unless
// data.loss.policy=skip.
func (t *sourceTask) startOffsets(ctx context.Context) (starts map[string]map[int32]kgo.Offset, unwritten []topicPartition, err error) {
	// Positions as stored now: the task may have run on another worker of
	// the group a moment ago. In exactly-once mode run has fenced its
	// transactional id, so that no transaction of a previous owner commits
	// after the read, and only the stored positions count.
	resume, err := t.resumePoints(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: read positions: %w", t.id, err)
	}
	// The log starts tell whether records were deleted past a position:
	// they are listed for the topics with a position only (a task copying
	// tens of thousands of partitions for the first time asks nothing).
	topics := map[string]bool{}
	for _, tp := range t.tps {
		if _, ok := resume[tp]; ok {
			topics[tp.Topic] = true
		}
	}
	var logStarts kadm.ListedOffsets
	if len(topics) > 0 {
		if logStarts, err = t.srcAdm.ListStartOffsets(ctx, slices.Collect(maps.Keys(topics))...); err != nil {
			return nil, nil, fmt.Errorf("%s: list start offsets on cluster %s: %w", t.id, t.cfg.Source, err)
		}
	}
	landed := t.landed(ctx, resume)
	starts = map[string]map[int32]kgo.Offset{}
	t.parts = map[topicPartition]*partState{}
	for _, tp := range t.tps {
		ps := &partState{task: t, tp: tp, remote: t.cfg.Policy.FormatRemoteTopic(t.cfg.Source, tp.Topic),
			pos: newPosition(-1), sync: checkpoint.NewSyncState(t.cfg.OffsetLagMax), written: -1, downstream: -1, hwm: -1, copiedBefore: -1}
		ps.onAck = ps.ack
		ps.maxBytes = t.limits.of(ps.remote)
		ps.copiedBytes = t.loads.counter(tp)
		ps.lastLatency.Store(-1)
		ps.metrics = t.metrics.forPartition(t.cfg.Source, t.cfg.Target, ps.remote, tp.Partition)
		t.parts[tp] = ps
		if starts[tp.Topic] == nil {
			starts[tp.Topic] = map[int32]kgo.Offset{}
		}
		rp, ok := resume[tp]
		if !ok {
			if t.consumer.startAtEnd {
				starts[tp.Topic][tp.Partition] = kgo.NewOffset().AtEnd()
			} else {
				starts[tp.Topic][tp.Partition] = kgo.NewOffset().AtStart()
			}
			continue
		}
		ps.pos, ps.written, ps.stored = newPosition(rp.Position), max(rp.Stored, -1), rp.Stored != connectstate.NoPosition
		if rp.Position != rp.Stored {
			unwritten = append(unwritten, tp)
		}
		ps.downstream, ps.landed = rp.Downstream, landed[tp]
		ps.copiedBefore = t.copiedBefore[tp]
		next := rp.Position + 1
		if lo, found := logStarts.Lookup(tp.Topic, tp.Partition); found && lo.Err == nil && lo.Offset > next {
			loss := &DataLossError{Flow: t.flowName, Topic: tp.Topic, Partition: tp.Partition, From: next, To: lo.Offset - 1}
			if !t.cfg.SkipDataLoss {
				return nil, nil, loss
			}
			t.log.Error("skipping records lost on the source", "topic", tp.Topic, "partition", tp.Partition, "from", loss.From, "to", loss.To, "lost", loss.Lost())
			t.status.Lost.Add(loss.Lost())
			ps.metrics.m.lost.Add(ctx, loss.Lost(), ps.metrics.opts...)
			next = lo.Offset
		}
		ps.next = next
		starts[tp.Topic][tp.Partition] = kgo.NewOffset().At(next)
	}
	list := make([]*partState, 0, len(t.parts))
	for _, ps := range t.parts {
		list = append(list, ps)
	}
	t.published.Store(&list)
	return starts, unwritten, nil
}

// resumePoints returns where each partition resumes: in exactly-once mode
// the stored positions only, else with what this worker kept.
func (t *sourceTask) resumePoints(ctx context.Context) (map[topicPartition]connectstate.ResumePoint, error) {
	if !t.cfg.ExactlyOnce {
		return t.positions.resume(ctx)
	}
	stored, err := t.positions.current(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[topicPartition]connectstate.ResumePoint, len(stored))
	for tp, p := range stored {
		out[tp] = connectstate.ResumePoint{Position: p, Stored: p, Downstream: -1}
	}
	return out, nil
}

// landed returns, per partition resumed where a previous run on this
// worker stopped (its Downstream is known), how many of the records that
// run had in flight reached the remote partition after the resume
// position: the remote partition's records past its offset. Only Strait
// writes remote topics, and an idempotent producer writes a partition's
// records in order, so those are the next ones copied. A partition whose
// remote end cannot be listed counts none.
func (t *sourceTask) landed(ctx context.Context, resume map[topicPartition]connectstate.ResumePoint) map[topicPartition]int64 {
	var remotes []string
	for _, tp := range t.tps {
		if rp, ok := resume[tp]; ok && rp.Downstream >= 0 {
			remotes = append(remotes, t.cfg.Policy.FormatRemoteTopic(t.cfg.Source, tp.Topic))
		}
	}
	if len(remotes) == 0 || t.tgtAdm == nil {
		return nil
	}
	ends, err := t.tgtAdm.ListEndOffsets(ctx, slices.Compact(slices.Sorted(slices.Values(remotes)))...)
	if err != nil {
		t.log.Debug("cannot list the remote partitions' ends; records copied again after the restart are not counted", "err", err)
		return nil
	}
	out := map[topicPartition]int64{}
	for _, tp := range t.tps {
		rp, ok := resume[tp]
		if !ok || rp.Downstream < 0 {
			continue
		}
		end, found := ends.Lookup(t.cfg.Policy.FormatRemoteTopic(t.cfg.Source, tp.Topic), tp.Partition)
		if found && end.Err == nil && end.Offset > rp.Downstream+1 {
			out[tp] = end.Offset - rp.Downstream - 1
		}
	}
	return out
}

// fetchError handles a partition's fetch error. Out of range means records
// were deleted under the task (or the log was truncated): that is data
// loss, handled as data.loss.policy says. Other non-retriable errors fail
// the task.
func (t *sourceTask) fetchError(ctx context.Context, consumer *kgo.Client, tp topicPartition, err error) {
	ps := t.parts[tp]
	if ps == nil || errors.Is(err, context.Canceled) || ps.stopped.Load() {
		return
	}
	var lossErr *kgo.ErrDataLoss
	switch {
	case errors.As(err, &lossErr):
		t.log.Error("source reported a truncated log; resuming where the client reset", "topic", tp.Topic, "partition", tp.Partition, "err", err)
	case errors.Is(err, kerr.OffsetOutOfRange):
		starts, lerr := t.srcAdm.ListStartOffsets(ctx, tp.Topic)
		lo, found := starts.Lookup(tp.Topic, tp.Partition)
		if lerr != nil || !found || lo.Err != nil {
			t.failure(&PartitionError{Flow: t.flowName, Topic: tp.Topic, Partition: tp.Partition, Offset: ps.next, Err: fmt.Errorf("offset out of range, and the log start could not be read: %w", errors.Join(err, lerr))})
			return
		}
		if lo.Offset <= ps.next {
			if td, err := t.srcAdm.ListTopics(ctx, tp.Topic); err == nil && td.Has(tp.Topic) && t.topics.sourceRecreated(tp.Topic, td[tp.Topic].ID) {
				// Deleted and created again: the next refresh starts the
				// copy of the new topic over.
				t.log.Warn("source topic was recreated under the task; waiting for the refresh to start it over", "topic", tp.Topic, "partition", tp.Partition)
				return
			}
			t.failure(&PartitionError{Flow: t.flowName, Topic: tp.Topic, Partition: tp.Partition, Offset: ps.next, Err: fmt.Errorf("offset out of range although the log starts at %d: the source log was truncated", lo.Offset)})
			return
		}
		loss := &DataLossError{Flow: t.flowName, Topic: tp.Topic, Partition: tp.Partition, From: ps.next, To: lo.Offset - 1}
		if !t.cfg.SkipDataLoss {
			t.failure(loss)
			return
		}
		t.log.Error("skipping records lost on the source", "topic", tp.Topic, "partition", tp.Partition, "from", loss.From, "to", loss.To, "lost", loss.Lost())
		t.status.Lost.Add(loss.Lost())
		ps.metrics.m.lost.Add(ctx, loss.Lost(), ps.metrics.opts...)
		ps.next = lo.Offset
		consumer.SetOffsets(map[string]map[int32]kgo.EpochOffset{tp.Topic: {tp.Partition: {Epoch: -1, Offset: lo.Offset}}})
	case !kerr.IsRetriable(err):
		t.failure(&PartitionError{Flow: t.flowName, Topic: tp.Topic, Partition: tp.Partition, Offset: ps.next, Err: fmt.Errorf("fetch from cluster %s: %w", t.cfg.Source, err)})
	default:
		t.log.Debug("retriable fetch error", "topic", tp.Topic, "partition", tp.Partition, "err", err)
	}
}

// commit writes the positions acknowledged since the last commit to the
// offsets topic and sends the delayed offset syncs.
func (t *sourceTask) commit(ctx context.Context, producer *kgo.Client) error {
	positions := t.acknowledged(ctx)
	// Every offset sync of a record at or below a position must be written
	// before the position is: a restart then never leaves a hole in the
	// chain of syncs that exact translation relies on.
	if err := t.syncs.flush(ctx); err != nil {
		return err
	}
	if err := t.positions.write(ctx, producer, positions); err != nil {
		t.metrics.writeErrors.Add(ctx, 1)
		return err
	}
	t.written(positions)
	return nil
}

// acknowledged returns the positions acknowledged since the last write,
// sends the delayed offset syncs, and moves the batched counts to the
// status and the metrics (in exactly-once mode, countCommitted does once
// the transaction commits). A delayed sync is sent under the partition's
// lock: a sync the acknowledgements make due next is sent after it, so
// syncs reach the topic in upstream order (a sync going back would make a
// reader start the partition's history anew).
func (t *sourceTask) acknowledged(ctx context.Context) map[topicPartition]int64 {
	positions := map[topicPartition]int64{}
	for tp, ps := range t.parts {
		ps.mu.Lock()
		if ps.pos.acked > ps.written {
			positions[tp] = ps.pos.acked
		}
		if !t.cfg.ExactlyOnce { // there, counted when the transaction commits
			ps.count(ctx, ps.meter.take())
		}
		if s, ok := ps.sync.TakeDelayed(); ok {
			t.syncs.send(s)
		}
		ps.mu.Unlock()
	}
	return positions
}

// written records that positions are stored.
func (t *sourceTask) written(positions map[topicPartition]int64) {
	for tp, off := range positions {
		ps := t.parts[tp]
		ps.mu.Lock()
		ps.written = off
		ps.mu.Unlock()
	}
}
