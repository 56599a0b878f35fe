package replicator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/internal/connect"
	"github.com/strait-replicator/strait/internal/topicread"
)

// offsetStore is the flow's source positions as kept in the Connect offsets
// topic on the target: the last replicated upstream offset of each
// partition. It keeps nothing in memory: a task reads its start positions
// from the topic (another worker of the group may have written them last)
// and writes its acknowledged positions to it.
type offsetStore struct {
	topic     string
	source    string // source cluster alias, the "cluster" of each key
	connector string
}

func newOffsetStore(topic, source string) *offsetStore {
	return &offsetStore{topic: topic, source: source, connector: connect.SourceConnector}
}

// read returns the positions stored in the offsets topic now. Records of
// other connectors or clusters are skipped; malformed ones are logged and
// skipped.
func (s *offsetStore) read(ctx context.Context, adm *kadm.Client, opts []kgo.Opt, log *slog.Logger) (map[topicPartition]int64, error) {
	positions := map[topicPartition]int64{}
	err := topicread.ReadToEnd(ctx, adm, opts, s.topic, func(r *kgo.Record) { s.apply(positions, r, log) })
	return positions, err
}

func (s *offsetStore) apply(positions map[topicPartition]int64, r *kgo.Record, log *slog.Logger) {
	name, p, err := connect.DecodeSourceOffsetKey(r.Key)
	if err != nil && !json.Valid(r.Key) {
		// Other connectors' keys are JSON too; this is no key at all.
		log.Warn("skipping malformed record in offsets topic", "topic", s.topic, "partition", r.Partition, "offset", r.Offset, "err", "key is not JSON")
		return
	}
	if errors.Is(err, connect.ErrNotSource) || name != s.connector || p.Cluster != s.source {
		return
	}
	tp := topicPartition{p.Topic, p.Partition}
	if r.Value == nil {
		delete(positions, tp)
		return
	}
	off, err := connect.DecodeSourceOffsetValue(r.Value)
	if err != nil {
		log.Warn("skipping malformed record in offsets topic", "topic", s.topic, "partition", r.Partition, "offset", r.Offset, "err", err)
		return
	}
	positions[tp] = off
}

// record builds the offsets-topic record for tp at offset.
func (s *offsetStore) record(tp topicPartition, offset int64) *kgo.Record {
	key := connect.SourceOffsetKey(s.connector, connect.SourcePartition{Cluster: s.source, Topic: tp.Topic, Partition: tp.Partition})
	return &kgo.Record{Topic: s.topic, Key: key, Value: connect.SourceOffsetValue(offset)}
}

// write produces positions to the offsets topic and waits for them to be
// acknowledged; in a transaction, they are stored once it commits.
func (s *offsetStore) write(ctx context.Context, cl *kgo.Client, positions map[topicPartition]int64) error {
	if len(positions) == 0 {
		return nil
	}
	recs := make([]*kgo.Record, 0, len(positions))
	for tp, off := range positions {
		recs = append(recs, s.record(tp, off))
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("write positions to %s: %w", s.topic, err)
	}
	return nil
}
