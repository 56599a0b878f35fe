package configs

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Role is the job of a Kafka client Strait creates; it decides which Java
// client keys apply.
type Role int

const (
	// RoleConsumer reads records: the source consumer, the offset-syncs
	// and checkpoints readers.
	RoleConsumer Role = iota
	// RoleProducer writes records: the data producer, the offset-syncs
	// producer.
	RoleProducer
	// RoleAdmin manages topics, configs, ACLs and group offsets.
	RoleAdmin
)

func (r Role) prefix() string {
	return [...]string{PrefixConsumer, PrefixProducer, PrefixAdmin}[r]
}

// Client is what the Java client keys of one client say, validated and
// typed. A zero duration or size means franz-go's default.
type Client struct {
	// RequestTimeout is request.timeout.ms: how long a request may wait for
	// its response; for producers also the produce request's timeout.
	RequestTimeout time.Duration
	// APITimeout is default.api.timeout.ms: how long a request is retried.
	APITimeout time.Duration
	// MetadataMaxAge is metadata.max.age.ms.
	MetadataMaxAge time.Duration
	// ConnIdleTimeout is connections.max.idle.ms.
	ConnIdleTimeout time.Duration
	// DialTimeout is socket.connection.setup.timeout.ms.
	DialTimeout time.Duration
	// RetryBackoff and RetryBackoffMax are retry.backoff.ms and
	// retry.backoff.max.ms: the first and the longest pause between retries.
	RetryBackoff, RetryBackoffMax time.Duration
	// Rack is client.rack: consumers fetch from the nearest replica in the
	// same rack (KIP-392) where the brokers allow it.
	Rack string

	// Consumers.

	// FetchMinBytes, FetchMaxBytes and MaxPartitionFetchBytes are
	// fetch.min.bytes, fetch.max.bytes and max.partition.fetch.bytes.
	FetchMinBytes, FetchMaxBytes, MaxPartitionFetchBytes int32
	// FetchMaxWait is fetch.max.wait.ms; nil when unset.
	FetchMaxWait *time.Duration
	// MaxPollRecords is max.poll.records: the most records one poll of a
	// source task takes (Strait's default 10000).
	MaxPollRecords int
	// ReadUncommitted is isolation.level = read_uncommitted: aborted
	// source transactions are copied too (MM2's behaviour).
	ReadUncommitted bool
	// StartAtEnd is auto.offset.reset = latest: a partition with no stored
	// position starts at its end instead of its start.
	StartAtEnd bool

	// Producers.

	// Linger is linger.ms; nil when unset.
	Linger *time.Duration
	// BatchMaxBytes is batch.size, else max.request.size.
	BatchMaxBytes int32
	// MaxBufferedBytes is buffer.memory.
	MaxBufferedBytes int64
	// Compression is compression.type (none, gzip, snappy, lz4, zstd);
	// empty when unset. CompressionLevel is compression.<type>.level; nil
	// when unset.
	Compression      string
	CompressionLevel *int
	// TransactionTimeout is transaction.timeout.ms (exactly-once).
	TransactionTimeout time.Duration
}

// clientKey says how one Java client key is read and for which roles.
type clientKey struct {
	roles []Role // empty: every role
	// set stores a value; it returns a problem, or "".
	set func(c *Client, v string) string
}

func durationKey(field func(*Client) *time.Duration) func(*Client, string) string {
	return func(c *Client, v string) string {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 0 || n > math.MaxInt64/int64(time.Millisecond) {
			return fmt.Sprintf("%q is not a non-negative number of milliseconds", v)
		}
		*field(c) = time.Duration(n) * time.Millisecond
		return ""
	}
}

func bytesKey(field func(*Client) *int32) func(*Client, string) string {
	return func(c *Client, v string) string {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil || n < 1 {
			return fmt.Sprintf("%q is not a positive number of bytes", v)
		}
		*field(c) = int32(n)
		return ""
	}
}

var (
	consumerOnly = []Role{RoleConsumer}
	producerOnly = []Role{RoleProducer}
)

