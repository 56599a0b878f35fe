package configs

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/strait-replicator/strait/policy"
)

// defaultsMinimal is the smallest file with a flow: every other setting of
// the A->B flow is MM2's (or Connect's) default.
const defaultsMinimal = `clusters = A, B
A.bootstrap.servers = a:9092
B.bootstrap.servers = b:9092
A->B.enabled = true
`

// defaultsParse parses defaultsMinimal plus extra lines and fails the test
// on an error.
func defaultsParse(t *testing.T, extra string) *Config {
	t.Helper()
	cfg, _, err := Parse([]byte(defaultsMinimal+extra), Properties, nil)
	if err != nil {
		t.Fatalf("parse %q: %v", extra, err)
	}
	return cfg
}

func defaultsFlow(t *testing.T, cfg *Config, s, d string) Flow {
	t.Helper()
	f, ok := cfg.Flow(s, d)
	if !ok {
		t.Fatalf("no flow %s->%s in %v", s, d, cfg.Flows)
	}
	return f
}

// defaultsErrKeys lists the keys of every *KeyError in err, sorted; an
// error that is not a *KeyError is listed as "?<message>".
func defaultsErrKeys(err error) []string {
	var keys []string
	var me *multierror.Error
	if !errors.As(err, &me) {
		if err != nil {
			return []string{"?" + err.Error()}
		}
		return nil
	}
	for _, e := range me.Errors {
		var ke *KeyError
		if errors.As(e, &ke) {
			keys = append(keys, ke.Key)
		} else {
			keys = append(keys, "?"+e.Error())
		}
	}
	slices.Sort(keys)
	return keys
}

