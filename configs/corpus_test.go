package configs

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-multierror"
	"software.sslmate.com/src/go-pkcs12"
)

// The corpus in testdata/corpus is real, published MM2 (and Kafka client)
// configuration, each file naming its source in its first comment. These
// tests parse every file as Strait would and check the settings that matter,
// credentials byte for byte. Where the published text names files that do
// not exist here (stores, keytabs, provider files), the test rewrites those
// values only, to the TLS fixtures in testdata/tls (whose passwords replace
// the published ones) or to files written into t.TempDir(); each rewrite is
// listed where it is made. Files Strait must refuse are checked for the keys
// their errors name.

// Fixture passwords, from testdata/tls/make.sh.
const (
	corpusTrustPass  = "trust-pass-1"  // truststore.jks, truststore.p12
	corpusClientPass = "client-pass-2" // client.p12 (store and key), client.jks (store)
	corpusKeyPass    = "key-pass-3"    // client.jks (its key)
)

// corpusTLSFixture is the absolute path of a file in testdata/tls.
func corpusTLSFixture(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "tls", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("TLS fixture missing: %v", err)
	}
	return p
}

// corpusEdit replaces Old, which must occur in the published text, with New.
type corpusEdit struct{ Old, New string }

// corpusParse parses testdata/corpus/name after the edits, with environ.
func corpusParse(t *testing.T, name string, environ []string, edits ...corpusEdit) (*Config, []string, error) {
	t.Helper()
	return corpusParseWith(t, name, environ, nil, edits...)
}

