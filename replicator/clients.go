package replicator

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/configs"
)

// ClientOpts are the options every client of cluster c shares: seeds,
// client id (role, after the cluster's own client.id), TLS and SASL.
// The TLS stores were read when the configuration was parsed.
func ClientOpts(c configs.Cluster, role string) ([]kgo.Opt, error) {
	id := role
	if c.ClientID != "" {
		id = c.ClientID + "|" + role
	}
	opts := []kgo.Opt{kgo.SeedBrokers(c.BootstrapServers...), kgo.ClientID(id)}
	s := c.Security
	if s.TLS() {
		opts = append(opts, kgo.DialTLSConfig(s.TLSConfig.Clone()))
	}
	if s.SASL() {
		m, err := saslMechanism(s.SASLConfig)
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", c.Alias, err)
		}
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// consumerSettings is what the Java consumer properties of a flow say.
type consumerSettings struct {
	opts           []kgo.Opt
	readCommitted  bool
	startAtEnd     bool // auto.offset.reset=latest for partitions with no position
	maxPollRecords int
}

// consumerOpts translates Java consumer properties to kgo options. Keys
// Strait does not map are returned as warnings; bad values are errors
// naming the key.
func consumerOpts(props map[string]string) (consumerSettings, []string, error) {
	s := consumerSettings{readCommitted: true, maxPollRecords: 10000}
	var warnings []string
	for _, k := range sortedKeys(props) {
		v := props[k]
		bad := func(err error) error { return fmt.Errorf("consumer.%s = %q: %w", k, v, err) }
		switch k {
		case "fetch.max.bytes", "max.partition.fetch.bytes", "fetch.min.bytes":
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil || n < 1 {
				return s, nil, bad(fmt.Errorf("not a positive integer"))
			}
			switch k {
			case "fetch.max.bytes":
				s.opts = append(s.opts, kgo.FetchMaxBytes(int32(n)))
			case "max.partition.fetch.bytes":
				s.opts = append(s.opts, kgo.FetchMaxPartitionBytes(int32(n)))
			default:
				s.opts = append(s.opts, kgo.FetchMinBytes(int32(n)))
			}
		case "fetch.max.wait.ms":
			d, err := millis(v)
			if err != nil {
				return s, nil, bad(err)
			}
			s.opts = append(s.opts, kgo.FetchMaxWait(d))
		case "max.poll.records":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return s, nil, bad(fmt.Errorf("not a positive integer"))
			}
			s.maxPollRecords = n
		case "isolation.level":
			switch strings.ToLower(v) {
			case "read_committed":
			case "read_uncommitted":
				s.readCommitted = false
			default:
				return s, nil, bad(fmt.Errorf("not read_committed or read_uncommitted"))
			}
		case "auto.offset.reset":
			switch strings.ToLower(v) {
			case "earliest":
			case "latest":
				s.startAtEnd = true
			default:
				return s, nil, bad(fmt.Errorf("not earliest or latest"))
			}
		case "enable.auto.commit", "group.id", "key.deserializer", "value.deserializer", "client.id":
			// Strait never commits on the source and reads bytes.
		default:
			warnings = append(warnings, fmt.Sprintf("consumer property %q is not supported and is ignored", k))
		}
	}
	return s, warnings, nil
}

// producerOpts translates Java producer properties to kgo options. The data
// producer is always idempotent with acks=all: a replicator that may lose
// or reorder records is not one.
func producerOpts(props map[string]string) ([]kgo.Opt, []string, error) {
	var opts []kgo.Opt
	var warnings []string
	for _, k := range sortedKeys(props) {
		v := props[k]
		bad := func(err error) error { return fmt.Errorf("producer.%s = %q: %w", k, v, err) }
		switch k {
		case "linger.ms":
			d, err := millis(v)
			if err != nil {
				return nil, nil, bad(err)
			}
			opts = append(opts, kgo.ProducerLinger(d))
		case "batch.size", "max.request.size":
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil || n < 1 {
				return nil, nil, bad(fmt.Errorf("not a positive integer"))
			}
			opts = append(opts, kgo.ProducerBatchMaxBytes(int32(n)))
		case "buffer.memory":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				return nil, nil, bad(fmt.Errorf("not a positive integer"))
			}
			opts = append(opts, kgo.MaxBufferedBytes(int(n)))
		case "compression.type":
			codec, ok := map[string]kgo.CompressionCodec{
				"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
				"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
			}[strings.ToLower(v)]
			if !ok {
				return nil, nil, bad(fmt.Errorf("not none, gzip, snappy, lz4 or zstd"))
			}
			opts = append(opts, kgo.ProducerBatchCompression(codec))
		case "acks":
			if v != "all" && v != "-1" {
				return nil, nil, bad(fmt.Errorf("Strait writes with acks=all only"))
			}
		case "enable.idempotence":
			if !strings.EqualFold(v, "true") {
				return nil, nil, bad(fmt.Errorf("Strait's producer is always idempotent"))
			}
		case "key.serializer", "value.serializer", "client.id":
		default:
			warnings = append(warnings, fmt.Sprintf("producer property %q is not supported and is ignored", k))
		}
	}
	return opts, warnings, nil
}

func millis(v string) (time.Duration, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not a non-negative number of milliseconds")
	}
	return time.Duration(n) * time.Millisecond, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// partitioner sends data records to the partition they carry and records of
// the state topics (keyed JSON) where Kafka's default partitioner would, so
// that MM2 and Strait agree on where each key lives.
func partitioner(stateTopics ...string) kgo.Partitioner {
	return kgo.BasicConsistentPartitioner(func(topic string) func(*kgo.Record, int) int {
		if slices.Contains(stateTopics, topic) {
			return kgo.StickyKeyPartitioner(nil).ForTopic(topic).Partition
		}
		return func(r *kgo.Record, _ int) int { return int(r.Partition) }
	})
}

// A task's memory is mostly records: fetched from the source and held until
// the target acknowledges them (the produced records are the fetched ones).
// Half of a task's budget goes to the producer's buffer, a quarter to the
// fetch responses (two in flight or buffered at most); the rest is
// headroom for the runtime.
func budgetProducerOpts(budget int64) []kgo.Opt {
	return []kgo.Opt{kgo.MaxBufferedBytes(int(max(budget/2, 1<<20)))}
}

func budgetConsumerOpts(budget int64) []kgo.Opt {
	// At most kgo's default (50 MiB): larger fetches gain nothing and a
	// broker may refuse them.
	fetch := int32(min(max(budget/8, 1<<20), 50<<20))
	return []kgo.Opt{kgo.FetchMaxBytes(fetch), kgo.FetchMaxPartitionBytes(min(fetch, 1<<20)), kgo.MaxConcurrentFetches(2)}
}