// Every typed setting of a flow, its clusters and the config has MM2's or
// Connect's default when the file does not set it. The expected values are
// written out here, not taken from keys.go, so that a changed default fails.
func TestDefaultsOfMinimalConfig(t *testing.T) {
	cfg, warnings, err := Parse([]byte(defaultsMinimal), Properties, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %v", warnings)
	}
	if len(cfg.Flows) != 1 {
		t.Fatalf("flows: %v", cfg.Flows)
	}
	f := defaultsFlow(t, cfg, "A", "B")
	syncTopic, syncOnTarget := f.OffsetSyncsTopic()
	checks := []struct {
		name      string
		got, want any
	}{
		{"Source", f.Source, "A"},
		{"Target", f.Target, "B"},
		{"Name", f.Name(), "A->B"},
		{"use.defaults.from", f.UseDefaultsFrom, "target"},
		{"replication.factor", f.ReplicationFactor, int16(2)},
		{"refresh.topics.interval.seconds", f.RefreshTopicsInterval, 600 * time.Second},
		{"sync.topic.configs.interval.seconds", f.SyncTopicConfigsInterval, 600 * time.Second},
		{"sync.topic.acls.interval.seconds", f.SyncTopicACLsInterval, 600 * time.Second},
		{"emit.checkpoints.interval.seconds", f.EmitCheckpointsInterval, 60 * time.Second},
		{"sync.group.offsets (off by default)", f.SyncGroupOffsetsInterval, time.Duration(0)},
		{"emit.heartbeats.interval.seconds", f.EmitHeartbeatsInterval, 1 * time.Second},
		{"emit.offset-syncs.enabled", f.EmitOffsetSyncs, true},
		{"offset.lag.max", f.OffsetLagMax, int64(100)},
		{"offset-syncs.topic.location = source", f.OffsetSyncsOnTarget, false},
		{"offset-syncs.topic.replication.factor", f.OffsetSyncsTopicRF, int16(3)},
		{"checkpoints.topic.replication.factor", f.CheckpointsTopicRF, int16(3)},
		{"heartbeats.topic.replication.factor", f.HeartbeatsTopicRF, int16(3)},
		{"tasks.max", f.TasksMax, 1},
		{"tasks.assignment = round-robin", f.LoadAware, false},
		{"admin.timeout.ms", f.AdminTimeout, 60 * time.Second},
		{"group.id", f.GroupID, "A-mm2"},
		{"session.timeout.ms", f.SessionTimeout, 10 * time.Second},
		{"heartbeat.interval.ms", f.HeartbeatInterval, 3 * time.Second},
		{"rebalance.timeout.ms", f.RebalanceTimeout, 60 * time.Second},
		{"offset.flush.interval.ms", f.OffsetFlushInterval, 60 * time.Second},
		{"offset.storage.topic", f.OffsetsTopic, "mm2-offsets.A.internal"},
		{"offset.storage.partitions", f.OffsetsTopicPartitions, int32(25)},
		{"offset.storage.replication.factor", f.OffsetsTopicRF, int16(3)},
		{"config.storage.topic", f.ConfigsTopic, "mm2-configs.A.internal"},
		{"config.storage.replication.factor", f.ConfigsTopicRF, int16(3)},
		{"status.storage.topic", f.StatusTopic, "mm2-status.A.internal"},
		{"status.storage.partitions", f.StatusTopicPartitions, int32(5)},
		{"status.storage.replication.factor", f.StatusTopicRF, int16(3)},
		{"offset.storage.<config>", len(f.OffsetsTopicConfigs), 0},
		{"config.storage.<config>", len(f.ConfigsTopicConfigs), 0},
		{"status.storage.<config>", len(f.StatusTopicConfigs), 0},
		{"exactly.once.source.support = disabled", f.ExactlyOnce, false},
		{"transaction.boundary = poll", f.TransactionInterval, time.Duration(0)},
		{"data.loss.policy = fail", f.SkipDataLoss, false},
		{"heartbeats.replication.enabled", f.Topics.Heartbeats, true},
		{"Topics.Target", f.Topics.Target, "B"},
		{"replication.policy.class, separator, internal separator", f.Policy, policy.Policy(policy.Default{Separator: "."})},
		{"Topics.Policy", f.Topics.Policy, f.Policy},
		{"remote topic name", f.Policy.FormatRemoteTopic("A", "orders"), "A.orders"},
		{"checkpoints topic", f.Policy.CheckpointsTopic("A"), "A.checkpoints.internal"},
		{"offset-syncs topic", syncTopic, "mm2-offset-syncs.B.internal"},
		{"offset-syncs topic on the source", syncOnTarget, false},
		// Every client takes franz-go's defaults: read_committed (Strait's
		// choice, see Client.ReadUncommitted), earliest, no overrides.
		{"source consumer", f.SourceConsumer, Client{}},
		{"target consumer", f.TargetConsumer, Client{}},
		{"producer", f.Producer, Client{}},
		{"offset-syncs producer", f.OffsetSyncProducer, Client{}},
		{"source admin", f.SourceAdmin, Client{}},
		{"target admin", f.TargetAdmin, Client{}},
		{"isolation.level = read_committed", f.SourceConsumer.ReadUncommitted, false},
		{"auto.offset.reset = earliest", f.SourceConsumer.StartAtEnd, false},

		{"memory.max.bytes", cfg.MemoryMaxBytes, int64(256 << 20)},
		{"metrics.partition.series", cfg.MetricsPartitionSeries, false},
		{"listeners", len(cfg.Listeners), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}

	// Clusters: PLAINTEXT, no TLS, no SASL, no client id, no client keys.
	if got := defaultsAliases(cfg.Clusters); !slices.Equal(got, []string{"A", "B"}) {
		t.Fatalf("clusters %v", got)
	}
	for _, c := range cfg.Clusters {
		want := strings.ToLower(c.Alias) + ":9092"
		if !slices.Equal(c.BootstrapServers, []string{want}) {
			t.Errorf("%s.bootstrap.servers = %v", c.Alias, c.BootstrapServers)
		}
		if c.Security.Protocol != "PLAINTEXT" || c.Security.TLS() || c.Security.SASL() || c.Security.TLSConfig != nil || c.Security.SASLConfig != (SASL{}) {
			t.Errorf("%s security: %#v", c.Alias, c.Security)
		}
		if c.ClientID != "" || c.Client != (Client{}) {
			t.Errorf("%s client id %q, client %#v", c.Alias, c.ClientID, c.Client)
		}
	}

	// MM2 runs a heartbeat connector for B->A too (KAFKA-10710), with B's
	// worker defaults.
	if len(cfg.HeartbeatFlows) != 1 {
		t.Fatalf("heartbeat flows: %v", cfg.HeartbeatFlows)
	}
	hb := cfg.HeartbeatFlows[0]
	if hb.Name() != "B->A" || hb.EmitHeartbeatsInterval != time.Second || hb.GroupID != "B-mm2" ||
		hb.OffsetsTopic != "mm2-offsets.B.internal" || hb.ConfigsTopic != "mm2-configs.B.internal" ||
		hb.StatusTopic != "mm2-status.B.internal" || hb.HeartbeatsTopicRF != 3 {
		t.Errorf("heartbeat flow B->A: %s every %s, group %q, topics %q %q %q, RF %d",
			hb.Name(), hb.EmitHeartbeatsInterval, hb.GroupID, hb.OffsetsTopic, hb.ConfigsTopic, hb.StatusTopic, hb.HeartbeatsTopicRF)
	}
}

func defaultsAliases(cs []Cluster) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Alias)
	}
	return out
}

