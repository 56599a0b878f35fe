// Package task is Strait's connect-style task runtime: what a task is
// (Task, named by an ID of its connector kind and number), how one runs
// (Runner: start, run again after a passing failure with a growing pause,
// stop, report Connect's states in a Status) and how a worker's set of
// tasks is brought in line with what its group assigned (Plan, pure, and
// Set.Apply, which stops tasks in parallel and outside the lock status
// readers take).
//
// The worker (package replicator) decides which tasks it wants and builds
// them; this package never looks inside a task.
package task
