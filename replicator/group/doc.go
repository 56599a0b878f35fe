// Package group owns a worker's membership in its flow's worker group: the
// group (group.id) on the flow's target cluster that the flow's workers
// join with Strait's own group protocol (protocol type "strait", so the
// group is never taken for a consumer group nor for MM2's Connect
// workers), and the leader's assignment of the flow's task configs to the
// members.
//
// The assignment (assign.go) is pure, sticky and incremental, as
// Connect's incremental cooperative protocol: every member keeps what it
// runs up to its share; a task that must move, or whose config changed,
// is first revoked (assigned to nobody, so its owner stops it and rejoins)
// and only given to its new owner in a later round, once nobody claims
// it. What a member claims and what the leader sends are JSON (wire.go);
// workers of two Strait versions share a group during a rolling upgrade,
// so their bytes do not change.
//
// Goroutines: Member.Start runs the member's loop in one goroutine, which
// Member.Leave stops and waits for; the loop runs each request to the
// coordinator in a goroutine of its own and waits for it. The worker (the
// flow) applies each Assignment and publishes what it runs (Owned); this
// package never starts or stops a task.
//
// Invariants: a task runs on one worker at a time. A member claims every
// task it runs, is stopping, or was handed and may not have started yet;
// the leader gives a task to nobody while another member claims it. A
// member that may have dropped out of the group (the coordinator says it
// is no member, or was silent for nearly a session timeout) hands its flow
// an empty assignment, so its tasks stop before the group can give them to
// others, and rejoins once they stopped; that assignment, and the first
// to give tasks back, are urgent (Config.Urgent): the flow cuts short its
// requests to the clusters to take them. Failed joins back off from 100 ms
// to 1 s, and a member the coordinator forgot joins again at once as a
// new one, so that a worker runs its tasks again within about a second of
// its target's return.
package group
