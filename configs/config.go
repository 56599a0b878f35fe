package configs

import (
	"crypto/tls"
	"fmt"
	"time"

	"github.com/strait-replicator/strait/policy"
)

// Config is a validated Strait configuration.
type Config struct {
	// Clusters in the order of the clusters key.
	Clusters []Cluster
	// Flows are the enabled source->target pairs, in clusters order.
	Flows []Flow
	// MemoryMaxBytes is memory.max.bytes: the most resident memory the
	// worker's process may take, its tasks' record buffers included
	// (256 MiB, or MemoryMinimum when the key is unset and the flows'
	// tasks need more); Memory splits it.
	MemoryMaxBytes int64
	// MetricsPartitionSeries is metrics.partition.series: export a
	// series per partition rather than per remote topic (false).
	MetricsPartitionSeries bool
	// ReadinessUnreachableTimeout is readiness.unreachable.timeout.ms:
	// how long a cluster may be unreachable before /readyz says not
	// ready (30 s).
	ReadinessUnreachableTimeout time.Duration
	// Listeners is listeners: where the REST API listens (http or https);
	// empty for none.
	Listeners []Listener
	// REST is the REST API's other settings (rest.*, listeners.https.*).
	REST    REST
	raw     map[string]string // the keys as written, for WithFlowSettings
	environ []string          // the environment config providers read

	// HeartbeatFlows are the other pairs that emit heartbeats, as MM2
	// runs a heartbeat connector for every pair unless
	// emit.heartbeats.enabled is false for it.
	HeartbeatFlows []Flow
}

// Cluster returns the cluster with the given alias.
func (c *Config) Cluster(alias string) (Cluster, bool) {
	for _, cl := range c.Clusters {
		if cl.Alias == alias {
			return cl, true
		}
	}
	return Cluster{}, false
}

// Cluster is one Kafka cluster's connection settings.
type Cluster struct {
	Alias string
	// BootstrapServers is <alias>.bootstrap.servers.
	BootstrapServers []string
	// Security is built from <alias>.security.protocol, sasl.* and ssl.*.
	Security Security
	// ClientID is <alias>.client.id; empty when unset.
	ClientID string
	// Client holds the common client keys set for the cluster
	// ("A.request.timeout.ms"): every client of the cluster takes them.
	Client Client
}

// Security is how a client authenticates to a cluster and protects the
// connection.
type Security struct {
	// Protocol is security.protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or
	// SASL_SSL.
	Protocol string
	// SASLConfig is built from sasl.mechanism and sasl.jaas.config when the
	// protocol uses SASL.
	SASLConfig SASL
	// TLSConfig is built from the ssl.* keys, with the stores they name
	// already read and checked, when the protocol uses TLS; nil otherwise.
	// Clone it before use.
	TLSConfig *tls.Config
}

// TLS reports whether the connection uses TLS.
func (s Security) TLS() bool { return s.Protocol == "SSL" || s.Protocol == "SASL_SSL" }

// SASL reports whether the connection authenticates with SASL.
func (s Security) SASL() bool { return s.Protocol == "SASL_PLAINTEXT" || s.Protocol == "SASL_SSL" }

// Secret is a string that never prints itself.
type Secret string

// String implements fmt.Stringer; it masks the value.
func (Secret) String() string { return "[hidden]" }

// GoString implements fmt.GoStringer; it masks the value.
func (Secret) GoString() string { return `"[hidden]"` }

