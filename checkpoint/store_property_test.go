package checkpoint

import (
	"fmt"
	"math/rand"
	"slices"
	"sort"
	"testing"
)

// replicated is a partition as replicated: record i was at up[i] on the
// source and at down[i] on the target, both increasing.
type replicated struct{ up, down []int64 }

// genLog builds a replicated log of n records from next, a source of small
// numbers: gaps upstream (compaction, transaction markers, aborted
// records) and downstream (another writer, markers on the target).
func genLog(n int, next func(int) int) replicated {
	var l replicated
	up, down := int64(next(3)), int64(next(3))
	for range n {
		l.up, l.down = append(l.up, up), append(l.down, down)
		up, down = up+1, down+1
		if next(4) == 0 {
			up += int64(1 + next(5))
		}
		if next(5) == 0 {
			down += int64(1 + next(3))
		}
	}
	return l
}

// ideal is, for each upstream offset x, the smallest downstream offset of a
// record at or after x: the largest offset a consumer that committed x on
// the source can resume at on the target without skipping a record. -1
// past the last record.
func (l replicated) ideal() []int64 {
	last := l.up[len(l.up)-1]
	out := make([]int64, last+2)
	out[last+1] = -1
	j := len(l.up) - 1
	for x := last; x >= 0; x-- {
		for j > 0 && l.up[j-1] >= x {
			j--
		}
		out[x] = l.down[j]
	}
	return out
}

// checkSyncs runs log through SyncState (offset.lag.max maxLag) into a
// Store of history syncs, flushing the delayed sync where flush says, and
// checks the store after every sync it takes:
//   - syncs reach the store in upstream order (a delayed sync taken at a
//     flush is never older than a due one already sent);
//   - translation never skips a record: a consumer resuming at Translate(x)
//     reads every record at or after x;
//   - translation never goes backwards as x grows;
//   - it is exact at every kept sync and at every record between a kept
//     sync and the sync written after it, however the store thinned;
//   - it covers every offset from the first sync on (thinning keeps the
//     oldest), keeps at most history syncs, and keeps the newest ones,
//     where a sync that continues its predecessor's downstream − upstream
//     is folded into the predecessor (fold).
func checkSyncs(t *testing.T, l replicated, maxLag int64, history int, flush func(i int) bool) {
	t.Helper()
	tp := TopicPartition{"t", 0}
	ideal := l.ideal()
	at := map[int64]int64{} // upstream -> downstream of each record
	for i, u := range l.up {
		at[u] = l.down[i]
	}
	s := NewStore(history)
	st := NewSyncState(maxLag)
	var sent []OffsetSync
	add := func(sy OffsetSync, why string) {
		if n := len(sent); n > 0 && sy.Upstream <= sent[n-1].Upstream {
			t.Fatalf("%s sync %d->%d sent after %d->%d: the store starts over", why, sy.Upstream, sy.Downstream, sent[n-1].Upstream, sent[n-1].Downstream)
		}
		if d, ok := at[sy.Upstream]; !ok || d != sy.Downstream {
			t.Fatalf("%s sync %d->%d is not a record of the log", why, sy.Upstream, sy.Downstream)
		}
		sent = append(sent, sy)
		s.Add(sy)
		kept := fold(sent)
		checkStore(t, s, tp, ideal, at, kept, history)
		checkResume(t, s, tp, at, kept)
	}
	for i := range l.up {
		sy := OffsetSync{Topic: "t", Upstream: l.up[i], Downstream: l.down[i]}
		if st.Update(sy) {
			add(sy, "due")
		}
		if flush(i) {
			if d, ok := st.TakeDelayed(); ok {
				add(d, "delayed")
			}
		}
	}
	if d, ok := st.TakeDelayed(); ok {
		add(d, "delayed")
	}
	if _, ok := st.TakeDelayed(); ok {
		t.Fatal("delayed sync taken twice")
	}
	// After the last flush the newest record is a sync: exact.
	last := len(l.up) - 1
	if d, ok := s.Translate(tp, l.up[last]); !ok || d != l.down[last] {
		t.Fatalf("newest record %d->%d translates to %d, %v", l.up[last], l.down[last], d, ok)
	}
}

