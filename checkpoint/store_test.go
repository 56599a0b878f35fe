package checkpoint

import (
	"fmt"
	"testing"
	"time"
)

func TestStoreTranslate(t *testing.T) {
	type q struct {
		up   int64
		down int64
		ok   bool
	}
	tests := []struct {
		name  string
		syncs [][2]int64 // upstream, downstream in topic order
		qs    []q
	}{
		{"no syncs", nil, []q{{5, 0, false}}},
		{"exact at a sync", [][2]int64{{0, 0}, {100, 100}}, []q{{0, 0, true}, {100, 100, true}}},
		{"between consecutive syncs: exact", [][2]int64{{0, 0}, {100, 100}}, []q{{42, 42, true}, {99, 99, true}}},
		{"shifted offsets between syncs", [][2]int64{{1000, 10}, {1100, 110}}, []q{{1050, 60, true}}},
		{"past the newest sync: one past it", [][2]int64{{0, 0}, {100, 100}}, []q{{101, 101, true}, {500, 101, true}}},
		{"before the first sync", [][2]int64{{50, 0}}, []q{{10, 0, false}}},
		// Compacted source: offsets 10..19 gone upstream, so the sync at 20
		// has a new difference. Everything up to 20 maps into [?, 10].
		{"upstream gap (compaction)", [][2]int64{{0, 0}, {20, 10}}, []q{{5, 5, true}, {9, 9, true}, {10, 10, true}, {15, 10, true}, {20, 10, true}, {21, 11, true}}},
		// Transaction marker upstream at 5: records 0..4, marker, 6..
		{"transaction marker", [][2]int64{{0, 0}, {6, 5}}, []q{{5, 5, true}, {6, 5, true}, {4, 4, true}}},
		// Target has a gap (another writer): downstream jumps.
		{"downstream gap", [][2]int64{{0, 0}, {10, 15}}, []q{{9, 9, true}, {10, 15, true}, {11, 16, true}}},
		{"upstream rewind resets", [][2]int64{{0, 0}, {100, 100}, {50, 200}}, []q{{60, 201, true}, {10, 0, false}}},
	}
	for _, tt := range tests {
		s := NewStore(DefaultHistory)
		for _, sy := range tt.syncs {
			s.Add(OffsetSync{Topic: "t", Partition: 0, Upstream: sy[0], Downstream: sy[1]})
		}
		for _, q := range tt.qs {
			got, ok := s.Translate(TopicPartition{"t", 0}, q.up)
			if ok != q.ok || (ok && got != q.down) {
				t.Errorf("%s: Translate(%d) = %d, %v; want %d, %v", tt.name, q.up, got, ok, q.down, q.ok)
			}
		}
	}
}

// TestStoreNeverSkips checks, over a log with gaps on both sides, that a
// consumer resuming at the translated offset reads every record it had not
// consumed, whatever syncs were kept.
func TestStoreNeverSkips(t *testing.T) {
	// Build a replicated log: upstream offsets with gaps (every 7th offset
	// is a marker), downstream with a gap every 11th record.
	type rec struct{ up, down int64 }
	var log []rec
	var down int64
	for up := int64(0); up < 2000; up++ {
		if up%7 == 3 {
			continue
		}
		if len(log)%11 == 10 {
			down += 2
		}
		log = append(log, rec{up, down})
		down++
	}
	for _, history := range []int{4, 16, 64} {
		s := NewStore(history)
		st := NewSyncState(100)
		for _, r := range log {
			sy := OffsetSync{Topic: "t", Upstream: r.up, Downstream: r.down}
			if st.Update(sy) {
				s.Add(sy)
			}
		}
		if d, ok := st.TakeDelayed(); ok {
			s.Add(d)
		}
		for x := int64(0); x <= 2000; x++ {
			d, ok := s.Translate(TopicPartition{"t", 0}, x)
			if !ok {
				continue
			}
			// Every record at upstream >= x must be at downstream >= d.
			for _, r := range log {
				if r.up >= x && r.down < d {
					t.Fatalf("history %d: upstream %d -> %d skips record %d->%d", history, x, d, r.up, r.down)
				}
			}
		}
		if s.Syncs(TopicPartition{"t", 0}) > history {
			t.Errorf("history %d: kept %d syncs", history, s.Syncs(TopicPartition{"t", 0}))
		}
	}
}

