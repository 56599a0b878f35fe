package replicator

import (
	"fmt"
	"testing"
)

func sourceTasks(n int, digest string) []taskConfig {
	out := make([]taskConfig, n)
	for i := range out {
		out[i] = taskConfig{ID: fmt.Sprintf("source-%02d", i), Digest: digest}
	}
	return out
}

// owning is a member that runs tasks (by id) with digest d.
func owning(id, d string, tasks ...string) groupMember {
	m := groupMember{ID: id, Owned: map[string]string{}}
	for _, t := range tasks {
		m.Owned[t] = d
	}
	return m
}

func ids(tasks []taskConfig) []string {
	out := make([]string, len(tasks))
	for i, t := range tasks {
		out[i] = t.ID
	}
	return out
}

func TestAssignGroup(t *testing.T) {
	all := sourceTasks(24, "x")
	tasks := ids(all)
	tests := []struct {
		name     string
		members  []groupMember
		tasks    []taskConfig
		want     map[string]int // tasks per member
		revoked  int
		moved    int // tasks assigned to a member that did not run them
		assigned map[string][]string
	}{
		{name: "first worker takes everything", members: []groupMember{owning("a", "x")}, tasks: all,
			want: map[string]int{"a": 24}, moved: 24},
		{name: "second worker: the first revokes half, keeps the rest", members: []groupMember{owning("a", "x", tasks...), owning("b", "x")}, tasks: all,
			want: map[string]int{"a": 12, "b": 0}, revoked: 12},
		{name: "second round: the revoked half goes to the new worker", members: []groupMember{owning("a", "x", tasks[:12]...), owning("b", "x")}, tasks: all,
			want: map[string]int{"a": 12, "b": 12}, moved: 12},
		{name: "third worker joins two: 8 revoked", members: []groupMember{owning("a", "x", tasks[:12]...), owning("b", "x", tasks[12:]...), owning("c", "x")}, tasks: all,
			want: map[string]int{"a": 8, "b": 8, "c": 0}, revoked: 8},
		{name: "third worker, second round: 8 move", members: []groupMember{owning("a", "x", tasks[:8]...), owning("b", "x", tasks[12:20]...), owning("c", "x")}, tasks: all,
			want: map[string]int{"a": 8, "b": 8, "c": 8}, moved: 8},
		{name: "a worker leaves: only its 8 move", members: []groupMember{owning("a", "x", tasks[:8]...), owning("b", "x", tasks[8:16]...)}, tasks: all,
			want: map[string]int{"a": 12, "b": 12}, moved: 8},
		{name: "changed config: revoked, then reassigned", members: []groupMember{owning("a", "old", tasks[:2]...)}, tasks: all[:2],
			want: map[string]int{"a": 0}, revoked: 2},
		{name: "task run twice: the second owner stops it", members: []groupMember{owning("a", "x", "source-00"), owning("b", "x", "source-00")}, tasks: all[:2],
			want: map[string]int{"a": 1, "b": 1}, moved: 1,
			assigned: map[string][]string{"a": {"source-00"}, "b": {"source-01"}}},
		{name: "removed task: assigned to nobody", members: []groupMember{owning("a", "x", "source-00", "gone")}, tasks: all[:1],
			want: map[string]int{"a": 1}},
		{name: "more workers than tasks", members: []groupMember{owning("a", "x"), owning("b", "x"), owning("c", "x")}, tasks: all[:2],
			want: map[string]int{"a": 1, "b": 1, "c": 0}, moved: 2},
		{name: "no members", members: nil, tasks: all, want: map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, revoked := assignGroup(tt.members, tt.tasks)
			if revoked != tt.revoked {
				t.Errorf("revoked %d, want %d", revoked, tt.revoked)
			}
			runs := map[string]string{}
			for _, m := range tt.members {
				for id := range m.Owned {
					if _, ok := runs[id]; !ok {
						runs[id] = m.ID
					}
				}
			}
			seen := map[string]bool{}
			moved := 0
			for m, ts := range got {
				if len(ts) != tt.want[m] {
					t.Errorf("%s: %d tasks %v, want %d", m, len(ts), ts, tt.want[m])
				}
				for _, id := range ts {
					if seen[id] {
						t.Errorf("%s assigned twice", id)
					}
					seen[id] = true
					if owner, ok := runs[id]; ok && owner != m {
						t.Errorf("%s assigned to %s while %s runs it", id, m, owner)
					}
					if runs[id] != m {
						moved++
					}
				}
			}
			if moved != tt.moved {
				t.Errorf("moved %d, want %d", moved, tt.moved)
			}
			for m, want := range tt.assigned {
				if fmt.Sprint(got[m]) != fmt.Sprint(want) {
					t.Errorf("%s: %v, want %v", m, got[m], want)
				}
			}
		})
	}
}
