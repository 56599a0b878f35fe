package topicsync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// sourceTopic is what a refresh keeps of a source topic.
type sourceTopic struct {
	id         kadm.TopicID
	partitions int
}

// brokerTry bounds one broker's answer to a listing. A broker that does
// not answer (hung, or its host gone without a reset) then costs a refresh
// at most this before the next broker is asked, rather than the client's
// dial timeout or request timeout overhead (10 s each by default), and the
// refreshes after it ask the broker that answered first.
const brokerTry = 5 * time.Second

// sourceLister lists the source's topics that are not internal and that
// the cluster answered without an error for: one metadata request of every
// topic, sent as it is to the brokers the client knows, one after another
// (the one that answered last first, each for at most try) until one
// answers, or else through the client (which retries, and caches the
// answer). Not kadm.ListTopics: at tens of thousands of partitions
// franz-go's metadata cache (a copy of every partition, kept and handed
// out) and kadm's conversion (a map of every partition's detail) cost
// several times the decoding, for three things per topic. The run loop
// only.
type sourceLister struct {
	cl  *kgo.Client
	try time.Duration
	// first is where in the client's list of brokers (by node id) the
	// next listing starts: the broker that answered the last one.
	first int
}

func (l *sourceLister) list(ctx context.Context) (map[string]sourceTopic, error) {
	brokers := l.cl.DiscoveredBrokers()
	if len(brokers) == 0 {
		brokers = l.cl.SeedBrokers()
	}
	var errs []error
	for k := range brokers {
		i := (l.first + k) % len(brokers)
		tctx, cancel := context.WithTimeout(ctx, l.try)
		resp, err := kmsg.NewPtrMetadataRequest().RequestWith(tctx, brokers[i]) // Topics nil: every topic
		cancel()
		if err == nil {
			l.first = i
			return sourceTopics(resp)
		}
		if ctx.Err() != nil {
			return nil, err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer in %v: %w", l.try, err)
		}
		errs = append(errs, err)
	}
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, l.cl)
	if err != nil {
		return nil, errors.Join(append(errs, err)...)
	}
	return sourceTopics(resp)
}

// sourceTopics keeps what a refresh needs of a listing. An authorization
// error on a topic fails the listing, as kadm's does.
func sourceTopics(resp *kmsg.MetadataResponse) (map[string]sourceTopic, error) {
	out := make(map[string]sourceTopic, len(resp.Topics))
	for _, t := range resp.Topics {
		err := kerr.ErrorForCode(t.ErrorCode)
		if errors.Is(err, kerr.TopicAuthorizationFailed) || errors.Is(err, kerr.ClusterAuthorizationFailed) {
			name := "(unnamed)"
			if t.Topic != nil {
				name = *t.Topic
			}
			return nil, fmt.Errorf("topic %s: %w", name, err)
		}
		if err != nil || t.Topic == nil || t.IsInternal {
			continue
		}
		out[*t.Topic] = sourceTopic{id: t.TopicID, partitions: len(t.Partitions)}
	}
	return out, nil
}
