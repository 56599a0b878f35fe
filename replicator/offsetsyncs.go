package replicator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/metric"

	"github.com/strait-replicator/strait/checkpoint"
	"github.com/strait-replicator/strait/replicator/connectstate"
)

// syncWriter writes a flow's offset syncs to partition 0 of its
// offset-syncs topic, asynchronously: the flow owns it (and its producer),
// the source tasks decide what to send. A nil *syncWriter writes nothing
// (offset syncs are off).
type syncWriter struct {
	topic       string
	cl          *kgo.Client
	log         *slog.Logger
	writeErrors metric.Int64Counter
}

// syncLinger is how long the offset-syncs producer gathers syncs into one
// request, unless linger.ms is set for it: a tenth of a second, against
// checkpoints emitted every emit.checkpoints.interval.seconds (60, at
// least 1). A quiet partition's last sync does not wait for it
// (writeQuietSyncs flushes), nor do position writes and commits.
const syncLinger = 100 * time.Millisecond

// send writes s; a failed write is logged, as the next sync supersedes it.
func (w *syncWriter) send(s checkpoint.OffsetSync) {
	if w == nil {
		return
	}
	r := &kgo.Record{Topic: w.topic, Partition: 0, Key: s.AppendKey(nil), Value: s.AppendValue(nil)}
	w.cl.Produce(context.Background(), r, func(_ *kgo.Record, err error) {
		if err != nil && !errors.Is(err, kgo.ErrClientClosed) {
			w.writeErrors.Add(context.Background(), 1)
			w.log.Warn("offset sync not written", "topic", w.topic, "sync", s.String(), "err", err)
		}
	})
}

// flush waits for the offset syncs sent so far.
func (w *syncWriter) flush(ctx context.Context) error {
	if w == nil {
		return nil
	}
	if err := w.cl.Flush(ctx); err != nil {
		return fmt.Errorf("flush offset syncs to %s: %w", w.topic, err)
	}
	return nil
}

func (w *syncWriter) close() {
	if w != nil {
		w.cl.Close()
	}
}

// quietSyncInterval is how often a source task looks for partitions gone
// quiet: a partition with no acknowledgement for a whole interval gets its
// delayed offset sync written then, so that its last sync is written
// within two intervals of its last acknowledgement rather than at the next
// position flush (offset.flush.interval.ms, 60 s by default). A group
// caught up to the end of a quiet partition then translates to the end of
// its remote partition: it fails over with nothing to re-read.
const quietSyncInterval = 500 * time.Millisecond

// quietWatch tells a partition gone quiet: no acknowledgement between two
// looks. Its owner guards it.
type quietWatch struct{ seen int64 }

// quiet reports whether acked, the partition's last acknowledged upstream
// offset, is where the previous look saw it.
func (q *quietWatch) quiet(acked int64) bool {
	if acked != q.seen {
		q.seen = acked
		return false
	}
	return true
}

// quietSyncs writes, every quietSyncInterval until ctx is done, the
// delayed offset sync of each partition with no acknowledgement since the
// previous look. MM2's rules decide the other syncs, and which record a
// delayed sync is of (its partition's last acknowledged one): this only
// writes it sooner, and costs nothing per record.
func (t *sourceTask) quietSyncs(ctx context.Context) {
	// repeat never calls once ctx is done: no sync after the stop's flush.
	repeat(ctx, quietSyncInterval, t.writeQuietSyncs)
}

// writeQuietSyncs sends the quiet partitions' delayed syncs and, if there
// were any, flushes them: they are what a group caught up to the end of
// its partitions fails over with, so they do not wait out the syncs
// producer's linger (syncLinger) while a checkpoint may be taken.
func (t *sourceTask) writeQuietSyncs(ctx context.Context) {
	if t.sendQuietSyncs() > 0 {
		_ = t.syncs.flush(ctx) // a failed write is logged by send; this fails only with ctx
	}
}

// sendQuietSyncs writes the delayed sync of each partition with no
// acknowledgement since the previous call, and returns how many it sent.
func (t *sourceTask) sendQuietSyncs() int {
	sent := 0
	for _, ps := range t.parts {
		ps.mu.Lock()
		if ps.quiet.quiet(ps.pos.acked) {
			if s, ok := ps.sync.TakeDelayed(); ok {
				// Under the lock, as every sync: in upstream order.
				t.syncs.send(s)
				sent++
			}
		}
		ps.mu.Unlock()
	}
	return sent
}

// storePositions is the flow's offset store as its source tasks see it:
// positions read through the target's admin client.
type storePositions struct {
	store *connectstate.Offsets
	adm   *kadm.Client
}

func (p storePositions) current(ctx context.Context) (map[topicPartition]int64, error) {
	return p.store.Current(ctx, p.adm)
}

func (p storePositions) resume(ctx context.Context) (map[topicPartition]connectstate.ResumePoint, error) {
	return p.store.Resume(ctx, p.adm)
}

func (p storePositions) keep(kept map[topicPartition]connectstate.Kept) { p.store.Keep(kept) }

func (p storePositions) write(ctx context.Context, producer *kgo.Client, positions map[topicPartition]int64) error {
	return p.store.Write(ctx, producer, positions)
}

func (p storePositions) offsetsTopic() string { return p.store.Topic() }
