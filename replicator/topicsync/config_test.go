package topicsync

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-replicator/strait/policy"
)

func cfg(key, value string, source kmsg.ConfigSource) kadm.Config {
	return kadm.Config{Key: key, Value: &value, Source: source}
}

const (
	dyn  = kmsg.ConfigSourceDynamicTopicConfig
	def  = kmsg.ConfigSourceDefaultConfig
	stat = kmsg.ConfigSourceStaticBrokerConfig
)

func describe(alters []kadm.AlterConfig) string {
	s := ""
	for _, a := range alters {
		if a.Op == kadm.SetConfig {
			s += fmt.Sprintf("set %s=%s;", a.Name, *a.Value)
		} else {
			s += fmt.Sprintf("delete %s;", a.Name)
		}
	}
	return s
}

func TestCreateConfigs(t *testing.T) {
	exclude, _ := policy.NewFilter(nil, []string{`min\.insync\.replicas`})
	secret := kadm.Config{Key: "sasl.secret", Sensitive: true, Source: dyn}
	// A sensitive value the broker did show, and a value it hid without
	// calling it sensitive, are not copied either.
	shown := cfg("ssl.key.password", "hunter2", dyn)
	shown.Sensitive = true
	hidden := kadm.Config{Key: "cleanup.policy", Source: dyn}
	got := createConfigs([]kadm.Config{
		cfg("retention.ms", "1000", dyn),
		cfg("min.insync.replicas", "2", dyn),
		cfg("segment.bytes", "1073741824", def),
		cfg("log.dirs", "/x", stat),
		secret, shown, hidden,
	}, exclude)
	if len(got) != 1 || *got["retention.ms"] != "1000" {
		t.Errorf("got %v", got)
	}
}

func TestConfigChanges(t *testing.T) {
	exclude, _ := policy.NewFilter(nil, []string{`min\.insync\.replicas`})
	tests := []struct {
		name       string
		src, tgt   []kadm.Config
		fromSource bool
		want       string
	}{
		{"in sync", []kadm.Config{cfg("retention.ms", "1", dyn)}, []kadm.Config{cfg("retention.ms", "1", dyn)}, false, ""},
		{"changed", []kadm.Config{cfg("retention.ms", "2", dyn)}, []kadm.Config{cfg("retention.ms", "1", dyn)}, false, "set retention.ms=2;"},
		{"new override", []kadm.Config{cfg("retention.ms", "2", dyn)}, []kadm.Config{cfg("retention.ms", "2", def)}, false, "set retention.ms=2;"},
		{"reverted to default on source", []kadm.Config{cfg("retention.ms", "9", def)}, []kadm.Config{cfg("retention.ms", "1", dyn)}, false, "delete retention.ms;"},
		{"default both sides", []kadm.Config{cfg("retention.ms", "9", def)}, []kadm.Config{cfg("retention.ms", "8", def)}, false, ""},
		{"defaults from source", []kadm.Config{cfg("retention.ms", "9", def)}, []kadm.Config{cfg("retention.ms", "8", def)}, true, "set retention.ms=9;"},
		{"excluded never touched", []kadm.Config{cfg("min.insync.replicas", "2", dyn)}, []kadm.Config{cfg("min.insync.replicas", "1", dyn)}, false, ""},
		{"static broker config skipped", []kadm.Config{cfg("x", "2", stat)}, nil, false, ""},
		{"sorted", []kadm.Config{cfg("b", "1", dyn), cfg("a", "1", dyn)}, nil, false, "set a=1;set b=1;"},
		{"sorted, three", []kadm.Config{cfg("b", "1", dyn), cfg("c", "1", dyn), cfg("a", "1", dyn)}, nil, false, "set a=1;set b=1;set c=1;"},
		{"target value hidden", []kadm.Config{cfg("retention.ms", "2", dyn)}, []kadm.Config{{Key: "retention.ms", Source: dyn}}, false, "set retention.ms=2;"},
	}
	for _, tt := range tests {
		if got := describe(configChanges(tt.src, tt.tgt, exclude, tt.fromSource)); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
