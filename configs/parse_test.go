package configs

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/strait-replicator/strait/policy"
)

const shipped = `
# MM2's shipped config/connect-mirror-maker.properties
clusters = A, B
A.bootstrap.servers = A_host1:9092, A_host2:9092
B.bootstrap.servers = B_host1:9092
A->B.enabled = true
A->B.topics = .*
B->A.enabled = true
B->A.topics = .*
replication.factor=1
checkpoints.topic.replication.factor=1
heartbeats.topic.replication.factor=1
offset-syncs.topic.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
config.storage.replication.factor=1
key.converter = org.apache.kafka.connect.converters.ByteArrayConverter
`

func TestParseShippedFile(t *testing.T) {
	cfg, warnings, err := Parse([]byte(shipped), Properties, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %v", warnings)
	}
	if len(cfg.Flows) != 2 || cfg.Flows[0].Name() != "A->B" || cfg.Flows[1].Name() != "B->A" {
		t.Fatalf("flows: %+v", cfg.Flows)
	}
	a, _ := cfg.Cluster("A")
	if strings.Join(a.BootstrapServers, ",") != "A_host1:9092,A_host2:9092" {
		t.Errorf("A servers: %v", a.BootstrapServers)
	}
	f := cfg.Flows[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"replication.factor", f.ReplicationFactor, int16(1)},
		{"offset.storage.replication.factor", f.OffsetsTopicRF, int16(1)},
		{"offsets topic", f.OffsetsTopic, "mm2-offsets.A.internal"},
		{"configs topic", f.ConfigsTopic, "mm2-configs.A.internal"},
		{"status topic", f.StatusTopic, "mm2-status.A.internal"},
		{"offsets partitions", f.OffsetsTopicPartitions, int32(25)},
		{"status partitions", f.StatusTopicPartitions, int32(5)},
		{"group.id", f.GroupID, "A-mm2"},
		{"tasks.max", f.TasksMax, 1},
		{"refresh", f.RefreshTopicsInterval, 600 * time.Second},
		{"config sync", f.SyncTopicConfigsInterval, 600 * time.Second},
		{"offset.lag.max", f.OffsetLagMax, int64(100)},
		{"flush", f.OffsetFlushInterval, time.Minute},
		{"use.defaults.from", f.UseDefaultsFrom, "target"},
		{"emit offset syncs", f.EmitOffsetSyncs, true},
		{"offset syncs location", f.OffsetSyncsOnTarget, false},
		{"policy", f.Policy, policy.Policy(policy.Default{Separator: "."})},
		{"data loss", f.SkipDataLoss, false},
		{"checkpoints", f.EmitCheckpointsInterval, time.Minute},
		{"group sync off", f.SyncGroupOffsetsInterval, time.Duration(0)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	topic, onTarget := f.OffsetSyncsTopic()
	if topic != "mm2-offset-syncs.B.internal" || onTarget {
		t.Errorf("offset syncs topic %q on target %v", topic, onTarget)
	}
	// Default exclusions apply.
	if f.Topics.Replicate("x.internal") || !f.Topics.Replicate("orders") || f.Topics.Replicate("B.orders") {
		t.Error("topic filter defaults wrong")
	}
	if !f.ConfigExclude.Excluded("min.insync.replicas") || f.ConfigExclude.Excluded("retention.ms") {
		t.Error("config exclude defaults wrong")
	}
	if f.Groups.Match("console-consumer-1") || !f.Groups.Match("app") {
		t.Error("group filter defaults wrong")
	}
}

func TestParseScopes(t *testing.T) {
	props := `
clusters = A, B
A.bootstrap.servers = a:9092
B.bootstrap.servers = b:9092
A->B.enabled = true
topics = orders, payments
A->B.topics = orders
topics.exclude = nothing
tasks.max = 4
A->B.tasks.max = 2
consumer.fetch.max.bytes = 1
A->B.consumer.fetch.max.bytes = 2
A.consumer.fetch.max.bytes = 3
A->B.consumer.max.poll.records = 10
producer.linger.ms = 1
B.producer.linger.ms = 2
B.producer.batch.size = 1000
A->B.producer.linger.ms = 3
A->B.producer.override.batch.size = 2000
B.offset.storage.topic = my-offsets
replication.policy.class = org.apache.kafka.connect.mirror.IdentityReplicationPolicy
replication.policy.separator = _
A->B.group.id = grp
data.loss.policy = skip
`
	cfg, _, err := Parse([]byte(props), Properties, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.Flows[0]
	if f.TasksMax != 2 || f.GroupID != "grp" || f.OffsetsTopic != "my-offsets" || !f.SkipDataLoss {
		t.Errorf("flow: %+v", f)
	}
	if !f.Topics.Replicate("orders") || f.Topics.Replicate("payments") || !f.Topics.Replicate("x.internal") == false {
		t.Error("flow topics should win over top-level topics")
	}
	// As MM2: A.consumer.* wins over A->B.consumer.*; the data producer is
	// Connect's task producer (B.producer.*, A->B.producer.override.*);
	// A->B.producer.* is the offset-syncs producer's; top-level client
	// keys reach no client.
	if c := f.SourceConsumer; c.FetchMaxBytes != 3 || c.MaxPollRecords != 10 {
		t.Errorf("source consumer: %+v", c)
	}
	if p := f.Producer; p.Linger == nil || *p.Linger != 2*time.Millisecond || p.BatchMaxBytes != 2000 {
		t.Errorf("data producer: %+v", p)
	}
	if p := f.OffsetSyncProducer; p.Linger == nil || *p.Linger != 3*time.Millisecond || p.BatchMaxBytes != 0 {
		t.Errorf("offset-syncs producer: %+v", p)
	}
	if got := f.Policy.FormatRemoteTopic("A", "orders"); got != "orders" {
		t.Errorf("identity policy: %q", got)
	}
	if topic, _ := f.OffsetSyncsTopic(); topic != "mm2-offset-syncs_B_internal" {
		t.Errorf("offset syncs topic %q", topic)
	}
}

func TestParseYAMLAndEnv(t *testing.T) {
	y := `
clusters: [A, B]
A:
  bootstrap.servers: a:9092
B.bootstrap.servers: b:9092
A->B:
  enabled: true
  topics: [orders, payments]
tasks.max: 3
`
	env := []string{"STRAIT_B_BOOTSTRAP_SERVERS=b2:9092", "STRAIT_A_B_TASKS_MAX=5", "OTHER=1"}
	cfg, warnings, err := Parse([]byte(y), YAML, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}
	b, _ := cfg.Cluster("B")
	if b.BootstrapServers[0] != "b2:9092" {
		t.Errorf("env override of B.bootstrap.servers: %v", b.BootstrapServers)
	}
	f := cfg.Flows[0]
	if f.TasksMax != 5 {
		t.Errorf("tasks.max = %d, want 5 from env", f.TasksMax)
	}
	if !f.Topics.Replicate("payments") || f.Topics.Replicate("other") {
		t.Error("yaml topic list")
	}
}

func TestParseErrors(t *testing.T) {
	base := "clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\n"
	tests := []struct {
		name  string
		extra string
		keys  []string // each must be named by one error
	}{
		{"bad int", "tasks.max = many", []string{"tasks.max"}},
		{"zero tasks", "A->B.tasks.max = 0", []string{"A->B.tasks.max"}},
		{"bad bool", "A->B.sync.topic.configs.enabled = yes", []string{"A->B.sync.topic.configs.enabled"}},
		{"unknown alias", "A->C.enabled = true", []string{"A->C.enabled"}},
		{"self flow", "A->A.enabled = true", []string{"A->A.enabled"}},
		{"bad regex", "A->B.topics = (orders", []string{"A->B.topics"}},
		{"bad exclude regex", "topics.exclude = [z-a]", []string{"topics.exclude"}},
		{"bad policy", "replication.policy.class = com.example.Mine", []string{"replication.policy.class"}},
		{"bad location", "offset-syncs.topic.location = middle", []string{"offset-syncs.topic.location"}},
		{"several at once", "tasks.max = x\nA->B.topics = (\nA->A.enabled = true", []string{"tasks.max", "A->B.topics", "A->A.enabled"}},
		{"sasl without jaas", "A.security.protocol = SASL_PLAINTEXT\nA.sasl.mechanism = PLAIN", []string{"A.sasl.jaas.config"}},
		{"gssapi", "A.security.protocol = SASL_SSL\nA.sasl.jaas.config = x required username=\"u\" password=\"p\";", []string{"A.sasl.mechanism"}},
		{"missing jks truststore", "B.security.protocol = SSL\nB.ssl.truststore.location = /x.jks", []string{"B.ssl.truststore.location"}},
		{"bad rf", "B.offset.storage.replication.factor = 0", []string{"B.offset.storage.replication.factor"}},
		{"bad listener", "listeners = https://0.0.0.0:8443", []string{"listeners"}},
		{"tiny memory", "memory.max.bytes = 1000", []string{"memory.max.bytes"}},
		{"partition series not a boolean", "metrics.partition.series = yes", []string{"metrics.partition.series"}},
	}
	for _, tt := range tests {
		_, _, err := Parse([]byte(base+tt.extra), Properties, nil)
		merr, ok := err.(*multierror.Error)
		if !ok {
			t.Errorf("%s: err = %v, want a multierror", tt.name, err)
			continue
		}
		if len(merr.Errors) != len(tt.keys) {
			t.Errorf("%s: %d errors, want %d: %v", tt.name, len(merr.Errors), len(tt.keys), err)
		}
		for _, k := range tt.keys {
			found := false
			for _, e := range merr.Errors {
				if ke, ok := e.(*KeyError); ok && ke.Key == k {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no error names %q: %v", tt.name, k, err)
			}
		}
	}
	if _, _, err := Parse([]byte("clusters = A, B\nA.bootstrap.servers=a:1\n"), Properties, nil); err == nil || !strings.Contains(err.Error(), "no source->target replication flows") {
		t.Errorf("no flows: %v", err)
	}
	if _, _, err := Parse([]byte("clusters = A, B\nA->B.enabled = true\n"), Properties, nil); err == nil || !strings.Contains(err.Error(), "A.bootstrap.servers") {
		t.Errorf("missing bootstrap: %v", err)
	}
}

func TestUnknownKeysWarn(t *testing.T) {
	props := "clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\nfoo.bar = 1\nA->B.whatever = 2\nlisteners = http://127.0.0.1:8083\n"
	// Without AllowUnknownKeys they fail: configs/unknown_test.go.
	_, warnings, err := Parse([]byte(props), Properties, nil, AllowUnknownKeys())
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 2 || !strings.Contains(warnings[0], "A->B.whatever") || !strings.Contains(warnings[1], "foo.bar") {
		t.Errorf("warnings: %v", warnings)
	}
}

func TestSASL(t *testing.T) {
	props := `clusters = A, B
A.bootstrap.servers = a:1
B.bootstrap.servers = b:1
A->B.enabled = true
A.security.protocol = SASL_SSL
A.sasl.mechanism = SCRAM-SHA-512
A.sasl.jaas.config = org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="pa;ss w";
`
	cfg, _, err := Parse([]byte(props), Properties, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := cfg.Cluster("A")
	s := a.Security
	if !s.SASL() || !s.TLS() || s.SASLConfig.Mechanism != "SCRAM-SHA-512" || s.SASLConfig.Username != "alice" || string(s.SASLConfig.Password) != "pa;ss w" || s.TLSConfig == nil {
		t.Errorf("security: %#v", s)
	}
	if strings.Contains(fmtAll(s), "pa;ss") {
		t.Error("password printed")
	}
}

func TestProperties(t *testing.T) {
	in := "# comment\n! also\n  key1 = v1  \nkey2:v2\nkey3 v3\nlong = a, \\\n   b\nesc\\ key = tab\\there\\u0041\nempty=\n"
	m, err := ParseProperties([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"key1": "v1", "key2": "v2", "key3": "v3", "long": "a, b", "esc key": "tab\thereA", "empty": ""}
	if len(m) != len(want) {
		t.Errorf("got %v", m)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%q = %q, want %q", k, m[k], v)
		}
	}
	if _, err := ParseProperties([]byte("k = \\u12")); err == nil {
		t.Error("truncated \\u escape accepted")
	}
}

func FuzzParseProperties(f *testing.F) {
	f.Add([]byte(shipped))
	f.Add([]byte("a=\\u00e9\\\n b"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseProperties(data)
		if err != nil {
			return
		}
		// Keys never carry surrounding white space.
		for k := range m {
			if k != strings.TrimSpace(k) {
				t.Fatalf("untrimmed key %q", k)
			}
		}
		// Parse never panics on whatever the properties say.
		Parse(data, Properties, nil)
	})
}

func TestHeartbeatFlows(t *testing.T) {
	base := "clusters = A, B, C\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nC.bootstrap.servers = c:1\nA->B.enabled = true\n"
	tests := []struct {
		extra string
		want  string
	}{
		{"", "A->C B->A B->C C->A C->B"},
		{"emit.heartbeats.enabled = false", ""},
		{"emit.heartbeats.enabled = false\nC->A.emit.heartbeats.enabled = true", "C->A"},
		{"B->A.emit.heartbeats.enabled = false", "A->C B->C C->A C->B"},
	}
	for _, tt := range tests {
		cfg, _, err := Parse([]byte(base+tt.extra), Properties, nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range cfg.HeartbeatFlows {
			names = append(names, f.Name())
			if f.EmitHeartbeatsInterval != time.Second {
				t.Errorf("%s: interval %s", f.Name(), f.EmitHeartbeatsInterval)
			}
		}
		if got := strings.Join(names, " "); got != tt.want {
			t.Errorf("%q: heartbeat flows %q, want %q", tt.extra, got, tt.want)
		}
		if cfg.Flows[0].EmitHeartbeatsInterval != time.Second && tt.extra == "" {
			t.Errorf("A->B heartbeats: %s", cfg.Flows[0].EmitHeartbeatsInterval)
		}
	}
}

func TestWithFlowSettings(t *testing.T) {
	cfg, _, err := Parse([]byte(shipped), Properties, nil)
	if err != nil {
		t.Fatal(err)
	}
	next, err := cfg.WithFlowSettings("A", "B", map[string]string{"tasks.max": "4", "topics": "orders", "name": "ignored", "connector.class": "x"})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := next.Flow("A", "B")
	if f.TasksMax != 4 || !f.Topics.Replicate("orders") || f.Topics.Replicate("payments") {
		t.Errorf("A->B after settings: %+v", f)
	}
	if g, _ := next.Flow("B", "A"); g.TasksMax != 1 {
		t.Errorf("B->A changed: %d", g.TasksMax)
	}
	if f0, _ := cfg.Flow("A", "B"); f0.TasksMax != 1 {
		t.Error("the original config changed")
	}
	_, err = cfg.WithFlowSettings("A", "B", map[string]string{"tasks.max": "zero", "topics": "("})
	merr, ok := err.(*multierror.Error)
	if !ok || len(merr.Errors) != 2 {
		t.Fatalf("invalid settings: %v", err)
	}
}

func TestExactlyOnce(t *testing.T) {
	base := "clusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\nA->B.enabled = true\noffset.flush.interval.ms = 7000\n"
	tests := []struct {
		name     string
		extra    string
		eos      bool
		interval time.Duration
		wantErr  bool
	}{
		{"off by default", "", false, 0, false},
		{"per target cluster, as MM2", "B.exactly.once.source.support = enabled\n", true, 0, false},
		{"worker key at the top level", "exactly.once.source.support = enabled\n", true, 0, false},
		{"preparing is not enabled", "B.exactly.once.source.support = preparing\n", false, 0, false},
		{"other target's key", "A.exactly.once.source.support = enabled\n", false, 0, false},
		{"interval boundary defaults to the flush interval", "exactly.once.source.support = enabled\ntransaction.boundary = interval\n", true, 7 * time.Second, false},
		{"interval boundary", "exactly.once.source.support = enabled\nA->B.transaction.boundary = interval\ntransaction.boundary.interval.ms = 250\n", true, 250 * time.Millisecond, false},
		{"bad boundary", "transaction.boundary = connector\n", false, 0, true},
		{"bad value", "exactly.once.source.support = yes\n", false, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := Parse([]byte(base+tt.extra), Properties, nil)
			if tt.wantErr {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			f := cfg.Flows[0]
			if f.ExactlyOnce != tt.eos || f.TransactionInterval != tt.interval {
				t.Errorf("ExactlyOnce %v, TransactionInterval %v; want %v, %v", f.ExactlyOnce, f.TransactionInterval, tt.eos, tt.interval)
			}
		})
	}
}
