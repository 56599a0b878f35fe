package checkpoint

import "time"

// DefaultRefresh is how old the checkpoint of a group that has not moved
// may get before the checkpoint task writes it again.
const DefaultRefresh = time.Minute

// DefaultMaxAge is how old a checkpoint, or the newest heartbeat
// replicated from the source, may be before a failover is refused
// (strait failover --max-age): five refresh intervals.
const DefaultMaxAge = 5 * DefaultRefresh

// Next decides what a checkpoint task writes, at an emission at now, for
// one group and partition: prev is the last checkpoint written (nil for
// none) with the time it was written; next is the group's committed offset
// (Upstream, Metadata) with its translation (Downstream), valid only when
// translated.
//
// A checkpoint that moved (ShouldEmit) is written. Otherwise, while the
// group is still at prev's upstream offset, prev is written again (with the
// commit's metadata) once it is refresh old: MM2 writes nothing for a group
// that does not move, so the age of its checkpoint says when the group
// last moved, not whether the checkpoint still holds. A rewritten
// checkpoint is the same record to MM2's readers (RemoteClusterUtils and
// MM2's checkpoint task keep the newest per group and partition); its
// timestamp says that at that time the task read the group's offset on the
// source and found it still there. A group that moved on the source while
// its translation did not (replication stopped short of it, or the group
// went back past the kept syncs) is not rewritten: its checkpoint no longer
// holds, and it ages.
func Next(prev *Written, next Checkpoint, translated bool, now time.Time, refresh time.Duration) (Checkpoint, bool) {
	var last *Checkpoint
	if prev != nil {
		last = &prev.Checkpoint
	}
	if translated && ShouldEmit(last, next) {
		return next, true
	}
	if prev == nil || next.Upstream != prev.Upstream || now.Sub(prev.At) < refresh {
		return Checkpoint{}, false
	}
	again := prev.Checkpoint
	again.Metadata = next.Metadata
	return again, true
}
