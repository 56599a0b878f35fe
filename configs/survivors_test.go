package configs

import "testing"

// A KeyError names the line of the key when it is known, the first line
// included.
func TestKeyErrorLine(t *testing.T) {
	for _, tt := range []struct {
		e    KeyError
		want string
	}{
		{KeyError{Key: "A->B.topic", Problem: "unknown key"}, "A->B.topic: unknown key"},
		{KeyError{Key: "A->B.topic", Line: 1, Problem: "unknown key"}, "A->B.topic (line 1): unknown key"},
		{KeyError{Key: "topics", Line: 12, Problem: "bad"}, "topics (line 12): bad"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.e, got, tt.want)
		}
	}
}

// The keys the validate endpoint describes say whether they have a
// default by whether MM2 gives them one.
func TestFlowKeyDefsDefaults(t *testing.T) {
	with, without := 0, 0
	for _, d := range FlowKeyDefs() {
		if d.HasDefault != (d.Default != "") {
			t.Errorf("%s: default %q, HasDefault %v", d.Name, d.Default, d.HasDefault)
		}
		if d.HasDefault {
			with++
		} else {
			without++
		}
	}
	if with == 0 || without == 0 {
		t.Fatalf("%d keys with a default and %d without: want some of each", with, without)
	}
}
