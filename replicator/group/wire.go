package group

import "github.com/strait-replicator/strait/replicator/task"

// What members of a worker group send each other, as JSON. Workers of the
// old and the new version share a group during a rolling upgrade: the
// field names and tags do not change (wire_test.go pins the bytes).

// Strait's group protocol: workers of a flow join group.id on the target
// cluster with this protocol type, so the group is not mistaken for a
// consumer group (nor for MM2's "connect" workers, whose group a Strait
// worker refuses to join).
const (
	protocolType = "strait"
	protocol     = "strait-v1"
)

// Spec is a task as the leader assigns it: its id ("source-3",
// "checkpoint-0", "heartbeat-0") and, for a source task, its partitions.
type Spec struct {
	ID         task.ID               `json:"id"`
	Partitions []task.TopicPartition `json:"partitions,omitempty"`
}

// Digest identifies the task's config: a task whose partitions change is
// stopped everywhere before it runs with the new ones.
func (s Spec) Digest() string { return task.Digest(s.Partitions) }

// memberMetadata is what a worker tells the group when it joins.
type memberMetadata struct {
	Worker string             `json:"worker"`
	Owned  map[task.ID]string `json:"owned"` // task id -> digest
	// Loads are the bytes/s the worker copies per partition, for the
	// leader's load-aware assignment (tasks.assignment = load).
	Loads []partitionLoad `json:"loads,omitempty"`
}

// partitionLoad is one partition's measured load.
type partitionLoad struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Rate      float64 `json:"bytes_per_second"`
}

// Assignment is what the leader gives a worker: its share of the flow's
// tasks in one generation of the group. An Assignment with Generation -1
// and no tasks is handed when the worker may have dropped out of the
// group: it stops every task.
type Assignment struct {
	// Seq numbers the assignments a Member hands its flow; the flow
	// reports it back in Owned once it applied the assignment. Not sent.
	Seq        int    `json:"-"`
	Generation int32  `json:"generation"`
	Leader     string `json:"leader"` // the leader's worker id
	// SourceTasks is the flow's number of source tasks, as the leader saw
	// its config.
	SourceTasks int    `json:"source_tasks"`
	Tasks       []Spec `json:"tasks"`
}
