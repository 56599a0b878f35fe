package heartbeat

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/metric"
)

// Task emits the heartbeats of one flow to the heartbeats topic of its
// target, partition 0, every Interval.
type Task struct {
	Source, Target string
	Topic          string        // "heartbeats"
	Interval       time.Duration // emit.heartbeats.interval.seconds
	TargetOpts     []kgo.Opt     // client options of the target cluster
	Log            *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// WriteErrors, if set, counts heartbeats that could not be written.
	WriteErrors metric.Int64Counter
}

// Run emits until ctx is done. A heartbeat that cannot be written is
// logged; the next one is tried at the next tick.
func (t *Task) Run(ctx context.Context) error {
	now := t.Now
	if now == nil {
		now = time.Now
	}
	cl, err := kgo.NewClient(append(slices.Clone(t.TargetOpts),
		kgo.DefaultProduceTopic(t.Topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	tick := time.NewTicker(t.Interval)
	defer tick.Stop()
	for {
		ts := now()
		h := Heartbeat{Source: t.Source, Target: t.Target, Timestamp: ts.UnixMilli()}
		rec := &kgo.Record{Topic: t.Topic, Partition: 0, Key: h.AppendKey(nil), Value: h.AppendValue(nil), Timestamp: ts}
		cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
			if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, kgo.ErrClientClosed) {
				if t.WriteErrors != nil {
					t.WriteErrors.Add(context.Background(), 1)
				}
				t.Log.Warn("heartbeat not written", "topic", t.Topic, "cluster", t.Target, "err", err)
			}
		})
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
