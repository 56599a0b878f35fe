package topicsync

import (
	"cmp"
	"slices"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-replicator/strait/policy"
)

// copyable reports whether a source topic config may be copied at all: not
// sensitive, not a static broker setting, not excluded by
// config.properties.exclude.
func copyable(c kadm.Config, exclude policy.Filter) bool {
	return !c.Sensitive && c.Value != nil && c.Source != kmsg.ConfigSourceStaticBrokerConfig && !exclude.Excluded(c.Key)
}

// isTopicOverride reports whether c is set on the topic itself rather than
// inherited from a default.
func isTopicOverride(c kadm.Config) bool { return c.Source == kmsg.ConfigSourceDynamicTopicConfig }

// createConfigs are the configs a new remote topic is created with: the
// source topic's own overrides that may be copied. Only overrides are
// copied, so that the target's defaults stay the target's, and only names
// the source broker reported, so a real Kafka never sees an unknown key.
func createConfigs(src []kadm.Config, exclude policy.Filter) map[string]*string {
	out := map[string]*string{}
	for _, c := range src {
		if isTopicOverride(c) && copyable(c, exclude) {
			out[c.Key] = c.Value
		}
	}
	return out
}

// configChanges are the incremental alterations that bring the remote
// topic's configs in line with the source's, as MM2's config sync
// (KIP-894) does, but only where they differ: a source override is SET;
// a source default is DELETEd on the target when the target overrides it
// (use.defaults.from=target) or SET to the source default
// (use.defaults.from=source). Excluded names are never touched.
func configChanges(src, tgt []kadm.Config, exclude policy.Filter, defaultsFromSource bool) []kadm.AlterConfig {
	target := map[string]kadm.Config{}
	for _, c := range tgt {
		target[c.Key] = c
	}
	var out []kadm.AlterConfig
	for _, c := range src {
		if !copyable(c, exclude) {
			continue
		}
		t, onTarget := target[c.Key]
		same := onTarget && t.Value != nil && *t.Value == *c.Value
		switch {
		case isTopicOverride(c) || defaultsFromSource:
			if !same || !isTopicOverride(t) {
				out = append(out, kadm.AlterConfig{Op: kadm.SetConfig, Name: c.Key, Value: c.Value})
			}
		case onTarget && isTopicOverride(t):
			out = append(out, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: c.Key})
		}
	}
	slices.SortFunc(out, func(a, b kadm.AlterConfig) int { return cmp.Compare(a.Name, b.Name) })
	return out
}
