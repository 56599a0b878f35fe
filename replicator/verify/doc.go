// Package verify compares a flow's source topics with their remote topics
// record by record (key, value, headers in order, timestamp), as
// `strait verify` reports it.
//
// Pure part (align.go, anchors.go, fields.go, report.go; no I/O): the
// Aligner pairs one source partition's records with its remote
// partition's as they stream in. Records are copied to the same partition
// in order, but not always to the same offset: a source truncated before
// the copy (retention, compaction, DeleteRecords), a target that held
// records before replication began, transaction markers and aborted
// records the copy skipped, and the target's own transaction markers all
// shift them. The offset syncs written by the flow (MM2's or Strait's,
// the newest copy history) say where: an exact sync at either head of the
// two streams decides whether the heads are a changed pair or which has no
// counterpart; elsewhere a record found a little ahead on the other side
// (DefaultWindow), then the offset difference of the nearest sync, decide.
// Without any sync the first records of both sides are looked for on the
// other (InitialWindow). Every record read is counted once: compared
// (equal or Different), Missing, Extra, or, when they are no difference,
// Pending (not copied yet: past the flow's stored position), Gone (copies
// of records no longer on the source) and Outside (target records outside
// the compared range). Records are digests (kafkatest.DigestOf); the
// Aligner holds only those it has not accounted for, a window's worth.
//
// I/O part (run.go): Run lists the flow's topics and their offsets on both
// clusters (end offsets as they are when it starts, last stable offsets
// read_committed, so live topics are compared up to there), reads the
// flow's positions and offset syncs, then compares Options.Parallel
// partitions at a time. Each partition is read from both clusters at once
// by two goroutines feeding the comparing goroutine through small channels
// (a full channel holds its reader back: memory stays bounded whatever the
// partitions' sizes); a slot's two clients are reused from one partition
// to the next. Every goroutine is owned by an errgroup that Run waits for.
// The first pair found different in each partition is read again to name
// the fields that differ.
package verify
