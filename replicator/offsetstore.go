package replicator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/internal/connect"
)

// offsetStore holds the flow's source positions: the last replicated
// upstream offset of each partition, as kept in the Connect offsets topic
// on the target. Tasks read their start positions from it and write their
// acknowledged positions through it. Safe for concurrent use.
type offsetStore struct {
	topic     string
	source    string // source cluster alias, the "cluster" of each key
	connector string

	mu        sync.Mutex
	positions map[topicPartition]int64 // guarded by mu
}

func newOffsetStore(topic, source string) *offsetStore {
	return &offsetStore{topic: topic, source: source, connector: connect.SourceConnector, positions: map[topicPartition]int64{}}
}

// load reads the offsets topic from its start to its end offsets as of the
// call. Records of other connectors or clusters are skipped; malformed ones
// are logged and skipped.
func (s *offsetStore) load(ctx context.Context, adm *kadm.Client, opts []kgo.Opt, log *slog.Logger) error {
	ends, err := adm.ListEndOffsets(ctx, s.topic)
	if err != nil {
		return fmt.Errorf("list end offsets of %s: %w", s.topic, err)
	}
	if err := ends.Error(); err != nil {
		return fmt.Errorf("list end offsets of %s: %w", s.topic, err)
	}
	starts, err := adm.ListStartOffsets(ctx, s.topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return fmt.Errorf("list start offsets of %s: %w", s.topic, err)
	}
	// Partitions with records: DeleteRecords or retention may have emptied
	// one whose end offset is not zero.
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if lo, ok := starts.Lookup(o.Topic, o.Partition); ok && lo.Offset < o.Offset {
			want[o.Partition] = o.Offset
		}
	})
	if len(want) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(append(opts,
		kgo.ConsumeTopics(s.topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) { ferr = fmt.Errorf("read %s/%d: %w", t, p, err) })
		if ferr != nil {
			return ferr
		}
		fs.EachRecord(func(r *kgo.Record) {
			s.apply(r, log)
			if end, ok := want[r.Partition]; ok && r.Offset+1 >= end {
				delete(want, r.Partition)
			}
		})
	}
	return nil
}

func (s *offsetStore) apply(r *kgo.Record, log *slog.Logger) {
	name, p, err := connect.DecodeSourceOffsetKey(r.Key)
	if errors.Is(err, connect.ErrNotSource) || name != s.connector || p.Cluster != s.source {
		return
	}
	tp := topicPartition{p.Topic, p.Partition}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Value == nil {
		delete(s.positions, tp)
		return
	}
	off, err := connect.DecodeSourceOffsetValue(r.Value)
	if err != nil {
		log.Warn("skipping malformed record in offsets topic", "topic", s.topic, "partition", r.Partition, "offset", r.Offset, "err", err)
		return
	}
	s.positions[tp] = off
}

// get returns the last replicated upstream offset of tp.
func (s *offsetStore) get(tp topicPartition) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	off, ok := s.positions[tp]
	return off, ok
}

// record builds the offsets-topic record for tp at offset.
func (s *offsetStore) record(tp topicPartition, offset int64) *kgo.Record {
	key := connect.SourceOffsetKey(s.connector, connect.SourcePartition{Cluster: s.source, Topic: tp.Topic, Partition: tp.Partition})
	return &kgo.Record{Topic: s.topic, Key: key, Value: connect.SourceOffsetValue(offset)}
}

// write produces positions to the offsets topic, waits for them to be
// acknowledged and then remembers them.
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
	s.mu.Lock()
	defer s.mu.Unlock()
	for tp, off := range positions {
		s.positions[tp] = off
	}
	return nil
}
