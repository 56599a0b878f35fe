package checkpoint

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/internal/topicread"
)

// Written is a checkpoint with the time it was written.
type Written struct {
	Checkpoint
	At time.Time
}

// ReadGroup reads a checkpoints topic as MM2's RemoteClusterUtils does:
// every record of it, keeping the newest checkpoint per topic-partition for
// group. Undecodable records are skipped and counted.
func ReadGroup(ctx context.Context, adm *kadm.Client, opts []kgo.Opt, topic, group string) (map[TopicPartition]Written, int, error) {
	out := map[TopicPartition]Written{}
	skipped := 0
	err := topicread.ReadToEnd(ctx, adm, opts, topic, func(r *kgo.Record) {
		c, err := DecodeCheckpoint(r.Key, r.Value)
		if err != nil {
			skipped++
			return
		}
		if c.Group == group {
			out[TopicPartition{c.Topic, c.Partition}] = Written{c, r.Timestamp}
		}
	})
	if err != nil {
		return nil, skipped, fmt.Errorf("read checkpoints of group %s from %s: %w", group, topic, err)
	}
	return out, skipped, nil
}
