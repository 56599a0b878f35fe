package replicator

import "github.com/strait-replicator/strait/replicator/task"

// The task runtime's names as the worker uses them.
type (
	// TaskID names one task of a flow.
	TaskID         = task.ID
	topicPartition = task.TopicPartition
	connKind       = task.Kind
)

// Connector kinds of a flow, as MM2 names its connector classes.
const (
	sourceConnector     = task.Source
	checkpointConnector = task.Checkpoint
	heartbeatConnector  = task.Heartbeat
	connKinds           = task.Kinds
)

func sourceTaskID(i int) TaskID { return task.SourceID(i) }

// singleTaskID is the one task of a checkpoint or heartbeat connector.
func singleTaskID(k connKind) TaskID { return task.SingleID(k) }

// restartsOf is Plan's view of pending restart requests.
func restartsOf(restarts [connKinds]restartRequest) func(TaskID, string) bool {
	return func(id TaskID, state string) bool { return restarts[id.Kind].wants(id.Index, state) }
}

// classify sorts a task's failure for the runner: passing ones (a broker,
// a connection, an aborted transaction) run it again from its stored
// positions; lasting ones (refused, data lost) fail it.
func classify(err error) task.Failure {
	switch {
	case fenced(err):
		return task.Fenced
	case lasting(err):
		return task.Lasting
	case retriable(err):
		return task.Passing
	}
	return task.Unknown
}
