package topicsync

import (
	"context"
	"errors"
	"fmt"

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

// listSource lists the source's topics that are not internal and that the
// cluster answered without an error for: one metadata request of every
// topic, sent as it is to the brokers the client knows, one after another
// until one answers, or else through the client (which retries, and
// caches the answer). Not kadm.ListTopics: at tens of thousands of
// partitions franz-go's metadata cache (a copy of every partition, kept
// and handed out) and kadm's conversion (a map of every partition's
// detail) cost several times the decoding, for three things per topic.
func listSource(ctx context.Context, cl *kgo.Client) (map[string]sourceTopic, error) {
	brokers := cl.DiscoveredBrokers()
	if len(brokers) == 0 {
		brokers = cl.SeedBrokers()
	}
	var errs []error
	for _, b := range brokers {
		resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, b) // Topics nil: every topic
		if err == nil {
			return sourceTopics(resp)
		}
		if ctx.Err() != nil {
			return nil, err
		}
		errs = append(errs, err)
	}
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
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
