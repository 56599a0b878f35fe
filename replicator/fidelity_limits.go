package replicator

import (
	"context"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kgo"
)

// defaultMaxMessageBytes is Kafka's default message.max.bytes: the limit of
// a topic that does not set max.message.bytes, and the one a task assumes
// for a topic whose config it cannot read.
const defaultMaxMessageBytes = 1048588

// defaultBrokerWriteBytes is franz-go's default request size limit
// (BrokerMaxWriteBytes), Kafka's default socket.request.max.bytes.
const defaultBrokerWriteBytes = 100 << 20

// messageLimits are the max.message.bytes of the topics a task's producer
// writes to, read when the task starts. The producer's limits follow them
// (producerOpts), and the task refuses a record larger than its topic
// takes before producing it (checkRecord), with the same number, so that
// the client and the broker never refuse a record the task let through.
type messageLimits struct {
	topics map[string]int
}

// of is topic's max.message.bytes: as read, or Kafka's default.
func (l messageLimits) of(topic string) int {
	if n, ok := l.topics[topic]; ok {
		return n
	}
	return defaultMaxMessageBytes
}

// largest is the largest limit of l's topics.
func (l messageLimits) largest() int {
	n := defaultMaxMessageBytes
	for _, v := range l.topics {
		n = max(n, v)
	}
	return n
}

// batchCap is the franz-go batch limit (ProducerBatchMaxBytesFn) that makes
// the client take the batches a topic with max.message.bytes limit takes.
// franz-go counts a batch with its length prefix, a broker without. In
// produce requests v9+ (Kafka 2.4+) the prefix is the uvarint of the
// batch's length + 1, so the client takes a batch of b bytes iff
// b + uvarintLen(b+1) <= cap, which for cap = limit + uvarintLen(limit+1)
// is b <= limit (uvarintLen grows with b): batches as large as the topic
// takes and no larger. Until the client knows a broker's produce version
// (its first produce response from it), and with older brokers, it counts
// a four-byte prefix: its batches stay below the limit, and it refuses a
// record within 4 - uvarintLen(limit+1) <= 3 bytes of the limit
// (checkRecord calls it tight). kgo takes caps from 512 to 1 GiB.
func batchCap(limit int) int32 {
	c := int64(limit) + int64(kbin.UvarintLen(uint32(min(limit+1, 1<<31-1))))
	return int32(min(max(c, 512), 1<<30))
}

// writeMax is the producer's request limit (BrokerMaxWriteBytes): franz-go's
// default, or more when a topic takes batches that would not fit it with a
// request's own bytes (at most a topic name and a few dozen bytes; 64 KiB
// is ample). A request larger than the broker's socket.request.max.bytes is
// refused, so it is only raised past the default for such a topic, whose
// brokers must take such requests for the topic to be usable at all.
func (l messageLimits) writeMax() int32 {
	return int32(min(max(int64(defaultBrokerWriteBytes), int64(batchCap(l.largest()))+64<<10), 1<<30))
}

// producerOpts are the task producer's limits: each topic's batches as
// large as the topic takes and no larger (a batch goes to one partition),
// and requests large enough for the largest.
func (l messageLimits) producerOpts() []kgo.Opt {
	return []kgo.Opt{
		kgo.ProducerBatchMaxBytesFn(func(topic string) int32 { return batchCap(l.of(topic)) }),
		kgo.BrokerMaxWriteBytes(l.writeMax()),
	}
}

// readMessageLimits reads topics' max.message.bytes on the target (the
// effective value: the topic's own, else the broker's message.max.bytes).
// A topic whose config cannot be read gets Kafka's default, and a warning
// says so.
func readMessageLimits(ctx context.Context, adm *kadm.Client, topics []string) (messageLimits, []string) {
	l := messageLimits{topics: map[string]int{}}
	if adm == nil || len(topics) == 0 {
		return l, nil
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, topics...)
	if err != nil && len(rcs) == 0 {
		return l, []string{fmt.Sprintf("reading max.message.bytes of %v failed, assuming %d: %v", topics, defaultMaxMessageBytes, err)}
	}
	var warnings []string
	for _, rc := range rcs {
		if rc.Err != nil {
			warnings = append(warnings, fmt.Sprintf("reading max.message.bytes of %s failed, assuming %d: %v", rc.Name, defaultMaxMessageBytes, rc.Err))
			continue
		}
		for _, c := range rc.Configs {
			if c.Key != "max.message.bytes" || c.Value == nil {
				continue
			}
			if n, err := strconv.Atoi(*c.Value); err == nil && n > 0 {
				l.topics[rc.Name] = n
			}
		}
	}
	return l, warnings
}
