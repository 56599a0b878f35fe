package configs

import (
	"strings"
	"testing"
	"time"
)

// MM2 accepts aliases with dots; the longest alias that starts a key owns it.
func TestDottedAliases(t *testing.T) {
	props := `clusters = us, us.east, eu.west
us.bootstrap.servers = us:9092
us.east.bootstrap.servers = use:9092
eu.west.bootstrap.servers = euw:9092
us.east->eu.west.enabled = true
us.east->eu.west.topics = orders
eu.west.security.protocol = PLAINTEXT
`
	cfg, _, err := Parse([]byte(props), Properties, []string{"STRAIT_US_EAST_EU_WEST_TASKS_MAX=3"})
	if err != nil {
		t.Fatal(err)
	}
	for alias, want := range map[string]string{"us": "us:9092", "us.east": "use:9092", "eu.west": "euw:9092"} {
		c, ok := cfg.Cluster(alias)
		if !ok || len(c.BootstrapServers) != 1 || c.BootstrapServers[0] != want {
			t.Errorf("cluster %s: %+v", alias, c.BootstrapServers)
		}
	}
	f, ok := cfg.Flow("us.east", "eu.west")
	if !ok || len(cfg.Flows) != 1 {
		t.Fatalf("flows: %+v", cfg.Flows)
	}
	if !f.Topics.Filter.Match("orders") || f.Topics.Filter.Match("payments") || f.TasksMax != 3 {
		t.Errorf("flow settings: tasks.max %d", f.TasksMax)
	}
	if f.OffsetsTopic != "mm2-offsets.us.east.internal" || f.GroupID != "us.east-mm2" {
		t.Errorf("worker names: %s %s", f.OffsetsTopic, f.GroupID)
	}
}

