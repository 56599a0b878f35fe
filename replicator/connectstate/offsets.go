package connectstate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/internal/connect"
	"github.com/strait-replicator/strait/internal/kclient"
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
// ago). A task that stops without writing how far it got (the target is
// unreachable) leaves it here (Keep), for its next run on this worker
// (Resume). Safe for concurrent use.
type Offsets struct {
	topic     string
	source    string // source cluster alias, the "cluster" of each key
	connector string
	log       *slog.Logger
	follower  *topicread.Follower

	mu        sync.Mutex
	positions map[task.TopicPartition]int64 // guarded by mu; as the follower read them
	kept      map[task.TopicPartition]Kept  // guarded by mu; see Keep
}

// NoPosition stands, in Kept.Written and ResumePoint.Stored, for a
// partition that has no position in the offsets topic.
const NoPosition = math.MinInt64

// Kept is how far a stopping source task got on one partition, as this
// worker keeps it in memory: the next run of the partition's task on this
// worker resumes from it, unless the offsets topic shows that someone
// else wrote the partition's position since (Resume).
type Kept struct {
	// Acked is the last upstream offset the target acknowledged, in an
	// unbroken run: every record up to it is on the target.
	Acked int64
	// Written is the last position of the partition the task knows the
	// offsets topic holds: the one it started from or wrote last
	// (NoPosition for none). Acked > Written means Acked was never
	// written (the write failed, or the target was unreachable).
	Written int64
	// Downstream is the offset of record Acked in the remote partition;
	// -1 if not known.
	Downstream int64
}

// ResumePoint is where a source task resumes a partition.
type ResumePoint struct {
	// Position is the last upstream offset copied.
	Position int64
	// Stored is the partition's position in the offsets topic
	// (NoPosition for none): below Position when Position is a kept one
	// the topic does not hold yet, which the task then writes.
	Stored int64
	// Downstream is the offset of record Position in the remote
	// partition when this worker copied it last and nobody else wrote
	// the position since (the remote partition's records after it are
	// then the ones this worker had in flight when it stopped); else -1.
	Downstream int64
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

// Keep remembers how far a stopping source task got on its partitions,
// for their next run on this worker (Resume). A later Write of a
// partition's position replaces what is kept of it. Never used in
// exactly-once mode, where positions commit with the records'
// transaction and an aborted one's records are not on the target.
func (s *Offsets) Keep(kept map[task.TopicPartition]Kept) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kept == nil {
		s.kept = map[task.TopicPartition]Kept{}
	}
	maps.Copy(s.kept, kept)
}

// Resume returns where a source task starting now resumes each partition:
// the stored position (Current), or the position this worker kept (Keep)
// while the stored one is still what the stopped task knew, or a position
// between that one and the kept one (the task's own write landing late, or
// another worker that ran the task meanwhile and got less far: every
// record up to the kept position is on the target either way). A stored
// position outside that range was written by someone else (a worker that
// got further, a reset of a recreated topic): it wins and the kept one is
// dropped.
func (s *Offsets) Resume(ctx context.Context, adm *kadm.Client) (map[task.TopicPartition]ResumePoint, error) {
	stored, err := s.Current(ctx, adm)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[task.TopicPartition]ResumePoint, len(stored)+len(s.kept))
	for tp, p := range stored {
		out[tp] = ResumePoint{Position: p, Stored: p, Downstream: -1}
	}
	for tp, k := range s.kept {
		now, ok := stored[tp]
		if !ok {
			now = NoPosition
		}
		switch {
		case now == k.Written:
			out[tp] = ResumePoint{Position: k.Acked, Stored: now, Downstream: k.Downstream}
		case now >= 0 && k.Written <= now && now <= k.Acked:
			out[tp] = ResumePoint{Position: k.Acked, Stored: now, Downstream: -1}
		default:
			delete(s.kept, tp)
		}
	}
	return out, nil
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
// them to be acknowledged, or for ctx (a record may then still be written,
// until cl is closed); in a transaction, they are stored once it commits.
// What Keep kept of the partitions is dropped, written or not: the writer
// decides their positions now.
func (s *Offsets) Write(ctx context.Context, cl *kgo.Client, positions map[task.TopicPartition]int64) error {
	if len(positions) == 0 {
		return nil
	}
	s.mu.Lock()
	for tp := range positions {
		delete(s.kept, tp)
	}
	s.mu.Unlock()
	recs := make([]*kgo.Record, 0, len(positions))
	for tp, off := range positions {
		recs = append(recs, s.record(tp, off))
	}
	if err := kclient.ProduceWait(ctx, cl, recs...); err != nil {
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
