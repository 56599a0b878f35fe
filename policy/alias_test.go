package policy

import "testing"

// Aliases that hold the separator ("us.east"), which MM2 allows: active/active
// between them must not loop, though TopicSource sees only "us".
func TestIsCycleDottedAliases(t *testing.T) {
	p := Default{}
	for _, tc := range []struct {
		target, topic string
		want          bool
	}{
		{"us.east", "orders", false},
		{"us.east", "eu.west.orders", false},
		{"us.east", "us.east.orders", true},
		{"us.east", "eu.west.us.east.orders", true},
		{"eu.west", "us.east.orders", false},
		{"us", "us.east.orders", true}, // as MM2: the first part is the source
		{"us.east", "us.eastern.orders", false},
	} {
		if got := IsCycle(p, tc.target, tc.topic); got != tc.want {
			t.Errorf("IsCycle(%q, %q) = %v, want %v", tc.target, tc.topic, got, tc.want)
		}
	}
	id := Identity{Default: p, SourceAlias: "us.east"}
	if IsCycle(id, "eu.west", "orders") {
		t.Error("identity: a local topic is a cycle")
	}
}
