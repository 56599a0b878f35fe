package kclient

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/configs"
)

// Each typed client setting reaches the franz-go option it stands for, read
// back from a client built with the options.
func TestOptsMapping(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	wait, linger, level := ms(17), ms(9), 3
	c := configs.Client{
		RequestTimeout: ms(1000), APITimeout: ms(2000), MetadataMaxAge: ms(3000), ConnIdleTimeout: ms(4000),
		DialTimeout: ms(5000), Rack: "use1-az1",
		FetchMinBytes: 11, FetchMaxBytes: 1 << 20, MaxPartitionFetchBytes: 1 << 19, FetchMaxWait: &wait,
		Linger: &linger, BatchMaxBytes: 1 << 18, MaxBufferedBytes: 1 << 25, Compression: "zstd", CompressionLevel: &level,
		TransactionTimeout: ms(30000),
	}
	build := func(role configs.Role) *kgo.Client {
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}, Opts(c, role)...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	for _, role := range []configs.Role{configs.RoleConsumer, configs.RoleProducer, configs.RoleAdmin} {
		cl := build(role)
		for name, tc := range map[string]struct {
			opt  any
			want any
		}{
			"request.timeout.ms":                 {kgo.RequestTimeoutOverhead, ms(1000)},
			"default.api.timeout.ms":             {kgo.RetryTimeout, ms(2000)},
			"metadata.max.age.ms":                {kgo.MetadataMaxAge, ms(3000)},
			"connections.max.idle.ms":            {kgo.ConnIdleTimeout, ms(4000)},
			"socket.connection.setup.timeout.ms": {kgo.DialTimeout, ms(5000)},
		} {
			if got := cl.OptValue(tc.opt); got != tc.want {
				t.Errorf("role %d: %s = %v, want %v", role, name, got, tc.want)
			}
		}
	}
	cons := build(configs.RoleConsumer)
	for name, tc := range map[string]struct {
		opt  any
		want any
	}{
		"client.rack":               {kgo.Rack, "use1-az1"},
		"fetch.min.bytes":           {kgo.FetchMinBytes, int32(11)},
		"fetch.max.bytes":           {kgo.FetchMaxBytes, int32(1 << 20)},
		"max.partition.fetch.bytes": {kgo.FetchMaxPartitionBytes, int32(1 << 19)},
		"fetch.max.wait.ms":         {kgo.FetchMaxWait, ms(17)},
	} {
		if got := cons.OptValue(tc.opt); got != tc.want {
			t.Errorf("consumer: %s = %v, want %v", name, got, tc.want)
		}
	}
	prod := build(configs.RoleProducer)
	for name, tc := range map[string]struct {
		opt  any
		want any
	}{
		"linger.ms":                    {kgo.ProducerLinger, ms(9)},
		"batch.size":                   {kgo.ProducerBatchMaxBytes, int32(1 << 18)},
		"buffer.memory":                {kgo.MaxBufferedBytes, int64(1 << 25)},
		"transaction.timeout.ms":       {kgo.TransactionTimeout, ms(30000)},
		"request.timeout.ms (produce)": {kgo.ProduceRequestTimeout, ms(1000)},
	} {
		if got := prod.OptValue(tc.opt); got != tc.want {
			t.Errorf("producer: %s = %v (%T), want %v", name, got, got, tc.want)
		}
	}
	if got := prod.OptValues(kgo.ProducerBatchCompression); len(got) != 1 {
		t.Errorf("compression: %v", got)
	}
	// A producer takes no consumer settings.
	if got := prod.OptValue(kgo.Rack); got != "" {
		t.Errorf("producer rack %v", got)
	}
}

// Java's exponential retry backoff: doubling from retry.backoff.ms up to
// retry.backoff.max.ms, within 20 % jitter.
func TestRetryBackoff(t *testing.T) {
	f := retryBackoff(100*time.Millisecond, time.Second)
	for tries, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 20: time.Second} {
		for range 20 {
			if got := f(tries); got < want*8/10 || got > want*12/10 {
				t.Errorf("try %d: %s, want %s ± 20%%", tries, got, want)
			}
		}
	}
}
