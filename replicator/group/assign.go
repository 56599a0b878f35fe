package group

import (
	"cmp"
	"maps"
	"slices"

	"github.com/strait-replicator/strait/replicator/task"
)

// A worker group shares a flow's tasks. Its leader assigns them with
// assign, sticky and incremental, as Connect's incremental cooperative
// protocol does: a task that must move is first revoked (assigned to
// nobody, so its owner stops it and rejoins), and assigned to its new owner
// only in the next round, once nobody runs it.

// memberTasks is a member of the group as the leader sees it: the tasks
// it runs (or is stopping), each with the config it runs it with.
type memberTasks struct {
	ID    string
	Owned map[task.ID]string // task id -> config digest
}

// taskConfig is a task to run and its config digest.
type taskConfig struct {
	ID     task.ID
	Digest string
}

// assign returns, per member, the tasks it is to run: each member
// keeps what it runs, up to its share (len(tasks)/len(members), the larger
// shares going to those that run the most); a task run by nobody goes to
// the member with the fewest tasks. A task whose owner is over its share,
// or runs it with another config, is revoked: assigned to nobody this
// round. revoked reports how many tasks are.
func assign(members []memberTasks, tasks []taskConfig) (assigned map[string][]task.ID, revoked int) {
	assigned = map[string][]task.ID{}
	if len(members) == 0 {
		return assigned, 0
	}
	ms := slices.Clone(members)
	slices.SortFunc(ms, func(a, b memberTasks) int { return cmp.Compare(a.ID, b.ID) })
	want := map[task.ID]string{}
	for _, t := range tasks {
		want[t.ID] = t.Digest
	}
	// owner of each task: the first member (by id) that runs it.
	owner := map[task.ID]int{}
	valid := make([]int, len(ms)) // tasks each member runs with the wanted config
	for i, m := range ms {
		assigned[m.ID] = []task.ID{}
		for _, id := range slices.SortedFunc(maps.Keys(m.Owned), task.ID.Compare) {
			d, ok := want[id]
			if _, taken := owner[id]; !ok || taken {
				continue
			}
			owner[id] = i
			if m.Owned[id] == d {
				valid[i]++
			}
		}
	}
	// Shares: len(tasks)/len(members) each, one more for the first
	// len(tasks)%len(members) members by tasks run (then id).
	order := make([]int, len(ms))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(valid[b], valid[a]) })
	share := make([]int, len(ms))
	for rank, i := range order {
		share[i] = len(tasks) / len(ms)
		if rank < len(tasks)%len(ms) {
			share[i]++
		}
	}
	count := make([]int, len(ms))
	var free []task.ID
	for _, t := range tasks {
		i, ok := owner[t.ID]
		switch {
		case !ok:
			free = append(free, t.ID)
		case ms[i].Owned[t.ID] == t.Digest && count[i] < share[i]:
			assigned[ms[i].ID] = append(assigned[ms[i].ID], t.ID)
			count[i]++
		default:
			revoked++
		}
	}
	for _, id := range free {
		best := -1
		for i := range ms {
			if count[i] >= share[i] {
				continue
			}
			if best < 0 || count[i] < count[best] {
				best = i
			}
		}
		if best < 0 {
			break // cannot happen: shares add up to len(tasks)
		}
		assigned[ms[best].ID] = append(assigned[ms[best].ID], id)
		count[best]++
	}
	return assigned, revoked
}