// TestStoreExactWithoutGaps: on a gap-free topic, every offset the full
// history covers translates exactly.
func TestStoreExactWithoutGaps(t *testing.T) {
	s := NewStore(1000)
	st := NewSyncState(100)
	for up := int64(0); up < 2500; up++ {
		sy := OffsetSync{Topic: "t", Upstream: up, Downstream: up}
		if st.Update(sy) {
			s.Add(sy)
		}
	}
	if d, ok := st.TakeDelayed(); ok {
		s.Add(d)
	}
	for x := int64(0); x <= 2500; x++ {
		if d, ok := s.Translate(TopicPartition{"t", 0}, x); !ok || d != x {
			t.Fatalf("Translate(%d) = %d, %v; want exact", x, d, ok)
		}
	}
}

// TestStoreExactPastTheHistory: syncs that only continue their
// predecessor's downstream − upstream (offset.lag.max syncs and the
// delayed ones written at each offset flush, here every 37 records) take
// no room in the history. 50,000 records with one upstream gap write
// about 1,400 syncs into a store of DefaultHistory; every record still
// translates, and resumes, exactly. Before such syncs were folded,
// thinning left most offsets one past the nearest kept sync: the demo's
// group re-read 26-59 records after failing over.
func TestStoreExactPastTheHistory(t *testing.T) {
	tp := TopicPartition{"t", 0}
	s := NewStore(DefaultHistory)
	st := NewSyncState(100)
	at := map[int64]int64{}
	added := 0
	up, down := int64(0), int64(3) // the target held 3 records before
	for i := range 50_000 {
		if i == 20_000 {
			up += 5 // compacted away on the source
		}
		sy := OffsetSync{Topic: "t", Upstream: up, Downstream: down}
		at[up] = down
		if st.Update(sy) {
			s.Add(sy)
			added++
		}
		if i%37 == 0 {
			if d, ok := st.TakeDelayed(); ok {
				s.Add(d)
				added++
			}
		}
		up, down = up+1, down+1
	}
	if added < 2*DefaultHistory {
		t.Fatalf("only %d syncs written: the history never filled", added)
	}
	if n := s.Syncs(tp); n > 4 {
		t.Errorf("%d syncs kept of %d; want those where the difference changed and the newest", n, added)
	}
	newest := s.parts[tp][len(s.parts[tp])-1].up
	for u, d := range at {
		if u > newest {
			continue
		}
		if got, ok := s.Translate(tp, u); !ok || got != d {
			t.Fatalf("Translate(%d) = %d, %v; want %d", u, got, ok, d)
		}
		if got, ok := s.Resume(tp, d); !ok || got != u {
			t.Fatalf("Resume(%d) = %d, %v; want %d", d, got, ok, u)
		}
	}
}

func TestShouldEmit(t *testing.T) {
	prev := &Checkpoint{Upstream: 100, Downstream: 50}
	tests := []struct {
		name string
		prev *Checkpoint
		next Checkpoint
		want bool
	}{
		{"first", nil, Checkpoint{Upstream: 1, Downstream: 1}, true},
		{"forward", prev, Checkpoint{Upstream: 110, Downstream: 60}, true},
		{"same", prev, Checkpoint{Upstream: 100, Downstream: 50}, false},
		{"downstream would go back", prev, Checkpoint{Upstream: 120, Downstream: 40}, false},
		{"group rewound on source", prev, Checkpoint{Upstream: 10, Downstream: 5}, true},
		{"upstream forward, downstream same", prev, Checkpoint{Upstream: 105, Downstream: 50}, false},
	}
	for _, tt := range tests {
		if got := ShouldEmit(tt.prev, tt.next); got != tt.want {
			t.Errorf("%s: %v", tt.name, got)
		}
	}
}

