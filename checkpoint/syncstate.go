package checkpoint

// SyncState is one partition's offset-sync state in a source task, with
// MM2's rules (OffsetSyncWriter.PartitionState): a sync is due at the
// first record of the task's lifetime, at every gap in upstream offsets
// (compaction, transaction markers, aborted records), when the downstream
// offset goes back (target truncated or recreated), and when translation
// through the last sync would lag by offset.lag.max records or more. A sync
// that is not due is kept as the partition's delayed sync and sent at the
// next offset flush (KAFKA-15906).
//
// Strait adds one rule, so that every sync MM2 would write is still written:
// a sync is also due wherever downstream − upstream changes (a gap on the
// target side too). Between two consecutive syncs of a task, every record
// then has the same downstream − upstream, which is what lets Translate be
// exact between them.
//
// Callers give offsets in acknowledgement order. The zero value is not
// ready: use NewSyncState.
type SyncState struct {
	maxLag             int64
	prevUpstream       int64
	prevDownstream     int64
	lastSyncDownstream int64
	delayed            OffsetSync
	hasDelayed         bool
}

// NewSyncState starts a partition's state; maxLag is offset.lag.max.
func NewSyncState(maxLag int64) SyncState {
	return SyncState{maxLag: maxLag, prevUpstream: -1, prevDownstream: -1, lastSyncDownstream: -1}
}

// Update records that upstream was written at downstream and reports
// whether the sync must be sent now. When it is not due, s keeps it as the
// delayed sync.
func (s *SyncState) Update(sync OffsetSync) (due bool) {
	due = s.lastSyncDownstream == -1 ||
		sync.Downstream-(s.lastSyncDownstream+1) >= s.maxLag ||
		sync.Upstream-s.prevUpstream != 1 ||
		sync.Downstream < s.prevDownstream ||
		sync.Downstream-sync.Upstream != s.prevDownstream-s.prevUpstream
	s.prevUpstream, s.prevDownstream = sync.Upstream, sync.Downstream
	if due {
		s.lastSyncDownstream = sync.Downstream
		s.hasDelayed = false
		return true
	}
	s.delayed, s.hasDelayed = sync, true
	return false
}

// TakeDelayed returns the delayed sync, if any, and clears it; the caller
// sends it at an offset flush.
func (s *SyncState) TakeDelayed() (OffsetSync, bool) {
	if !s.hasDelayed {
		return OffsetSync{}, false
	}
	s.hasDelayed = false
	s.lastSyncDownstream = s.delayed.Downstream
	return s.delayed, true
}
