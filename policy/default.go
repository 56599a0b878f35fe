package policy

import "strings"

// DefaultSeparator is the default of replication.policy.separator.
const DefaultSeparator = "."

// Default is MM2's DefaultReplicationPolicy: a remote topic is the source
// alias, the separator and the topic ("A.orders").
type Default struct {
	// Separator is replication.policy.separator; empty means ".".
	Separator string
	// DotInternal forces "." in internal topic names whatever the
	// separator: replication.policy.internal.topic.separator.enabled=false.
	DotInternal bool
}

func (d Default) sep() string {
	if d.Separator == "" {
		return DefaultSeparator
	}
	return d.Separator
}

func (d Default) internalSep() string {
	if d.DotInternal {
		return "."
	}
	return d.sep()
}

// FormatRemoteTopic implements Policy.
func (d Default) FormatRemoteTopic(source, topic string) string {
	return source + d.sep() + topic
}

// TopicSource implements Policy. It splits as Java's String.split does:
// trailing empty parts are dropped, so "A." is not remote and ".x" has the
// empty alias.
func (d Default) TopicSource(topic string) (string, bool) {
	parts := strings.Split(topic, d.sep())
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	if len(parts) < 2 {
		return "", false
	}
	return parts[0], true
}

// UpstreamTopic implements Policy.
func (d Default) UpstreamTopic(topic string) (string, bool) {
	src, ok := d.TopicSource(topic)
	if !ok {
		return "", false
	}
	return topic[len(src)+len(d.sep()):], true
}

// OffsetSyncsTopic implements Policy.
func (d Default) OffsetSyncsTopic(alias string) string {
	s := d.internalSep()
	return "mm2-offset-syncs" + s + alias + s + "internal"
}

// CheckpointsTopic implements Policy.
func (d Default) CheckpointsTopic(alias string) string {
	s := d.internalSep()
	return alias + s + "checkpoints" + s + "internal"
}

// IsCheckpointsTopic implements Policy.
func (d Default) IsCheckpointsTopic(topic string) bool {
	s := d.internalSep()
	return strings.HasSuffix(topic, s+"checkpoints"+s+"internal")
}

// IsMM2InternalTopic implements Policy.
func (d Default) IsMM2InternalTopic(topic string) bool {
	return strings.HasSuffix(topic, d.internalSep()+"internal")
}

// Identity is MM2's IdentityReplicationPolicy: topics keep their names on
// the target, except heartbeats topics, which are renamed as Default does.
// It cannot detect cycles: use it for one-way flows only.
type Identity struct {
	Default
	// SourceAlias is source.cluster.alias: the source every non-heartbeat
	// topic is reported to come from. Empty means unknown (MM2's null).
	SourceAlias string
}

// looksLikeHeartbeat is MM2's rule, quirk included: any name ending with
// "heartbeats" ("myheartbeats" too) is renamed as Default does.
func looksLikeHeartbeat(topic string) bool {
	return strings.HasSuffix(topic, HeartbeatsTopic)
}

// FormatRemoteTopic implements Policy.
func (i Identity) FormatRemoteTopic(source, topic string) string {
	if looksLikeHeartbeat(topic) {
		return i.Default.FormatRemoteTopic(source, topic)
	}
	return topic
}

// TopicSource implements Policy.
func (i Identity) TopicSource(topic string) (string, bool) {
	if looksLikeHeartbeat(topic) {
		return i.Default.TopicSource(topic)
	}
	return i.SourceAlias, i.SourceAlias != ""
}

// UpstreamTopic implements Policy.
func (i Identity) UpstreamTopic(topic string) (string, bool) {
	if looksLikeHeartbeat(topic) {
		return i.Default.UpstreamTopic(topic)
	}
	return topic, true
}
