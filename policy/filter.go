package policy

import (
	"fmt"
	"regexp"
	"strings"
)

// Filter is MM2's include/exclude regex pair: a name passes when it matches
// the include list and not the exclude list. Each list is joined with "|"
// and must match the whole name (Java's Matcher.matches). An empty include
// list matches nothing; an empty exclude list excludes nothing.
type Filter struct {
	include *regexp.Regexp
	exclude *regexp.Regexp
}

// NewFilter compiles include and exclude lists. The error names which list
// failed; callers add the config key.
func NewFilter(include, exclude []string) (Filter, error) {
	var f Filter
	var err error
	if f.include, err = CompileList(include); err != nil {
		return Filter{}, fmt.Errorf("include: %w", err)
	}
	if f.exclude, err = CompileList(exclude); err != nil {
		return Filter{}, fmt.Errorf("exclude: %w", err)
	}
	return f, nil
}

// CompileList joins patterns into one anchored regular expression, or nil
// for an empty list. Patterns are Go RE2 syntax, which accepts the Java
// patterns MM2 users write in practice (no look-around, no backreferences).
func CompileList(patterns []string) (*regexp.Regexp, error) {
	var kept []string
	for _, p := range patterns {
		if p = strings.TrimSpace(p); p != "" {
			kept = append(kept, p)
		}
	}
	if len(kept) == 0 {
		return nil, nil
	}
	return regexp.Compile(`^(?:` + strings.Join(kept, "|") + `)$`)
}

// Match reports whether name passes the filter.
func (f Filter) Match(name string) bool {
	if f.include == nil || !f.include.MatchString(name) {
		return false
	}
	return f.exclude == nil || !f.exclude.MatchString(name)
}

// Excluded reports whether name matches the exclude list alone; it is the
// config-property filter, which has no include list.
func (f Filter) Excluded(name string) bool {
	return f.exclude != nil && f.exclude.MatchString(name)
}

// Topics decides which source topics a flow replicates, as MM2's
// MirrorSourceConnector.shouldReplicateTopic does.
type Topics struct {
	Policy Policy
	Filter Filter
	// Target is the alias of the flow's target cluster.
	Target string
	// Heartbeats replicates heartbeats topics whatever the filter says
	// (heartbeats.replication.enabled).
	Heartbeats bool
}

// Replicate reports whether topic is copied by the flow: it passes the
// filter (or is a heartbeats topic and heartbeats are replicated), is not
// internal, and would not go back to a cluster it came from.
func (t Topics) Replicate(topic string) bool {
	if !t.Filter.Match(topic) && !(t.Heartbeats && IsHeartbeatsTopic(t.Policy, topic)) {
		return false
	}
	return !IsInternalTopic(t.Policy, topic) && !IsCycle(t.Policy, t.Target, topic)
}
