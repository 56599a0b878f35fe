package checkpoint

import (
	"fmt"

	"github.com/strait-replicator/strait/internal/kstruct"
)

// Version is the only checkpoint value version MM2 writes.
const Version = 0

// Checkpoint says that consumer group Group, committed at Upstream on the
// source, can resume at Downstream in Topic/Partition on the target. Topic
// is the name on the target (the remote name, or the original name for a
// topic that came from the target). Metadata is the source commit's.
type Checkpoint struct {
	Group      string
	Topic      string
	Partition  int32
	Upstream   int64
	Downstream int64
	Metadata   string
}

// Validate reports a checkpoint MM2 could not serialize either: a string
// longer than 32767 bytes.
func (c Checkpoint) Validate() error {
	for _, f := range []struct{ name, v string }{{"group", c.Group}, {"topic", c.Topic}, {"metadata", c.Metadata}} {
		if err := kstruct.CheckString(f.name, f.v); err != nil {
			return fmt.Errorf("checkpoint %s %s/%d: %w", c.Group, c.Topic, c.Partition, err)
		}
	}
	return nil
}

// AppendKey appends the key: group STRING, topic STRING, partition INT32.
func (c Checkpoint) AppendKey(b []byte) []byte {
	b = kstruct.AppendString(b, c.Group)
	b = kstruct.AppendString(b, c.Topic)
	return kstruct.AppendInt32(b, c.Partition)
}

// AppendValue appends the value: version INT16 (0), upstreamOffset INT64,
// offset INT64, metadata STRING.
func (c Checkpoint) AppendValue(b []byte) []byte {
	b = kstruct.AppendInt16(b, Version)
	b = kstruct.AppendInt64(b, c.Upstream)
	b = kstruct.AppendInt64(b, c.Downstream)
	return kstruct.AppendString(b, c.Metadata)
}

// DecodeCheckpoint reads a record of a checkpoints topic. As MM2 (whose
// version check is a Java assert, off in production), any version is read
// with the version 0 layout; trailing bytes are ignored.
func DecodeCheckpoint(key, value []byte) (Checkpoint, error) {
	k := kstruct.NewReader(key)
	c := Checkpoint{Group: k.String("group"), Topic: k.String("topic"), Partition: k.Int32("partition")}
	if err := k.Err(); err != nil {
		return Checkpoint{}, fmt.Errorf("decode checkpoint key: %w", err)
	}
	v := kstruct.NewReader(value)
	v.Int16("version")
	c.Upstream, c.Downstream, c.Metadata = v.Int64("upstreamOffset"), v.Int64("offset"), v.String("metadata")
	if err := v.Err(); err != nil {
		return Checkpoint{}, fmt.Errorf("decode checkpoint value: %w", err)
	}
	return c, nil
}

func (c Checkpoint) String() string {
	return fmt.Sprintf("Checkpoint{consumerGroupId=%s, topicPartition=%s-%d, upstreamOffset=%d, downstreamOffset=%d, metadata=%s}",
		c.Group, c.Topic, c.Partition, c.Upstream, c.Downstream, c.Metadata)
}
