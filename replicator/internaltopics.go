package replicator

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// internalTopic is one of the compacted topics Strait keeps its state in.
type internalTopic struct {
	name       string
	partitions int32
	rf         int16
	rfKey      string // the key that sets rf, for errors
	// configs are more topic configs (Connect's offset.storage.<config>
	// and the like); cleanup.policy is always compact.
	configs map[string]string
}

// ensureInternalTopics creates the topics that are missing, compacted, as
// MM2 does. The caller has checked the cluster has brokers enough for each
// replication factor. An existing topic is not re-checked, as in MM2.
func ensureInternalTopics(ctx context.Context, adm *kadm.Client, alias string, topics ...internalTopic) error {
	for _, t := range topics {
		cfgs := map[string]*string{}
		for k, v := range t.configs {
			cfgs[k] = &v
		}
		compact := "compact"
		cfgs["cleanup.policy"] = &compact
		resp, err := adm.CreateTopic(ctx, t.partitions, t.rf, cfgs, t.name)
		if err == nil {
			err = resp.Err
		}
		switch {
		case err == nil, errors.Is(err, kerr.TopicAlreadyExists):
		case errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed):
			// As MM2: someone else may have created it; writes will tell.
		default:
			return fmt.Errorf("create internal topic %s on cluster %s: %w", t.name, alias, err)
		}
	}
	return nil
}