// TestStoreThinning: which syncs a store of each size keeps, by hand: up
// to history syncs are all kept; past it, every other sync of the older
// half goes, the oldest always stays. A store keeps at least 4.
func TestStoreThinning(t *testing.T) {
	tests := []struct {
		history, adds int
		kept          []int64
	}{
		{0, 4, []int64{0, 10, 20, 30}},
		{1, 5, []int64{0, 20, 30, 40}},
		{4, 4, []int64{0, 10, 20, 30}},
		{4, 5, []int64{0, 20, 30, 40}},
		{4, 6, []int64{0, 30, 40, 50}},
		{4, 7, []int64{0, 40, 50, 60}},
		{5, 6, []int64{0, 20, 30, 40, 50}},
		{6, 7, []int64{0, 20, 30, 40, 50, 60}},
		{8, 9, []int64{0, 20, 40, 50, 60, 70, 80}},
		{8, 10, []int64{0, 20, 40, 50, 60, 70, 80, 90}},
		{8, 11, []int64{0, 40, 60, 70, 80, 90, 100}},
		{8, 12, []int64{0, 40, 60, 70, 80, 90, 100, 110}},
	}
	for _, tt := range tests {
		s := NewStore(tt.history)
		for i := range tt.adds {
			s.Add(OffsetSync{Topic: "t", Upstream: int64(i) * 10, Downstream: int64(i)})
		}
		var got []int64
		for _, e := range s.parts[TopicPartition{"t", 0}] {
			got = append(got, e.up)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.kept) {
			t.Errorf("history %d, %d syncs: kept %v, want %v", tt.history, tt.adds, got, tt.kept)
		}
	}
}

func TestStoreEdges(t *testing.T) {
	tp := TopicPartition{"t", 0}
	s := NewStore(DefaultHistory)
	if d, ok := s.Translate(tp, 5); ok || d != 0 {
		t.Errorf("no syncs: Translate = %d, %v; want 0, false", d, ok)
	}
	s.Add(OffsetSync{Topic: "t", Upstream: 10, Downstream: 3})
	if d, ok := s.Translate(tp, 9); ok || d != 0 {
		t.Errorf("before the first sync: Translate = %d, %v; want 0, false", d, ok)
	}
	// A sync sent again for the same upstream offset (a task that replayed
	// from its last synced record) keeps the history and moves the record
	// to its new copy.
	s.Add(OffsetSync{Topic: "t", Upstream: 100, Downstream: 93})
	s.Add(OffsetSync{Topic: "t", Upstream: 100, Downstream: 95})
	if d, ok := s.Translate(tp, 50); !ok || d != 43 {
		t.Errorf("after a resent sync: Translate(50) = %d, %v; want 43", d, ok)
	}
	if d, ok := s.Translate(tp, 100); !ok || d != 95 {
		t.Errorf("after a resent sync: Translate(100) = %d, %v; want 95", d, ok)
	}
	// 100->93 continued 10->3's difference: folded into it.
	if s.Syncs(tp) != 2 {
		t.Errorf("kept %d syncs, want 2", s.Syncs(tp))
	}
	if s.Syncs(TopicPartition{"t", 1}) != 0 {
		t.Error("syncs of another partition")
	}
}

// TestShouldEmitRewindBelowDownstream: a group rewound on the source to an
// offset still above its previous downstream offset is a rewind too.
func TestShouldEmitRewindBelowDownstream(t *testing.T) {
	prev := &Checkpoint{Upstream: 100, Downstream: 50}
	if !ShouldEmit(prev, Checkpoint{Upstream: 80, Downstream: 45}) {
		t.Error("rewind from 100 to 80 (downstream 50 -> 45) not emitted")
	}
	if ShouldEmit(prev, Checkpoint{Upstream: 100, Downstream: 45}) {
		t.Error("same upstream, downstream back: emitted")
	}
}

