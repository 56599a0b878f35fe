package checkpoint

import (
	"fmt"

	"github.com/strait-replicator/strait/internal/kstruct"
	"github.com/strait-replicator/strait/policy"
)

// OffsetSync says that the record at Upstream in Topic/Partition on the
// source was written at Downstream in the remote topic's same partition.
// Topic is the source (upstream) name, not renamed.
type OffsetSync struct {
	Topic      string
	Partition  int32
	Upstream   int64
	Downstream int64
}

// AppendKey appends the record key: topic STRING, partition INT32.
func (s OffsetSync) AppendKey(b []byte) []byte {
	b = kstruct.AppendString(b, s.Topic)
	return kstruct.AppendInt32(b, s.Partition)
}

// AppendValue appends the record value: upstreamOffset INT64, offset INT64.
// Unlike heartbeats and checkpoints it has no version field.
func (s OffsetSync) AppendValue(b []byte) []byte {
	b = kstruct.AppendInt64(b, s.Upstream)
	return kstruct.AppendInt64(b, s.Downstream)
}

// DecodeOffsetSync reads a record of the offset-syncs topic. Trailing bytes
// are ignored, as MM2 does.
func DecodeOffsetSync(key, value []byte) (OffsetSync, error) {
	k := kstruct.NewReader(key)
	s := OffsetSync{Topic: k.String("topic"), Partition: k.Int32("partition")}
	if err := k.Err(); err != nil {
		return OffsetSync{}, fmt.Errorf("decode offset sync key: %w", err)
	}
	v := kstruct.NewReader(value)
	s.Upstream, s.Downstream = v.Int64("upstreamOffset"), v.Int64("offset")
	if err := v.Err(); err != nil {
		return OffsetSync{}, fmt.Errorf("decode offset sync value: %w", err)
	}
	return s, nil
}

func (s OffsetSync) String() string {
	return fmt.Sprintf("OffsetSync{topicPartition=%s-%d, upstreamOffset=%d, downstreamOffset=%d}", s.Topic, s.Partition, s.Upstream, s.Downstream)
}

// Reversed is a sync of the reverse flow (target->source) as the flow
// source->target's checkpoint task translates with it: keyed by the remote
// topic on the source that the target's topic became, upstream and
// downstream swapped. A group on the source that consumes that remote
// topic (B.orders on A) resumes on the target's original topic (orders on
// B).
func Reversed(p policy.Policy, target string, s OffsetSync) OffsetSync {
	return OffsetSync{Topic: p.FormatRemoteTopic(target, s.Topic), Partition: s.Partition, Upstream: s.Downstream, Downstream: s.Upstream}
}