// corpusParseWith is corpusParse with options: AllowUnknownKeys for a
// published file that holds keys no Kafka component reads.
func corpusParseWith(t *testing.T, name string, environ []string, opts []Option, edits ...corpusEdit) (*Config, []string, error) {
	t.Helper()
	path := filepath.Join("testdata", "corpus", name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, e := range edits {
		if !strings.Contains(text, e.Old) {
			t.Fatalf("%s: the published text has no %q to rewrite", name, e.Old)
		}
		text = strings.ReplaceAll(text, e.Old, e.New)
	}
	return Parse([]byte(text), FormatOf(path), environ, opts...)
}

// corpusMustParse parses a corpus file that Strait must accept.
func corpusMustParse(t *testing.T, name string, environ []string, edits ...corpusEdit) (*Config, []string) {
	t.Helper()
	cfg, warnings, err := corpusParse(t, name, environ, edits...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return cfg, warnings
}

// corpusErrKeys lists the keys an error from Parse names.
func corpusErrKeys(err error) []string {
	var keys []string
	var me *multierror.Error
	if !errors.As(err, &me) {
		return nil
	}
	for _, e := range me.Errors {
		var ke *KeyError
		if errors.As(e, &ke) {
			keys = append(keys, ke.Key)
		}
	}
	return keys
}

// corpusMustRefuse parses a corpus file that Strait must refuse and checks that
// the error names every key in want.
func corpusMustRefuse(t *testing.T, name string, want ...string) error {
	t.Helper()
	_, _, err := corpusParse(t, name, nil)
	if err == nil {
		t.Fatalf("%s: accepted, want an error naming %v", name, want)
	}
	got := corpusErrKeys(err)
	for _, k := range want {
		if !slices.Contains(got, k) {
			t.Errorf("%s: error names %v, want %q among them:\n%v", name, got, k, err)
		}
	}
	return err
}

func corpusCluster(t *testing.T, cfg *Config, alias string) Cluster {
	t.Helper()
	c, ok := cfg.Cluster(alias)
	if !ok {
		t.Fatalf("no cluster %q", alias)
	}
	return c
}

func corpusFlow(t *testing.T, cfg *Config, source, target string) Flow {
	t.Helper()
	f, ok := cfg.Flow(source, target)
	if !ok {
		t.Fatalf("no flow %s->%s; flows: %v", source, target, corpusFlowNames(cfg.Flows))
	}
	return f
}

func corpusFlowNames(flows []Flow) []string {
	out := make([]string, len(flows))
	for i, f := range flows {
		out[i] = f.Name()
	}
	return out
}

func corpusAliases(cfg *Config) []string {
	out := make([]string, len(cfg.Clusters))
	for i, c := range cfg.Clusters {
		out[i] = c.Alias
	}
	return out
}

// corpusEq reports a mismatch of one setting.
func corpusEq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func corpusEqList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

// corpusReplicates checks the flow's topic filter on names: true to replicate.
func corpusReplicates(t *testing.T, f Flow, topics map[string]bool) {
	t.Helper()
	for topic, want := range topics {
		if got := f.Topics.Replicate(topic); got != want {
			t.Errorf("%s: replicate topic %q = %v, want %v", f.Name(), topic, got, want)
		}
	}
}

// corpusGroups checks the flow's group filter on names.
func corpusGroups(t *testing.T, f Flow, groups map[string]bool) {
	t.Helper()
	for g, want := range groups {
		if got := f.Groups.Match(g); got != want {
			t.Errorf("%s: group %q matches = %v, want %v", f.Name(), g, got, want)
		}
	}
}

// corpusLogin checks a PLAIN or SCRAM login byte for byte.
func corpusLogin(t *testing.T, c Cluster, protocol, mechanism, user, pass string) {
	t.Helper()
	corpusEq(t, c.Alias+" security.protocol", c.Security.Protocol, protocol)
	corpusEq(t, c.Alias+" sasl.mechanism", c.Security.SASLConfig.Mechanism, mechanism)
	corpusEq(t, c.Alias+" username", c.Security.SASLConfig.Username, user)
	corpusEq(t, c.Alias+" password", string(c.Security.SASLConfig.Password), pass)
}

func corpusWarns(t *testing.T, warnings []string, substr string) {
	t.Helper()
	for _, w := range warnings {
		if strings.Contains(w, substr) {
			return
		}
	}
	t.Errorf("no warning mentions %q; warnings: %q", substr, warnings)
}

func TestCorpusEveryFileNamesItsSource(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 15 {
		t.Fatalf("corpus has %d files, want at least 15", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), "# Source: ") {
			t.Errorf("%s does not start with a \"# Source: \" comment", f)
		}
	}
}

// corpusCase runs the checks of one corpus file and records that it has
// some, for TestCorpus's last check.
func corpusCase(t *testing.T, tested map[string]bool, name string, check func(t *testing.T)) {
	tested[name] = true
	t.Run(strings.TrimSuffix(name, filepath.Ext(name)), check)
}

func TestCorpus(t *testing.T) {
	tested := map[string]bool{}
	defer func() {
		files, _ := filepath.Glob(filepath.Join("testdata", "corpus", "*"))
		for _, f := range files {
			if !tested[filepath.Base(f)] {
				t.Errorf("%s has no checks in TestCorpus", f)
			}
		}
	}()

	// --- Apache Kafka documentation (operations guide, security guide, README) ---

	corpusCase(t, tested, "kafka-docs-first-example.properties", func(t *testing.T) {
		cfg, warnings := corpusMustParse(t, "kafka-docs-first-example.properties", nil)
		corpusEqList(t, "warnings", warnings, nil)
		corpusEqList(t, "clusters", corpusAliases(cfg), []string{"primary", "secondary"})
		corpusEqList(t, "primary servers", corpusCluster(t, cfg, "primary").BootstrapServers, []string{"broker3-primary:9092"})
		corpusEqList(t, "secondary servers", corpusCluster(t, cfg, "secondary").BootstrapServers, []string{"broker5-secondary:9092"})
		corpusEqList(t, "flows", corpusFlowNames(cfg.Flows), []string{"primary->secondary"})
		// MM2 runs a heartbeat connector for every other pair too.
		corpusEqList(t, "heartbeat flows", corpusFlowNames(cfg.HeartbeatFlows), []string{"secondary->primary"})
		f := corpusFlow(t, cfg, "primary", "secondary")
		corpusReplicates(t, f, map[string]bool{"foobar-topic": true, "quux-1": true, "quux-": true, "foobar-topic2": false, "xquux-1": false})
		corpusGroups(t, f, map[string]bool{"orders-app": true, "console-consumer-42": false, "connect-sink": false})
		corpusEq(t, "security.protocol", corpusCluster(t, cfg, "primary").Security.Protocol, "PLAINTEXT")
		corpusEq(t, "TLS", corpusCluster(t, cfg, "primary").Security.TLSConfig == nil, true)
		corpusEq(t, "replication.factor", f.ReplicationFactor, int16(2))
		corpusEq(t, "offsets topic", f.OffsetsTopic, "mm2-offsets.primary.internal")
		corpusEq(t, "exactly once", f.ExactlyOnce, false)
	})

	corpusCase(t, tested, "kafka-docs-config-syntax.properties", func(t *testing.T) {
		// "clusters = us-west, us-east   # defines cluster aliases": the
		// comment is part of the value, the second alias holds blanks.
		corpusMustRefuse(t, "kafka-docs-config-syntax.properties", KeyClusters)
	})

	corpusCase(t, tested, "kafka-docs-client-overrides.properties", func(t *testing.T) {
		// As published: Strait connects to a cluster with one set of
		// connection settings and refuses an admin bootstrap.servers that
		// differs (MM2 would give the admin clients the other servers).
		corpusMustRefuse(t, "kafka-docs-client-overrides.properties",
			"us-west.admin.bootstrap.servers", "us-east.admin.bootstrap.servers")

		// The rest of the page's client settings, without those two lines.
		cfg, warnings := corpusMustParse(t, "kafka-docs-client-overrides.properties", nil,
			corpusEdit{"us-west.admin.bootstrap.servers = broker57-primary:9092\n", ""},
			corpusEdit{"us-east.admin.bootstrap.servers = broker8-secondary:9092\n", ""})
		corpusEqList(t, "warnings", warnings, nil)
		f := corpusFlow(t, cfg, "us-west", "us-east")
		corpusEq(t, "tasks.max", f.TasksMax, 5)
		// us-west.consumer.* reaches the clients reading us-west (Strait
		// reads read_committed by default anyway, unlike MM2).
		corpusEq(t, "source consumer read_uncommitted", f.SourceConsumer.ReadUncommitted, false)
		// us-east.producer.* reaches the task producer writing to us-east...
		corpusEq(t, "producer compression", f.Producer.Compression, "gzip")
		corpusEq(t, "producer buffer.memory", f.Producer.MaxBufferedBytes, int64(32768))
		// ...but not the offset-syncs producer, which writes to us-west.
		corpusEq(t, "offset-syncs producer compression", f.OffsetSyncProducer.Compression, "")
		// us-west.offset.storage.topic is a worker key of the flows into
		// us-west; this flow's worker reads us-east's.
		corpusEq(t, "offsets topic", f.OffsetsTopic, "mm2-offsets.us-west.internal")
	})

	corpusCase(t, tested, "kafka-docs-flow-filters.properties", func(t *testing.T) {
		// The docs' example has a typo: emit.heartbeats for
		// emit.heartbeats.enabled, which MM2 logs as unused. Strait refuses
		// it unless unknown keys are allowed...
		_, _, err := corpusParse(t, "kafka-docs-flow-filters.properties", nil)
		if err == nil || !strings.Contains(err.Error(), "us-west->us-east.emit.heartbeats (line 23): unknown key") {
			t.Errorf("the typo emit.heartbeats: %v, want an unknown key on line 23", err)
		}
		// ...and then reads the rest as MM2 does.
		cfg, warnings, err := corpusParseWith(t, "kafka-docs-flow-filters.properties", nil, []Option{AllowUnknownKeys()})
		if err != nil {
			t.Fatal(err)
		}
		corpusWarns(t, warnings, "us-west->us-east.emit.heartbeats")
		corpusEqList(t, "flows", corpusFlowNames(cfg.Flows), []string{"us-west->us-east"})
		f := corpusFlow(t, cfg, "us-west", "us-east")
		// The flow's topics and groups replace the top-level ones.
		corpusReplicates(t, f, map[string]bool{"foo": true, "foo.bar": true, "football": true, "bar": false, "xfoo": false})
		corpusGroups(t, f, map[string]bool{"bar": true, "bar-app": true, "consumer-group1": false, "consumer-group2": false})
		// emit.heartbeats is not a key: heartbeats stay on.
		corpusEq(t, "heartbeats interval", f.EmitHeartbeatsInterval, time.Second)
	})

	corpusCase(t, tested, "kafka-docs-ssl.properties", func(t *testing.T) {
		// The published stores do not exist here: the truststore is the
		// fixture truststore.jks (password trust-pass-1 instead of
		// my-secret-password), the keystore the fixture client.jks (store
		// client-pass-2, key key-pass-3).
		cfg, _ := corpusMustParse(t, "kafka-docs-ssl.properties", nil,
			corpusEdit{"/path/to/truststore.jks", corpusTLSFixture(t, "truststore.jks")},
			corpusEdit{"us-east.ssl.truststore.password=my-secret-password", "us-east.ssl.truststore.password=" + corpusTrustPass},
			corpusEdit{"/path/to/keystore.jks", corpusTLSFixture(t, "client.jks")},
			corpusEdit{"us-east.ssl.keystore.password=my-secret-password", "us-east.ssl.keystore.password=" + corpusClientPass},
			corpusEdit{"us-east.ssl.key.password=my-secret-password", "us-east.ssl.key.password=" + corpusKeyPass})
		east := corpusCluster(t, cfg, "us-east")
		corpusEq(t, "us-east security.protocol", east.Security.Protocol, "SSL")
		if tc := east.Security.TLSConfig; tc == nil || tc.RootCAs == nil || len(tc.Certificates) != 1 {
			t.Fatalf("us-east TLS config = %+v, want the truststore's roots and the keystore's key", tc)
		}
		corpusEq(t, "us-east verifies host names", east.Security.TLSConfig.InsecureSkipVerify, false)
		corpusEq(t, "us-west TLS", corpusCluster(t, cfg, "us-west").Security.TLSConfig == nil, true)
	})

	corpusCase(t, tested, "kafka-docs-active-passive.properties", func(t *testing.T) {
		cfg, _ := corpusMustParse(t, "kafka-docs-active-passive.properties", nil)
		corpusEqList(t, "flows", corpusFlowNames(cfg.Flows), []string{"primary->secondary"})
		corpusEqList(t, "heartbeat flows", corpusFlowNames(cfg.HeartbeatFlows), []string{"secondary->primary"})
		f := corpusFlow(t, cfg, "primary", "secondary")
		// As in MM2, the trailing "# ..." belongs to the value: the pattern
		// matches no real topic.
		corpusEq(t, "topics as written", f.Settings()[KeyTopics], "foo.*  # only replicate some topics")
		corpusReplicates(t, f, map[string]bool{"foo": false, "foobar": false})
	})

	corpusCase(t, tested, "kafka-docs-active-active.properties", func(t *testing.T) {
		// "Us-east.bootstrap.servers" is not us-east's.
		corpusMustRefuse(t, "kafka-docs-active-active.properties", "us-east.bootstrap.servers")
	})

	corpusCase(t, tested, "kafka-docs-multi-cluster.properties", func(t *testing.T) {
		cfg, _ := corpusMustParse(t, "kafka-docs-multi-cluster.properties", nil)
		corpusEqList(t, "clusters", corpusAliases(cfg), []string{"west-1", "west-2", "east-1", "east-2", "north-1", "north-2"})
		corpusEqList(t, "west-1 servers", corpusCluster(t, cfg, "west-1").BootstrapServers, []string{"..."})
		want := []string{
			"west-1->west-2", "west-1->east-1", "west-1->north-1",
			"west-2->west-1",
			"east-1->west-1", "east-1->east-2", "east-1->north-1",
			"east-2->east-1",
			"north-1->west-1", "north-1->east-1", "north-1->north-2",
			"north-2->north-1",
		}
		corpusEqList(t, "flows", corpusFlowNames(cfg.Flows), want)
		// Active/active: a flow does not copy back what it received.
		f := corpusFlow(t, cfg, "west-2", "west-1")
		corpusReplicates(t, f, map[string]bool{"orders": true, "west-1.orders": false, "east-1.orders": true})
	})

	corpusCase(t, tested, "kafka-mm2-readme-exactly-once.properties", func(t *testing.T) {
		cfg, warnings := corpusMustParse(t, "kafka-mm2-readme-exactly-once.properties", nil)
		corpusEqList(t, "warnings", warnings, nil)
		f := corpusFlow(t, cfg, "A", "B")
		corpusEq(t, "B.exactly.once.source.support", f.ExactlyOnce, true)
		corpusEq(t, "transaction boundary (poll)", f.TransactionInterval, time.Duration(0))
		corpusEq(t, "A.consumer.isolation.level read_committed", f.SourceConsumer.ReadUncommitted, false)
		corpusEqList(t, "A servers", corpusCluster(t, cfg, "A").BootstrapServers, []string{"A_host1:9092", "A_host2:9092", "A_host3:9092"})
		if len(cfg.Listeners) != 1 || cfg.Listeners[0].Scheme != "http" || cfg.Listeners[0].Addr != "localhost:8080" {
			t.Errorf("listeners = %+v, want http localhost:8080", cfg.Listeners)
		}
		// B->A is not enabled, and B->A's worker would read A's keys.
		corpusEqList(t, "flows", corpusFlowNames(cfg.Flows), []string{"A->B"})
	})

	corpusCase(t, tested, "kafka-mm2-readme-connector-configs.properties", func(t *testing.T) {
		// "SSL // if target cluster needs SSL ..." is no protocol (MM2 fails
		// too); "false // set to false ..." MM2's Boolean.parseBoolean reads
		// as false, Strait refuses.
		corpusMustRefuse(t, "kafka-mm2-readme-connector-configs.properties",
			"backup.security.protocol", "backup->primary.enabled")
	})

	corpusCase(t, tested, "kafka-docs-kerberos.properties", func(t *testing.T) {
		// The keytab must exist: /etc/security/keytabs/kafka_client.keytab
		// becomes an empty file in a temporary directory.
		keytab := filepath.Join(t.TempDir(), "kafka_client.keytab")
		if err := os.WriteFile(keytab, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, _ := corpusMustParse(t, "kafka-docs-kerberos.properties", nil,
			corpusEdit{"/etc/security/keytabs/kafka_client.keytab", keytab})
		c := corpusCluster(t, cfg, "onprem")
		corpusEq(t, "security.protocol", c.Security.Protocol, "SASL_PLAINTEXT")
		corpusEq(t, "sasl.mechanism", c.Security.SASLConfig.Mechanism, "GSSAPI")
		k := c.Security.SASLConfig.Kerberos
		if k == nil {
			t.Fatal("no Kerberos settings")
		}
		corpusEq(t, "principal", k.Principal, "kafka-client-1@EXAMPLE.COM")
		corpusEq(t, "keyTab", k.KeyTab, keytab)
		corpusEq(t, "useKeyTab", k.UseKeyTab, true)
		corpusEq(t, "useTicketCache", k.UseTicketCache, false)
		corpusEq(t, "sasl.kerberos.service.name", k.ServiceName, "kafka")
		corpusEq(t, "TLS", c.Security.TLSConfig == nil, true)
		corpusEq(t, "cloud security.protocol", corpusCluster(t, cfg, "cloud").Security.Protocol, "PLAINTEXT")
	})

	corpusCase(t, tested, "kafka-docs-oauthbearer-unsecured.properties", func(t *testing.T) {
		// Kafka's unsecured test tokens: no login callback handler.
		corpusMustRefuse(t, "kafka-docs-oauthbearer-unsecured.properties", "B.sasl.login.callback.handler.class")
	})

	corpusCase(t, tested, "kafka-javadoc-oauth-client-credentials.properties", func(t *testing.T) {
		cfg, warnings := corpusMustParse(t, "kafka-javadoc-oauth-client-credentials.properties", nil)
		// Java applies the JAAS ssl.* options to the token endpoint's HTTPS
		// connection; Strait says it ignores them.
		corpusWarns(t, warnings, `option "ssl.protocol"`)
		b := corpusCluster(t, cfg, "B")
		corpusEq(t, "security.protocol", b.Security.Protocol, "SASL_SSL")
		corpusEq(t, "sasl.mechanism", b.Security.SASLConfig.Mechanism, "OAUTHBEARER")
		o := b.Security.SASLConfig.OAuth
		if o == nil {
			t.Fatal("no OAuth settings")
		}
		corpusEq(t, "token endpoint", o.TokenEndpoint, "https://example.com/oauth2/v1/token")
		corpusEq(t, "clientId", o.ClientID, "foo")
		corpusEq(t, "clientSecret", string(o.ClientSecret), "bar")
		corpusEq(t, "scope", o.Scope, "baz")
		corpusEq(t, "no AWS", b.Security.SASLConfig.AWS == nil, true)
		if tc := b.Security.TLSConfig; tc == nil || tc.RootCAs != nil {
			t.Errorf("B TLS config = %+v, want one with the system's roots", tc)
		}
	})

	corpusCase(t, tested, "confluent-platform-oauth-clients.properties", func(t *testing.T) {
		// The page's "# optional" annotations are part of the values.
		corpusMustRefuse(t, "confluent-platform-oauth-clients.properties",
			"cp.sasl.login.connect.timeout.ms", "cp.sasl.jaas.config")
	})

	// --- Cloud services ---

	corpusCase(t, tested, "azure-event-hubs-mm2.properties", func(t *testing.T) {
		cfg, warnings := corpusMustParse(t, "azure-event-hubs-mm2.properties", nil)
		corpusEqList(t, "warnings", warnings, nil)
		corpusEqList(t, "flows", corpusFlowNames(cfg.Flows), []string{"source->destination"})
		d := corpusCluster(t, cfg, "destination")
		corpusEqList(t, "destination servers", d.BootstrapServers, []string{"<your-enventhubs-namespace>.servicebus.windows.net:9093"})
		corpusLogin(t, d, "SASL_SSL", "PLAIN", "$ConnectionString", "<Your Event Hubs namepsace connection string.")
		if d.Security.TLSConfig == nil {
			t.Error("destination: no TLS config")
		}
		corpusEq(t, "source security.protocol", corpusCluster(t, cfg, "source").Security.Protocol, "PLAINTEXT")
		f := corpusFlow(t, cfg, "source", "destination")
		for name, rf := range map[string]int16{
			"replication.factor": f.ReplicationFactor, "checkpoints": f.CheckpointsTopicRF,
			"heartbeats": f.HeartbeatsTopicRF, "offset-syncs": f.OffsetSyncsTopicRF,
			"offset.storage": f.OffsetsTopicRF, "status.storage": f.StatusTopicRF, "config.storage": f.ConfigsTopicRF,
		} {
			corpusEq(t, name, rf, int16(3))
		}
		corpusReplicates(t, f, map[string]bool{"orders": true, "mm2-offsets.x.internal": false, "__consumer_offsets": false})
	})

	corpusCase(t, tested, "strimzi-blog-eventhub.properties", func(t *testing.T) {
		cfg, warnings := corpusMustParse(t, "strimzi-blog-eventhub.properties", nil)
		corpusEqList(t, "warnings", warnings, nil)
		eh := corpusCluster(t, cfg, "eventhub")
		corpusLogin(t, eh, "SASL_SSL", "PLAIN", "$ConnectionString",
			"Endpoint=sb://<eventhubs-namespace>.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=<access-key>")
		f := corpusFlow(t, cfg, "my-cluster", "eventhub")
		// eventhub.producer.* reaches the producer writing to Event Hubs.
		corpusEq(t, "producer connections.max.idle.ms", f.Producer.ConnIdleTimeout, 180*time.Second)
		corpusEq(t, "producer metadata.max.age.ms", f.Producer.MetadataMaxAge, 180*time.Second)
		corpusEq(t, "config.storage.replication.factor", f.ConfigsTopicRF, int16(1))
		corpusEq(t, "offset.storage.replication.factor", f.OffsetsTopicRF, int16(1))
		corpusEq(t, "status.storage.replication.factor", f.StatusTopicRF, int16(1))
		corpusEq(t, "replication.factor", f.ReplicationFactor, int16(1))
		corpusEq(t, "heartbeats RF", f.HeartbeatsTopicRF, int16(1))
		corpusEq(t, "acls", f.SyncTopicACLsInterval, time.Duration(0))
		corpusReplicates(t, f, map[string]bool{"testeh": true})
	})

	corpusCase(t, tested, "strimzi-example-sync-groups.properties", func(t *testing.T) {
		cfg, _ := corpusMustParse(t, "strimzi-example-sync-groups.properties", nil)
		f := corpusFlow(t, cfg, "cluster-a", "cluster-b")
		// -1: the broker's default.replication.factor (KIP-464).
		for name, rf := range map[string]int16{
			"replication.factor": f.ReplicationFactor, "offset-syncs": f.OffsetSyncsTopicRF,
			"checkpoints": f.CheckpointsTopicRF, "config.storage": f.ConfigsTopicRF,
			"offset.storage": f.OffsetsTopicRF, "status.storage": f.StatusTopicRF,
		} {
			corpusEq(t, name, rf, int16(-1))
		}
		corpusEq(t, "heartbeats RF (default)", f.HeartbeatsTopicRF, int16(3))
		corpusEq(t, "sync.group.offsets", f.SyncGroupOffsetsInterval, 60*time.Second)
		corpusEq(t, "heartbeats", f.EmitHeartbeatsInterval, time.Duration(0))
		corpusEq(t, "acls", f.SyncTopicACLsInterval, time.Duration(0))
		corpusEq(t, "tasks.max", f.TasksMax, 1)
	})

	corpusCase(t, tested, "confluent-cloud-playground.properties", func(t *testing.T) {
		// The empty separator with empty source.cluster.alias and
		// target.cluster.alias is MM2's old trick for identity naming (MM2
		// keeps top-level *.cluster.alias in every connector's config and
		// names remote topics with them). Strait names topics after the
		// flow, so it refuses all three, pointing at IdentityReplicationPolicy.
		corpusMustRefuse(t, "confluent-cloud-playground.properties", KeyReplicationPolicySeparator, "source.cluster.alias", "target.cluster.alias")
		// Without those lines, the Confluent Cloud login as published.
		cfg, _ := corpusMustParse(t, "confluent-cloud-playground.properties", nil,
			corpusEdit{"replication.policy.separator =\n", ""}, corpusEdit{"source.cluster.alias =\n", ""}, corpusEdit{"target.cluster.alias =\n", ""})
		corpusLogin(t, corpusCluster(t, cfg, "B"), "SASL_SSL", "PLAIN", ":CLOUD_KEY:", ":CLOUD_SECRET:")
		corpusEqList(t, "B servers", corpusCluster(t, cfg, "B").BootstrapServers, []string{":BOOTSTRAP_SERVERS:"})
		f := corpusFlow(t, cfg, "A", "B")
		corpusReplicates(t, f, map[string]bool{"sales_A": true, "sales_B": false})
		corpusEq(t, "sync.group.offsets", f.SyncGroupOffsetsInterval, 10*time.Second)
		corpusEq(t, "emit.checkpoints", f.EmitCheckpointsInterval, 10*time.Second)
		corpusEq(t, "refresh.topics", f.RefreshTopicsInterval, 10*time.Second)
	})

	corpusCase(t, tested, "confluent-cloud-client-template.properties", func(t *testing.T) {
		cfg, _ := corpusMustParse(t, "confluent-cloud-client-template.properties", nil)
		c := corpusCluster(t, cfg, "ccloud")
		// ${name} without ':' is no config-provider reference: literal.
		corpusLogin(t, c, "SASL_SSL", "PLAIN", "${api_key}", "${api_secret}")
		corpusEqList(t, "ccloud servers", c.BootstrapServers, []string{"${cluster_bootstrap_server}"})
		if c.Security.TLSConfig == nil {
			t.Error("ccloud: no TLS config")
		}
		corpusEq(t, "worker group.id", corpusFlow(t, cfg, "onprem", "ccloud").GroupID, "${consumer_group_prefix}${client_name}")
	})

	corpusCase(t, tested, "confluent-cloud-conduktor-docs.properties", func(t *testing.T) {
		cfg, warnings := corpusMustParse(t, "confluent-cloud-conduktor-docs.properties", nil)
		corpusEqList(t, "warnings", warnings, nil)
		c := corpusCluster(t, cfg, "ccloud")
		corpusLogin(t, c, "SASL_SSL", "PLAIN", "{{ CLUSTER_API_KEY }}", "{{ CLUSTER_API_SECRET }}")
		corpusEqList(t, "ccloud servers", c.BootstrapServers, []string{"pkc-abc123.europe-west1.gcp.confluent.cloud:9092"})
		if tc := c.Security.TLSConfig; tc == nil || tc.RootCAs != nil || tc.InsecureSkipVerify {
			t.Errorf("ccloud TLS config = %+v, want the system's roots and host name checks", tc)
		}
		f := corpusFlow(t, cfg, "ccloud", "onprem")
		// Reading Confluent Cloud: the source consumer and the offset-syncs
		// producer (offset syncs live on the source by default) log in there.
		topic, onTarget := f.OffsetSyncsTopic()
		corpusEq(t, "offset-syncs topic", topic, "mm2-offset-syncs.onprem.internal")
		corpusEq(t, "offset syncs on target", onTarget, false)
	})

	corpusCase(t, tested, "strimzi-operator-scram.properties", func(t *testing.T) {
		// Strimzi's secrets come through its KubernetesSecretConfigProvider,
		// Java code Strait cannot run; the empty separator Strait refuses.
		err := corpusMustRefuse(t, "strimzi-operator-scram.properties",
			"config.providers.strimzisecrets.class",
			"cluster-primary->cluster-backup.replication.policy.separator")
		// Strimzi's io.strimzi.kafka.connect.mirror.IdentityReplicationPolicy
		// (strimzi/mirror-maker-2-extensions) names remote topics like
		// Kafka's IdentityReplicationPolicy (KIP-690), which replaced it:
		// Strait should take it as that class, not refuse it as Java code.
		if k := "cluster-primary->cluster-backup.replication.policy.class"; slices.Contains(corpusErrKeys(err), k) {
			t.Errorf("%s refused; Strimzi's IdentityReplicationPolicy is Kafka's under an older name:\n%v", k, err)
		}
	})

	corpusCase(t, tested, "msk-iam-auth-readme.properties", func(t *testing.T) {
		cfg, warnings := corpusMustParse(t, "msk-iam-auth-readme.properties", nil)
		// The README sets each sasl.jaas.config twice (a role and a
		// profile example); as in Java the later line wins.
		corpusEqList(t, "warnings", warnings, []string{
			"msk-source.sasl.jaas.config: set on line 23 and again on line 34; line 34 wins",
			"msk-target.sasl.jaas.config: set on line 31 and again on line 36; line 36 wins"})
		src := corpusCluster(t, cfg, "msk-source")
		corpusEq(t, "source security.protocol", src.Security.Protocol, "SASL_SSL")
		corpusEq(t, "source sasl.mechanism", src.Security.SASLConfig.Mechanism, "AWS_MSK_IAM")
		a := src.Security.SASLConfig.AWS
		if a == nil {
			t.Fatal("msk-source: no AWS settings")
		}
		corpusEq(t, "source awsProfileName", a.Profile, "msk_client")
		corpusEq(t, "source role", a.RoleARN, "")
		corpusEq(t, "source OAuth", a.OAuth, false)
		corpusEq(t, "source default providers", a.AddDefaultProviders, true)
		tgt := corpusCluster(t, cfg, "msk-target")
		b := tgt.Security.SASLConfig.AWS
		if b == nil {
			t.Fatal("msk-target: no AWS settings")
		}
		corpusEq(t, "target awsRoleArn", b.RoleARN, "arn:aws:iam::123456789012:role/msk_client_role")
		corpusEq(t, "target awsRoleSessionName", b.RoleSessionName, "producer")
		corpusEq(t, "target awsStsRegion", b.STSRegion, "us-west-2")
		corpusEq(t, "target awsAddDefaultProviders", b.AddDefaultProviders, false)
		corpusEq(t, "target profile", b.Profile, "")
		if src.Security.TLSConfig == nil || tgt.Security.TLSConfig == nil {
			t.Error("no TLS config for an MSK cluster")
		}
	})

	corpusCase(t, tested, "msk-iam-oauthbearer-readme.properties", func(t *testing.T) {
		cfg, warnings := corpusMustParse(t, "msk-iam-oauthbearer-readme.properties", nil)
		corpusEqList(t, "warnings", warnings, nil)
		c := corpusCluster(t, cfg, "msk")
		corpusEq(t, "sasl.mechanism", c.Security.SASLConfig.Mechanism, "OAUTHBEARER")
		a := c.Security.SASLConfig.AWS
		if a == nil {
			t.Fatal("msk: no AWS settings")
		}
		corpusEq(t, "AWS OAuth", a.OAuth, true)
		corpusEq(t, "no client-credentials OAuth", c.Security.SASLConfig.OAuth == nil, true)
	})

	corpusCase(t, tested, "msk-scram-geo-replication.properties", func(t *testing.T) {
		// /tmp/kafka.client.truststore.jks (a cacerts copy) becomes the
		// fixture truststore.jks; as published, no password is given.
		cfg, _ := corpusMustParse(t, "msk-scram-geo-replication.properties", nil,
			corpusEdit{"/tmp/kafka.client.truststore.jks", corpusTLSFixture(t, "truststore.jks")})
		for _, a := range []string{"source", "target"} {
			c := corpusCluster(t, cfg, a)
			corpusLogin(t, c, "SASL_SSL", "SCRAM-SHA-512", "#_USER_NAME_USED_OF_SASL_AUTH_#", "#_PWD_USED_OF_SASL_AUTH_#")
			if c.Security.TLSConfig == nil || c.Security.TLSConfig.RootCAs == nil {
				t.Errorf("%s: TLS config without the truststore's roots", a)
			}
			corpusEqList(t, a+" servers", c.BootstrapServers, []string{"#_" + map[string]string{"source": "primary", "target": "secondary"}[a] + " MSK clusters broker addresses_#"})
		}
		// "target->source.enabled = false " (trailing blank) is false.
		corpusEqList(t, "flows", corpusFlowNames(cfg.Flows), []string{"source->target"})
		f := corpusFlow(t, cfg, "source", "target")
		// topics.blacklist: Java's properties reader drops the backslash of
		// \- and \., so the patterns are .*[-.]internal and .*.replica.
		corpusReplicates(t, f, map[string]bool{
			"orders": true, "orders.internal": false, "orders-internal": false,
			"orders.replica": false, "ordersXreplica": false, "__consumer_offsets": false,
			// Not in the list, but internal to Kafka: MM2's
			// ReplicationPolicy.isInternalTopic skips "__" topics anyway.
			"__transaction_state": false,
		})
		corpusGroups(t, f, map[string]bool{"app": true, "console-consumer-1": false, "connect-x": false, "__x": false})
		corpusEq(t, "tasks.max", f.TasksMax, 2)
		corpusEq(t, "sync.group.offsets", f.SyncGroupOffsetsInterval, 60*time.Second)
		corpusEq(t, "refresh.topics", f.RefreshTopicsInterval, 10*time.Second)
		corpusEq(t, "heartbeats", f.EmitHeartbeatsInterval, time.Second)
		corpusEq(t, "offset.storage RF", f.OffsetsTopicRF, int16(3))
	})

	corpusCase(t, tested, "aiven-sasl-ssl.properties", func(t *testing.T) {
		// {TRUSTSTORE_LOCATION} becomes the fixture truststore.jks and
		// {TRUSTSTORE_PASSWORD} its password.
		cfg, _ := corpusMustParse(t, "aiven-sasl-ssl.properties", nil,
			corpusEdit{"{TRUSTSTORE_LOCATION}", corpusTLSFixture(t, "truststore.jks")},
			corpusEdit{"{TRUSTSTORE_PASSWORD}", corpusTrustPass})
		c := corpusCluster(t, cfg, "aiven")
		corpusLogin(t, c, "SASL_SSL", "SCRAM-SHA-256", "{USER_NAME}", "{SASL_PASSWORD}")
		corpusEqList(t, "aiven servers", c.BootstrapServers, []string{"{HOST}:{SASL_PORT}"})
		tc := c.Security.TLSConfig
		if tc == nil || tc.RootCAs == nil {
			t.Fatalf("aiven TLS config = %+v, want the truststore's roots", tc)
		}
		// ssl.endpoint.identification.algorithm= : the chain is verified,
		// the host name not.
		corpusEq(t, "InsecureSkipVerify", tc.InsecureSkipVerify, true)
		corpusEq(t, "chain verified", tc.VerifyConnection != nil, true)
	})

	corpusCase(t, tested, "aiven-ssl-client-cert.properties", func(t *testing.T) {
		// client.keystore.p12 becomes the fixture client.p12 and
		// client.truststore.jks the fixture truststore.jks, their passwords
		// replacing "changeit".
		cfg, _ := corpusMustParse(t, "aiven-ssl-client-cert.properties", nil,
			corpusEdit{"=client.keystore.p12", "=" + corpusTLSFixture(t, "client.p12")},
			corpusEdit{"aiven.ssl.keystore.password=changeit", "aiven.ssl.keystore.password=" + corpusClientPass},
			corpusEdit{"aiven.ssl.key.password=changeit", "aiven.ssl.key.password=" + corpusClientPass},
			corpusEdit{"=client.truststore.jks", "=" + corpusTLSFixture(t, "truststore.jks")},
			corpusEdit{"aiven.ssl.truststore.password=changeit", "aiven.ssl.truststore.password=" + corpusTrustPass})
		c := corpusCluster(t, cfg, "aiven")
		corpusEq(t, "security.protocol", c.Security.Protocol, "SSL")
		if tc := c.Security.TLSConfig; tc == nil || tc.RootCAs == nil || len(tc.Certificates) != 1 {
			t.Fatalf("aiven TLS config = %+v, want roots and the client certificate", tc)
		}
		corpusEqList(t, "flows", corpusFlowNames(cfg.Flows), []string{"aiven->onprem"})
	})

	// --- Operators, vendors, blogs ---

	corpusCase(t, tested, "flinox-config-provider.properties", func(t *testing.T) {
		// /properties/access.properties, read by FileConfigProvider, becomes
		// a file in a temporary directory with these values.
		access := filepath.Join(t.TempDir(), "access.properties")
		secrets := "SRC_BROKERS=src-1.example.com:9092,src-2.example.com:9092\n" +
			"TGT_BROKERS=tgt-1.example.com:9092\n" +
			"SRC_API_KEY=SRCKEY123\n" +
			"SRC_API_SECRET=src+secret/with=chars\n" +
			"TGT_API_KEY=TGTKEY456\n" +
			"TGT_API_SECRET=tgt+secret/with=chars\n"
		if err := os.WriteFile(access, []byte(secrets), 0o600); err != nil {
			t.Fatal(err)
		}
		// The file carries keys no Kafka component reads (client_id,
		// throttle_time_ms: fields of Kafka's protocol, not settings;
		// db.timezone): MM2 logs them as unused, Strait needs
		// AllowUnknownKeys to accept them.
		if _, _, err := corpusParse(t, "flinox-config-provider.properties", nil, corpusEdit{"/properties/access.properties", access}); err == nil ||
			!strings.Contains(err.Error(), "source.client_id (line 20): unknown key (did you mean source.client.id?)") {
			t.Errorf("client_id: %v, want an unknown key naming source.client.id", err)
		}
		cfg, warnings, err := corpusParseWith(t, "flinox-config-provider.properties", nil, []Option{AllowUnknownKeys()},
			corpusEdit{"/properties/access.properties", access})
		if err != nil {
			t.Fatal(err)
		}
		corpusWarns(t, warnings, "source.client_id")
		corpusWarns(t, warnings, `"source.auto.create.topics.enable" ignored: it is a broker setting`)
		src := corpusCluster(t, cfg, "source")
		corpusEqList(t, "source servers", src.BootstrapServers, []string{"src-1.example.com:9092", "src-2.example.com:9092"})
		corpusEqList(t, "target servers", corpusCluster(t, cfg, "target").BootstrapServers, []string{"tgt-1.example.com:9092"})
		// The second source.sasl.jaas.config (the "TARGET KAFKA" block) wins.
		corpusLogin(t, src, "SASL_SSL", "PLAIN", "TGTKEY456", "tgt+secret/with=chars")
		corpusEq(t, "target security.protocol", corpusCluster(t, cfg, "target").Security.Protocol, "PLAINTEXT")
		f := corpusFlow(t, cfg, "source", "target")
		corpusReplicates(t, f, map[string]bool{"topic1": true, "topic2": true, "topic3": false})
		corpusEq(t, "heartbeats", f.EmitHeartbeatsInterval, time.Duration(0))
		corpusEq(t, "acls", f.SyncTopicACLsInterval, time.Duration(0))
		corpusEq(t, "emit.checkpoints.interval", f.EmitCheckpointsInterval, 10*time.Second)
		// Worker keys come from the target's alias.
		corpusEq(t, "group.id", f.GroupID, "mm2-target-source-gi")
		corpusEq(t, "offsets topic", f.OffsetsTopic, "mm2-offsets")
		corpusEq(t, "offsets partitions", f.OffsetsTopicPartitions, int32(3))
		corpusEq(t, "status partitions", f.StatusTopicPartitions, int32(3))
		corpusEq(t, "configs topic", f.ConfigsTopic, "mm2-configs")
		corpusEq(t, "offsets RF", f.OffsetsTopicRF, int16(3))
		corpusEq(t, "session.timeout.ms", f.SessionTimeout, 30*time.Second)
		corpusEq(t, "heartbeat.interval.ms", f.HeartbeatInterval, 3*time.Second)
		corpusEq(t, "offset.flush.interval.ms", f.OffsetFlushInterval, 120*time.Second)
		// The target's common client keys reach every client of the target.
		tgt := corpusCluster(t, cfg, "target").Client
		corpusEq(t, "target request.timeout.ms", tgt.RequestTimeout, 60*time.Second)
		corpusEq(t, "target retry.backoff.ms", tgt.RetryBackoff, time.Second)
		corpusEq(t, "target metadata.max.age.ms", tgt.MetadataMaxAge, 180*time.Second)
		corpusEq(t, "target connections.max.idle.ms", tgt.ConnIdleTimeout, 240*time.Second)
		corpusEq(t, "producer request.timeout.ms", f.Producer.RequestTimeout, 60*time.Second)
		// What a REST API shows is the reference, never the secret.
		if strings.Contains(strings.Join(warnings, " "), "TGTKEY456") {
			t.Error("a warning shows a resolved secret")
		}
	})

	corpusCase(t, tested, "stackable-mtls.properties", func(t *testing.T) {
		// The published PKCS12 stores have an empty password, as Stackable's
		// secret operator writes them; Java's KeyStore.load takes "" for
		// them. They become PKCS12 files with an empty password made here
		// from the fixture's key and chain.
		dir := t.TempDir()
		trust, key := corpusEmptyPasswordStores(t, dir)
		cfg, _, err := corpusParse(t, "stackable-mtls.properties", nil,
			corpusEdit{"/stackable/truststore.p12", trust},
			corpusEdit{"/stackable/keystore.p12", key},
			corpusEdit{"/stackable/tls-kafka-server/truststore.p12", trust},
			corpusEdit{"/stackable/tls-kafka-server/keystore.p12", key})
		if err != nil {
			t.Fatalf("MM2 accepts PKCS12 stores with an empty password; Strait: %v", err)
		}
		for _, a := range []string{"source", "target"} {
			c := corpusCluster(t, cfg, a)
			corpusEq(t, a+" security.protocol", c.Security.Protocol, "SSL")
			if tc := c.Security.TLSConfig; tc == nil || tc.RootCAs == nil || len(tc.Certificates) != 1 {
				t.Errorf("%s TLS config = %+v, want roots and the client certificate", a, tc)
			}
		}
		corpusReplicates(t, corpusFlow(t, cfg, "source", "target"), map[string]bool{"test": true, "test2": false})
	})

	corpusCase(t, tested, "blog-readonly-origin.properties", func(t *testing.T) {
		// /kafka-secrets/ca.crt becomes the fixture ca.pem,
		// /kafka-secrets/acl-principal.pfx the fixture client.p12, and the
		// password read from password.txt ($$acl-principal-password) its
		// password.
		cfg, warnings := corpusMustParse(t, "blog-readonly-origin.properties", nil,
			corpusEdit{"/kafka-secrets/ca.crt", corpusTLSFixture(t, "ca.pem")},
			corpusEdit{"/kafka-secrets/acl-principal.pfx", corpusTLSFixture(t, "client.p12")},
			corpusEdit{"$$acl-principal-password", corpusClientPass})
		corpusWarns(t, warnings, "origin.auto.create.topics.enable")
		o := corpusCluster(t, cfg, "origin")
		corpusEqList(t, "origin servers (trailing comma)", o.BootstrapServers, []string{"remote-bootstrap-address:9092"})
		corpusEq(t, "origin security.protocol", o.Security.Protocol, "SSL")
		if tc := o.Security.TLSConfig; tc == nil || tc.RootCAs == nil || len(tc.Certificates) != 1 {
			t.Fatalf("origin TLS config = %+v, want the PEM roots and the PKCS12 key", tc)
		}
		corpusEqList(t, "flows", corpusFlowNames(cfg.Flows), []string{"origin->destination"})
		// destination->origin emits nothing.
		corpusEqList(t, "heartbeat flows", corpusFlowNames(cfg.HeartbeatFlows), nil)
		f := corpusFlow(t, cfg, "origin", "destination")
		corpusReplicates(t, f, map[string]bool{"awesome-topic": true, "topic-cool": true, "other": false})
		corpusEq(t, "identity naming", f.Policy.FormatRemoteTopic("origin", "awesome-topic"), "awesome-topic")
		topic, onTarget := f.OffsetSyncsTopic()
		corpusEq(t, "offset syncs on target", onTarget, true)
		corpusEq(t, "offset-syncs topic", topic, "mm2-offset-syncs.origin.internal")
		corpusEq(t, "offset-syncs RF", f.OffsetSyncsTopicRF, int16(1))
		corpusEq(t, "config.properties.exclude", f.ConfigExclude.Excluded("retention.ms"), true)
		corpusEq(t, "acls", f.SyncTopicACLsInterval, time.Duration(0))
		corpusEq(t, "offsets RF", f.OffsetsTopicRF, int16(1))
		corpusEq(t, "configs RF", f.ConfigsTopicRF, int16(1))
		corpusEq(t, "status RF", f.StatusTopicRF, int16(1))
		if len(cfg.Listeners) != 1 || cfg.Listeners[0].Addr != "localhost:8080" {
			t.Errorf("listeners = %+v, want localhost:8080", cfg.Listeners)
		}
	})

	corpusCase(t, tested, "dr-guide-producer-overrides.properties", func(t *testing.T) {
		// As published: "131072  # 128KB" is no size; acks=1 Strait refuses
		// by design (it writes with acks=all only).
		corpusMustRefuse(t, "dr-guide-producer-overrides.properties",
			"primary->secondary.producer.override.batch.size",
			"primary->secondary.producer.override.acks")

		cfg, _ := corpusMustParse(t, "dr-guide-producer-overrides.properties", nil,
			corpusEdit{"primary->secondary.producer.override.batch.size = 131072  # 128KB\n", ""},
			corpusEdit{"primary->secondary.producer.override.acks = 1\n", ""})
		for _, a := range []string{"primary", "secondary"} {
			// ${MM2_PASSWORD} has no ':': not a provider reference.
			corpusLogin(t, corpusCluster(t, cfg, a), "SASL_SSL", "PLAIN", "mm2-user", "${MM2_PASSWORD}")
		}
		f := corpusFlow(t, cfg, "primary", "secondary")
		// primary->secondary.producer.override.* reaches the task producer.
		corpusEq(t, "producer compression", f.Producer.Compression, "lz4")
		if f.Producer.Linger == nil || *f.Producer.Linger != 10*time.Millisecond {
			t.Errorf("producer linger = %v, want 10ms", f.Producer.Linger)
		}
		// ...and not the offset-syncs producer.
		corpusEq(t, "offset-syncs producer compression", f.OffsetSyncProducer.Compression, "")
		// consumer.override.* is no MM2 scope: no consumer takes it.
		corpusEq(t, "source consumer fetch.min.bytes", f.SourceConsumer.FetchMinBytes, int32(0))
		corpusEq(t, "tasks.max", f.TasksMax, 64)
		// Java's properties reader turns orders\..* into orders..*.
		corpusReplicates(t, f, map[string]bool{"orders.created": true, "ordersXcreated": true, "payments.captured": true, "audit": false})
		corpusEq(t, "checkpoints RF", f.CheckpointsTopicRF, int16(3))
	})
}

// corpusEmptyPasswordStores writes a PKCS12 trust store (the fixture CA) and key
// store (the fixture client key and chain) with an empty password into dir.
func corpusEmptyPasswordStores(t *testing.T, dir string) (trust, key string) {
	t.Helper()
	certs := func(name string) []*x509.Certificate {
		data, err := os.ReadFile(corpusTLSFixture(t, name))
		if err != nil {
			t.Fatal(err)
		}
		var out []*x509.Certificate
		for b, rest := pem.Decode(data); b != nil; b, rest = pem.Decode(rest) {
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
		return out
	}
	ca := certs("ca.pem")
	chain := certs("client-chain.pem")
	keyPEM, err := os.ReadFile(corpusTLSFixture(t, "client.key"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(keyPEM)
	priv, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	trustData, err := pkcs12.Modern.WithRand(rand.Reader).EncodeTrustStore(ca, "")
	if err != nil {
		t.Fatal(err)
	}
	keyData, err := pkcs12.Modern.WithRand(rand.Reader).Encode(priv, chain[0], chain[1:], "")
	if err != nil {
		t.Fatal(err)
	}
	trust, key = filepath.Join(dir, "truststore.p12"), filepath.Join(dir, "keystore.p12")
	for p, d := range map[string][]byte{trust: trustData, key: keyData} {
		if err := os.WriteFile(p, d, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return trust, key
}
