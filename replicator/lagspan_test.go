package replicator

import "testing"

func TestSpanOf(t *testing.T) {
	for _, tt := range []struct {
		name              string
		next, start, end  int64
		wantNext, offsets int64
	}{
		{"never copied: from the log start", -1, 10, 50, 10, 40},
		{"copied part way", 30, 10, 50, 30, 20},
		{"caught up", 50, 10, 50, 50, 0},
		{"records deleted before they were copied no longer wait", 5, 10, 50, 10, 40},
		{"acknowledged past an end read earlier: no lag, never negative", 55, 10, 50, 55, 0},
		{"empty log", -1, 0, 0, 0, 0},
	} {
		s := spanOf(tt.next, tt.start, tt.end)
		if s.next != tt.wantNext || s.end != tt.end || s.offsets() != tt.offsets {
			t.Errorf("%s: span %+v with %d offsets, want next %d and %d offsets", tt.name, s, s.offsets(), tt.wantNext, tt.offsets)
		}
	}
}

func TestScanGap(t *testing.T) {
	span := lagSpan{next: 10, end: 13}
	type rec struct {
		offset  int64
		control bool
	}
	for _, tt := range []struct {
		name        string
		recs        []rec
		markersOnly bool
		done        bool
	}{
		{"a commit marker alone", []rec{{12, true}}, true, true},
		{"markers to the end", []rec{{10, true}, {11, true}, {12, true}}, true, true},
		{"aborted records left out, then their abort marker", []rec{{12, true}}, true, true},
		{"a record to copy", []rec{{10, false}}, false, true},
		{"a marker then a record", []rec{{10, true}, {11, false}}, false, true},
		{"a marker, more to read", []rec{{10, true}}, false, false},
		{"the source moved on past the span", []rec{{11, true}, {14, false}}, true, true},
		{"nothing read", nil, false, false},
	} {
		markersOnly, done := false, false
		for _, r := range tt.recs {
			if markersOnly, done = scanGap(span, r.offset, r.control); done {
				break
			}
		}
		if markersOnly != tt.markersOnly || done != tt.done {
			t.Errorf("%s: markersOnly %v done %v, want %v %v", tt.name, markersOnly, done, tt.markersOnly, tt.done)
		}
	}
}

// A partition behind only by a transaction's commit marker shows 0 once
// its span was read, and only for that span; a span is read once, and only
// when it stayed since the previous measure.
func TestGapVerdicts(t *testing.T) {
	tp := topicPartition{Topic: "orders", Partition: 0}
	v := gapVerdicts{}
	marker := lagSpan{next: 10, end: 11}
	if got := v.lag(tp, marker); got != 1 {
		t.Errorf("lag before the span was read: %d, want 1", got)
	}
	if v.toProbe(tp, marker, lagSpan{}, false) {
		t.Error("read at the first measure: nothing says the copy stopped")
	}
	if v.toProbe(tp, marker, lagSpan{next: 9, end: 11}, true) {
		t.Error("read while the copy moves")
	}
	if !v.toProbe(tp, marker, marker, true) {
		t.Error("not read although it stayed")
	}
	if v.toProbe(tp, lagSpan{next: 11, end: 11}, lagSpan{next: 11, end: 11}, true) {
		t.Error("read with nothing to go")
	}
	v[tp] = gapVerdict{span: marker, markersOnly: true}
	if got := v.lag(tp, marker); got != 0 {
		t.Errorf("lag of a span of markers: %d, want 0", got)
	}
	if v.toProbe(tp, marker, marker, true) {
		t.Error("read again")
	}
	// New records after the marker: lag again, and the verdict does not
	// hide them.
	moved := lagSpan{next: 10, end: 15}
	if got := v.lag(tp, moved); got != 5 {
		t.Errorf("lag with records after the marker: %d, want 5", got)
	}
	if !v.toProbe(tp, moved, moved, true) {
		t.Error("a new span that stayed is not read")
	}
	v[tp] = gapVerdict{span: moved, markersOnly: false}
	if got := v.lag(tp, moved); got != 5 || v.toProbe(tp, moved, moved, true) {
		t.Errorf("span with records: lag %d (want 5), read again %v", got, v.toProbe(tp, moved, moved, true))
	}
	v.keep(map[topicPartition]lagSpan{})
	if len(v) != 0 {
		t.Errorf("verdicts of partitions gone: %v", v)
	}
}

// A partition that needsStart says is not behind has the same span
// whatever its log start (at or below its end): the lag loop leaves its
// start unlisted.
func TestNeedsStart(t *testing.T) {
	for _, next := range []int64{-1, 0, 1, 4, 5, 9} {
		for _, end := range []int64{0, 1, 5} {
			behind := false
			for start := int64(0); start <= end; start++ {
				if spanOf(next, start, end) != spanOf(next, 0, end) {
					behind = true
				}
				if spanOf(next, start, end).offsets() > 0 {
					behind = true
				}
			}
			if !behind && needsStart(next, end) {
				t.Errorf("next %d, end %d: needsStart, but every start gives the span %v", next, end, spanOf(next, 0, end))
			}
			if behind && !needsStart(next, end) {
				t.Errorf("next %d, end %d: the span depends on the start, or has offsets to go, but needsStart is false", next, end)
			}
		}
	}
}
