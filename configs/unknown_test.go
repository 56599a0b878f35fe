package configs

import (
	"strings"
	"testing"
)

// unknownBase is a file of four lines; a case's extra starts on line 5.
const unknownBase = "clusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\nA->B.enabled = true\n"

// TestUnknownKeyFails: a key that is no MM2, Connect or Kafka client key
// fails, named as written with its line and the nearest known key, so
// that a typo cannot leave a default (topics = .*) in force;
// AllowUnknownKeys makes each a warning again.
func TestUnknownKeyFails(t *testing.T) {
	for _, tc := range []struct {
		name    string
		format  Format
		file    string // unknownBase + file for Properties
		environ []string
		key     string
		want    string // the whole error line
	}{
		{name: "flow key", file: "A->B.topic = orders\n", key: "A->B.topic",
			want: "A->B.topic (line 5): unknown key (did you mean A->B.topics?)"},
		{name: "flow key at the top level", file: "topic = orders\n", key: "topic",
			want: "topic (line 5): unknown key (did you mean topics?)"},
		{name: "flow key without its arrow", file: "A-B.topics = orders\n", key: "A-B.topics",
			want: "A-B.topics (line 5): unknown key (did you mean A->B.topics?)"},
		{name: "cluster key", file: "A.bootstrap.server = a:9093\n", key: "A.bootstrap.server",
			want: "A.bootstrap.server (line 5): unknown key (did you mean A.bootstrap.servers?)"},
		{name: "alias without its dot", file: "Ax.bootstrap.servers = a:9093\n", key: "Ax.bootstrap.servers",
			want: "Ax.bootstrap.servers (line 5): unknown key (did you mean A.bootstrap.servers?)"},
		{name: "worker key of a cluster", file: "B.group.idd = mm2\n", key: "B.group.idd",
			want: "B.group.idd (line 5): unknown key (did you mean B.group.id?)"},
		{name: "worker key at the top level", file: "group.idd = mm2\n", key: "group.idd",
			want: "group.idd (line 5): unknown key (did you mean group.id?)"},
		{name: "consumer key of a cluster", file: "A.consumer.max.poll.recordz = 5\n", key: "A.consumer.max.poll.recordz",
			want: "A.consumer.max.poll.recordz (line 5): unknown client key (did you mean A.consumer.max.poll.records?)"},
		{name: "producer key of a cluster", file: "B.producer.linger.mss = 5\n", key: "B.producer.linger.mss",
			want: "B.producer.linger.mss (line 5): unknown client key (did you mean B.producer.linger.ms?)"},
		{name: "side client key of a flow", file: "A->B.source.consumer.fetch.min.byte = 5\n", key: "A->B.source.consumer.fetch.min.byte",
			want: "A->B.source.consumer.fetch.min.byte (line 5): unknown client key (did you mean A->B.source.consumer.fetch.min.bytes?)"},
		{name: "REST TLS key", file: "listeners.https.ssl.keystore.locaton = /ks\n", key: "listeners.https.ssl.keystore.locaton",
			want: "listeners.https.ssl.keystore.locaton (line 5): unknown key (did you mean listeners.https.ssl.keystore.location?)"},
		{name: "nothing near", file: "\n# a comment\nfrobnicate = 1\n", key: "frobnicate",
			want: "frobnicate (line 7): unknown key"},
		{name: "yaml, flat", format: YAML, file: "clusters: A, B\nA.bootstrap.servers: a:9092\nB.bootstrap.servers: b:9092\nA->B.enabled: true\nA->B.topic: orders\n",
			key: "A->B.topic", want: "A->B.topic: unknown key (did you mean A->B.topics?)"},
		{name: "yaml, nested", format: YAML, file: "clusters: [A, B]\nA: {bootstrap.servers: a:9092}\nB: {bootstrap.servers: b:9092}\nA->B: {enabled: true, topic: orders}\n",
			key: "A->B.topic", want: "A->B.topic: unknown key (did you mean A->B.topics?)"},
		{name: "a variable overrides the key, which stays unknown", file: "A->B.topic = orders\n",
			environ: []string{"STRAIT_A_B_TOPIC=payments", "STRAIT_A_B_TOPICS=orders"}, key: "A->B.topic",
			want: "A->B.topic (line 5): unknown key (did you mean A->B.topics?)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file
			if tc.format == Properties {
				file = unknownBase + file
			}
			_, _, err := Parse([]byte(file), tc.format, tc.environ)
			if got := defaultsErrKeys(err); len(got) != 1 || got[0] != tc.key {
				t.Fatalf("error keys %q, want [%q] (%v)", got, tc.key, err)
			}
			if !strings.Contains(err.Error(), "\n  "+tc.want+"\n") && !strings.HasSuffix(err.Error(), "\n  "+tc.want) {
				t.Errorf("error:\n%v\nwant the line %q", err, tc.want)
			}
			cfg, warnings, err := Parse([]byte(file), tc.format, tc.environ, AllowUnknownKeys())
			if err != nil {
				t.Fatalf("AllowUnknownKeys: %v", err)
			}
			if !strings.Contains(strings.Join(warnings, "\n"), "unknown") || !strings.Contains(strings.Join(warnings, "\n"), `"`+tc.key+`" ignored`) {
				t.Errorf("AllowUnknownKeys: warnings %q, want one for %s", warnings, tc.key)
			}
			if f, ok := cfg.Flow("A", "B"); !ok || tc.environ == nil && !f.Topics.Replicate("anything") {
				t.Errorf("AllowUnknownKeys: the unknown key changed the flow A->B (%v)", ok)
			}
		})
	}
}

