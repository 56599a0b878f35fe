package replicator

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
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
	opts := append([]kgo.Opt{kgo.SeedBrokers(c.BootstrapServers...), kgo.ClientID(id)}, clientOpts(c.Client, configs.RoleAdmin)...)
	s := c.Security
	if s.TLS() {
		opts = append(opts, kgo.DialTLSConfig(s.TLSConfig.Clone()))
	}
	if s.SASL() {
		m, err := saslMechanism(s.SASLConfig, slog.Default())
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", c.Alias, err)
		}
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// consumerSettings is what a flow's source consumer keys say.
type consumerSettings struct {
	opts           []kgo.Opt
	readCommitted  bool
	startAtEnd     bool // auto.offset.reset=latest for partitions with no position
	maxPollRecords int
}

func newConsumerSettings(c configs.Client) consumerSettings {
	s := consumerSettings{opts: clientOpts(c, configs.RoleConsumer), readCommitted: !c.ReadUncommitted, startAtEnd: c.StartAtEnd, maxPollRecords: 10000}
	if c.MaxPollRecords > 0 {
		s.maxPollRecords = c.MaxPollRecords
	}
	return s
}

// clientOpts are the franz-go options of what a client's Java keys say
// (configs parsed and validated them); unset settings keep franz-go's
// defaults. The data producer is always idempotent with acks=all:
// configs refuses anything else.
func clientOpts(c configs.Client, role configs.Role) []kgo.Opt {
	var opts []kgo.Opt
	if c.RequestTimeout > 0 {
		opts = append(opts, kgo.RequestTimeoutOverhead(c.RequestTimeout))
		if role == configs.RoleProducer {
			opts = append(opts, kgo.ProduceRequestTimeout(c.RequestTimeout))
		}
	}
	if c.APITimeout > 0 {
		opts = append(opts, kgo.RetryTimeout(c.APITimeout))
	}
	if c.MetadataMaxAge > 0 {
		// franz-go refuses a maximum age below its minimum (5 s by
		// default); Java has no minimum.
		opts = append(opts, kgo.MetadataMaxAge(c.MetadataMaxAge), kgo.MetadataMinAge(min(c.MetadataMaxAge, 5*time.Second)))
	}
	if c.ConnIdleTimeout > 0 {
		opts = append(opts, kgo.ConnIdleTimeout(c.ConnIdleTimeout))
	}
	if c.DialTimeout > 0 {
		opts = append(opts, kgo.DialTimeout(c.DialTimeout))
	}
	if c.RetryBackoff > 0 || c.RetryBackoffMax > 0 {
		opts = append(opts, kgo.RetryBackoffFn(retryBackoff(c.RetryBackoff, c.RetryBackoffMax)))
	}
	switch role {
	case configs.RoleConsumer:
		if c.Rack != "" {
			opts = append(opts, kgo.Rack(c.Rack))
		}
		if c.FetchMinBytes > 0 {
			opts = append(opts, kgo.FetchMinBytes(c.FetchMinBytes))
		}
		if c.FetchMaxBytes > 0 {
			opts = append(opts, kgo.FetchMaxBytes(c.FetchMaxBytes))
		}
		if c.MaxPartitionFetchBytes > 0 {
			opts = append(opts, kgo.FetchMaxPartitionBytes(c.MaxPartitionFetchBytes))
		}
		if c.FetchMaxWait != nil {
			opts = append(opts, kgo.FetchMaxWait(*c.FetchMaxWait))
		}
	case configs.RoleProducer:
		if c.Linger != nil {
			opts = append(opts, kgo.ProducerLinger(*c.Linger))
		}
		if c.BatchMaxBytes > 0 {
			opts = append(opts, kgo.ProducerBatchMaxBytes(c.BatchMaxBytes))
		}
		if c.MaxBufferedBytes > 0 {
			opts = append(opts, kgo.MaxBufferedBytes(int(c.MaxBufferedBytes)))
		}
		if c.Compression != "" {
			codec := map[string]kgo.CompressionCodec{
				"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
				"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
			}[c.Compression]
			if c.CompressionLevel != nil {
				codec = codec.WithLevel(*c.CompressionLevel)
			}
			opts = append(opts, kgo.ProducerBatchCompression(codec))
		}
		if c.TransactionTimeout > 0 {
			opts = append(opts, kgo.TransactionTimeout(c.TransactionTimeout))
		}
	}
	return opts
}

// retryBackoff is Java's exponential backoff (retry.backoff.ms doubling up
// to retry.backoff.max.ms, 20 % jitter); an unset bound takes Java's
// default (100 ms, 1 s).
func retryBackoff(base, maxBackoff time.Duration) func(int) time.Duration {
	if base <= 0 {
		base = 100 * time.Millisecond
	}
	if maxBackoff <= 0 {
		maxBackoff = time.Second
	}
	maxBackoff = max(maxBackoff, base)
	return func(tries int) time.Duration {
		d := base
		for i := 1; i < tries && d < maxBackoff; i++ {
			d *= 2
		}
		d = min(d, maxBackoff)
		jitter := 0.8 + 0.4*rand.Float64()
		return time.Duration(float64(d) * jitter)
	}
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
