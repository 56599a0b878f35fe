package topicsync

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// InternalTopic is one of the compacted topics Strait keeps its state in.
type InternalTopic struct {
	Name       string
	Partitions int32
	RF         int16
	RFKey      string // the key that sets RF, for errors
	// Configs are more topic configs (Connect's offset.storage.<config>
	// and the like); cleanup.policy is always compact.
	Configs map[string]string
}

// EnsureInternal creates the topics that are missing on cluster alias,
// compacted, as MM2 does. The caller has checked the cluster has brokers
// enough for each replication factor. An existing topic is not re-checked,
// as in MM2. It blocks until the cluster answered each create request, and
// returns the first failure MM2 would not swallow.
func EnsureInternal(ctx context.Context, adm *kadm.Client, alias string, topics ...InternalTopic) error {
	for _, t := range topics {
		cfgs := map[string]*string{}
		for k, v := range t.Configs {
			cfgs[k] = &v
		}
		compact := "compact"
		cfgs["cleanup.policy"] = &compact
		resp, err := adm.CreateTopic(ctx, t.Partitions, t.RF, cfgs, t.Name)
		if err == nil {
			err = resp.Err
		}
		switch {
		case err == nil, errors.Is(err, kerr.TopicAlreadyExists):
		case errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed):
			// As MM2: someone else may have created it; writes will tell.
		default:
			return fmt.Errorf("create internal topic %s on cluster %s: %w", t.Name, alias, err)
		}
	}
	return nil
}
