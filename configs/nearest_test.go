package configs

import "testing"

func TestNearest(t *testing.T) {
	known := []string{"topics", "topics.exclude", "tasks.max", "groups", "emit.checkpoints.interval.seconds", "a"}
	for _, tc := range []struct {
		key, want string
	}{
		{"topicz", "topics"},
		{"topic", "topics"},
		{"topics", ""}, // known: nothing to suggest
		{"task.max", "tasks.max"},
		{"tasks_max", "tasks.max"},
		{"topics.exclud", "topics.exclude"},
		{"emit.checkpoint.interval.second", "emit.checkpoints.interval.seconds"},
		{"grops", "groups"},
		{"b", "a"}, // one edit is always close enough
		{"zz", ""}, // two edits of two bytes are not
		{"xyzzy", ""},
		{"", "a"},
		{"replication.factor", ""},
	} {
		if got := Nearest(tc.key, known); got != tc.want {
			t.Errorf("Nearest(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
	if got := Nearest("x", nil); got != "" {
		t.Errorf("Nearest with no known keys = %q, want none", got)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3},
		{"topicz", "topics", 1}, {"flaw", "lawn", 2}, {"abc", "abc", 0},
		// One deletion or one insertion, at the end and inside.
		{"abc", "ab", 1}, {"ab", "abc", 1}, {"abxc", "abc", 1}, {"abc", "abxc", 1},
	} {
		if got := editDistance(tc.a, tc.b, 100); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := editDistance(tc.a, tc.b, 1); tc.want >= 1 && got < 1 {
			t.Errorf("editDistance(%q, %q) with bound 1 = %d, want at least 1", tc.a, tc.b, got)
		}
	}
}
