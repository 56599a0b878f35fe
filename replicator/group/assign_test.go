package group

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/strait-replicator/strait/replicator/task"
)

func sourceTasks(n int, digest string) []taskConfig {
	out := make([]taskConfig, n)
	for i := range out {
		out[i] = taskConfig{ID: task.SourceID(i), Digest: digest}
	}
	return out
}

// owning is a member that runs tasks (by id) with digest d.
func owning(id, d string, tasks ...string) memberTasks {
	m := memberTasks{ID: id, Owned: map[task.ID]string{}}
	for _, t := range tasks {
		m.Owned[tid(t)] = d
	}
	return m
}

func ids(tasks []taskConfig) []string {
	out := make([]string, len(tasks))
	for i, t := range tasks {
		out[i] = t.ID.String()
	}
	return out
}

// tid is the task id s names; it fails the test binary on a bad one.
func tid(s string) task.ID {
	id, err := task.ParseID(s)
	if err != nil {
		panic(err)
	}
	return id
}

func TestAssign(t *testing.T) {
	all := sourceTasks(24, "x")
	tasks := ids(all)
	tests := []struct {
		name     string
		members  []memberTasks
		tasks    []taskConfig
		want     map[string]int // tasks per member
		revoked  int
		moved    int // tasks assigned to a member that did not run them
		assigned map[string][]string
	}{
		{name: "first worker takes everything", members: []memberTasks{owning("a", "x")}, tasks: all,
			want: map[string]int{"a": 24}, moved: 24},
		{name: "second worker: the first revokes half, keeps the rest", members: []memberTasks{owning("a", "x", tasks...), owning("b", "x")}, tasks: all,
			want: map[string]int{"a": 12, "b": 0}, revoked: 12},
		{name: "second round: the revoked half goes to the new worker", members: []memberTasks{owning("a", "x", tasks[:12]...), owning("b", "x")}, tasks: all,
			want: map[string]int{"a": 12, "b": 12}, moved: 12},
		{name: "third worker joins two: 8 revoked", members: []memberTasks{owning("a", "x", tasks[:12]...), owning("b", "x", tasks[12:]...), owning("c", "x")}, tasks: all,
			want: map[string]int{"a": 8, "b": 8, "c": 0}, revoked: 8},
		{name: "third worker, second round: 8 move", members: []memberTasks{owning("a", "x", tasks[:8]...), owning("b", "x", tasks[12:20]...), owning("c", "x")}, tasks: all,
			want: map[string]int{"a": 8, "b": 8, "c": 8}, moved: 8},
		{name: "a worker leaves: only its 8 move", members: []memberTasks{owning("a", "x", tasks[:8]...), owning("b", "x", tasks[8:16]...)}, tasks: all,
			want: map[string]int{"a": 12, "b": 12}, moved: 8},
		{name: "changed config: revoked, then reassigned", members: []memberTasks{owning("a", "old", tasks[:2]...)}, tasks: all[:2],
			want: map[string]int{"a": 0}, revoked: 2},
		{name: "task run twice: the second owner stops it", members: []memberTasks{owning("a", "x", "source-0"), owning("b", "x", "source-0")}, tasks: all[:2],
			want: map[string]int{"a": 1, "b": 1}, moved: 1,
			assigned: map[string][]string{"a": {"source-0"}, "b": {"source-1"}}},
		{name: "removed task: assigned to nobody", members: []memberTasks{owning("a", "x", "source-0", "source-99")}, tasks: all[:1],
			want: map[string]int{"a": 1}},
		{name: "more workers than tasks", members: []memberTasks{owning("a", "x"), owning("b", "x"), owning("c", "x")}, tasks: all[:2],
			want: map[string]int{"a": 1, "b": 1, "c": 0}, moved: 2},
		{name: "no members", members: nil, tasks: all, want: map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, revoked := assign(tt.members, tt.tasks)
			if revoked != tt.revoked {
				t.Errorf("revoked %d, want %d", revoked, tt.revoked)
			}
			runs := map[task.ID]string{}
			for _, m := range tt.members {
				for id := range m.Owned {
					if _, ok := runs[id]; !ok {
						runs[id] = m.ID
					}
				}
			}
			seen := map[task.ID]bool{}
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

// TestAssignExact: who gets what where the counts alone do not tell.
func TestAssignExact(t *testing.T) {
	tests := []struct {
		name    string
		members []memberTasks
		tasks   []taskConfig
		want    map[string][]string
		revoked int
	}{
		{"free tasks fill the emptiest member, lowest id first",
			[]memberTasks{owning("b", "x"), owning("a", "x")}, sourceTasks(3, "x"),
			map[string][]string{"a": {"source-0", "source-2"}, "b": {"source-1"}}, 0},
		{"the lowest id keeps a task run twice, whatever the order",
			[]memberTasks{owning("b", "x", "source-0"), owning("a", "x", "source-0")}, sourceTasks(2, "x"),
			map[string][]string{"a": {"source-0"}, "b": {"source-1"}}, 0},
		// b runs two tasks with the wanted config, a runs one with an old
		// one: b has the larger share and keeps both.
		{"the larger share goes to who runs the most",
			[]memberTasks{owning("a", "old", "source-2"), owning("b", "x", "source-0", "source-1")}, sourceTasks(3, "x"),
			map[string][]string{"a": {}, "b": {"source-0", "source-1"}}, 1},
		// b runs one task and has the larger share (2); a, with the
		// smaller (1), is full after the first free task, so the second
		// goes to b although a had fewer tasks when the round began.
		{"a full member gets no more free tasks",
			[]memberTasks{owning("a", "x"), owning("b", "x", "source-2")}, sourceTasks(3, "x"),
			map[string][]string{"a": {"source-0"}, "b": {"source-2", "source-1"}}, 0},
		{"a member that runs nothing still gets an assignment",
			[]memberTasks{owning("a", "x", "source-0"), owning("b", "x")}, sourceTasks(1, "x"),
			map[string][]string{"a": {"source-0"}, "b": {}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, revoked := assign(tt.members, tt.tasks)
			if revoked != tt.revoked {
				t.Errorf("revoked %d, want %d", revoked, tt.revoked)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			for m, ts := range got {
				if ts == nil {
					t.Errorf("%s: nil assignment, want an empty list", m)
				}
			}
		})
	}
}

// TestAssignProperties: over seeded random groups (members running
// random tasks, some with an old config, some run twice, some removed),
// the assignment is balanced, sticky and complete, and does not depend on
// the order members are listed in.
func TestAssignProperties(t *testing.T) {
	for seed := range int64(300) {
		r := rand.New(rand.NewSource(seed))
		tasks := sourceTasks(r.Intn(20), "x")
		var members []memberTasks
		for i := range 1 + r.Intn(5) {
			m := memberTasks{ID: fmt.Sprintf("m%d", i), Owned: map[task.ID]string{}}
			for _, tk := range tasks {
				if r.Intn(3) == 0 {
					m.Owned[tk.ID] = "x"
					if r.Intn(5) == 0 {
						m.Owned[tk.ID] = "old"
					}
				}
			}
			if r.Intn(4) == 0 {
				m.Owned[task.SourceID(999)] = "x" // removed
			}
			members = append(members, m)
		}
		got, revoked := assign(members, tasks)
		shuffled := slices.Clone(members)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		again, revokedAgain := assign(shuffled, tasks)
		if fmt.Sprint(got) != fmt.Sprint(again) || revoked != revokedAgain {
			t.Fatalf("seed %d: depends on member order: %v / %v", seed, got, again)
		}
		// The first owner by id of each task, and whether it runs it as wanted.
		owner := map[task.ID]string{}
		for _, m := range members { // members are listed by id
			for id := range m.Owned {
				if _, ok := owner[id]; !ok {
					owner[id] = m.ID
				}
			}
		}
		want := map[task.ID]bool{}
		for _, tk := range tasks {
			want[tk.ID] = true
		}
		base, extra := len(tasks)/len(members), len(tasks)%len(members)
		assignedTo := map[task.ID]string{}
		over := 0
		for _, m := range members {
			ts, ok := got[m.ID]
			if !ok || ts == nil {
				t.Fatalf("seed %d: no assignment for %s", seed, m.ID)
			}
			if len(ts) > base+1 || (extra == 0 && len(ts) > base) {
				t.Fatalf("seed %d: %s has %d tasks, share %d(+1 for %d)", seed, m.ID, len(ts), base, extra)
			}
			if len(ts) > base {
				over++
			}
			for _, id := range ts {
				if !want[id] {
					t.Fatalf("seed %d: %s assigned unwanted %s", seed, m.ID, id)
				}
				if prev, dup := assignedTo[id]; dup {
					t.Fatalf("seed %d: %s assigned to %s and %s", seed, id, prev, m.ID)
				}
				assignedTo[id] = m.ID
				if o, run := owner[id]; run && o != m.ID {
					t.Fatalf("seed %d: %s given to %s while %s runs it", seed, id, m.ID, o)
				}
			}
		}
		if over > extra {
			t.Fatalf("seed %d: %d members over the base share %d, at most %d may be", seed, over, base, extra)
		}
		if len(assignedTo)+revoked != len(tasks) {
			t.Fatalf("seed %d: %d assigned + %d revoked of %d tasks", seed, len(assignedTo), revoked, len(tasks))
		}
		// Revoked tasks are run by their owner; a task its owner runs as
		// wanted is revoked only if the owner is at its share.
		for _, tk := range tasks {
			o, run := owner[tk.ID]
			_, ok := assignedTo[tk.ID]
			if !ok && !run {
				t.Fatalf("seed %d: free task %s not assigned", seed, tk.ID)
			}
			if !ok {
				for _, m := range members {
					if m.ID == o && m.Owned[tk.ID] == "x" && len(got[o]) < base {
						t.Fatalf("seed %d: %s revoked from %s, which has only %d tasks", seed, tk.ID, o, len(got[o]))
					}
				}
			}
		}
	}
}
