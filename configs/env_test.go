package configs

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// envCase is one set of STRAIT_ variables over a file; check reads what they
// must have changed.
type envCase struct {
	name   string
	file   string // defaultsMinimal when empty
	format Format
	env    []string
	check  func(t *testing.T, cfg *Config)
	errKey string // the key the error must name; check is then not run
}

func envFlow(t *testing.T, cfg *Config, s, d string) Flow {
	t.Helper()
	return defaultsFlow(t, cfg, s, d)
}

func envFlowNames(cfg *Config) []string {
	var out []string
	for _, f := range cfg.Flows {
		out = append(out, f.Name())
	}
	return out
}

func envWant[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// A STRAIT_ variable overrides the key it names at every scope (top level,
// "A.", "A->B."), for every kind of key (flow, worker, client, clusters,
// A->B.enabled), whether the file sets the key or not, and its value reaches
// the typed field.
func TestEnvOverrides(t *testing.T) {
	flowAB := func(check func(t *testing.T, f Flow)) func(t *testing.T, cfg *Config) {
		return func(t *testing.T, cfg *Config) { check(t, envFlow(t, cfg, "A", "B")) }
	}
	cases := []envCase{
		// Flow keys.
		{name: "top-level flow key absent from the file", env: []string{"STRAIT_TASKS_MAX=4"},
			check: flowAB(func(t *testing.T, f Flow) { envWant(t, "tasks.max", f.TasksMax, 4) })},
		{name: "top-level flow key in the file", file: defaultsMinimal + "tasks.max = 2\n", env: []string{"STRAIT_TASKS_MAX=5"},
			check: flowAB(func(t *testing.T, f Flow) { envWant(t, "tasks.max", f.TasksMax, 5) })},
		{name: "flow-scoped flow key absent from the file", file: defaultsMinimal + "tasks.max = 2\n", env: []string{"STRAIT_A_B_TASKS_MAX=6"},
			check: flowAB(func(t *testing.T, f Flow) { envWant(t, "tasks.max", f.TasksMax, 6) })},
		{name: "flow-scoped flow key in the file", file: defaultsMinimal + "A->B.tasks.max = 2\n", env: []string{"STRAIT_A_B_TASKS_MAX=7"},
			check: flowAB(func(t *testing.T, f Flow) { envWant(t, "tasks.max", f.TasksMax, 7) })},
		{name: "flow scope over top level, both from the environment", env: []string{"STRAIT_TASKS_MAX=3", "STRAIT_A_B_TASKS_MAX=8"},
			check: flowAB(func(t *testing.T, f Flow) { envWant(t, "tasks.max", f.TasksMax, 8) })},
		{name: "flow-scoped regex list", file: defaultsMinimal + "A->B.topics = .*\n", env: []string{"STRAIT_A_B_TOPICS=orders, pay.*"},
			check: flowAB(func(t *testing.T, f Flow) {
				envWant(t, "orders replicated", f.Topics.Replicate("orders"), true)
				envWant(t, "payments replicated", f.Topics.Replicate("payments"), true)
				envWant(t, "other replicated", f.Topics.Replicate("other"), false)
				envWant(t, "topics setting", f.Settings()["topics"], "orders, pay.*")
			})},
		{name: "replication factors", env: []string{"STRAIT_REPLICATION_FACTOR=1", "STRAIT_A_B_HEARTBEATS_TOPIC_REPLICATION_FACTOR=-1"},
			check: flowAB(func(t *testing.T, f Flow) {
				envWant(t, "replication.factor", f.ReplicationFactor, 1)
				envWant(t, "heartbeats RF", f.HeartbeatsTopicRF, -1)
			})},
		{name: "flow switches", env: []string{"STRAIT_SYNC_GROUP_OFFSETS_ENABLED=true", "STRAIT_A_B_SYNC_GROUP_OFFSETS_INTERVAL_SECONDS=5", "STRAIT_A_B_OFFSET_SYNCS_TOPIC_LOCATION=target"},
			check: flowAB(func(t *testing.T, f Flow) {
				envWant(t, "sync.group.offsets", f.SyncGroupOffsetsInterval, 5*time.Second)
				envWant(t, "offset syncs on target", f.OffsetSyncsOnTarget, true)
			})},

		// Worker keys.
		{name: "top-level worker key absent from the file", env: []string{"STRAIT_OFFSET_STORAGE_TOPIC=offsets", "STRAIT_SESSION_TIMEOUT_MS=45000"},
			check: flowAB(func(t *testing.T, f Flow) {
				envWant(t, "offset.storage.topic", f.OffsetsTopic, "offsets")
				envWant(t, "session.timeout.ms", f.SessionTimeout, 45*time.Second)
			})},
		{name: "top-level worker key in the file", file: defaultsMinimal + "offset.storage.topic = file\n", env: []string{"STRAIT_OFFSET_STORAGE_TOPIC=env"},
			check: flowAB(func(t *testing.T, f Flow) { envWant(t, "offset.storage.topic", f.OffsetsTopic, "env") })},
		{name: "cluster-scoped worker key absent from the file", env: []string{"STRAIT_B_OFFSET_STORAGE_PARTITIONS=50", "STRAIT_B_STATUS_STORAGE_REPLICATION_FACTOR=1", "STRAIT_B_EXACTLY_ONCE_SOURCE_SUPPORT=enabled"},
			check: flowAB(func(t *testing.T, f Flow) {
				envWant(t, "offset.storage.partitions", f.OffsetsTopicPartitions, 50)
				envWant(t, "status.storage.replication.factor", f.StatusTopicRF, 1)
				envWant(t, "exactly once", f.ExactlyOnce, true)
			})},
		{name: "cluster-scoped worker key in the file", file: defaultsMinimal + "B.offset.storage.partitions = 10\nB.heartbeat.interval.ms = 2000\n", env: []string{"STRAIT_B_OFFSET_STORAGE_PARTITIONS=50", "STRAIT_B_HEARTBEAT_INTERVAL_MS=1000"},
			check: flowAB(func(t *testing.T, f Flow) {
				envWant(t, "offset.storage.partitions", f.OffsetsTopicPartitions, 50)
				envWant(t, "heartbeat.interval.ms", f.HeartbeatInterval, time.Second)
			})},
		{name: "group.id at each scope", env: []string{"STRAIT_GROUP_ID=top", "STRAIT_B_GROUP_ID=cluster", "STRAIT_B_A_GROUP_ID=flow"},
			check: func(t *testing.T, cfg *Config) {
				envWant(t, "A->B group.id", envFlow(t, cfg, "A", "B").GroupID, "cluster")
				if len(cfg.HeartbeatFlows) != 1 {
					t.Fatalf("heartbeat flows %v", cfg.HeartbeatFlows)
				}
				envWant(t, "B->A group.id", cfg.HeartbeatFlows[0].GroupID, "flow")
			}},
		{name: "offset.flush.interval.ms under the target alias", env: []string{"STRAIT_B_OFFSET_FLUSH_INTERVAL_MS=5000"},
			check: flowAB(func(t *testing.T, f Flow) {
				envWant(t, "offset.flush.interval.ms", f.OffsetFlushInterval, 5*time.Second)
			})},

		// Client keys.
		{name: "cluster-scoped client key in the file", env: []string{"STRAIT_A_BOOTSTRAP_SERVERS=x:1, y:2"},
			check: func(t *testing.T, cfg *Config) {
				a, _ := cfg.Cluster("A")
				envWant(t, "A.bootstrap.servers", strings.Join(a.BootstrapServers, ","), "x:1,y:2")
			}},
		{name: "cluster-scoped client key absent from the file", env: []string{"STRAIT_A_CLIENT_ID=cid"},
			check: func(t *testing.T, cfg *Config) {
				a, _ := cfg.Cluster("A")
				b, _ := cfg.Cluster("B")
				envWant(t, "A.client.id", a.ClientID, "cid")
				envWant(t, "B.client.id", b.ClientID, "")
			}},
		{name: "top-level client key is every cluster's fallback", file: "clusters = A, B\nA->B.enabled = true\n", env: []string{"STRAIT_BOOTSTRAP_SERVERS=all:9092", "STRAIT_B_BOOTSTRAP_SERVERS=b:9092"},
			check: func(t *testing.T, cfg *Config) {
				a, _ := cfg.Cluster("A")
				b, _ := cfg.Cluster("B")
				envWant(t, "A servers", strings.Join(a.BootstrapServers, ","), "all:9092")
				envWant(t, "B servers", strings.Join(b.BootstrapServers, ","), "b:9092")
			}},
		{name: "security from the environment, a value holding '='", env: []string{
			"STRAIT_A_SECURITY_PROTOCOL=SASL_PLAINTEXT", "STRAIT_A_SASL_MECHANISM=PLAIN",
			`STRAIT_A_SASL_JAAS_CONFIG=org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p=q";`},
			check: func(t *testing.T, cfg *Config) {
				a, _ := cfg.Cluster("A")
				s := a.Security
				if !s.SASL() || s.SASLConfig.Mechanism != "PLAIN" || s.SASLConfig.Username != "u" || string(s.SASLConfig.Password) != "p=q" {
					t.Errorf("A security %s %s %q", s.Protocol, s.SASLConfig.Mechanism, s.SASLConfig.Username)
				}
			}},
		{name: "Java client key the file sets", file: defaultsMinimal + "A.consumer.max.poll.records = 100\n", env: []string{"STRAIT_A_CONSUMER_MAX_POLL_RECORDS=200"},
			check: flowAB(func(t *testing.T, f Flow) { envWant(t, "max.poll.records", f.SourceConsumer.MaxPollRecords, 200) })},

		// clusters and A->B.enabled.
		{name: "clusters absent from the file", file: "A.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\nA->B.enabled = true\n", env: []string{"STRAIT_CLUSTERS=A, B"},
			check: func(t *testing.T, cfg *Config) { envWant(t, "flows", strings.Join(envFlowNames(cfg), " "), "A->B") }},
		{name: "clusters in the file, a third cluster from the environment", env: []string{"STRAIT_CLUSTERS=A, B, C", "STRAIT_C_BOOTSTRAP_SERVERS=c:9092", "STRAIT_A_C_ENABLED=true", "STRAIT_A_C_TOPICS=orders"},
			check: func(t *testing.T, cfg *Config) {
				envWant(t, "flows", strings.Join(envFlowNames(cfg), " "), "A->B A->C")
				c, ok := cfg.Cluster("C")
				envWant(t, "cluster C", ok && slices.Equal(c.BootstrapServers, []string{"c:9092"}), true)
				ac := envFlow(t, cfg, "A", "C")
				envWant(t, "A->C payments", ac.Topics.Replicate("payments"), false)
				envWant(t, "A->C group", ac.GroupID, "A-mm2")
			}},
		{name: "clusters narrowed by the environment", file: defaultsMinimal + "C.bootstrap.servers = c:9092\nclusters = A, B, C\nA->C.enabled = true\n", env: []string{"STRAIT_CLUSTERS=A,B"},
			errKey: "A->C.enabled"}, // a cluster no longer listed
		{name: "A->B.enabled absent from the file", env: []string{"STRAIT_B_A_ENABLED=true"},
			check: func(t *testing.T, cfg *Config) {
				envWant(t, "flows", strings.Join(envFlowNames(cfg), " "), "A->B B->A")
				envWant(t, "heartbeat-only flows", len(cfg.HeartbeatFlows), 0)
			}},
		{name: "A->B.enabled = false in the file", file: defaultsMinimal + "B->A.enabled = false\n", env: []string{"STRAIT_B_A_ENABLED=TRUE"},
			check: func(t *testing.T, cfg *Config) {
				envWant(t, "flows", strings.Join(envFlowNames(cfg), " "), "A->B B->A")
			}},
		{name: "A->B.enabled = true in the file, false in the environment", file: defaultsMinimal + "B->A.enabled = true\n", env: []string{"STRAIT_A_B_ENABLED=false"},
			check: func(t *testing.T, cfg *Config) {
				envWant(t, "flows", strings.Join(envFlowNames(cfg), " "), "B->A")
			}},

		// Worker-wide keys.
		{name: "memory.max.bytes", env: []string{"STRAIT_MEMORY_MAX_BYTES=67108864"},
			check: func(t *testing.T, cfg *Config) { envWant(t, "memory.max.bytes", cfg.MemoryMaxBytes, 64<<20) }},

		// YAML takes the same variables.
		{name: "YAML, nested", format: YAML, file: "clusters: A, B\nA:\n  bootstrap.servers: a:9092\nB:\n  bootstrap.servers: b:9092\nA->B:\n  enabled: true\n  tasks.max: 2\n",
			env: []string{"STRAIT_A_B_TASKS_MAX=9", "STRAIT_B_BOOTSTRAP_SERVERS=b2:9092"},
			check: func(t *testing.T, cfg *Config) {
				envWant(t, "tasks.max", envFlow(t, cfg, "A", "B").TasksMax, 9)
				b, _ := cfg.Cluster("B")
				envWant(t, "B servers", strings.Join(b.BootstrapServers, ","), "b2:9092")
			}},

		// Dotted aliases.
		{name: "dotted alias", file: "clusters = us.east, eu\nus.east.bootstrap.servers = u:9092\neu.bootstrap.servers = e:9092\nus.east->eu.enabled = true\n",
			env: []string{"STRAIT_US_EAST_EU_TASKS_MAX=3", "STRAIT_EU_OFFSET_STORAGE_TOPIC=o", "STRAIT_US_EAST_CLIENT_ID=x"},
			check: func(t *testing.T, cfg *Config) {
				f := envFlow(t, cfg, "us.east", "eu")
				envWant(t, "tasks.max", f.TasksMax, 3)
				envWant(t, "offset.storage.topic", f.OffsetsTopic, "o")
				c, _ := cfg.Cluster("us.east")
				envWant(t, "us.east.client.id", c.ClientID, "x")
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := c.file
			if file == "" {
				file = defaultsMinimal
			}
			cfg, warnings, err := Parse([]byte(file), c.format, c.env)
			if c.errKey != "" {
				if got := defaultsErrKeys(err); !slices.Contains(got, c.errKey) {
					t.Errorf("error names %v, want %s: %v", got, c.errKey, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) != 0 {
				t.Errorf("warnings: %v", warnings)
			}
			c.check(t, cfg)
		})
	}
}

// A variable that names no key is ignored, as are variables without the
// prefix, in lower case, or without '='; a variable's value is checked as
// the key's and the error names the key, not the variable.
func TestEnvIgnoredAndChecked(t *testing.T) {
	base, baseWarnings, err := Parse([]byte(defaultsMinimal), Properties, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, warnings, err := Parse([]byte(defaultsMinimal), Properties, []string{
		"STRAIT_NOPE=1",
		"STRAIT_A_C_TASKS_MAX=9",         // C is not a cluster
		"STRAIT_C_BOOTSTRAP_SERVERS=c:1", // nor here
		"STRAIT_A_TASKS_MAX=9",           // tasks.max is no cluster key
		"STRAIT_B_A_B_TASKS_MAX=9",
		"TASKS_MAX=9",
		"strait_tasks_max=9",
		"Strait_Tasks_Max=9",
		"STRAIT_TASKS_MAX",
		"STRAIT_=x",
		"STRAIT_A_CONSUMER_MAX_POLL_RECORDS=5", // a client key the file does not set
		"XSTRAIT_TASKS_MAX=9",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(warnings, baseWarnings) {
		t.Errorf("warnings %v, want %v", warnings, baseWarnings)
	}
	f, bf := envFlow(t, cfg, "A", "B"), envFlow(t, base, "A", "B")
	if f.TasksMax != 1 || f.SourceConsumer != bf.SourceConsumer || !slices.Equal(envFlowNames(cfg), envFlowNames(base)) || len(cfg.Clusters) != 2 {
		t.Errorf("ignored variables changed the config: tasks %d, flows %v, clusters %d", f.TasksMax, envFlowNames(cfg), len(cfg.Clusters))
	}
	for k, v := range bf.Settings() {
		if f.Settings()[k] != v {
			t.Errorf("setting %s = %q, want %q", k, f.Settings()[k], v)
		}
	}

	for _, c := range []struct {
		env, key string
	}{
		{"STRAIT_A_B_TASKS_MAX=0", "A->B.tasks.max"},
		{"STRAIT_TASKS_MAX=x", "tasks.max"},
		{"STRAIT_REPLICATION_FACTOR=0", "replication.factor"},
		{"STRAIT_A_B_HEARTBEATS_TOPIC_REPLICATION_FACTOR=32768", "A->B.heartbeats.topic.replication.factor"},
		{"STRAIT_B_HEARTBEAT_INTERVAL_MS=10000", "B.heartbeat.interval.ms"},
		{"STRAIT_B_A_ENABLED=maybe", "B->A.enabled"},
		{"STRAIT_B_OFFSET_STORAGE_PARTITIONS=0", "B.offset.storage.partitions"},
		{"STRAIT_MEMORY_MAX_BYTES=1", "memory.max.bytes"},
	} {
		_, _, err := Parse([]byte(defaultsMinimal), Properties, []string{c.env})
		if got := defaultsErrKeys(err); !slices.Equal(got, []string{c.key}) {
			t.Errorf("%s: error names %v, want [%s]: %v", c.env, got, c.key, err)
		}
	}
}

// EnvName: STRAIT_, the key in upper case, every run of other characters
// as one '_'.
func TestEnvName(t *testing.T) {
	for key, want := range map[string]string{
		"clusters":                              "STRAIT_CLUSTERS",
		"A->B.enabled":                          "STRAIT_A_B_ENABLED",
		"A->B.topics":                           "STRAIT_A_B_TOPICS",
		"a->b.tasks.max":                        "STRAIT_A_B_TASKS_MAX",
		"B.bootstrap.servers":                   "STRAIT_B_BOOTSTRAP_SERVERS",
		"offset-syncs.topic.location":           "STRAIT_OFFSET_SYNCS_TOPIC_LOCATION",
		"us.east->eu.emit.offset-syncs.enabled": "STRAIT_US_EAST_EU_EMIT_OFFSET_SYNCS_ENABLED",
		"memory.max.bytes":                      "STRAIT_MEMORY_MAX_BYTES",
	} {
		if got := EnvName(key); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", key, got, want)
		}
	}
}