// The default filters, checked by names they must and must not let through:
// topics ".*" minus ".*[\-\.]internal, .*\.replica, __.*" (and MM2's
// internal and cycle rules), groups ".*" minus "console-consumer-.*,
// connect-.*, __.*", and MM2's six excluded topic configs.
func TestDefaultFilters(t *testing.T) {
	f := defaultsFlow(t, defaultsParse(t, ""), "A", "B")
	topics := map[string]bool{
		"orders":                      true,
		"_schemas":                    true,
		"connect-offsets":             true,
		"internal":                    true,
		"orders.internalx":            true,
		"ordersXreplica":              true,
		"heartbeats":                  true,
		"A.heartbeats":                true,
		"C.orders":                    true,
		"orders-internal":             false, // .*[\-\.]internal
		"orders.internal":             false,
		"orders.replica":              false, // .*\.replica
		"__consumer_offsets":          false, // __.*
		"__strait":                    false,
		".hidden":                     false, // MM2's isInternalTopic
		"B.orders":                    false, // a cycle: it came from B
		"C.B.orders":                  false,
		"mm2-offset-syncs.B.internal": false,
		"A.checkpoints.internal":      false,
		"mm2-offsets.A.internal":      false,
	}
	for topic, want := range topics {
		if got := f.Topics.Replicate(topic); got != want {
			t.Errorf("topic %q replicated = %v, want %v", topic, got, want)
		}
	}
	groups := map[string]bool{
		"my-group":               true,
		"console-consumer":       true,
		"connector":              true,
		"_group":                 true,
		"console-consumer-12345": false,
		"connect-mm2":            false,
		"connect-":               false,
		"__strait":               false,
		"xconsole-consumer-1":    true,
		"my-console-consumer-1":  true,
		"consoleXconsumer-1":     true,
	}
	for g, want := range groups {
		if got := f.Groups.Match(g); got != want {
			t.Errorf("group %q synced = %v, want %v", g, got, want)
		}
	}
	configs := map[string]bool{
		"follower.replication.throttled.replicas": true,
		"leader.replication.throttled.replicas":   true,
		"message.timestamp.difference.max.ms":     true,
		"message.timestamp.type":                  true,
		"unclean.leader.election.enable":          true,
		"min.insync.replicas":                     true,
		"retention.ms":                            false,
		"cleanup.policy":                          false,
		"compression.type":                        false,
		"minXinsync.replicas":                     false, // the dots are escaped
		"min.insync.replicas.x":                   false, // whole-name match
		"x.min.insync.replicas":                   false,
	}
	for name, want := range configs {
		if got := f.ConfigExclude.Excluded(name); got != want {
			t.Errorf("topic config %q excluded = %v, want %v", name, got, want)
		}
	}
}