// TestSyncStateLagAfterFlush: after a delayed sync is flushed the lag is
// counted from its downstream offset, not its upstream one.
func TestSyncStateLagAfterFlush(t *testing.T) {
	s := NewSyncState(5)
	s.Update(OffsetSync{Upstream: 100, Downstream: 0})
	s.Update(OffsetSync{Upstream: 101, Downstream: 1})
	s.Update(OffsetSync{Upstream: 102, Downstream: 2})
	if d, ok := s.TakeDelayed(); !ok || d.Upstream != 102 || d.Downstream != 2 {
		t.Fatalf("delayed = %+v, %v", d, ok)
	}
	for up, down := int64(103), int64(3); down < 8; up, down = up+1, down+1 {
		if s.Update(OffsetSync{Upstream: up, Downstream: down}) {
			t.Fatalf("due at downstream %d, within 5 of the flushed sync at 2", down)
		}
	}
	if !s.Update(OffsetSync{Upstream: 108, Downstream: 8}) {
		t.Error("not due at downstream 8, 5 past the one after the flushed sync at 2")
	}
}

// TestStoreResume: Resume is Translate the other way, exact where syncs
// prove it, a lower bound where a gap's width is unknown, and unknown
// below the oldest kept sync and past a successor thinning dropped.
func TestStoreResume(t *testing.T) {
	type q struct {
		down, up int64
		ok       bool
	}
	tests := []struct {
		name    string
		history int
		syncs   [][2]int64 // upstream, downstream in topic order
		qs      []q
	}{
		{"no syncs", 64, nil, []q{{5, 0, false}}},
		{"at a sync", 64, [][2]int64{{0, 0}, {100, 100}}, []q{{0, 0, true}, {100, 100, true}}},
		{"between syncs", 64, [][2]int64{{0, 0}, {100, 100}}, []q{{42, 42, true}, {99, 99, true}}},
		{"shifted offsets", 64, [][2]int64{{1000, 10}, {1100, 110}}, []q{{60, 1050, true}, {10, 1000, true}, {110, 1100, true}}},
		// The tail of issue 13: the last sync at 909, a group at the end
		// (1000) checkpointed at 910 reads from source offset 910 on.
		{"just past the newest sync", 64, [][2]int64{{0, 0}, {909, 909}}, []q{{910, 910, true}, {909, 909, true}}},
		{"past the newest, shifted", 64, [][2]int64{{500, 5}}, []q{{6, 501, true}, {9, 504, true}}},
		{"below the oldest sync", 64, [][2]int64{{50, 20}, {60, 30}}, []q{{19, 0, false}, {20, 50, true}}},
		// Source compacted: 10..19 gone; target record 10 is source 20.
		{"upstream gap", 64, [][2]int64{{0, 0}, {20, 10}}, []q{{5, 5, true}, {9, 9, true}, {10, 20, true}, {11, 21, true}}},
		// Target gap 10..14: resuming inside it reads source 10 (at 15) first.
		{"downstream gap", 64, [][2]int64{{0, 0}, {10, 15}}, []q{{9, 9, true}, {10, 10, true}, {12, 10, true}, {15, 10, true}, {16, 11, true}}},
		// History 4 drops 10->11 (kept as 0->0's successor): exact at it,
		// unknown between it and 20->22.
		{"past a dropped successor", 4, [][2]int64{{0, 0}, {10, 11}, {20, 22}, {30, 33}, {40, 44}}, []q{{5, 5, true}, {11, 10, true}, {16, 0, false}, {22, 20, true}, {49, 45, true}}},
		// The same difference throughout: the syncs between fold into
		// 0->0, so nothing is dropped and every offset resumes exactly.
		{"same difference folds", 4, [][2]int64{{0, 0}, {10, 10}, {20, 20}, {30, 30}, {40, 40}}, []q{{5, 5, true}, {15, 15, true}, {25, 25, true}, {45, 45, true}}},
		{"other partition", 64, [][2]int64{{0, 0}}, nil},
	}
	for _, tt := range tests {
		s := NewStore(tt.history)
		for _, sy := range tt.syncs {
			s.Add(OffsetSync{Topic: "t", Partition: 0, Upstream: sy[0], Downstream: sy[1]})
		}
		for _, q := range tt.qs {
			got, ok := s.Resume(TopicPartition{"t", 0}, q.down)
			if ok != q.ok || got != q.up {
				t.Errorf("%s: Resume(%d) = %d, %v; want %d, %v", tt.name, q.down, got, ok, q.up, q.ok)
			}
		}
		if _, ok := s.Resume(TopicPartition{"t", 1}, 0); ok {
			t.Errorf("%s: Resume on a partition without syncs answered", tt.name)
		}
	}
}

