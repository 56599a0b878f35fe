package configs

import (
	"strings"
	"testing"
)

// TestKnownFlowKeyAgreesWithTheFile: a key is known to CheckFlowSetting
// exactly when the file, given it as "A->B.<key>", does not warn that it
// is unknown; the REST API refuses what the file would ignore.
func TestKnownFlowKeyAgreesWithTheFile(t *testing.T) {
	keys := append(flowKeyNames(), "topicz", "tasks_max", "name", "connector.class", "source.cluster.alias",
		"topics.blacklist", "key.converter.schemas.enable", "transforms.x.type", "replication.policy.foo", "nonsense")
	for _, p := range flowPrefixes {
		keys = append(keys, p+"max.poll.records", p+"max.poll.recordz", p+"acks", p+"linger.ms", p+"client.id",
			p+"security.protocol", p+"ssl.foo", p+"interceptor.classes", p+"bogus")
	}
	for _, k := range keys {
		text := "clusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\nA->B.enabled = true\nA->B." + k + " = x\n"
		_, warnings, _ := Parse([]byte(text), Properties, nil, AllowUnknownKeys()) // "x" may be refused: the warnings still tell
		warned := false
		for _, w := range warnings {
			if strings.Contains(w, "unknown") && strings.Contains(w, `"A->B.`+k+`"`) {
				warned = true
			}
		}
		if noEffectKeys[k] != "" && k == "admin.listeners" {
			continue // a key with no effect, also read as a client key by the file
		}
		if strings.HasPrefix(k, "target.producer.") && !warned {
			continue // the file reads no key under it and warns about none; the API checks the client key
		}
		if known := knownFlowKey(k); known == warned {
			t.Errorf("key %q: known to the REST API %v, but the file warns it is unknown: %v (%q)", k, known, warned, warnings)
		}
	}
}

func TestCheckFlowSetting(t *testing.T) {
	for _, tc := range []struct {
		k, v string
		want string // a part of the problem; "" for none
	}{
		{"topics", "orders", ""},
		{"tasks.max", "4", ""},
		{"topicz", "x", "did you mean topics?"},
		{"consumer.max.poll.recordz", "5", "did you mean consumer.max.poll.records?"},
		{"xyzzy.plugh", "x", "unknown key xyzzy.plugh"},
		{"sasl.jaas.config", `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`, "is a secret"},
		{"source.consumer.sasl.jaas.config", "x", "is a secret"},
		{"producer.ssl.key.password", "pw", "is a secret"},
		{"consumer.ssl.keystore.password", "pw", "is a secret"},
		{"admin.ssl.truststore.password", "pw", "is a secret"},
		{"consumer.sasl.oauthbearer.client.credentials.client.secret", "s3cr3t", "is a secret"},
		{"basic.auth.user.info", "u:p", "is a secret"},
		{"consumer.ssl.keystore.key", "-----BEGIN PRIVATE KEY-----", "is a secret"},
		{"consumer.ssl.key.password", "${file:/etc/strait/secrets.properties:key}", ""},
		{"consumer.sasl.jaas.config", " ${env:JAAS} ", ""},
		{"consumer.sasl.jaas.config", `x required password="${env:PW}";`, "is a secret"},
		{"consumer.ssl.key.password", "", ""},
	} {
		got := CheckFlowSetting(tc.k, tc.v)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("CheckFlowSetting(%q, %q) = %q, want %q", tc.k, tc.v, got, tc.want)
		}
		if strings.Contains(got, tc.v) && tc.v != "" && IsSecretKey(tc.k) {
			t.Errorf("CheckFlowSetting(%q) quotes the secret: %q", tc.k, got)
		}
	}
}
