package replicator

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/internal/kclient"
)

// The worker's own choices for its clients, on top of the options kclient
// builds from the configured keys: how the source consumer polls, where
// records are partitioned, how a task's memory budget is split.

// consumerSettings is what a flow's source consumer keys say.
type consumerSettings struct {
	opts           []kgo.Opt
	readCommitted  bool
	startAtEnd     bool // auto.offset.reset=latest for partitions with no position
	maxPollRecords int
}

func newConsumerSettings(c configs.Client) consumerSettings {
	s := consumerSettings{opts: kclient.Opts(c, configs.RoleConsumer), readCommitted: !c.ReadUncommitted, startAtEnd: c.StartAtEnd, maxPollRecords: 10000}
	if c.MaxPollRecords > 0 {
		s.maxPollRecords = c.MaxPollRecords
	}
	return s
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
// the target acknowledges them (the produced records are the fetched ones,
// and a fetched record keeps its whole fetch response in memory). Of a
// task's budget, an eighth goes to each fetch (two in flight or buffered
// at most, a third pinned by the records being produced), four tenths to
// the producer's buffered bytes, and a tenth to the producer's buffered
// records at their overhead each (their Record structs, slices and
// framing, which kgo's MaxBufferedBytes does not count): records of about
// 1 KiB reach both limits at once, smaller ones the number first. What is
// left covers the records polled and waiting for room in the producer, and
// the produce request being written.
func budgetProducerOpts(budget int64) []kgo.Opt {
	return []kgo.Opt{
		kgo.MaxBufferedBytes(int(max(budget*2/5, 1<<20))),
		kgo.MaxBufferedRecords(int(max(budget/10/configs.MemoryRecordOverhead, 1024))),
	}
}

func budgetConsumerOpts(budget int64) []kgo.Opt {
	// At most kgo's default (50 MiB): larger fetches gain nothing and a
	// broker may refuse them.
	fetch := int32(min(max(budget/8, 256<<10), 50<<20))
	return []kgo.Opt{kgo.FetchMaxBytes(fetch), kgo.FetchMaxPartitionBytes(min(fetch, 1<<20)), kgo.MaxConcurrentFetches(2)}
}
