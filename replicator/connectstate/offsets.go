package connectstate

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
	"github.com/strait-replicator/strait/replicator/task"
)

// Offsets are a flow's source positions as kept in the Connect offsets
// topic on the target: the last replicated upstream offset of each
// partition, under MM2's source connector and the source cluster's alias.
// Tasks write their acknowledged positions to the topic; one follower per
// flow reads it (as Connect's offset store does), and a starting task takes
// its positions once the follower has read what the topic held when the
// task asked (another worker of the group may have written them a moment
// ago). Safe for concurrent use.
type Offsets struct {
	topic     string
	source    string // source cluster alias, the "cluster" of each key
	connector string
	log       *slog.Logger
	follower  *topicread.Follower

	mu        sync.Mutex
	positions map[task.TopicPartition]int64 // guarded by mu; as the follower read them
}

// NewOffsets returns the positions of the flow from cluster source kept in
// topic; malformed records are logged to log and skipped.
func NewOffsets(topic, source string, log *slog.Logger) *Offsets {
	s := &Offsets{topic: topic, source: source, connector: connect.SourceConnector, log: log, positions: map[task.TopicPartition]int64{}}
	s.follower = topicread.NewFollower(topic, func(r *kgo.Record) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.apply(s.positions, r)
	})
	return s
}

// Topic is the offsets topic.
func (s *Offsets) Topic() string { return s.topic }

// Follow keeps the positions up to date with the topic until ctx is done.
// opts are the target cluster's client options.
func (s *Offsets) Follow(ctx context.Context, opts []kgo.Opt) {
	follow(ctx, s.follower, s.topic, opts, s.log)
}

// Current returns the positions stored now: the follower (Follow) has read
// every record the topic held when Current was called. In exactly-once
// mode a record of a transaction open then is waited for (committed or
// aborted).
func (s *Offsets) Current(ctx context.Context, adm *kadm.Client) (map[task.TopicPartition]int64, error) {
	if err := s.follower.WaitEnd(ctx, adm); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.positions), nil
}

// Read returns the positions stored in the offsets topic now, read once
// without following (strait lag). Records of other connectors or clusters
// are skipped; malformed ones are logged and skipped.
func (s *Offsets) Read(ctx context.Context, adm *kadm.Client, opts []kgo.Opt) (map[task.TopicPartition]int64, error) {
	positions := map[task.TopicPartition]int64{}
	err := topicread.ReadToEnd(ctx, adm, opts, s.topic, func(r *kgo.Record) { s.apply(positions, r) })
	return positions, err
}

func (s *Offsets) apply(positions map[task.TopicPartition]int64, r *kgo.Record) {
	name, p, err := connect.DecodeSourceOffsetKey(r.Key)
	if err != nil && !json.Valid(r.Key) {
		// Other connectors' keys are JSON too; this is no key at all.
		s.log.Warn("skipping malformed record in offsets topic", "topic", s.topic, "partition", r.Partition, "offset", r.Offset, "err", "key is not JSON")
		return
	}
	if errors.Is(err, connect.ErrNotSource) || name != s.connector || p.Cluster != s.source {
		return
	}
	tp := task.TopicPartition{Topic: p.Topic, Partition: p.Partition}
	if r.Value == nil {
		delete(positions, tp)
		return
	}
	off, err := connect.DecodeSourceOffsetValue(r.Value)
	if err != nil {
		s.log.Warn("skipping malformed record in offsets topic", "topic", s.topic, "partition", r.Partition, "offset", r.Offset, "err", err)
		return
	}
	positions[tp] = off
}

// record builds the offsets-topic record of tp at offset.
func (s *Offsets) record(tp task.TopicPartition, offset int64) *kgo.Record {
	key := connect.SourceOffsetKey(s.connector, connect.SourcePartition{Cluster: s.source, Topic: tp.Topic, Partition: tp.Partition})
	return &kgo.Record{Topic: s.topic, Key: key, Value: connect.SourceOffsetValue(offset)}
}

// Write produces positions to the offsets topic through cl and waits for
// them to be acknowledged; in a transaction, they are stored once it
// commits.
func (s *Offsets) Write(ctx context.Context, cl *kgo.Client, positions map[task.TopicPartition]int64) error {
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

// Stored returns the positions the follower has read so far, without
// waiting for it to reach the topic's end (for status views).
func (s *Offsets) Stored() map[task.TopicPartition]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.positions)
}