// -1 asks for the broker's default for every replication factor and
// partition count, as Strimzi's examples write it.
func TestBrokerDefaultReplication(t *testing.T) {
	props := compatBase + `replication.factor = -1
checkpoints.topic.replication.factor = -1
heartbeats.topic.replication.factor = -1
offset-syncs.topic.replication.factor = -1
offset.storage.replication.factor = -1
offset.storage.partitions = -1
status.storage.replication.factor = -1
status.storage.partitions = -1
config.storage.replication.factor = -1
`
	cfg, _, err := Parse([]byte(props), Properties, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.Flows[0]
	for name, got := range map[string]int{
		"replication.factor": int(f.ReplicationFactor), "checkpoints": int(f.CheckpointsTopicRF), "heartbeats": int(f.HeartbeatsTopicRF),
		"offset-syncs": int(f.OffsetSyncsTopicRF), "offsets rf": int(f.OffsetsTopicRF), "offsets partitions": int(f.OffsetsTopicPartitions),
		"status rf": int(f.StatusTopicRF), "status partitions": int(f.StatusTopicPartitions), "configs rf": int(f.ConfigsTopicRF),
	} {
		if got != -1 {
			t.Errorf("%s = %d, want -1", name, got)
		}
	}
	for _, bad := range []string{"replication.factor = -2", "replication.factor = 0", "offset.storage.partitions = 0", "offset.storage.replication.factor = 32768"} {
		if _, _, err := Parse([]byte(compatBase+bad+"\n"), Properties, nil); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

const compatBase = `clusters = A, B
A.bootstrap.servers = a:9092
B.bootstrap.servers = b:9092
A->B.enabled = true
`

// A key naming Java code Strait cannot run is refused, never ignored.
func TestRefusedClasses(t *testing.T) {
	for _, tc := range []struct {
		line string
		ok   bool
	}{
		{"topic.filter.class = org.apache.kafka.connect.mirror.DefaultTopicFilter", true},
		{"A->B.topic.filter.class = DefaultTopicFilter", true},
		{"replication.policy.class = org.apache.kafka.connect.mirror.IdentityReplicationPolicy", true},
		{"key.converter = org.apache.kafka.connect.converters.ByteArrayConverter", true},
		{"A->B.topic.filter.class = com.example.MyTopicFilter", false},
		{"group.filter.class = com.example.MyGroupFilter", false},
		{"A.config.property.filter.class = com.example.Props", false},
		{"replication.policy.class = com.example.PrefixlessPolicy", false},
		{"forwarding.admin.class = com.example.Admin", false},
		{"value.converter = org.apache.kafka.connect.json.JsonConverter", false},
		{"A->B.transforms = dropHeaders", false},
		{"A.consumer.interceptor.classes = com.example.Audit", false},
		{"A->B.producer.override.interceptor.classes = com.example.Audit", false},
	} {
		_, _, err := Parse([]byte(compatBase+tc.line+"\n"), Properties, nil)
		if tc.ok && err != nil {
			t.Errorf("%s: %v", tc.line, err)
		}
		if !tc.ok {
			key, _, _ := strings.Cut(tc.line, " =")
			if err == nil || !strings.Contains(err.Error(), key+":") {
				t.Errorf("%s: want an error naming %s, got %v", tc.line, key, err)
			}
		}
	}
}

// Connect worker keys MM2 reads under the target alias.
func TestWorkerKeysUnderTargetAlias(t *testing.T) {
	cfg, warnings, err := Parse([]byte(compatBase+"B.group.id = strait-b\nB.offset.flush.interval.ms = 5000\n"), Properties, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.Flows[0]
	if f.GroupID != "strait-b" || f.OffsetFlushInterval != 5*time.Second {
		t.Errorf("group %q flush %s (warnings %v)", f.GroupID, f.OffsetFlushInterval, warnings)
	}
	// The flow's own setting (a REST PUT writes one) wins.
	cfg, _, err = Parse([]byte(compatBase+"B.group.id = strait-b\nA->B.group.id = mine\nB.offset.flush.interval.ms = x\n"), Properties, nil)
	if err == nil || !strings.Contains(err.Error(), "B.offset.flush.interval.ms:") {
		t.Errorf("a bad B.offset.flush.interval.ms: %v", err)
	}
	cfg, _, err = Parse([]byte(compatBase+"B.group.id = strait-b\nA->B.group.id = mine\n"), Properties, nil)
	if err != nil || cfg.Flows[0].GroupID != "mine" {
		t.Errorf("flow group.id: %v %+v", err, cfg)
	}
}

// Worker-wide keys can come from the environment too, not only those the
// file already has.
func TestEnvOverridesWorkerWideKeys(t *testing.T) {
	cfg, _, err := Parse([]byte(compatBase), Properties, []string{
		"STRAIT_LISTENERS=http://127.0.0.1:8083", "STRAIT_MEMORY_MAX_BYTES=67108864", "STRAIT_B_GROUP_ID=from-env",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Listeners) != 1 || cfg.Listeners[0].Addr != "127.0.0.1:8083" || cfg.MemoryMaxBytes != 64<<20 || cfg.Flows[0].GroupID != "from-env" {
		t.Errorf("listeners %+v, memory %d, group %q", cfg.Listeners, cfg.MemoryMaxBytes, cfg.Flows[0].GroupID)
	}
}

// Connect's offset.storage.<config> and the like are topic configs of the
// internal topics.
func TestStorageTopicConfigs(t *testing.T) {
	cfg, warnings, err := Parse([]byte(compatBase+"B.offset.storage.min.insync.replicas = 2\nstatus.storage.segment.bytes = 1048576\nB.config.storage.cleanup.policy = delete\n"), Properties, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.Flows[0]
	if f.OffsetsTopicConfigs["min.insync.replicas"] != "2" || f.StatusTopicConfigs["segment.bytes"] != "1048576" || len(f.ConfigsTopicConfigs) != 0 {
		t.Errorf("offsets %v status %v configs %v", f.OffsetsTopicConfigs, f.StatusTopicConfigs, f.ConfigsTopicConfigs)
	}
	if !strings.Contains(strings.Join(warnings, "\n"), "B.config.storage.cleanup.policy ignored") {
		t.Errorf("warnings: %v", warnings)
	}
}
