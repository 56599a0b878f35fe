package configs

import (
	"strings"
	"testing"
	"time"
)

// MM2's scopes for client keys, from MirrorMakerConfig and
// MirrorConnectorConfig (later wins): each row sets one key at several
// scopes and names the value each client must end up with.
func TestClientScopes(t *testing.T) {
	ms := func(n int) *time.Duration { d := time.Duration(n) * time.Millisecond; return &d }
	for _, tc := range []struct {
		name  string
		props string
		check func(f Flow) bool
	}{
		{"A.consumer wins over A->B.consumer", "A->B.consumer.fetch.min.bytes = 1\nA.consumer.fetch.min.bytes = 2",
			func(f Flow) bool { return f.SourceConsumer.FetchMinBytes == 2 }},
		{"A->B.source.consumer wins over A.consumer", "A.consumer.fetch.min.bytes = 2\nA->B.source.consumer.fetch.min.bytes = 3",
			func(f Flow) bool { return f.SourceConsumer.FetchMinBytes == 3 }},
		{"A->B.consumer alone", "A->B.consumer.max.poll.records = 7",
			func(f Flow) bool { return f.SourceConsumer.MaxPollRecords == 7 && f.TargetConsumer.MaxPollRecords == 7 }},
		{"B.consumer reaches target readers only", "B.consumer.max.poll.records = 8",
			func(f Flow) bool { return f.TargetConsumer.MaxPollRecords == 8 && f.SourceConsumer.MaxPollRecords == 0 }},
		{"data producer: B.producer", "B.producer.linger.ms = 5",
			func(f Flow) bool {
				return *f.Producer.Linger == 5*time.Millisecond && f.OffsetSyncProducer.Linger == nil
			}},
		{"data producer: override wins", "B.producer.linger.ms = 5\nA->B.producer.override.linger.ms = 6",
			func(f Flow) bool { return *f.Producer.Linger == 6*time.Millisecond }},
		{"A->B.producer is the offset-syncs producer's", "A->B.producer.linger.ms = 9",
			func(f Flow) bool {
				return f.Producer.Linger == nil && *f.OffsetSyncProducer.Linger == 9*time.Millisecond
			}},
		{"A.producer reaches the offset-syncs producer", "A.producer.compression.type = zstd\nA.producer.compression.zstd.level = 3",
			func(f Flow) bool {
				return f.OffsetSyncProducer.Compression == "zstd" && *f.OffsetSyncProducer.CompressionLevel == 3 && f.Producer.Compression == ""
			}},
		{"offset syncs on the target take B.producer", "offset-syncs.topic.location = target\nB.producer.linger.ms = 4\nA.producer.linger.ms = 3",
			func(f Flow) bool { return *f.OffsetSyncProducer.Linger == 4*time.Millisecond }},
		{"admins per side", "A.admin.request.timeout.ms = 1000\nB.admin.request.timeout.ms = 2000\nA->B.target.admin.request.timeout.ms = 3000",
			func(f Flow) bool {
				return f.SourceAdmin.RequestTimeout == time.Second && f.TargetAdmin.RequestTimeout == 3*time.Second
			}},
		{"cluster-wide common keys reach every client of the cluster", "A.request.timeout.ms = 4000\nA.client.rack = use1-az1",
			func(f Flow) bool {
				return f.SourceConsumer.RequestTimeout == 4*time.Second && f.SourceConsumer.Rack == "use1-az1" &&
					f.SourceAdmin.RequestTimeout == 4*time.Second && f.Producer.RequestTimeout == 0
			}},
		{"role keys win over cluster-wide ones", "A.request.timeout.ms = 4000\nA.consumer.request.timeout.ms = 5000",
			func(f Flow) bool { return f.SourceConsumer.RequestTimeout == 5*time.Second }},
		{"top-level client keys reach no client, as in MM2", "consumer.fetch.min.bytes = 9\nproducer.linger.ms = 9\nrequest.timeout.ms = 9",
			func(f Flow) bool {
				return f.SourceConsumer.FetchMinBytes == 0 && f.Producer.Linger == nil && f.SourceConsumer.RequestTimeout == 0
			}},
		{"every consumer key", "A.consumer.fetch.max.bytes = 100\nA.consumer.max.partition.fetch.bytes = 50\nA.consumer.fetch.max.wait.ms = 0\nA.consumer.isolation.level = read_uncommitted\nA.consumer.auto.offset.reset = latest",
			func(f Flow) bool {
				c := f.SourceConsumer
				return c.FetchMaxBytes == 100 && c.MaxPartitionFetchBytes == 50 && *c.FetchMaxWait == 10*time.Millisecond && c.ReadUncommitted && c.StartAtEnd
			}},
		{"every producer key", "B.producer.batch.size = 1000\nB.producer.buffer.memory = 2000\nB.producer.max.in.flight.requests.per.connection = 5\nB.producer.transaction.timeout.ms = 30000\nB.producer.acks = all\nB.producer.enable.idempotence = true\nB.producer.linger.ms = 0",
			func(f Flow) bool {
				p := f.Producer
				return p.BatchMaxBytes == 1000 && p.MaxBufferedBytes == 2000 && p.TransactionTimeout == 30*time.Second && *p.Linger == 0
			}},
		{"max.request.size when batch.size is unset", "B.producer.max.request.size = 4000",
			func(f Flow) bool { return f.Producer.BatchMaxBytes == 4000 }},
		{"common keys", "A.metadata.max.age.ms = 60000\nA.connections.max.idle.ms = 120000\nA.socket.connection.setup.timeout.ms = 3\nA.retry.backoff.ms = 4\nA.retry.backoff.max.ms = 5\nA.default.api.timeout.ms = 6",
			func(f Flow) bool {
				c := f.SourceAdmin
				return c.MetadataMaxAge == *ms(60000) && c.ConnIdleTimeout == *ms(120000) && c.DialTimeout == *ms(3) &&
					c.RetryBackoff == *ms(4) && c.RetryBackoffMax == *ms(5) && c.APITimeout == *ms(6)
			}},
	} {
		cfg, warnings, err := Parse([]byte(compatBase+tc.props+"\n"), Properties, nil)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !tc.check(cfg.Flows[0]) {
			t.Errorf("%s: %+v (warnings %v)", tc.name, cfg.Flows[0], warnings)
		}
	}
}

