package replicator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

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

// storePositions is the flow's offset store as its source tasks see it:
// positions read through the target's admin client.
type storePositions struct {
	store *connectstate.Offsets
	adm   *kadm.Client
}

func (p storePositions) current(ctx context.Context) (map[topicPartition]int64, error) {
	return p.store.Current(ctx, p.adm)
}

func (p storePositions) write(ctx context.Context, producer *kgo.Client, positions map[topicPartition]int64) error {
	return p.store.Write(ctx, producer, positions)
}

func (p storePositions) offsetsTopic() string { return p.store.Topic() }