// Flow is one enabled direction of replication with every setting resolved:
// flow key ("A->B.topics") over the top-level key over MM2's default.
type Flow struct {
	Source, Target string

	// Topics decides which source topics are replicated (topics,
	// topics.exclude, heartbeats.replication.enabled, the policy).
	Topics policy.Topics
	// Groups is the consumer-group filter (groups, groups.exclude).
	Groups policy.Filter
	// ConfigExclude is config.properties.exclude: topic configs never copied.
	ConfigExclude policy.Filter
	// Policy is replication.policy.class with its separator settings.
	Policy policy.Policy

	// UseDefaultsFrom is use.defaults.from: "target" (default) deletes on
	// the target the configs that are defaults on the source; "source"
	// copies the source's default values.
	UseDefaultsFrom string
	// ReplicationFactor is replication.factor for new remote topics (2).
	ReplicationFactor int16
	// RefreshTopicsInterval is refresh.topics.interval.seconds (600 s); zero
	// when refresh.topics.enabled is false.
	RefreshTopicsInterval time.Duration
	// SyncTopicConfigsInterval is sync.topic.configs.interval.seconds (600 s);
	// zero when sync.topic.configs.enabled is false.
	SyncTopicConfigsInterval time.Duration
	// EmitCheckpointsInterval is emit.checkpoints.interval.seconds (60 s);
	// zero when emit.checkpoints.enabled is false.
	EmitCheckpointsInterval time.Duration
	// SyncGroupOffsetsInterval is sync.group.offsets.interval.seconds (60 s);
	// zero when sync.group.offsets.enabled is false (the default).
	SyncGroupOffsetsInterval time.Duration
	// EmitHeartbeatsInterval is emit.heartbeats.interval.seconds (1 s);
	// zero when emit.heartbeats.enabled is false.
	EmitHeartbeatsInterval time.Duration
	// EmitOffsetSyncs is emit.offset-syncs.enabled (true).
	EmitOffsetSyncs bool
	// OffsetLagMax is offset.lag.max (100 records).
	OffsetLagMax int64
	// OffsetSyncsOnTarget is offset-syncs.topic.location = target; the
	// default, source, keeps the offset-syncs topic on the source cluster.
	OffsetSyncsOnTarget bool
	// OffsetSyncsTopicRF is offset-syncs.topic.replication.factor (3).
	OffsetSyncsTopicRF int16
	// CheckpointsTopicRF is checkpoints.topic.replication.factor (3).
	CheckpointsTopicRF int16
	// HeartbeatsTopicRF is heartbeats.topic.replication.factor (3).
	HeartbeatsTopicRF int16
	// SyncTopicACLsInterval is sync.topic.acls.interval.seconds (600 s):
	// how often topic ACLs are copied to the target; zero when
	// sync.topic.acls.enabled is false.
	SyncTopicACLsInterval time.Duration
	// TasksMax is tasks.max (1).
	TasksMax int
	// LoadAware is tasks.assignment = load (Strait's own): partitions are
	// spread over tasks by measured bytes/s instead of round robin.
	LoadAware bool
	// AdminTimeout is admin.timeout.ms (60 s).
	AdminTimeout time.Duration

	// GroupID is group.id, default "<source>-mm2": the workers running
	// this flow join this group on the target cluster and share its tasks.
	GroupID string
	// SessionTimeout is session.timeout.ms (10 s): a worker not heard
	// from for this long leaves the group and its tasks move.
	SessionTimeout time.Duration
	// HeartbeatInterval is heartbeat.interval.ms (3 s).
	HeartbeatInterval time.Duration
	// RebalanceTimeout is rebalance.timeout.ms (60 s): how long a
	// rebalance waits for every worker to rejoin.
	RebalanceTimeout time.Duration
	// OffsetFlushInterval is offset.flush.interval.ms (60 s): how often
	// acknowledged positions are written to the offsets topic.
	OffsetFlushInterval time.Duration
	// OffsetsTopic is offset.storage.topic, default "mm2-offsets.<source>.internal".
	OffsetsTopic string
	// OffsetsTopicPartitions is offset.storage.partitions (25).
	OffsetsTopicPartitions int32
	// OffsetsTopicRF is offset.storage.replication.factor (3).
	OffsetsTopicRF int16
	// ConfigsTopic is config.storage.topic, default "mm2-configs.<source>.internal".
	ConfigsTopic string
	// ConfigsTopicRF is config.storage.replication.factor (3).
	ConfigsTopicRF int16
	// StatusTopic is status.storage.topic, default "mm2-status.<source>.internal".
	StatusTopic string
	// StatusTopicPartitions is status.storage.partitions (5).
	StatusTopicPartitions int32
	// StatusTopicRF is status.storage.replication.factor (3).
	StatusTopicRF int16
	// OffsetsTopicConfigs, ConfigsTopicConfigs and StatusTopicConfigs are
	// Connect's offset.storage.<config>, config.storage.<config> and
	// status.storage.<config>: topic configs of the internal topics when
	// Strait creates them (cleanup.policy stays compact).
	OffsetsTopicConfigs, ConfigsTopicConfigs, StatusTopicConfigs map[string]string
	// ExactlyOnce is exactly.once.source.support = enabled: each source
	// task writes its records and positions in one transaction.
	ExactlyOnce bool
	// TransactionInterval is how long a source task's transaction stays
	// open in exactly-once mode: zero for transaction.boundary = poll
	// (the default: one transaction per poll), else
	// transaction.boundary.interval.ms (default offset.flush.interval.ms)
	// for transaction.boundary = interval.
	TransactionInterval time.Duration
	// SkipDataLoss is data.loss.policy = skip; by default (fail) a partition
	// whose uncopied records were deleted on the source fails its task.
	SkipDataLoss bool
	// BytesPerSecond is replication.bytes.per.second (Strait's own, no
	// default): the most bytes per second the flow's source tasks copy
	// together, each task taking an equal share; zero when the key is
	// unset (no limit).
	BytesPerSecond int64

	// The flow's clients, from the Java client keys at the scopes where
	// MM2 applies them (see flowClients), over their cluster's Client.
	//
	// SourceConsumer reads the source (and the offset syncs there).
	SourceConsumer Client
	// TargetConsumer reads the target's topics (checkpoints, offset syncs
	// there).
	TargetConsumer Client
	// Producer writes records, positions, checkpoints and heartbeats to the
	// target: Connect's task producer, B.producer.* and
	// A->B.producer.override.*.
	Producer Client
	// OffsetSyncProducer writes offset syncs: A->B.producer.*, A.producer.*
	// (the target's with offset-syncs.topic.location = target).
	OffsetSyncProducer Client
	// SourceAdmin and TargetAdmin manage topics, configs, ACLs and groups.
	SourceAdmin, TargetAdmin Client

	settings map[string]string
}

// Settings are the flow's MM2 connector settings as resolved (flow key
// over top-level key over default), by MM2 key name: what a Connect-style
// REST API shows as connector config.
func (f *Flow) Settings() map[string]string {
	out := make(map[string]string, len(f.settings))
	for k, v := range f.settings {
		out[k] = v
	}
	return out
}

// Name is the flow's name, "A->B".
func (f *Flow) Name() string { return f.Source + "->" + f.Target }

// OffsetSyncsTopic is the offset-syncs topic's name and whether it lives on
// the target cluster.
func (f *Flow) OffsetSyncsTopic() (topic string, onTarget bool) {
	if f.OffsetSyncsOnTarget {
		return f.Policy.OffsetSyncsTopic(f.Source), true
	}
	return f.Policy.OffsetSyncsTopic(f.Target), false
}

// KeyError is one invalid setting.
type KeyError struct {
	// Key is the full key as written ("A->B.tasks.max").
	Key string
	// Line is the line of a properties file the key is set on, or 0 when
	// not known (YAML, a key of the environment or the REST API).
	Line int
	// Problem says what is wrong.
	Problem string
}

func (e *KeyError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s (line %d): %s", e.Key, e.Line, e.Problem)
	}
	return fmt.Sprintf("%s: %s", e.Key, e.Problem)
}
