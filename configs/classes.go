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
		// Strimzi's own identity policy predates Kafka's (KIP-690) and names
		// remote topics the same way.
		accepted: []string{DefaultPolicyClass, IdentityPolicyClass, "io.strimzi.kafka.connect.mirror.IdentityReplicationPolicy"},
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

// noEffectKeys are MM2 and Connect keys Strait accepts, with any value, that
// cannot change what it does here; the README's key table gives each reason.
var noEffectKeys = map[string]string{
	KeyRefreshGroupsEnabled:               "groups are listed at every checkpoint emission (emit.checkpoints.interval.seconds), so new groups are seen sooner than MM2 sees them",
	KeyRefreshGroupsInterval:              "groups are listed at every checkpoint emission (emit.checkpoints.interval.seconds)",
	KeyConsumerPollTimeout:                "a source task waits on its fetches, not on a poll timer, so the value changes nothing",
	"use.incremental.alter.configs":       "topic configs are always synced with IncrementalAlterConfigs (Kafka 2.3+), as MM2's default (requested) does on such brokers",
	"add.source.alias.to.metrics":         "metrics always carry source and target attributes",
	"tasks.max.enforce":                   "a flow never runs more tasks than tasks.max",
	"config.action.reload":                "config providers are read at start and at each REST change",
	"errors.tolerance":                    "a record the target refuses stops its partition, visibly: Strait never skips records",
	"errors.retry.timeout":                "failed tasks are retried with Strait's backoff (0.5 s to 30 s)",
	"errors.retry.delay.max.ms":           "failed tasks are retried with Strait's backoff (0.5 s to 30 s)",
	"errors.log.enable":                   "failures are logged always",
	"errors.log.include.messages":         "record contents are never logged",
	"metric.reporters":                    "metrics are OpenTelemetry's, exported for Prometheus at /metrics",
	"auto.include.jmx.reporter":           "there is no JMX; metrics are at /metrics",
	"dedicated.mode.enable.internal.rest": "workers always reach each other through listeners when it is set",
	"offset.flush.timeout.ms":             "positions are written as records are acknowledged; a stop flushes what was acknowledged",
	"scheduled.rebalance.max.delay.ms":    "tasks of a worker that left move after session.timeout.ms, without Connect's extra delay",
	"connect.protocol":                    "workers use Strait's own cooperative protocol (type strait)",
	"task.shutdown.graceful.timeout.ms":   "a stopping task flushes what was acknowledged and stops",
	"worker.sync.timeout.ms":              "workers apply configs from the configs topic as they arrive",
	"worker.unsync.backoff.ms":            "workers apply configs from the configs topic as they arrive",
	"name":                                "connector names are <source>.<target>.<Class>",
	"connector.class":                     "a flow's connectors are MM2's three",
	"exactly.once.support":                "exactly-once is the worker's exactly.once.source.support",
	"admin.listeners":                     "Strait serves no /admin endpoints (log levels are set with --log-level)",
	"plugin.path":                         "Strait loads no Connect plugins: MM2's connectors are built in",
	"topic.creation.enable":               "MM2's connectors create remote topics themselves (with replication.factor), not through Connect's topic.creation.* groups",
}

// brokerKeys are Kafka broker keys that MM2 files copied from a broker's
// configuration carry ("A.auto.create.topics.enable"): no client reads
// them, in MM2 or Strait, so they are warned about as ignored rather than
// refused as unknown.
var brokerKeys = map[string]bool{
	"auto.create.topics.enable": true, "default.replication.factor": true, "offset.metadata.max.bytes": true,
}

// checkFlowAliases refuses source.cluster.alias and target.cluster.alias
// (top level or per flow) that differ from the flow's own: MM2 keeps them
// in the connector config and then names remote topics, and detects
// cycles, with them; Strait names everything after the flow's aliases.
func (b *builder) checkFlowAliases(s, t string) {
	for _, key := range [][2]string{{"source.cluster.alias", s}, {"target.cluster.alias", t}} {
		where, v, ok := key[0], "", false
		if v, ok = b.sc.flows[[2]string{s, t}][key[0]]; ok {
			where = s + "->" + t + "." + key[0]
		} else {
			v, ok = b.sc.top[key[0]]
		}
		if ok && strings.TrimSpace(v) != key[1] {
			b.fail(where, "%q differs from the flow %s->%s's alias %q: MM2 would name remote topics and detect cycles with it, Strait names them after the flow; remove the key (for remote topics named as on the source, use replication.policy.class = IdentityReplicationPolicy)", v, s, t, key[1])
		}
	}
}