// TestKnownKeysWithoutEffectStayWarnings: keys of MM2, Connect, the Java
// client or the broker that Strait accepts without using are no errors.
func TestKnownKeysWithoutEffectStayWarnings(t *testing.T) {
	for _, tc := range []struct{ line, warn string }{
		{"consumer.max.poll.records = 5", `key "consumer.max.poll.records" ignored: at the top level it reaches no client`},
		{"A->B.consumer.override.fetch.min.bytes = 5", `key "A->B.consumer.override.fetch.min.bytes" ignored`},
		{"A.consumer.linger.ms = 5", `key "A.consumer.linger.ms" ignored: it is not a consumer setting`},
		{"A.auto.create.topics.enable = false", `key "A.auto.create.topics.enable" ignored: it is a broker setting`},
		{"default.replication.factor = 3", `key "default.replication.factor" ignored: it is a broker setting`},
		{"plugin.path = /opt/connectors", ""},
		{"B.topic.creation.enable = true", ""},
		{"refresh.groups.enabled = false", ""},
		{"A.consumer.enable.auto.commit = false", ""},
		{"key.converter = org.apache.kafka.connect.converters.ByteArrayConverter", ""},
	} {
		_, warnings, err := Parse([]byte(unknownBase+tc.line+"\n"), Properties, nil)
		if err != nil {
			t.Errorf("%s: %v", tc.line, err)
			continue
		}
		all := strings.Join(warnings, "\n")
		if tc.warn == "" && len(warnings) > 0 || tc.warn != "" && !strings.Contains(all, tc.warn) {
			t.Errorf("%s: warnings %q, want %q", tc.line, warnings, tc.warn)
		}
	}
}

// TestAllowUnknownKeysSurvivesFlowSettings: a configuration read with
// AllowUnknownKeys keeps accepting its file's unknown keys when a REST
// change rebuilds it.
func TestAllowUnknownKeysSurvivesFlowSettings(t *testing.T) {
	cfg, _, err := Parse([]byte(unknownBase+"other.tool.setting = 1\n"), Properties, nil, AllowUnknownKeys())
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.WithFlowSettings("A", "B", map[string]string{"tasks.max": "3"})
	if err != nil {
		t.Fatalf("WithFlowSettings: %v", err)
	}
	if f, _ := got.Flow("A", "B"); f.TasksMax != 3 {
		t.Errorf("tasks.max = %d, want 3", f.TasksMax)
	}
}

// TestDuplicateKeysWarn: a key set twice in a properties file is warned
// about with both lines; the later wins, as in Java's Properties.
func TestDuplicateKeysWarn(t *testing.T) {
	file := unknownBase + "A->B.topics = orders\n# changed later\nA->B.topics = payments\ntasks.max = 2\ntasks.max = 3\ntasks.max = 4\n"
	cfg, warnings, err := Parse([]byte(file), Properties, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"A->B.topics: set on line 5 and again on line 7; line 7 wins",
		"tasks.max: set on line 8 and again on line 9; line 9 wins",
		"tasks.max: set on line 9 and again on line 10; line 10 wins",
	}
	if strings.Join(warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings %q, want %q", warnings, want)
	}
	f, _ := cfg.Flow("A", "B")
	if !f.Topics.Replicate("payments") || f.Topics.Replicate("orders") || f.TasksMax != 4 {
		t.Errorf("the later lines do not win: topics payments %v, orders %v, tasks.max %d", f.Topics.Replicate("payments"), f.Topics.Replicate("orders"), f.TasksMax)
	}
	// A continued line counts from its first line; an escaped key is the
	// same key.
	_, warnings, err = Parse([]byte(unknownBase+"A->B.topics = a, \\\n  b\nA->B.top\\u0069cs = c\n"), Properties, nil)
	if err != nil || len(warnings) != 1 || warnings[0] != "A->B.topics: set on line 5 and again on line 7; line 7 wins" {
		t.Errorf("continued and escaped: %q %v", warnings, err)
	}
}
