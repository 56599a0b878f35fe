// Package replicator is Strait's worker runtime: it runs each enabled flow's
// source connector, which keeps the remote topics in line with the source
// (creation, partition increases, config and ACL sync: package
// replicator/topicsync, called from the flow's run loop) and runs the source
// tasks that copy records to the same partitions of the remote topics, and
// the flow's checkpoint and heartbeat tasks. A pair whose replication is
// off is a flow with only a heartbeat connector. The Connect state topics
// (offsets, configs, status) are read and written through package
// replicator/connectstate; tasks run through package replicator/task.
//
// Workers share a flow's tasks through a group on the target cluster
// (group.id, protocol type "strait"; package replicator/group): the leader
// assigns task configs (sticky and incremental, revoke before reassign),
// every worker runs what it was given. Standalone is a group of one.
//
// Goroutines: Worker.Run runs one goroutine per flow in an errgroup; each
// flow runs its group member, followers of its three state topics, and one
// goroutine per task it was assigned, and stops and waits for all of them
// before it returns (tasks first, then it leaves the group). A task owns
// its source consumer and target producer.
//
// Invariants: a partition's position in the offsets topic (Connect's
// format, so MM2 and Strait can take over from each other) only covers
// records the target acknowledged in an unbroken run (in exactly-once mode,
// records and positions commit in one transaction); a task reads its
// positions when it starts, after fencing its transactional id in
// exactly-once mode; a task runs on one worker at a time; offset syncs of a
// partition are written in upstream order, before the positions they
// precede; records deleted on the source before they were copied fail the
// partition's task unless data.loss.policy=skip, and are never passed over
// silently; a record the target refuses, or that cannot be copied exactly,
// stops its partition at that record (the task's other partitions go on),
// never passed over either.
package replicator