func checkStore(t *testing.T, s *Store, tp TopicPartition, ideal []int64, at map[int64]int64, sent []OffsetSync, history int) {
	t.Helper()
	h := s.parts[tp]
	if len(h) > max(history, 4) {
		t.Fatalf("%d syncs kept, history %d", len(h), history)
	}
	// The newest syncs are all kept, with their successors.
	keep := min(len(sent), max(history, 4)/2)
	for k := range keep {
		want := sent[len(sent)-1-k]
		e := h[len(h)-1-k]
		if e.up != want.Upstream || e.down != want.Downstream {
			t.Fatalf("after %d syncs, the %d-th newest kept is %d->%d, want %d->%d", len(sent), k, e.up, e.down, want.Upstream, want.Downstream)
		}
	}
	// Each kept sync knows its successor as written.
	for i, e := range h {
		j := indexOf(sent, e.up)
		if j < 0 || sent[j].Downstream != e.down {
			t.Fatalf("kept sync %d->%d was never sent", e.up, e.down)
		}
		if hasNext := j+1 < len(sent); hasNext != e.hasNext || (hasNext && (e.nextUp != sent[j+1].Upstream || e.nextDown != sent[j+1].Downstream)) {
			t.Fatalf("kept sync %d (%d->%d): successor %v %d->%d, want the next sent", i, e.up, e.down, e.hasNext, e.nextUp, e.nextDown)
		}
	}
	first := sent[0].Upstream
	prev := int64(-1)
	for x := int64(0); x < int64(len(ideal)); x++ {
		d, ok := s.Translate(tp, x)
		if ok != (x >= first) {
			t.Fatalf("after %d syncs: Translate(%d) ok = %v; first sync at %d", len(sent), x, ok, first)
		}
		if !ok {
			continue
		}
		if ideal[x] >= 0 && d > ideal[x] {
			t.Fatalf("after %d syncs: Translate(%d) = %d skips the record at downstream %d", len(sent), x, d, ideal[x])
		}
		if d < prev {
			t.Fatalf("after %d syncs: Translate(%d) = %d, below Translate(%d) = %d", len(sent), x, d, x-1, prev)
		}
		prev = d
	}
	for _, e := range h {
		end := e.up
		if e.hasNext {
			end = e.nextUp
		}
		for x := e.up; x <= end; x++ {
			want, isRecord := at[x]
			if !isRecord {
				continue
			}
			if d, ok := s.Translate(tp, x); !ok || d != want {
				t.Fatalf("after %d syncs: Translate(%d) = %d, %v; the kept sync %d->%d (next %d->%d) proves %d",
					len(sent), x, d, ok, e.up, e.down, e.nextUp, e.nextDown, want)
			}
		}
	}
}

// checkResume checks Resume against the log after every sync: exact at
// every record the kept syncs prove; up to one past the newest sync, never
// above the source offset of the first record at or after the downstream
// offset (a re-read is never under-counted); and Resume(Translate(x)) <= x
// (a consumer resuming at a translation re-reads, never skips).
func checkResume(t *testing.T, s *Store, tp TopicPartition, at map[int64]int64, sent []OffsetSync) {
	t.Helper()
	h := s.parts[tp]
	ups := make([]int64, 0, len(at))
	for u := range at {
		ups = append(ups, u)
	}
	slices.Sort(ups) // downstream offsets grow with them
	for _, e := range h {
		end := e.up
		if e.hasNext {
			end = e.nextUp
		}
		for x := e.up; x <= end; x++ {
			if d, isRecord := at[x]; isRecord {
				if got, ok := s.Resume(tp, d); !ok || got != x {
					t.Fatalf("after %d syncs: Resume(%d) = %d, %v; the kept sync %d->%d (next %d->%d) proves %d", len(sent), d, got, ok, e.up, e.down, e.nextUp, e.nextDown, x)
				}
			}
		}
	}
	newest := h[len(h)-1]
	for d := int64(0); d <= newest.down+1; d++ {
		got, ok := s.Resume(tp, d)
		if !ok {
			continue
		}
		i := sort.Search(len(ups), func(i int) bool { return at[ups[i]] >= d })
		if i < len(ups) && got > ups[i] {
			t.Fatalf("after %d syncs: Resume(%d) = %d, above the first record there, %d->%d", len(sent), d, got, ups[i], at[ups[i]])
		}
	}
	for _, x := range ups {
		if d, ok := s.Translate(tp, x); ok {
			if got, ok := s.Resume(tp, d); ok && got > x {
				t.Fatalf("after %d syncs: Resume(Translate(%d) = %d) = %d: past the group's offset", len(sent), x, d, got)
			}
		}
	}
}