// TestNext: a checkpoint that moved is written; one that did not is
// written again once it is refresh old, while the group is still at its
// upstream offset; one whose group moved where translation did not follow
// is not, so that it ages.
func TestNext(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	const refresh = time.Minute
	cp := func(up, down int64, meta string) Checkpoint {
		return Checkpoint{Group: "g", Topic: "A.t", Partition: 1, Upstream: up, Downstream: down, Metadata: meta}
	}
	prev := func(age time.Duration) *Written { return &Written{cp(1000, 910, "m"), now.Add(-age)} }
	tests := []struct {
		name       string
		prev       *Written
		next       Checkpoint
		translated bool
		want       *Checkpoint
	}{
		{"first", nil, cp(5, 5, "m"), true, ptr(cp(5, 5, "m"))},
		{"first, not translated", nil, cp(5, 0, "m"), false, nil},
		{"moved", prev(0), cp(1000, 1000, "m"), true, ptr(cp(1000, 1000, "m"))},
		{"rewound", prev(0), cp(10, 10, "m"), true, ptr(cp(10, 10, "m"))},
		{"idle, young", prev(refresh - time.Millisecond), cp(1000, 910, "m"), true, nil},
		{"idle, refresh old", prev(refresh), cp(1000, 910, "m"), true, ptr(cp(1000, 910, "m"))},
		{"idle, older", prev(time.Hour), cp(1000, 910, "m"), true, ptr(cp(1000, 910, "m"))},
		// After a restart the syncs below the group may be compacted away:
		// the checkpoint written then still holds while the group is there.
		{"idle, no longer translates", prev(time.Hour), cp(1000, 0, "m"), false, ptr(cp(1000, 910, "m"))},
		// The kept syncs translate lower now: checkpoints never go back
		// without the group, so the written one is confirmed.
		{"idle, translates lower", prev(time.Hour), cp(1000, 900, "m"), true, ptr(cp(1000, 910, "m"))},
		{"idle, new metadata", prev(time.Hour), cp(1000, 910, "n"), true, ptr(cp(1000, 910, "n"))},
		// Replication stopped short of the group: its checkpoint no longer
		// holds and must age.
		{"moved, translation stuck", prev(time.Hour), cp(1200, 910, "m"), true, nil},
		{"moved, untranslatable", prev(time.Hour), cp(1200, 0, "m"), false, nil},
		{"rewound, untranslatable", prev(time.Hour), cp(5, 0, "m"), false, nil},
	}
	for _, tt := range tests {
		got, write := Next(tt.prev, tt.next, tt.translated, now, refresh)
		switch {
		case write != (tt.want != nil):
			t.Errorf("%s: write = %v, want %v", tt.name, write, tt.want != nil)
		case write && got != *tt.want:
			t.Errorf("%s: wrote %v, want %v", tt.name, got, *tt.want)
		case !write && got != (Checkpoint{}):
			t.Errorf("%s: nothing to write, but returned %v", tt.name, got)
		}
	}
}

func ptr[T any](v T) *T { return &v }