// clientSettings are the Java client keys franz-go has a counterpart for.
var clientSettings = map[string]clientKey{
	"request.timeout.ms":                 {set: durationKey(func(c *Client) *time.Duration { return &c.RequestTimeout })},
	"default.api.timeout.ms":             {set: durationKey(func(c *Client) *time.Duration { return &c.APITimeout })},
	"metadata.max.age.ms":                {set: durationKey(func(c *Client) *time.Duration { return &c.MetadataMaxAge })},
	"connections.max.idle.ms":            {set: durationKey(func(c *Client) *time.Duration { return &c.ConnIdleTimeout })},
	"socket.connection.setup.timeout.ms": {set: durationKey(func(c *Client) *time.Duration { return &c.DialTimeout })},
	"retry.backoff.ms":                   {set: durationKey(func(c *Client) *time.Duration { return &c.RetryBackoff })},
	"retry.backoff.max.ms":               {set: durationKey(func(c *Client) *time.Duration { return &c.RetryBackoffMax })},
	"client.rack": {set: func(c *Client, v string) string {
		c.Rack = strings.TrimSpace(v)
		return ""
	}},

	"fetch.min.bytes":           {roles: consumerOnly, set: bytesKey(func(c *Client) *int32 { return &c.FetchMinBytes })},
	"fetch.max.bytes":           {roles: consumerOnly, set: bytesKey(func(c *Client) *int32 { return &c.FetchMaxBytes })},
	"max.partition.fetch.bytes": {roles: consumerOnly, set: bytesKey(func(c *Client) *int32 { return &c.MaxPartitionFetchBytes })},
	"fetch.max.wait.ms": {roles: consumerOnly, set: func(c *Client, v string) string {
		var d time.Duration
		if p := durationKey(func(*Client) *time.Duration { return &d })(c, v); p != "" {
			return p
		}
		c.FetchMaxWait = &d
		return ""
	}},
	"max.poll.records": {roles: consumerOnly, set: func(c *Client, v string) string {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return fmt.Sprintf("%q is not a positive integer", v)
		}
		c.MaxPollRecords = n
		return ""
	}},
	"isolation.level": {roles: consumerOnly, set: func(c *Client, v string) string {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "read_committed":
			c.ReadUncommitted = false
		case "read_uncommitted":
			c.ReadUncommitted = true
		default:
			return fmt.Sprintf("%q is not read_committed or read_uncommitted", v)
		}
		return ""
	}},
	"auto.offset.reset": {roles: consumerOnly, set: func(c *Client, v string) string {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "earliest":
			c.StartAtEnd = false
		case "latest":
			c.StartAtEnd = true
		case "none":
			return `"none" is not supported: a partition with no position starts at its start (earliest) or end (latest); lost records are governed by data.loss.policy`
		default:
			return fmt.Sprintf("%q is not earliest or latest", v)
		}
		return ""
	}},
	"check.crcs": {roles: consumerOnly, set: func(c *Client, v string) string {
		if !strings.EqualFold(strings.TrimSpace(v), "true") {
			return "Strait always checks record CRCs"
		}
		return ""
	}},

	"linger.ms": {roles: producerOnly, set: func(c *Client, v string) string {
		var d time.Duration
		if p := durationKey(func(*Client) *time.Duration { return &d })(c, v); p != "" {
			return p
		}
		c.Linger = &d
		return ""
	}},
	"batch.size": {roles: producerOnly, set: bytesKey(func(c *Client) *int32 { return &c.BatchMaxBytes })},
	"max.request.size": {roles: producerOnly, set: func(c *Client, v string) string { // batch.size wins: read at the end
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32); err != nil || n < 1 {
			return fmt.Sprintf("%q is not a positive number of bytes", v)
		}
		return ""
	}},
	"buffer.memory": {roles: producerOnly, set: func(c *Client, v string) string {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 1 {
			return fmt.Sprintf("%q is not a positive number of bytes", v)
		}
		c.MaxBufferedBytes = n
		return ""
	}},
	"compression.type": {roles: producerOnly, set: func(c *Client, v string) string {
		v = strings.ToLower(strings.TrimSpace(v))
		if !slices.Contains([]string{"none", "gzip", "snappy", "lz4", "zstd"}, v) {
			return fmt.Sprintf("%q is not none, gzip, snappy, lz4 or zstd", v)
		}
		c.Compression = v
		return ""
	}},
	"compression.gzip.level": {roles: producerOnly, set: levelKey("gzip")},
	"compression.lz4.level":  {roles: producerOnly, set: levelKey("lz4")},
	"compression.zstd.level": {roles: producerOnly, set: levelKey("zstd")},
	"max.in.flight.requests.per.connection": {roles: producerOnly, set: func(c *Client, v string) string {
		// franz-go's idempotent producer keeps up to 5 requests in flight
		// per broker, Java's most with idempotence: the key only checks.
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err != nil || n < 1 || n > 5 {
			return fmt.Sprintf("%q is not between 1 and 5 (the producer is idempotent)", v)
		}
		return ""
	}},
	"transaction.timeout.ms": {roles: producerOnly, set: durationKey(func(c *Client) *time.Duration { return &c.TransactionTimeout })},
	"acks": {roles: producerOnly, set: func(c *Client, v string) string {
		if v = strings.TrimSpace(v); v != "all" && v != "-1" {
			return "Strait writes with acks=all only: anything less can lose acknowledged records"
		}
		return ""
	}},
	"enable.idempotence": {roles: producerOnly, set: func(c *Client, v string) string {
		if !strings.EqualFold(strings.TrimSpace(v), "true") {
			return "Strait's producer is always idempotent: without it a retry can duplicate or reorder records"
		}
		return ""
	}},
}

