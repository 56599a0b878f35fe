package policy

import "strings"

// HeartbeatsTopic is the name of the heartbeats topic. It never carries the
// separator or an ".internal" suffix.
const HeartbeatsTopic = "heartbeats"

// Policy names remote topics and recognises them, as MM2's
// ReplicationPolicy interface does. A name that is not remote is reported
// with ok == false where MM2 returns null.
type Policy interface {
	// FormatRemoteTopic is the name that topic from cluster source takes on
	// the target cluster.
	FormatRemoteTopic(source, topic string) string
	// TopicSource is the alias of the cluster topic came from; ok is false
	// when topic is not a remote topic. The alias may be empty (".x").
	TopicSource(topic string) (source string, ok bool)
	// UpstreamTopic is topic's name one hop upstream; ok is false when topic
	// is not a remote topic.
	UpstreamTopic(topic string) (upstream string, ok bool)
	// OffsetSyncsTopic is the offset-syncs topic named after alias.
	OffsetSyncsTopic(alias string) string
	// CheckpointsTopic is the checkpoints topic of source cluster alias.
	CheckpointsTopic(alias string) string
	// IsCheckpointsTopic reports whether topic is a checkpoints topic.
	IsCheckpointsTopic(topic string) bool
	// IsMM2InternalTopic reports whether topic is one of MM2's own
	// internal topics.
	IsMM2InternalTopic(topic string) bool
}

// OriginalTopic follows topic upstream until it is no longer a remote topic:
// "B.A.orders" gives "orders".
func OriginalTopic(p Policy, topic string) string {
	for {
		up, ok := p.UpstreamTopic(topic)
		if !ok || up == topic {
			return topic
		}
		topic = up
	}
}

// IsHeartbeatsTopic reports whether topic is a heartbeats topic or a copy of
// one ("heartbeats", "A.heartbeats", "B.A.heartbeats").
func IsHeartbeatsTopic(p Policy, topic string) bool {
	return OriginalTopic(p, topic) == HeartbeatsTopic
}

// IsInternalTopic reports whether topic is internal to Kafka, Connect or MM2
// and so is never replicated: MM2 internal topics, names starting with "__"
// or "." and names ending with "-internal" or ".internal".
func IsInternalTopic(p Policy, topic string) bool {
	return p.IsMM2InternalTopic(topic) ||
		strings.HasPrefix(topic, "__") ||
		strings.HasPrefix(topic, ".") ||
		strings.HasSuffix(topic, "-internal") ||
		strings.HasSuffix(topic, ".internal")
}

// IsCycle reports whether replicating topic to cluster target would bring a
// record back to a cluster it came from: the topic, or any topic upstream
// of it, has target as its source. It is what stops "A.B.orders" in an
// active/active pair.
func IsCycle(p Policy, target, topic string) bool {
	// An alias may hold the separator ("us.east"): TopicSource then sees
	// only its first part, so the topic's own prefix is checked too, at
	// every level, or active/active between such aliases would loop.
	prefix := p.FormatRemoteTopic(target, "")
	for {
		if prefix != "" && strings.HasPrefix(topic, prefix) {
			return true
		}
		src, ok := p.TopicSource(topic)
		if !ok {
			return false
		}
		if src == target {
			return true
		}
		up, ok := p.UpstreamTopic(topic)
		if !ok || up == topic {
			return false
		}
		topic = up
	}
}

// RemoteCheckpointTopic is the topic name a checkpoint for topic carries when
// group offsets are checkpointed from source to target: a topic that came
// from target goes back to its original name, any other is renamed as a
// remote topic of source.
func RemoteCheckpointTopic(p Policy, source, target, topic string) string {
	if src, ok := p.TopicSource(topic); ok && src == target {
		return OriginalTopic(p, topic)
	}
	return p.FormatRemoteTopic(source, topic)
}
