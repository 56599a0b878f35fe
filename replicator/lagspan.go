package replicator

// The lag of a partition, as pure arithmetic on offsets: what the flow's
// lag loop (lagwatch.go) measures, and when it reads the source to tell
// transaction markers from records.

// lagSpan is what a partition's lag is measured between: the next offset
// to copy and the source's end offset (the last stable offset for a
// read_committed copy, the high watermark otherwise).
type lagSpan struct{ next, end int64 }

// spanOf is the span of a partition whose next offset to copy, as the
// worker knows it (the running task's acknowledged position, else the
// stored one), is next (-1: never copied), whose log starts at start and
// ends at end. Records deleted before they were copied no longer wait: the
// next offset is at least the log start.
func spanOf(next, start, end int64) lagSpan {
	return lagSpan{next: max(next, start), end: end}
}

// offsets is the number of offsets between next and end: records not yet
// copied, and any transaction markers among them.
func (s lagSpan) offsets() int64 { return max(s.end-s.next, 0) }

// gapVerdict says whether a partition's span was read and found to hold
// no record to copy: only transaction markers (and, read_committed,
// records of aborted transactions), which a consumer steps over.
type gapVerdict struct {
	span        lagSpan
	markersOnly bool
}

// gapVerdicts are the verdicts of the spans read, per partition; a verdict
// holds for its span only.
type gapVerdicts map[topicPartition]gapVerdict

// lag is the partition's lag over span: its offsets, or 0 when the span was
// found to hold nothing to copy.
func (v gapVerdicts) lag(tp topicPartition, span lagSpan) int64 {
	if vd, ok := v[tp]; ok && vd.span == span && vd.markersOnly {
		return 0
	}
	return span.offsets()
}

// toProbe reports whether the partition's span is to be read: it has
// offsets to go, it did not move since the previous measure (prev; ok is
// false for none), so that nothing is about to copy them, and it was not
// read yet. A partition whose copy moves is never read: its lag is the
// offsets still to go. One read per span that stays: a caught-up partition
// after a transaction, or a paused, failed or unfetched one.
func (v gapVerdicts) toProbe(tp topicPartition, span, prev lagSpan, ok bool) bool {
	if span.offsets() == 0 || !ok || prev != span {
		return false
	}
	vd, read := v[tp]
	return !read || vd.span != span
}

// keep forgets the verdicts of partitions not in spans.
func (v gapVerdicts) keep(spans map[topicPartition]lagSpan) {
	for tp := range v {
		if _, ok := spans[tp]; !ok {
			delete(v, tp)
		}
	}
}

// scanGap reads a span's records in offset order, control records
// included: the first record to copy inside the span decides that it is
// lag (markersOnly false); reaching its last offset, or passing its end
// (the source moved on), without one decides that it holds only markers.
// done is false while undecided.
func scanGap(span lagSpan, offset int64, control bool) (markersOnly, done bool) {
	switch {
	case offset >= span.end:
		return true, true
	case offset < span.next:
		return false, false // before the span: not asked for
	case !control:
		return false, true
	case offset == span.end-1:
		return true, true
	}
	return false, false
}