// What the REST API shows as the connector config of a flow with nothing
// set: every MM2 setting at its default, by MM2 key name.
func TestDefaultSettings(t *testing.T) {
	f := defaultsFlow(t, defaultsParse(t, ""), "A", "B")
	want := map[string]string{
		"topics":                                              ".*",
		"topics.exclude":                                      `.*[\-\.]internal, .*\.replica, __.*`,
		"groups":                                              ".*",
		"groups.exclude":                                      `console-consumer-.*, connect-.*, __.*`,
		"config.properties.exclude":                           `follower\.replication\.throttled\.replicas, leader\.replication\.throttled\.replicas, message\.timestamp\.difference\.max\.ms, message\.timestamp\.type, unclean\.leader\.election\.enable, min\.insync\.replicas`,
		"use.defaults.from":                                   "target",
		"replication.factor":                                  "2",
		"refresh.topics.enabled":                              "true",
		"refresh.topics.interval.seconds":                     "600",
		"sync.topic.configs.enabled":                          "true",
		"sync.topic.configs.interval.seconds":                 "600",
		"sync.topic.acls.enabled":                             "true",
		"sync.topic.acls.interval.seconds":                    "600",
		"refresh.groups.enabled":                              "true",
		"refresh.groups.interval.seconds":                     "600",
		"emit.checkpoints.enabled":                            "true",
		"emit.checkpoints.interval.seconds":                   "60",
		"sync.group.offsets.enabled":                          "false",
		"sync.group.offsets.interval.seconds":                 "60",
		"emit.heartbeats.enabled":                             "true",
		"emit.heartbeats.interval.seconds":                    "1",
		"emit.offset-syncs.enabled":                           "true",
		"heartbeats.replication.enabled":                      "true",
		"offset.lag.max":                                      "100",
		"heartbeats.topic.replication.factor":                 "3",
		"checkpoints.topic.replication.factor":                "3",
		"offset-syncs.topic.replication.factor":               "3",
		"offset-syncs.topic.location":                         "source",
		"consumer.poll.timeout.ms":                            "1000",
		"admin.timeout.ms":                                    "60000",
		"replication.policy.class":                            "org.apache.kafka.connect.mirror.DefaultReplicationPolicy",
		"replication.policy.separator":                        ".",
		"replication.policy.internal.topic.separator.enabled": "true",
		"tasks.max":                                           "1",
		"transaction.boundary":                                "poll",
		"offset.flush.interval.ms":                            "60000",
		"data.loss.policy":                                    "fail",
		"group.id":                                            "A-mm2",
	}
	got := f.Settings()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Settings()[%q] = %q, want %q", k, got[k], v)
		}
	}
	for k, v := range got {
		if k == KeyTasksAssignment && v == "round-robin" {
			continue // once tasks.assignment is a flow key (see TestTasksAssignmentIsAFlowKey)
		}
		if _, ok := want[k]; !ok {
			t.Errorf("Settings() has %q = %q, not a default", k, v)
		}
	}
	// Settings is a copy.
	got["tasks.max"] = "9"
	if f.Settings()["tasks.max"] != "1" {
		t.Error("Settings() shares its map")
	}
	// The flow's own and the top-level values show, flow over top level.
	f = defaultsFlow(t, defaultsParse(t, "tasks.max = 3\nA->B.tasks.max = 4\nreplication.factor = 5\n"), "A", "B")
	s := f.Settings()
	if s["tasks.max"] != "4" || s["replication.factor"] != "5" || !maps.Equal(defaultsWithout(s, "tasks.max", "replication.factor", KeyTasksAssignment), defaultsWithout(want, "tasks.max", "replication.factor")) {
		t.Errorf("settings with tasks.max and replication.factor set: %v", s)
	}
}

