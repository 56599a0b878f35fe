package policy

import (
	"strings"
	"testing"
)

func TestDefaultNames(t *testing.T) {
	underscore := Default{Separator: "_"}
	dotInternal := Default{Separator: "_", DotInternal: true}
	tests := []struct {
		name string
		p    Default
		got  string
		want string
	}{
		{"remote", Default{}, Default{}.FormatRemoteTopic("A", "orders"), "A.orders"},
		{"remote of remote", Default{}, Default{}.FormatRemoteTopic("B", "A.orders"), "B.A.orders"},
		{"custom separator", underscore, underscore.FormatRemoteTopic("A", "orders"), "A_orders"},
		{"offset syncs", Default{}, Default{}.OffsetSyncsTopic("B"), "mm2-offset-syncs.B.internal"},
		{"checkpoints", Default{}, Default{}.CheckpointsTopic("A"), "A.checkpoints.internal"},
		{"offset syncs custom sep", underscore, underscore.OffsetSyncsTopic("B"), "mm2-offset-syncs_B_internal"},
		{"checkpoints custom sep", underscore, underscore.CheckpointsTopic("A"), "A_checkpoints_internal"},
		{"offset syncs dot internal", dotInternal, dotInternal.OffsetSyncsTopic("B"), "mm2-offset-syncs.B.internal"},
		{"checkpoints dot internal", dotInternal, dotInternal.CheckpointsTopic("A"), "A.checkpoints.internal"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestDefaultTopicSource(t *testing.T) {
	tests := []struct {
		topic    string
		sep      string
		source   string
		ok       bool
		upstream string
		original string
	}{
		{"orders", ".", "", false, "", "orders"},
		{"A.orders", ".", "A", true, "orders", "orders"},
		{"B.A.orders", ".", "B", true, "A.orders", "orders"},
		{"A.", ".", "", false, "", "A."},                   // Java split drops trailing empties
		{"A..", ".", "", false, "", "A.."},                 // likewise
		{".x", ".", "", true, "x", "x"},                    // leading empty part is the alias ""
		{"", ".", "", false, "", ""},                       // "".split -> [""]
		{"..", ".", "", false, "", ".."},                   // all parts empty
		{"A..b", ".", "A", true, ".b", "b"},                // upstream ".b" has source ""
		{"A_orders", "_", "A", true, "orders", "orders"},   // custom separator
		{"A.orders", "_", "", false, "", "A.orders"},       // dot is not the separator
		{"A--orders", "--", "A", true, "orders", "orders"}, // multi-char separator
		{"A.b.c", ".", "A", true, "b.c", "c"},              // original recurses to the last part
		{"A*orders", "*", "A", true, "orders", "orders"},   // regex metacharacter is literal
		{"us.heartbeats", ".", "us", true, "heartbeats", "heartbeats"},
	}
	for _, tt := range tests {
		p := Default{Separator: tt.sep}
		src, ok := p.TopicSource(tt.topic)
		if src != tt.source || ok != tt.ok {
			t.Errorf("TopicSource(%q, sep %q) = %q, %v; want %q, %v", tt.topic, tt.sep, src, ok, tt.source, tt.ok)
		}
		up, ok := p.UpstreamTopic(tt.topic)
		if up != tt.upstream || ok != tt.ok {
			t.Errorf("UpstreamTopic(%q, sep %q) = %q, %v; want %q, %v", tt.topic, tt.sep, up, ok, tt.upstream, tt.ok)
		}
		if got := OriginalTopic(p, tt.topic); got != tt.original {
			t.Errorf("OriginalTopic(%q, sep %q) = %q; want %q", tt.topic, tt.sep, got, tt.original)
		}
	}
}

func TestInternalTopics(t *testing.T) {
	tests := []struct {
		topic       string
		p           Policy
		internal    bool
		mm2Internal bool
		checkpoints bool
		heartbeats  bool
	}{
		{"orders", Default{}, false, false, false, false},
		{"__consumer_offsets", Default{}, true, false, false, false},
		{".hidden", Default{}, true, false, false, false},
		{"connect-offsets-internal", Default{}, true, false, false, false},
		{"mm2-offsets.A.internal", Default{}, true, true, false, false},
		{"A.checkpoints.internal", Default{}, true, true, true, false},
		{"A_checkpoints_internal", Default{Separator: "_"}, true, true, true, false},
		{"A_checkpoints_internal", Default{}, false, false, false, false},
		// With "_" as separator, ".internal" is still internal by the interface's literal rule.
		{"mm2-offsets.A.internal", Default{Separator: "_"}, true, false, false, false},
		{"heartbeats", Default{}, false, false, false, true},
		{"A.heartbeats", Default{}, false, false, false, true},
		{"B.A.heartbeats", Default{}, false, false, false, true},
		{"myheartbeats", Default{}, false, false, false, false},
		{"orders.replica", Default{}, false, false, false, false},
	}
	for _, tt := range tests {
		if got := IsInternalTopic(tt.p, tt.topic); got != tt.internal {
			t.Errorf("IsInternalTopic(%q) = %v", tt.topic, got)
		}
		if got := tt.p.IsMM2InternalTopic(tt.topic); got != tt.mm2Internal {
			t.Errorf("IsMM2InternalTopic(%q) = %v", tt.topic, got)
		}
		if got := tt.p.IsCheckpointsTopic(tt.topic); got != tt.checkpoints {
			t.Errorf("IsCheckpointsTopic(%q) = %v", tt.topic, got)
		}
		if got := IsHeartbeatsTopic(tt.p, tt.topic); got != tt.heartbeats {
			t.Errorf("IsHeartbeatsTopic(%q) = %v", tt.topic, got)
		}
	}
}

func TestIsCycle(t *testing.T) {
	tests := []struct {
		topic  string
		target string
		p      Policy
		cycle  bool
	}{
		{"orders", "B", Default{}, false},
		{"B.orders", "B", Default{}, true},
		{"C.B.orders", "B", Default{}, true},
		{"C.orders", "B", Default{}, false},
		{"A.orders", "B", Default{}, false},
		{"B_orders", "B", Default{Separator: "_"}, true},
		{"B.orders", "B", Default{Separator: "_"}, false},
		// Identity cannot see cycles: upstream == topic stops the walk.
		{"orders", "B", Identity{SourceAlias: "A"}, false},
		{"orders", "A", Identity{SourceAlias: "A"}, true},
		{"B.heartbeats", "B", Identity{SourceAlias: "A"}, true},
	}
	for _, tt := range tests {
		if got := IsCycle(tt.p, tt.target, tt.topic); got != tt.cycle {
			t.Errorf("IsCycle(%q, target %q, %T) = %v", tt.topic, tt.target, tt.p, got)
		}
	}
}

func TestIdentity(t *testing.T) {
	p := Identity{SourceAlias: "A"}
	tests := []struct {
		name, got, want string
	}{
		{"plain topic keeps its name", p.FormatRemoteTopic("A", "orders"), "orders"},
		{"heartbeats renamed", p.FormatRemoteTopic("A", "heartbeats"), "A.heartbeats"},
		{"heartbeat-looking renamed (quirk)", p.FormatRemoteTopic("A", "myheartbeats"), "A.myheartbeats"},
		{"original of plain", OriginalTopic(p, "orders"), "orders"},
		{"original of heartbeats copy", OriginalTopic(p, "B.heartbeats"), "heartbeats"},
		{"checkpoints", p.CheckpointsTopic("A"), "A.checkpoints.internal"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if src, ok := p.TopicSource("orders"); src != "A" || !ok {
		t.Errorf("TopicSource(orders) = %q, %v", src, ok)
	}
	if src, ok := (Identity{}).TopicSource("orders"); ok {
		t.Errorf("TopicSource with no alias = %q, true; want not remote", src)
	}
	if src, ok := p.TopicSource("B.heartbeats"); src != "B" || !ok {
		t.Errorf("TopicSource(B.heartbeats) = %q, %v", src, ok)
	}
}

func TestRemoteCheckpointTopic(t *testing.T) {
	p := Default{}
	if got := RemoteCheckpointTopic(p, "A", "B", "orders"); got != "A.orders" {
		t.Errorf("got %q", got)
	}
	if got := RemoteCheckpointTopic(p, "A", "B", "B.orders"); got != "orders" {
		t.Errorf("got %q", got)
	}
	if got := RemoteCheckpointTopic(p, "A", "B", "C.B.orders"); got != "A.C.B.orders" {
		t.Errorf("got %q", got)
	}
}

func TestFilter(t *testing.T) {
	defaultExclude := []string{`.*[\-\.]internal`, `.*\.replica`, `__.*`}
	tests := []struct {
		name    string
		include []string
		exclude []string
		topic   string
		match   bool
	}{
		{"default include all", []string{".*"}, defaultExclude, "orders", true},
		{"default excludes .internal", []string{".*"}, defaultExclude, "x.internal", false},
		{"default excludes -internal", []string{".*"}, defaultExclude, "x-internal", false},
		{"default excludes replica", []string{".*"}, defaultExclude, "x.replica", false},
		{"default excludes __", []string{".*"}, defaultExclude, "__consumer_offsets", false},
		{"full match only", []string{"ord"}, nil, "orders", false},
		{"list joined", []string{"orders", "payments"}, nil, "payments", true},
		{"list joined no partial", []string{"orders", "pay"}, nil, "payments", false},
		{"empty include matches nothing", nil, nil, "orders", false},
		{"blank entries ignored", []string{" ", "orders"}, []string{""}, "orders", true},
		{"exclude wins", []string{".*"}, []string{"secret.*"}, "secret-stuff", false},
		{"alternation inside stays anchored", []string{"a|b"}, nil, "ab", false},
	}
	for _, tt := range tests {
		f, err := NewFilter(tt.include, tt.exclude)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := f.Match(tt.topic); got != tt.match {
			t.Errorf("%s: Match(%q) = %v", tt.name, tt.topic, got)
		}
	}
	if _, err := NewFilter([]string{"(unclosed"}, nil); err == nil || !strings.Contains(err.Error(), "include") {
		t.Errorf("bad include regex: err = %v", err)
	}
	if _, err := NewFilter(nil, []string{"[z-a]"}); err == nil || !strings.Contains(err.Error(), "exclude") {
		t.Errorf("bad exclude regex: err = %v", err)
	}
}

func TestTopicsReplicate(t *testing.T) {
	f, err := NewFilter([]string{"orders", "A.orders"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tt := Topics{Policy: Default{}, Filter: f, Target: "B", Heartbeats: true}
	cases := map[string]bool{
		"orders":                 true,
		"payments":               false, // filter
		"heartbeats":             true,  // heartbeats replicate regardless of the filter
		"C.heartbeats":           true,
		"B.heartbeats":           false, // cycle
		"A.orders":               true,  // remote from a third cluster
		"mm2-offsets.A.internal": false,
	}
	for topic, want := range cases {
		if got := tt.Replicate(topic); got != want {
			t.Errorf("Replicate(%q) = %v, want %v", topic, got, want)
		}
	}
	tt.Heartbeats = false
	if tt.Replicate("heartbeats") {
		t.Error("heartbeats replicated with heartbeats.replication.enabled=false")
	}
}

// FuzzDefaultPolicy checks the invariants MM2's rules imply for any alias and
// topic: a formatted remote topic reports its source and upstream back, and
// a topic that comes from the target is always a cycle.
func FuzzDefaultPolicy(f *testing.F) {
	f.Add("A", "orders", ".")
	f.Add("us", "eu.orders", "_")
	f.Add("", ".x", ".")
	f.Fuzz(func(t *testing.T, alias, topic, sep string) {
		if sep == "" {
			sep = "."
		}
		p := Default{Separator: sep}
		// Never panics on any name.
		p.TopicSource(topic)
		p.UpstreamTopic(topic)
		OriginalTopic(p, topic)
		IsCycle(p, alias, topic)
		remote := p.FormatRemoteTopic(alias, topic)
		// The invariants hold where the separator first occurs right after
		// the alias and the topic does not end with it (Java split rules).
		if alias == "" || topic == "" || strings.HasSuffix(topic, sep) || strings.Index(remote, sep) != len(alias) {
			return
		}
		src, ok := p.TopicSource(remote)
		if !ok || src != alias {
			t.Fatalf("TopicSource(%q) = %q, %v; want %q", remote, src, ok, alias)
		}
		up, ok := p.UpstreamTopic(remote)
		if !ok || up != topic {
			t.Fatalf("UpstreamTopic(%q) = %q, %v; want %q", remote, up, ok, topic)
		}
		if !IsCycle(p, alias, remote) {
			t.Fatalf("IsCycle(%q, %q) = false", alias, remote)
		}
	})
}

// TestDotInternalSeparator: with a custom separator and
// replication.policy.internal.topic.separator.enabled=false, remote names
// use the separator and internal names ".": neither leaks into the other.
func TestDotInternalSeparator(t *testing.T) {
	p := Default{Separator: "_", DotInternal: true}
	if got := p.FormatRemoteTopic("A", "orders"); got != "A_orders" {
		t.Errorf("FormatRemoteTopic = %q, want A_orders", got)
	}
	if src, ok := p.TopicSource("A_orders"); src != "A" || !ok {
		t.Errorf("TopicSource(A_orders) = %q, %v", src, ok)
	}
	if src, ok := p.TopicSource("A.orders"); ok {
		t.Errorf("TopicSource(A.orders) = %q, true; \".\" is not the separator", src)
	}
	if up, ok := p.UpstreamTopic("A_B_orders"); up != "B_orders" || !ok {
		t.Errorf("UpstreamTopic(A_B_orders) = %q, %v", up, ok)
	}
	// A separator longer than the internal one: the upstream name is cut
	// after the separator, not after one character.
	long := Default{Separator: "--", DotInternal: true}
	if up, ok := long.UpstreamTopic("A--B--orders"); up != "B--orders" || !ok {
		t.Errorf("UpstreamTopic(A--B--orders) = %q, %v", up, ok)
	}
	tests := []struct {
		topic                    string
		checkpoints, mm2Internal bool
	}{
		{"A.checkpoints.internal", true, true},
		{"A_checkpoints_internal", false, false},
		{"mm2-offset-syncs.B.internal", false, true},
		{"mm2-offset-syncs_B_internal", false, false},
		{"A.checkpoints_internal", false, false},
	}
	for _, tt := range tests {
		if got := p.IsCheckpointsTopic(tt.topic); got != tt.checkpoints {
			t.Errorf("IsCheckpointsTopic(%q) = %v", tt.topic, got)
		}
		if got := p.IsMM2InternalTopic(tt.topic); got != tt.mm2Internal {
			t.Errorf("IsMM2InternalTopic(%q) = %v", tt.topic, got)
		}
	}
	// With the separator in internal names (the default), the other way round.
	q := Default{Separator: "_"}
	if !q.IsCheckpointsTopic("A_checkpoints_internal") || q.IsCheckpointsTopic("A.checkpoints.internal") {
		t.Error("IsCheckpointsTopic with internal separator \"_\"")
	}
	if !q.IsMM2InternalTopic("mm2-offset-syncs_B_internal") || q.IsMM2InternalTopic("x.internal") {
		t.Error("IsMM2InternalTopic with internal separator \"_\"")
	}
}

// TestRemoteCheckpointTopicTable: a topic that came from the target goes
// back to its original name, however many hops it made (B.C.orders
// checkpointed A->B is "orders", not one hop up "C.orders").
func TestRemoteCheckpointTopicTable(t *testing.T) {
	tests := []struct {
		p                     Policy
		source, target, topic string
		want                  string
	}{
		{Default{}, "A", "B", "orders", "A.orders"},
		{Default{}, "A", "B", "B.orders", "orders"},
		{Default{}, "A", "B", "B.C.orders", "orders"},
		{Default{}, "A", "B", "C.B.orders", "A.C.B.orders"},
		{Default{}, "A", "B", "A.orders", "A.A.orders"},
		{Default{Separator: "_"}, "A", "B", "B_C_orders", "orders"},
		{Default{Separator: "_"}, "A", "B", "B.orders", "A_B.orders"},
		{Identity{SourceAlias: "A"}, "A", "B", "orders", "orders"},
		{Identity{SourceAlias: "B"}, "A", "B", "orders", "orders"},
		{Identity{SourceAlias: "A"}, "A", "B", "B.heartbeats", "heartbeats"},
	}
	for _, tt := range tests {
		if got := RemoteCheckpointTopic(tt.p, tt.source, tt.target, tt.topic); got != tt.want {
			t.Errorf("RemoteCheckpointTopic(%T, %s->%s, %q) = %q, want %q", tt.p, tt.source, tt.target, tt.topic, got, tt.want)
		}
	}
}

// TestFilterLists: list entries are trimmed and blank ones dropped, as
// ConfigDef's LIST parsing does, so a list of blanks is an empty list: an
// include that matches nothing (not even ""), an exclude that excludes
// nothing. Excluded is the exclude list alone (config properties).
func TestFilterLists(t *testing.T) {
	tests := []struct {
		name             string
		include, exclude []string
		topic            string
		match, excluded  bool
	}{
		{"entries trimmed", []string{" orders ", "\tpayments"}, []string{" secret.* "}, "orders", true, false},
		{"trimmed exclude", []string{".*"}, []string{" secret.* "}, "secret-x", false, true},
		{"blank include matches nothing", []string{" ", ""}, nil, "", false, false},
		{"no include matches nothing", nil, nil, "", false, false},
		{"blank exclude excludes nothing", []string{".*"}, []string{"", " "}, "", true, false},
		{"excluded alone", nil, []string{"follower\\.replication\\.throttled\\.replicas", "min\\.insync\\.replicas"}, "min.insync.replicas", false, true},
		{"not excluded", nil, []string{"min\\.insync\\.replicas"}, "retention.ms", false, false},
		{"include does not exclude", []string{"retention\\.ms"}, nil, "retention.ms", true, false},
	}
	for _, tt := range tests {
		f, err := NewFilter(tt.include, tt.exclude)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := f.Match(tt.topic); got != tt.match {
			t.Errorf("%s: Match(%q) = %v", tt.name, tt.topic, got)
		}
		if got := f.Excluded(tt.topic); got != tt.excluded {
			t.Errorf("%s: Excluded(%q) = %v", tt.name, tt.topic, got)
		}
	}
}

// TestPolicyEdges: cases the other tables leave open.
func TestPolicyEdges(t *testing.T) {
	// Identity reports every plain topic as its own upstream.
	if up, ok := (Identity{SourceAlias: "A"}).UpstreamTopic("orders"); up != "orders" || !ok {
		t.Errorf("Identity UpstreamTopic(orders) = %q, %v", up, ok)
	}
	if up, ok := (Identity{}).UpstreamTopic("A.heartbeats"); up != "heartbeats" || !ok {
		t.Errorf("Identity UpstreamTopic(A.heartbeats) = %q, %v", up, ok)
	}
	// An MM2 internal topic with a custom separator is internal although
	// it ends neither with ".internal" nor "-internal".
	if !IsInternalTopic(Default{Separator: "_"}, "mm2-offset-syncs_B_internal") {
		t.Error("mm2-offset-syncs_B_internal not internal with separator _")
	}
}
