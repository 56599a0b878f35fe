package replicator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/internal/connect"
	"github.com/strait-replicator/strait/internal/topicread"
)

// offsetStore is the flow's source positions as kept in the Connect offsets
// topic on the target: the last replicated upstream offset of each
// partition. Tasks write their acknowledged positions to the topic; one
// follower per flow reads it (as Connect's offset store does), and a
// starting task takes its positions once the follower has read what the
// topic held when the task asked (another worker of the group may have
// written them a moment ago).
type offsetStore struct {
	topic     string
	source    string // source cluster alias, the "cluster" of each key
	connector string
	follower  *topicread.Follower

	mu        sync.Mutex
	positions map[topicPartition]int64 // guarded by mu; as the follower read them
}

func newOffsetStore(topic, source string, log *slog.Logger) *offsetStore {
	s := &offsetStore{topic: topic, source: source, connector: connect.SourceConnector, positions: map[topicPartition]int64{}}
	s.follower = topicread.NewFollower(topic, func(r *kgo.Record) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.apply(s.positions, r, log)
	})
	return s
}

// follow keeps the positions up to date with the topic until ctx is done.
func (s *offsetStore) follow(ctx context.Context, opts []kgo.Opt, log *slog.Logger) {
	followTopic(ctx, s.follower, s.topic, opts, log)
}

// current returns the positions stored now: the follower has read every
// record the topic held when current was called. In exactly-once mode a
// record of a transaction open then is waited for (committed or aborted).
func (s *offsetStore) current(ctx context.Context, adm *kadm.Client) (map[topicPartition]int64, error) {
	if err := s.follower.WaitEnd(ctx, adm); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.positions), nil
}

// read returns the positions stored in the offsets topic now, read once
// (strait lag). Records of other connectors or clusters are skipped;
// malformed ones are logged and skipped.
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
	tp := topicPartition{Topic: p.Topic, Partition: p.Partition}
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