func defaultsWithout(m map[string]string, keys ...string) map[string]string {
	out := maps.Clone(m)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// Each enabled switch: off makes its interval zero; sync.group.offsets on
// runs every 60 s; the other switches change their typed field.
func TestDefaultSwitches(t *testing.T) {
	cases := []struct {
		extra string
		field func(Flow) any
		want  any
	}{
		{"refresh.topics.enabled = false", func(f Flow) any { return f.RefreshTopicsInterval }, time.Duration(0)},
		{"sync.topic.configs.enabled = false", func(f Flow) any { return f.SyncTopicConfigsInterval }, time.Duration(0)},
		{"sync.topic.acls.enabled = false", func(f Flow) any { return f.SyncTopicACLsInterval }, time.Duration(0)},
		{"emit.checkpoints.enabled = false", func(f Flow) any { return f.EmitCheckpointsInterval }, time.Duration(0)},
		{"emit.heartbeats.enabled = false", func(f Flow) any { return f.EmitHeartbeatsInterval }, time.Duration(0)},
		{"sync.group.offsets.enabled = true", func(f Flow) any { return f.SyncGroupOffsetsInterval }, 60 * time.Second},
		{"A->B.sync.group.offsets.enabled = TRUE", func(f Flow) any { return f.SyncGroupOffsetsInterval }, 60 * time.Second},
		{"emit.offset-syncs.enabled = false", func(f Flow) any { return f.EmitOffsetSyncs }, false},
		{"heartbeats.replication.enabled = false", func(f Flow) any { return f.Topics.Heartbeats }, false},
		{"offset-syncs.topic.location = target", func(f Flow) any {
			t, on := f.OffsetSyncsTopic()
			return t + " " + map[bool]string{true: "target", false: "source"}[on]
		}, "mm2-offset-syncs.A.internal target"},
		{"tasks.assignment = load", func(f Flow) any { return f.LoadAware }, true},
		{"data.loss.policy = skip", func(f Flow) any { return f.SkipDataLoss }, true},
		{"use.defaults.from = source", func(f Flow) any { return f.UseDefaultsFrom }, "source"},
		{"B.exactly.once.source.support = enabled", func(f Flow) any { return f.ExactlyOnce }, true},
		{"exactly.once.source.support = preparing", func(f Flow) any { return f.ExactlyOnce }, false},
		// transaction.boundary = interval: offset.flush.interval.ms unless
		// transaction.boundary.interval.ms is set.
		{"transaction.boundary = interval", func(f Flow) any { return f.TransactionInterval }, 60 * time.Second},
		{"transaction.boundary = interval\nB.offset.flush.interval.ms = 5000", func(f Flow) any { return f.TransactionInterval }, 5 * time.Second},
		{"transaction.boundary = interval\ntransaction.boundary.interval.ms = 250", func(f Flow) any { return f.TransactionInterval }, 250 * time.Millisecond},
		{"replication.policy.separator = _", func(f Flow) any { t, _ := f.OffsetSyncsTopic(); return t + " " + f.Policy.FormatRemoteTopic("A", "x") }, "mm2-offset-syncs_B_internal A_x"},
		{"replication.policy.separator = _\nreplication.policy.internal.topic.separator.enabled = false", func(f Flow) any { t, _ := f.OffsetSyncsTopic(); return t }, "mm2-offset-syncs.B.internal"},
		{"replication.policy.class = IdentityReplicationPolicy", func(f Flow) any { return f.Policy.FormatRemoteTopic("A", "orders") }, "orders"},
		{"group.id = mine", func(f Flow) any { return f.GroupID + " " + f.Settings()["group.id"] }, "mine mine"},
		{"B.offset.storage.topic = o\nB.config.storage.topic = c\nB.status.storage.topic = s", func(f Flow) any { return f.OffsetsTopic + " " + f.ConfigsTopic + " " + f.StatusTopic }, "o c s"},
		{"A.consumer.isolation.level = read_uncommitted", func(f Flow) any { return f.SourceConsumer.ReadUncommitted }, true},
	}
	for _, c := range cases {
		f := defaultsFlow(t, defaultsParse(t, c.extra+"\n"), "A", "B")
		if got := c.field(f); got != c.want {
			t.Errorf("%q: got %#v, want %#v", c.extra, got, c.want)
		}
	}
	// With emit.heartbeats.enabled = false no heartbeat-only flow runs.
	if cfg := defaultsParse(t, "emit.heartbeats.enabled = false\n"); len(cfg.HeartbeatFlows) != 0 {
		t.Errorf("heartbeat flows with heartbeats off: %v", cfg.HeartbeatFlows)
	}
}