// levelKey reads compression.<codec>.level (KIP-390); it applies when
// compression.type is codec.
func levelKey(codec string) func(*Client, string) string {
	return func(c *Client, v string) string {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Sprintf("%q is not an integer", v)
		}
		if c.Compression == codec || c.Compression == "" {
			c.CompressionLevel = &n
		}
		return ""
	}
}

// clientNoEffect are Java client keys Strait accepts with any valid value
// because they cannot change what it does: the README's table lists each
// with its reason. Keys that only make sense for a client with a group,
// serializers (Strait copies bytes) and JVM or JMX settings.
var clientNoEffect = map[string]string{
	"client.id":                                "Strait builds client ids as MM2 does: <client.id>|<flow>|<role>",
	"client.dns.lookup":                        "Go's resolver tries every address of a name (use_all_dns_ips)",
	"send.buffer.bytes":                        "the operating system sizes socket buffers",
	"receive.buffer.bytes":                     "the operating system sizes socket buffers",
	"reconnect.backoff.ms":                     "reconnections follow retry.backoff.ms",
	"reconnect.backoff.max.ms":                 "reconnections follow retry.backoff.max.ms",
	"metrics.sample.window.ms":                 "metrics are OpenTelemetry's, exported at /metrics",
	"metrics.num.samples":                      "metrics are OpenTelemetry's, exported at /metrics",
	"metrics.recording.level":                  "metrics are OpenTelemetry's, exported at /metrics",
	"metric.reporters":                         "metrics are OpenTelemetry's, exported at /metrics",
	"auto.include.jmx.reporter":                "there is no JMX",
	"enable.metrics.push":                      "metrics are OpenTelemetry's, exported at /metrics",
	"key.deserializer":                         "records are copied as bytes",
	"value.deserializer":                       "records are copied as bytes",
	"key.serializer":                           "records are copied as bytes",
	"value.serializer":                         "records are copied as bytes",
	"enable.auto.commit":                       "the source consumer commits nothing on the source (as MM2 forces)",
	"auto.commit.interval.ms":                  "the source consumer commits nothing on the source",
	"group.id":                                 "the source consumer reads assigned partitions, without a group",
	"group.instance.id":                        "the source consumer has no group",
	"group.protocol":                           "the source consumer has no group",
	"session.timeout.ms":                       "the source consumer has no group (workers' own session.timeout.ms is a worker key)",
	"heartbeat.interval.ms":                    "the source consumer has no group",
	"max.poll.interval.ms":                     "the source consumer has no group",
	"partition.assignment.strategy":            "the source consumer has no group",
	"exclude.internal.topics":                  "internal topics are never replicated (topics.exclude and the policy decide)",
	"allow.auto.create.topics":                 "Strait never creates topics by fetching or producing",
	"delivery.timeout.ms":                      "records keep their source timestamps, from which franz-go would count a delivery timeout: Strait retries until the target acknowledges, and a task that cannot write fails visibly",
	"retries":                                  "Strait retries until the target acknowledges: a bounded number of retries would drop records",
	"max.block.ms":                             "a full buffer makes the copy wait (memory.max.bytes)",
	"partitioner.class":                        "every record goes to its source partition",
	"partitioner.ignore.keys":                  "every record goes to its source partition",
	"partitioner.adaptive.partitioning.enable": "every record goes to its source partition",
	"partitioner.availability.timeout.ms":      "every record goes to its source partition",
	"transactional.id":                         "exactly-once tasks use Connect's ids, <group.id>-MirrorSourceConnector-<task>",
	"metadata.max.idle.ms":                     "franz-go keeps metadata of the topics it writes",
	"security.providers":                       "TLS is Go's",
}

// clientScope is one place client keys are read from: the keys of a scope
// that start with prefix, reported as wherePrefix+key.
type clientScope struct {
	kv          map[string]string
	prefix      string
	wherePrefix string
}

