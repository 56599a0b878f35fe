package configs

import (
	"strings"
)

// classKey is a key whose value names Java code that would change what is
// replicated or how. Strait has no JVM: it honours the classes MM2 ships by
// default (and the alternatives listed), and refuses any other value naming
// the key and what to use instead, rather than replicate something else
// than the operator asked for.
type classKey struct {
	accepted []string // fully qualified class names; the simple name is accepted too
	advice   string
}

var classKeys = map[string]classKey{
	"topic.filter.class": {
		accepted: []string{"org.apache.kafka.connect.mirror.DefaultTopicFilter"},
		advice:   "express the filter with topics and topics.exclude (regular expressions in Java's syntax, look-around included)",
	},
	"group.filter.class": {
		accepted: []string{"org.apache.kafka.connect.mirror.DefaultGroupFilter"},
		advice:   "express the filter with groups and groups.exclude (regular expressions in Java's syntax, look-around included)",
	},
	"config.property.filter.class": {
		accepted: []string{"org.apache.kafka.connect.mirror.DefaultConfigPropertyFilter"},
		advice:   "list the topic configs not to copy in config.properties.exclude",
	},
	KeyReplicationPolicyClass: {
		accepted: []string{DefaultPolicyClass, IdentityPolicyClass},
		advice:   "use DefaultReplicationPolicy (with replication.policy.separator) or IdentityReplicationPolicy",
	},
	"forwarding.admin.class": {
		accepted: []string{"org.apache.kafka.clients.admin.ForwardingAdmin"},
		advice:   "remove it: Strait creates topics and ACLs through the target's admin API itself",
	},
	"key.converter": {
		accepted: []string{"org.apache.kafka.connect.converters.ByteArrayConverter"},
		advice:   "remove it: Strait copies keys, values and headers as bytes, as MM2 does with ByteArrayConverter",
	},
	"value.converter": {
		accepted: []string{"org.apache.kafka.connect.converters.ByteArrayConverter"},
		advice:   "remove it: Strait copies keys, values and headers as bytes, as MM2 does with ByteArrayConverter",
	},
	"header.converter": {
		accepted: []string{"org.apache.kafka.connect.converters.ByteArrayConverter"},
		advice:   "remove it: Strait copies keys, values and headers as bytes, as MM2 does with ByteArrayConverter",
	},
	"transforms": {
		advice: "Strait copies records unchanged: single message transforms cannot run; remove transforms (and its transforms.* keys)",
	},
	"predicates": {
		advice: "Strait copies records unchanged: predicates of single message transforms cannot run",
	},
	"interceptor.classes": {
		advice: "client interceptors cannot run in Strait (no JVM); remove the key",
	},
}

// checkClass reports whether k is a class key; if so it checks v and
// reports a refused value under full. k is the key within its scope, with a
// client prefix ("consumer.interceptor.classes") as written.
func (b *builder) checkClass(full, k, v string) bool {
	name := k
	for _, p := range []string{"producer.override.", "consumer.override.", "admin.override.", PrefixConsumer, PrefixProducer, PrefixAdmin} {
		name = strings.TrimPrefix(name, p)
	}
	ck, ok := classKeys[name]
	if !ok {
		return false
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return true
	}
	for _, a := range ck.accepted {
		if v == a || v == a[strings.LastIndex(a, ".")+1:] {
			return true
		}
	}
	if len(ck.accepted) == 0 {
		b.fail(full, "%s", ck.advice)
	} else {
		b.fail(full, "%q cannot run in Strait (it has no JVM): %s", v, ck.advice)
	}
	return true
}