func TestClientKeyErrors(t *testing.T) {
	for _, tc := range []struct{ line, key string }{
		{"B.producer.acks = 1", "B.producer.acks"},
		{"A->B.producer.override.enable.idempotence = false", "A->B.producer.override.enable.idempotence"},
		{"B.producer.max.in.flight.requests.per.connection = 6", "B.producer.max.in.flight.requests.per.connection"},
		{"A.consumer.auto.offset.reset = none", "A.consumer.auto.offset.reset"},
		{"A.consumer.isolation.level = snapshot", "A.consumer.isolation.level"},
		{"A->B.source.consumer.fetch.max.bytes = 0", "A->B.source.consumer.fetch.max.bytes"},
		{"A.request.timeout.ms = soon", "A.request.timeout.ms"},
		{"B.producer.compression.type = brotli", "B.producer.compression.type"},
		// One set of connection settings per cluster.
		{"A.security.protocol = SSL\nA.consumer.security.protocol = PLAINTEXT", "A.consumer.security.protocol"},
		{"A.consumer.bootstrap.servers = elsewhere:9092", "A.consumer.bootstrap.servers"},
	} {
		_, _, err := Parse([]byte(compatBase+tc.line+"\n"), Properties, nil)
		if err == nil || !strings.Contains(err.Error(), tc.key+":") {
			t.Errorf("%s: want an error naming %s, got %v", tc.line, tc.key, err)
		}
	}
	// The same connection key repeated for a client is fine.
	if _, _, err := Parse([]byte(compatBase+"A.consumer.bootstrap.servers = a:9092\n"), Properties, nil); err != nil {
		t.Errorf("a repeated bootstrap.servers: %v", err)
	}
}

func TestClientKeyWarnings(t *testing.T) {
	_, warnings, err := Parse([]byte(compatBase+"A.consumer.linger.ms = 5\nB.producer.frobnicate = 1\nproducer.linger.ms = 3\nA.consumer.enable.auto.commit = false\nA->B.consumer.override.fetch.min.bytes = 5\n"), Properties, nil, AllowUnknownKeys())
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(warnings, "\n")
	for _, want := range []string{`"A.consumer.linger.ms" ignored: it is not a consumer setting`, `unknown client key "B.producer.frobnicate"`, `key "producer.linger.ms" ignored: at the top level`, `key "A->B.consumer.override.fetch.min.bytes" ignored`} {
		if !strings.Contains(all, want) {
			t.Errorf("no warning %q in:\n%s", want, all)
		}
	}
	if strings.Contains(all, "enable.auto.commit") {
		t.Errorf("a key without effect is warned about:\n%s", all)
	}
}

// Values Java takes but franz-go refuses are brought into its range, with a
// warning naming the key.
func TestClientKeysClamped(t *testing.T) {
	cfg, warnings, err := Parse([]byte(compatBase+"A.consumer.fetch.max.wait.ms = 0\nB.producer.linger.ms = 120000\nA.connections.max.idle.ms = 3600000\nB.producer.batch.size = 100\n"), Properties, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.Flows[0]
	if *f.SourceConsumer.FetchMaxWait != 10*time.Millisecond || *f.Producer.Linger != time.Minute ||
		f.SourceAdmin.ConnIdleTimeout != 15*time.Minute || f.Producer.BatchMaxBytes != 512 {
		t.Errorf("not clamped: %+v %+v", f.SourceConsumer, f.Producer)
	}
	a, _ := cfg.Cluster("A")
	if a.Client.ConnIdleTimeout != 15*time.Minute {
		t.Errorf("cluster client not clamped: %+v", a.Client)
	}
	all := strings.Join(warnings, "\n")
	for _, k := range []string{"A.consumer.fetch.max.wait.ms = 0", "B.producer.linger.ms = 120000", "A.connections.max.idle.ms = 3600000", "B.producer.batch.size = 100"} {
		if !strings.Contains(all, k) {
			t.Errorf("no warning for %s in:\n%s", k, all)
		}
	}
}