// client reads the settings of a client with role from scopes, later
// scopes winning, over the common client keys of its cluster. Unknown keys
// fail (see builder.unknown), as do values Strait cannot honour. A connection key
// (security.protocol, ssl.*, sasl.*, bootstrap.servers) set for one client
// must agree with its cluster's (get): Strait connects once per cluster.
func (b *builder) client(role Role, cluster Client, get lookupFunc, scopes ...clientScope) Client {
	type kv struct{ v, where string }
	merged := map[string]kv{}
	for _, sc := range scopes {
		for k, v := range sc.kv {
			rest, ok := strings.CutPrefix(k, sc.prefix)
			if _, flowKey := flowKeys[k]; flowKey { // consumer.poll.timeout.ms, admin.timeout.ms
				continue
			}
			if ok && !strings.HasPrefix(rest, "override.") {
				merged[rest] = kv{v, sc.wherePrefix + k}
			}
		}
	}
	c := cluster
	keys := make([]string, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	// compression.type first: a compression.<codec>.level applies only
	// when it names the chosen codec.
	slices.SortFunc(keys, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "compression.type":
			return -1
		case b == "compression.type":
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, k := range keys {
		e := merged[k]
		if spec, ok := clientSettings[k]; ok {
			if len(spec.roles) > 0 && !slices.Contains(spec.roles, role) {
				b.warnOnce(fmt.Sprintf("key %q ignored: it is not a %s setting", e.where, strings.TrimSuffix(role.prefix(), ".")))
				continue
			}
			if p := spec.set(&c, e.v); p != "" {
				b.fail(e.where, "%s", p)
			}
			continue
		}
		if _, ok := clientNoEffect[k]; ok {
			continue
		}
		if b.checkClass(e.where, k, e.v) { // interceptor.classes, ...: refused with their advice
			continue
		}
		if _, ok := clientKeys[k]; ok || strings.HasPrefix(k, "ssl.") || strings.HasPrefix(k, "sasl.") {
			if v, where := get(k); strings.TrimSpace(v) != strings.TrimSpace(e.v) {
				b.fail(e.where, "differs from %s: Strait connects to a cluster with one set of connection settings; set %s only", where, where)
			}
			continue
		}
		b.unknownKind("client key", e.where, withPrefix(strings.TrimSuffix(e.where, k), Nearest(k, clientKeyNames())))
	}
	if c.BatchMaxBytes == 0 {
		if e, ok := merged["max.request.size"]; ok {
			bytesKey(func(c *Client) *int32 { return &c.BatchMaxBytes })(&c, e.v)
		}
	}
	b.clamp(&c, func(k string) string {
		if e, ok := merged[k]; ok {
			return e.where
		}
		return k
	})
	return c
}

// clamp brings settings that Java takes but franz-go's client refuses into
// franz-go's range, with a warning naming the key: a tuning value should not
// stop a configuration that runs under MM2.
func (b *builder) clamp(c *Client, where func(key string) string) {
	durs := []struct {
		key    string
		d      *time.Duration
		lo, hi time.Duration
	}{
		{"request.timeout.ms", &c.RequestTimeout, 100 * time.Millisecond, 15 * time.Minute},
		{"connections.max.idle.ms", &c.ConnIdleTimeout, 100 * time.Millisecond, 15 * time.Minute},
		{"metadata.max.age.ms", &c.MetadataMaxAge, 10 * time.Millisecond, time.Hour},
		{"fetch.max.wait.ms", c.FetchMaxWait, 10 * time.Millisecond, 0},
		{"linger.ms", c.Linger, 0, time.Minute},
	}
	for _, d := range durs {
		if d.d == nil || *d.d == 0 && d.key != "fetch.max.wait.ms" {
			continue
		}
		was := *d.d
		if *d.d < d.lo {
			*d.d = d.lo
		}
		if d.hi > 0 && *d.d > d.hi {
			*d.d = d.hi
		}
		if *d.d != was {
			b.warnOnce(fmt.Sprintf("%s = %d is outside what the client allows: %d is used", where(d.key), was.Milliseconds(), d.d.Milliseconds()))
		}
	}
	if c.BatchMaxBytes != 0 && c.BatchMaxBytes < 512 {
		b.warnOnce(fmt.Sprintf("%s = %d is below what the client allows: 512 is used", where("batch.size"), c.BatchMaxBytes))
		c.BatchMaxBytes = 512
	}
}

// warnOnce adds a warning unless it is already there: a key read by
// several clients is reported once.
func (b *builder) warnOnce(msg string) {
	if !slices.Contains(b.warnings, msg) {
		b.warnings = append(b.warnings, msg)
	}
}

// clusterClient reads the common client keys set for a whole cluster
// ("A.request.timeout.ms"): they apply to every client of the cluster.
func (b *builder) clusterClient(alias string) Client {
	var c Client
	for k, v := range b.sc.clusters[alias] {
		if spec, ok := clientSettings[k]; ok && len(spec.roles) == 0 {
			if p := spec.set(&c, v); p != "" {
				b.fail(alias+"."+k, "%s", p)
			}
		}
	}
	b.clamp(&c, func(k string) string { return alias + "." + k })
	return c
}

// isClientKey reports whether k, unprefixed, is a Java client key Strait
// knows (applied or without effect).
func isClientKey(k string) bool {
	_, applied := clientSettings[k]
	_, noEffect := clientNoEffect[k]
	return applied || noEffect
}