// fold is the syncs a store holds of sent, before thinning: each sync
// that has its predecessor's downstream − upstream and is not the newest
// is folded into the predecessor.
func fold(sent []OffsetSync) []OffsetSync {
	var out []OffsetSync
	diff := func(s OffsetSync) int64 { return s.Downstream - s.Upstream }
	for _, sy := range sent {
		if n := len(out); n >= 2 && diff(out[n-1]) == diff(out[n-2]) {
			out = out[:n-1]
		}
		out = append(out, sy)
	}
	return out
}

func indexOf(sent []OffsetSync, up int64) int {
	for i, s := range sent {
		if s.Upstream == up {
			return i
		}
	}
	return -1
}

// TestStoreMonotonePastSuccessor: syncs 0->0, 3->2, 6->3, 10->4, 12->5 in
// a store of 4; thinning drops 3->2, which stays known as 0->0's successor.
// An offset past it translated to one past 0->0 (1), below what 3 itself
// translates to (2): a group moving forward saw its checkpoint fall back.
func TestStoreMonotonePastSuccessor(t *testing.T) {
	s := NewStore(4)
	for _, sy := range [][2]int64{{0, 0}, {3, 2}, {6, 3}, {10, 4}, {12, 5}} {
		s.Add(OffsetSync{Topic: "t", Upstream: sy[0], Downstream: sy[1]})
	}
	tp := TopicPartition{"t", 0}
	at3, _ := s.Translate(tp, 3)
	at4, _ := s.Translate(tp, 4)
	if at3 != 2 {
		t.Errorf("Translate(3) = %d, want 2 (the dropped sync, known as a successor)", at3)
	}
	if at4 < at3 {
		t.Errorf("Translate(4) = %d < Translate(3) = %d", at4, at3)
	}
}

// TestStoreProperties runs seeded random logs (gaps on both sides) through
// the sync rules into small stores, with delayed syncs flushed at random
// points, and checks checkSyncs' properties after every sync.
func TestStoreProperties(t *testing.T) {
	seeds := 150
	if testing.Short() {
		seeds = 30
	}
	for seed := range int64(seeds) {
		r := rand.New(rand.NewSource(seed))
		l := genLog(20+r.Intn(180), r.Intn)
		maxLag := int64(r.Intn(12))
		history := 2 + r.Intn(14)
		flushEvery := 1 + r.Intn(20)
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			checkSyncs(t, l, maxLag, history, func(int) bool { return r.Intn(flushEvery) == 0 })
		})
	}
}

// TestSyncStateDueClearsDelayed: a due sync supersedes the delayed one, so
// a flush after it has nothing older to send.
func TestSyncStateDueClearsDelayed(t *testing.T) {
	s := NewSyncState(100)
	s.Update(OffsetSync{Upstream: 0, Downstream: 0})
	s.Update(OffsetSync{Upstream: 1, Downstream: 1}) // delayed
	if !s.Update(OffsetSync{Upstream: 5, Downstream: 2}) {
		t.Fatal("gap not due")
	}
	if d, ok := s.TakeDelayed(); ok {
		t.Fatalf("flush after a due sync sends %+v, older than it", d)
	}
	// The lag is measured from the due sync (downstream 2), not from 0.
	for up, down := int64(6), int64(3); down < 103; up, down = up+1, down+1 {
		if s.Update(OffsetSync{Upstream: up, Downstream: down}) {
			t.Fatalf("due at downstream %d; the last sync was at 2, offset.lag.max 100", down)
		}
	}
	if !s.Update(OffsetSync{Upstream: 106, Downstream: 103}) {
		t.Fatal("not due at downstream 103, 100 past the one after the last sync")
	}
}

// FuzzTranslate checks checkSyncs' properties on logs the fuzzer writes:
// each byte of data is one record, its bits the gaps and flushes.
func FuzzTranslate(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 0x10, 0x80, 0x41, 0xff, 0x03, 0x22}, uint8(3), uint8(4))
	f.Add([]byte{0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f}, uint8(0), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, maxLag, history uint8) {
		if len(data) == 0 || len(data) > 200 {
			return
		}
		var l replicated
		var up, down int64
		for _, b := range data {
			l.up, l.down = append(l.up, up), append(l.down, down)
			up += 1 + int64(b&3)
			down += 1 + int64(b>>2&3)
		}
		checkSyncs(t, l, int64(maxLag%32), int(history%20), func(i int) bool { return data[i]&0x80 != 0 })
	})
}
