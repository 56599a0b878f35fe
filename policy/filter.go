package policy

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/dlclark/regexp2"
)

// Filter is MM2's include/exclude regex pair: a name passes when it matches
// the include list and not the exclude list. Each list is joined with "|"
// and must match the whole name (Java's Matcher.matches). An empty include
// list matches nothing; an empty exclude list excludes nothing.
type Filter struct {
	include Pattern
	exclude Pattern
}

// Pattern is a compiled regular expression that must match a whole name.
type Pattern interface {
	MatchString(name string) bool
}

// backtracking is a Java-syntax pattern that RE2 does not take: look-around,
// back references, atomic groups.
type backtracking struct{ re *regexp2.Regexp }

func (b backtracking) MatchString(name string) bool {
	ok, err := b.re.MatchString(name)
	return ok && err == nil // a pattern that times out matches nothing
}

// matchTimeout bounds one match of a backtracking pattern, so that a
// catastrophic pattern cannot stall a topic refresh.
const matchTimeout = 100 * time.Millisecond

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
// for an empty list, with Java's semantics: MM2 joins the list with "|" and
// matches the whole name (Matcher.matches). Patterns RE2 takes (almost all
// that operators write, and where both take a pattern they agree on what
// matches) run on Go's linear-time engine; the rest of Java's syntax
// (look-ahead and look-behind, back references, atomic groups) runs on a
// backtracking engine with a timeout per match. Possessive quantifiers
// ("a++") are refused: write them as atomic groups ("(?>a+)").
func CompileList(patterns []string) (Pattern, error) {
	var kept []string
	for _, p := range patterns {
		if p = strings.TrimSpace(p); p != "" {
			kept = append(kept, p)
		}
	}
	if len(kept) == 0 {
		return nil, nil
	}
	joined := `^(?:` + strings.Join(kept, "|") + `)$`
	if re, err := regexp.Compile(joined); err == nil {
		return re, nil
	}
	// \z, not $: Java's matches() needs the whole input, while $ also
	// matches before a final line break.
	re, err := regexp2.Compile(`\A(?:`+strings.Join(kept, "|")+`)\z`, regexp2.None)
	if err != nil {
		return nil, err
	}
	re.MatchTimeout = matchTimeout
	return backtracking{re}, nil
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
