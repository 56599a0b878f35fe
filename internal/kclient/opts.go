package kclient

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/configs"
)

// ClusterOpts are the options every client of cluster c shares: seeds,
// client id (clientID, after the cluster's own client.id as
// "<client.id>|<clientID>"), TLS, SASL and the cluster-level client keys
// (Opts for an admin). It makes no network call: the TLS stores were read
// when the configuration was parsed, and tokens, AWS credentials and
// Kerberos tickets are obtained when a connection authenticates (a GSSAPI
// login only reads krb5.conf and the keytab or ticket cache here). The
// error, naming the cluster, says the SASL settings name no supported
// mechanism or the Kerberos files cannot be read.
func ClusterOpts(c configs.Cluster, clientID string) ([]kgo.Opt, error) {
	id := clientID
	if c.ClientID != "" {
		id = c.ClientID + "|" + clientID
	}
	opts := append([]kgo.Opt{kgo.SeedBrokers(c.BootstrapServers...), kgo.ClientID(id)}, Opts(c.Client, configs.RoleAdmin)...)
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

// Opts are the franz-go options of what the Java keys of a client in role
// say (configs parsed and validated them); unset settings keep franz-go's
// defaults (except the retry backoff, Java's), and settings of another
// role are ignored. The data producer is
// always idempotent with acks=all: configs refuses anything else.
func Opts(c configs.Client, role configs.Role) []kgo.Opt {
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
	// Always Java's backoff (100 ms doubling to 1 s unless set), not
	// franz-go's (250 ms to 5 s): a client that kept failing while a
	// cluster was down tries again within a second of its return, as a
	// Java client does.
	opts = append(opts, kgo.RetryBackoffFn(retryBackoff(c.RetryBackoff, c.RetryBackoffMax)))
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
