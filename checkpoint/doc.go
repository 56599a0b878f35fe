// Package checkpoint translates consumer-group offsets between clusters, as
// MM2's MirrorCheckpointConnector does, and better where MM2 is weak.
//
// Pure parts (no I/O): the offset-sync and checkpoint records in MM2's exact
// bytes (../shared/MM2.md §2.2, §2.3); SyncState, the rules by which a
// source task writes offset syncs; Store, a sparse per-partition history of
// syncs that translates an upstream offset to the largest downstream offset
// that never skips an unconsumed record (exact between consecutive syncs);
// ShouldEmit, which keeps checkpoints from going backwards unless the group
// went backwards on the source; Next, which also writes the checkpoint of a
// group that does not move again every Refresh, so that its age says
// whether the checkpoint flow still confirms it; Raise, which keeps group
// offset sync from lowering an offset on the target; and a failover's
// arithmetic: Store.Resume (what a translated offset re-reads) and
// Failover.Judge (whether replication and the checkpoint flow are alive).
//
// I/O parts: Task (task.go), run by each flow of the replicator: two
// goroutines follow the offset-syncs topics (the flow's and, in
// active/active, the reverse flow's) and one emits checkpoints and syncs
// group offsets on a clock; Run returns after all three stopped. ReadGroup
// (remote.go) reads a group's checkpoints as RemoteClusterUtils does;
// Failover (failover.go) reads them, the offset syncs and the heartbeats
// replicated from the group's cluster, and commits them on the other.
package checkpoint
