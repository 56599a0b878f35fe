package verify

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/checkpoint"
	"github.com/strait-replicator/strait/internal/kafkatest"
)

// digestOf is the digest of the source record at offset o (of incarnation
// gen), and foreign the digest of the n-th record no source holds.
func digestOf(gen, o int64) kafkatest.Digest { return kafkatest.Digest(uint64(gen)<<40 | uint64(o)) }
func foreign(n int) kafkatest.Digest         { return kafkatest.Digest(1<<62 | uint64(n)) }
func changed(d kafkatest.Digest) kafkatest.Digest {
	return d ^ 1<<61
}

// sourceOf is a source partition holding the given offsets.
func sourceOf(offsets ...int64) []Record {
	out := make([]Record, len(offsets))
	for i, o := range offsets {
		out[i] = Record{Offset: o, Digest: digestOf(0, o)}
	}
	return out
}

// span is the offsets from..to-1.
func span(from, to int64) []int64 {
	var out []int64
	for o := from; o < to; o++ {
		out = append(out, o)
	}
	return out
}

// without is offsets with those of drop removed.
func without(offsets []int64, drop ...int64) []int64 {
	return slices.DeleteFunc(slices.Clone(offsets), func(o int64) bool { return slices.Contains(drop, o) })
}

// copier copies a source partition as a replicator does: same order,
// target offsets from the end of what the target held, offset syncs by
// Strait's rules (checkpoint.SyncState) or MM2's alone; with differences
// planted.
type copier struct {
	prefill  int             // foreign records on the target before the copy
	skip     []int64         // source offsets not copied: missing
	change   []int64         // source offsets copied changed: different
	insert   map[int64]int   // foreign records written before the copy of an offset: extra
	gapAfter map[int64]int64 // target offsets skipped after the copy of an offset (transaction markers)
	mm2      bool            // syncs by MM2's rules only
	noSyncs  bool
	maxLag   int64 // offset.lag.max; 0: 100
}

func (c copier) run(src []Record) (tgt []Record, syncs []checkpoint.OffsetSync) {
	maxLag := c.maxLag
	if maxLag == 0 {
		maxLag = 100
	}
	var d int64
	nforeign := 0
	write := func(dg kafkatest.Digest) {
		tgt = append(tgt, Record{Offset: d, Digest: dg})
		d++
	}
	for range c.prefill {
		write(foreign(nforeign))
		nforeign++
	}
	st := checkpoint.NewSyncState(maxLag)
	m := newMM2State(maxLag)
	for _, s := range src {
		for range c.insert[s.Offset] {
			write(foreign(nforeign))
			nforeign++
		}
		if slices.Contains(c.skip, s.Offset) {
			continue
		}
		dg := s.Digest
		if slices.Contains(c.change, s.Offset) {
			dg = changed(dg)
		}
		sync := checkpoint.OffsetSync{Topic: "t", Upstream: s.Offset, Downstream: d}
		write(dg)
		due := st.Update(sync)
		if c.mm2 {
			due = m.update(sync)
		}
		if due && !c.noSyncs {
			syncs = append(syncs, sync)
		}
		d += c.gapAfter[s.Offset]
	}
	if s, ok := st.TakeDelayed(); ok && !c.mm2 && !c.noSyncs {
		syncs = append(syncs, s)
	}
	if s, ok := m.takeDelayed(); ok && c.mm2 && !c.noSyncs {
		syncs = append(syncs, s)
	}
	return tgt, syncs
}

// mm2State is MM2's OffsetSyncWriter.PartitionState (../shared/MM2.md
// §5.2), without the rule Strait adds.
type mm2State struct {
	maxLag, prevUp, prevDown, lastSyncDown int64
	delayed                                *checkpoint.OffsetSync
}

func newMM2State(maxLag int64) *mm2State {
	return &mm2State{maxLag: maxLag, prevUp: -1, prevDown: -1, lastSyncDown: -1}
}

func (m *mm2State) update(s checkpoint.OffsetSync) bool {
	due := m.lastSyncDown == -1 || s.Downstream-(m.lastSyncDown+1) >= m.maxLag || s.Upstream-m.prevUp != 1 || s.Downstream < m.prevDown
	m.prevUp, m.prevDown = s.Upstream, s.Downstream
	if due {
		m.lastSyncDown, m.delayed = s.Downstream, nil
		return true
	}
	m.delayed = &s
	return false
}

func (m *mm2State) takeDelayed() (checkpoint.OffsetSync, bool) {
	if m.delayed == nil {
		return checkpoint.OffsetSync{}, false
	}
	s := *m.delayed
	m.delayed = nil
	return s, true
}

// align runs an Aligner over src and tgt, giving it batches of at most
// batch records.
func align(r Range, src, tgt []Record, batch int) *Aligner {
	a := NewAligner(r, 0)
	feed := func(q *[]Record, add func([]Record), end func()) {
		if len(*q) == 0 {
			end()
			return
		}
		n := min(batch, len(*q))
		add((*q)[:n])
		*q = (*q)[n:]
	}
	for {
		switch a.Advance() {
		case NeedSource:
			feed(&src, a.AddSource, a.EndSource)
		case NeedTarget:
			feed(&tgt, a.AddTarget, a.EndTarget)
		case Done:
			return a
		}
	}
}

// rangeOf is the Range of a whole source partition.
func rangeOf(src []Record, syncs []checkpoint.OffsetSync) Range {
	r := Range{Syncs: syncs}
	if len(src) > 0 {
		r.SourceLogStart, r.SourceStart, r.SourceEnd = src[0].Offset, src[0].Offset, src[len(src)-1].Offset+1
	}
	return r
}

func TestAlign(t *testing.T) {
	all := span(0, 300)
	type tc struct {
		name   string
		src    []Record // the source as copied
		copy   copier
		after  func(src, tgt []Record) ([]Record, []Record) // what happened since the copy
		rng    func(r *Range)
		want   Counts
		wantDs []Difference
	}
	cases := []tc{
		{name: "identical", src: sourceOf(all...), want: Counts{Compared: 300}},
		{name: "source gaps: transaction markers and aborted records",
			src:  sourceOf(without(all, 10, 11, 12, 50, 51, 199)...),
			want: Counts{Compared: 294}},
		{name: "source truncated before the copy", src: sourceOf(span(50, 300)...), want: Counts{Compared: 250}},
		{name: "target held records before replication began", src: sourceOf(all...), copy: copier{prefill: 7},
			want: Counts{Compared: 300, Outside: 7}},
		{name: "target gaps: transaction markers of an exactly-once copy", src: sourceOf(all...),
			copy: copier{gapAfter: map[int64]int64{9: 1, 99: 1, 150: 3}}, want: Counts{Compared: 300}},
		{name: "source truncated after the copy", src: sourceOf(all...),
			after: func(src, tgt []Record) ([]Record, []Record) { return src[30:], tgt },
			want:  Counts{Compared: 270, Gone: 30}},
		{name: "source truncated after the copy beyond the window", src: sourceOf(span(0, 3000)...),
			after: func(src, tgt []Record) ([]Record, []Record) { return src[2500:], tgt },
			want:  Counts{Compared: 500, Gone: 2500}},
		{name: "one missing", src: sourceOf(all...), copy: copier{skip: []int64{120}},
			want: Counts{Compared: 299, Missing: 1}, wantDs: []Difference{{Kind: Missing, SourceOffset: 120}}},
		{name: "a run missing", src: sourceOf(all...), copy: copier{skip: span(120, 125)},
			want: Counts{Compared: 295, Missing: 5}},
		{name: "the first missing", src: sourceOf(all...), copy: copier{skip: []int64{0}},
			want: Counts{Compared: 299, Missing: 1}, wantDs: []Difference{{Kind: Missing, SourceOffset: 0}}},
		{name: "one extra", src: sourceOf(all...), copy: copier{insert: map[int64]int{140: 1}},
			want: Counts{Compared: 300, Extra: 1}, wantDs: []Difference{{Kind: Extra, TargetOffset: 140}}},
		{name: "a run extra", src: sourceOf(all...), copy: copier{insert: map[int64]int{140: 3}},
			want: Counts{Compared: 300, Extra: 3}},
		{name: "one changed", src: sourceOf(all...), copy: copier{change: []int64{77}},
			want: Counts{Compared: 300, Different: 1}, wantDs: []Difference{{Kind: Different, SourceOffset: 77, TargetOffset: 77}}},
		{name: "a run changed", src: sourceOf(all...), copy: copier{change: span(77, 80)},
			want: Counts{Compared: 300, Different: 3}},
		{name: "changed, with the source truncated before the copy and the target pre-filled",
			src: sourceOf(span(40, 300)...), copy: copier{prefill: 5, change: []int64{100}},
			want: Counts{Compared: 260, Different: 1, Outside: 5}, wantDs: []Difference{{Kind: Different, SourceOffset: 100, TargetOffset: 65}}},
		{name: "missing after a source gap", src: sourceOf(without(all, 100, 101)...), copy: copier{skip: []int64{102}},
			want: Counts{Compared: 297, Missing: 1}, wantDs: []Difference{{Kind: Missing, SourceOffset: 102}}},
		{name: "not copied yet", src: sourceOf(all...),
			after: func(src, tgt []Record) ([]Record, []Record) { return src, tgt[:250] },
			rng:   func(r *Range) { r.Positioned, r.NextToCopy = true, 240 },
			want:  Counts{Compared: 250, Pending: 50}},
		{name: "lost at the end, below the stored position", src: sourceOf(all...),
			after: func(src, tgt []Record) ([]Record, []Record) { return src, tgt[:250] },
			rng:   func(r *Range) { r.Positioned, r.NextToCopy = true, 260 },
			want:  Counts{Compared: 250, Missing: 10, Pending: 40}},
		{name: "not on the target, no position stored", src: sourceOf(all...),
			after: func(src, tgt []Record) ([]Record, []Record) { return src, tgt[:250] },
			want:  Counts{Compared: 250, Missing: 50}},
		{name: "copies past the source's end as read", src: sourceOf(all...),
			rng:   func(r *Range) { r.SourceEnd = 290 },
			after: func(src, tgt []Record) ([]Record, []Record) { return src[:290], tgt },
			want:  Counts{Compared: 290, Outside: 10}},
		{name: "from a time: the target read from before it", src: sourceOf(all...),
			after: func(src, tgt []Record) ([]Record, []Record) { return src[40:], tgt },
			rng:   func(r *Range) { r.SourceLogStart = 0 },
			want:  Counts{Compared: 260, Outside: 40}},
		{name: "no syncs, target pre-filled", src: sourceOf(all...), copy: copier{noSyncs: true, prefill: 4},
			want: Counts{Compared: 300, Outside: 4}},
		{name: "no syncs, one missing", src: sourceOf(all...), copy: copier{noSyncs: true, skip: []int64{150}},
			want: Counts{Compared: 299, Missing: 1}},
		{name: "no syncs, one extra", src: sourceOf(all...), copy: copier{noSyncs: true, insert: map[int64]int{150: 1}},
			want: Counts{Compared: 300, Extra: 1}},
		{name: "no syncs, the target missing its first records", src: sourceOf(all...),
			after: func(src, tgt []Record) ([]Record, []Record) { return src, tgt[20:] }, copy: copier{noSyncs: true},
			want: Counts{Compared: 280, Missing: 20}},
		{name: "MM2's sparse syncs, one extra", src: sourceOf(all...), copy: copier{mm2: true, insert: map[int64]int{140: 1}},
			want: Counts{Compared: 300, Extra: 1}, wantDs: []Difference{{Kind: Extra, TargetOffset: 140}}},
		{name: "MM2's sparse syncs, target gaps and one changed", src: sourceOf(all...),
			copy: copier{mm2: true, gapAfter: map[int64]int64{10: 1, 60: 1}, change: []int64{70}},
			want: Counts{Compared: 300, Different: 1}, wantDs: []Difference{{Kind: Different, SourceOffset: 70, TargetOffset: 72}}},
		{name: "MM2's syncs compacted to the newest, source truncated after the copy", src: sourceOf(all...),
			copy:  copier{mm2: true},
			after: func(src, tgt []Record) ([]Record, []Record) { return src[100:], tgt },
			rng: func(r *Range) {
				r.Syncs = r.Syncs[len(r.Syncs)-1:]
				r.SourceLogStart, r.SourceStart = 100, 100
			},
			// With only the newest sync left, nothing says the first
			// target records were copies: outside, not gone.
			want: Counts{Compared: 200, Outside: 100}},
		{name: "compacted after the copy", src: sourceOf(all...),
			after: func(src, tgt []Record) ([]Record, []Record) {
				return slices.DeleteFunc(src, func(r Record) bool { return r.Offset >= 10 && r.Offset < 13 }), tgt
			},
			rng:  func(r *Range) { r.Compacted = true },
			want: Counts{Compared: 297, Gone: 3}},
		{name: "records gone in the middle of a topic that is not compacted are extra", src: sourceOf(all...),
			after: func(src, tgt []Record) ([]Record, []Record) {
				return slices.DeleteFunc(src, func(r Record) bool { return r.Offset >= 10 && r.Offset < 13 }), tgt
			},
			want: Counts{Compared: 297, Extra: 3}},
		{name: "no source partition", src: sourceOf(span(0, 5)...),
			after: func(src, tgt []Record) ([]Record, []Record) { return nil, tgt },
			rng:   func(r *Range) { *r = Range{NoSource: true} },
			want:  Counts{Extra: 5}},
		{name: "empty source, copies gone", src: sourceOf(span(0, 5)...),
			after: func(src, tgt []Record) ([]Record, []Record) { return nil, tgt },
			rng:   func(r *Range) { r.SourceLogStart, r.SourceStart, r.SourceEnd = 5, 5, 5 },
			want:  Counts{Gone: 5}},
		{name: "empty target", src: sourceOf(span(0, 5)...),
			after: func(src, tgt []Record) ([]Record, []Record) { return src, nil },
			want:  Counts{Missing: 5}},
	}
	// A replay: a task copies 0..199, crashes with its position stored at
	// 159, and its successor copies 160..299 again from there.
	replaySrc := sourceOf(all...)
	first, syncs1 := copier{}.run(replaySrc[:200])
	second, syncs2 := copier{}.run(replaySrc[160:])
	for i := range second {
		second[i].Offset += 200
	}
	for i := range syncs2 {
		syncs2[i].Downstream += 200
	}
	cases = append(cases, tc{name: "a replay after a crash: the records copied twice are extra", src: replaySrc,
		after: func(src, _ []Record) ([]Record, []Record) { return src, append(slices.Clone(first), second...) },
		rng:   func(r *Range) { r.Syncs = append(slices.Clone(syncs1), syncs2...) },
		want:  Counts{Compared: 300, Extra: 40}})
	// The source topic was deleted and recreated: the target holds the
	// old incarnation's copies, then the new one's.
	oldSrc := sourceOf(span(0, 50)...)
	oldTgt, oldSyncs := copier{}.run(oldSrc)
	newSrc := make([]Record, 80)
	for i := range newSrc {
		newSrc[i] = Record{Offset: int64(i), Digest: digestOf(1, int64(i))}
	}
	newTgt, newSyncs := copier{prefill: 0}.run(newSrc)
	for i := range newTgt {
		newTgt[i].Offset += 50
	}
	for i := range newSyncs {
		newSyncs[i].Downstream += 50
	}
	cases = append(cases, tc{name: "source topic recreated", src: newSrc,
		after: func(src, _ []Record) ([]Record, []Record) { return src, append(slices.Clone(oldTgt), newTgt...) },
		rng:   func(r *Range) { r.Syncs = append(slices.Clone(oldSyncs), newSyncs...) },
		want:  Counts{Compared: 80, Outside: 50}})

	for _, c := range cases {
		for _, batch := range []int{1, 7, 1 << 20} {
			t.Run(fmt.Sprintf("%s/batch %d", c.name, batch), func(t *testing.T) {
				tgt, syncs := c.copy.run(c.src)
				src := c.src
				if c.after != nil {
					src, tgt = c.after(slices.Clone(src), slices.Clone(tgt))
				}
				r := rangeOf(src, syncs)
				if c.rng != nil {
					c.rng(&r)
				}
				a := align(r, src, tgt, batch)
				if got := a.Counts(); got != c.want {
					t.Errorf("counts %+v, want %+v (differences %v)", got, c.want, a.Differences())
				}
				if c.wantDs != nil && !reflect.DeepEqual(a.Differences(), c.wantDs) {
					t.Errorf("differences %+v, want %+v", a.Differences(), c.wantDs)
				}
			})
		}
	}
}

// TestAlignAccountsForEveryRecord: every record read is counted once,
// whatever the two sides hold (random records, both sides): source
// records as compared, missing or pending; target records as compared,
// extra, gone or outside.
func TestAlignAccountsForEveryRecord(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		var src, tgt []Record
		var o int64
		for range rnd.IntN(200) {
			o += 1 + int64(rnd.IntN(3))
			src = append(src, Record{Offset: o, Digest: kafkatest.Digest(rnd.IntN(40))})
		}
		o = 0
		for range rnd.IntN(200) {
			o += 1 + int64(rnd.IntN(3))
			tgt = append(tgt, Record{Offset: o, Digest: kafkatest.Digest(rnd.IntN(40))})
		}
		var syncs []checkpoint.OffsetSync
		for range rnd.IntN(5) {
			syncs = append(syncs, checkpoint.OffsetSync{Upstream: int64(rnd.IntN(400)), Downstream: int64(rnd.IntN(400))})
		}
		r := rangeOf(src, syncs)
		r.Positioned, r.NextToCopy, r.Compacted = rnd.IntN(2) == 0, int64(rnd.IntN(400)), rnd.IntN(2) == 0
		c := align(r, src, tgt, 1+rnd.IntN(50)).Counts()
		if got := c.Compared + c.Missing + c.Pending; got != int64(len(src)) {
			t.Fatalf("case %d: %+v accounts for %d source records of %d", i, c, got, len(src))
		}
		if got := c.Compared + c.Extra + c.Gone + c.Outside; got != int64(len(tgt)) {
			t.Fatalf("case %d: %+v accounts for %d target records of %d", i, c, got, len(tgt))
		}
	}
}

func TestFields(t *testing.T) {
	base := func() *kgo.Record {
		return &kgo.Record{Key: []byte{}, Value: []byte("v"), Timestamp: time.UnixMilli(1_700_000_000_000),
			Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("1")}, {Key: "e", Value: []byte{}}}}
	}
	for _, c := range []struct {
		name   string
		change func(r *kgo.Record)
		want   []string
	}{
		{"same", func(*kgo.Record) {}, nil},
		{"nil key for an empty one", func(r *kgo.Record) { r.Key = nil }, []string{"key"}},
		{"value", func(r *kgo.Record) { r.Value = []byte("w") }, []string{"value"}},
		{"header value", func(r *kgo.Record) { r.Headers[0].Value = []byte("2") }, []string{"headers"}},
		{"header dropped", func(r *kgo.Record) { r.Headers = r.Headers[:1] }, []string{"headers"}},
		{"nil header value for an empty one", func(r *kgo.Record) { r.Headers[1].Value = nil }, []string{"headers"}},
		{"timestamp", func(r *kgo.Record) { r.Timestamp = r.Timestamp.Add(1e6) }, []string{"timestamp"}},
		{"key and timestamp", func(r *kgo.Record) { r.Key = []byte("k2"); r.Timestamp = r.Timestamp.Add(-1e6) }, []string{"key", "timestamp"}},
	} {
		src, tgt := base(), base()
		c.change(tgt)
		if got := Fields(src, tgt); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestAlignFetchedRecords: records as fetched are compared field by field
// at the heads and hashed only where they are looked for: nil and empty
// keys, header order, timestamps all count, with windows small enough
// that records held beyond them are hashed too.
func TestAlignFetchedRecords(t *testing.T) {
	mk := func(o int64) *kgo.Record {
		return &kgo.Record{Offset: o, Key: []byte{}, Value: []byte(fmt.Sprint("v", o)), Timestamp: time.UnixMilli(1_700_000_000_000 + o),
			Headers: []kgo.RecordHeader{{Key: "a", Value: []byte("1")}, {Key: "b"}}}
	}
	const n = 200
	var src, tgt []Record
	var syncs []checkpoint.OffsetSync
	st := checkpoint.NewSyncState(100)
	d := int64(0)
	for o := range int64(n) {
		s := mk(o)
		src = append(src, recordOf(s))
		if o == 50 { // lost
			continue
		}
		if o == 90 { // someone else's record before it
			tgt = append(tgt, recordOf(&kgo.Record{Offset: d, Value: []byte("intruder")}))
			d++
		}
		c := mk(o)
		c.Offset = d
		switch o {
		case 20:
			c.Key = nil // nil, not empty
		case 30:
			c.Headers[0], c.Headers[1] = c.Headers[1], c.Headers[0]
		case 40:
			c.Timestamp = c.Timestamp.Add(time.Millisecond)
		case 130:
			c.Headers[1].Value = []byte{} // empty, not nil
		}
		tgt = append(tgt, recordOf(c))
		if sync := (checkpoint.OffsetSync{Upstream: o, Downstream: d}); st.Update(sync) {
			syncs = append(syncs, sync)
		}
		d++
	}
	for _, window := range []int{4, 64, DefaultWindow} {
		for _, batch := range []int{1, 9, n} {
			r := rangeOf(src, syncs)
			if batch == 9 {
				r.Syncs = nil // aligned by content: records held as digests past a window
			}
			// Fresh copies: the Aligner hashes (and drops) what it holds.
			a := NewAligner(r, window)
			s, tg := slices.Clone(src), slices.Clone(tgt)
			for need := a.Advance(); need != Done; need = a.Advance() {
				q, add, end := &s, a.AddSource, a.EndSource
				if need == NeedTarget {
					q, add, end = &tg, a.AddTarget, a.EndTarget
				}
				if len(*q) == 0 {
					end()
					continue
				}
				k := min(batch, len(*q))
				add((*q)[:k])
				*q = (*q)[k:]
			}
			want := Counts{Compared: n - 1, Missing: 1, Extra: 1, Different: 4}
			if got := a.Counts(); got != want {
				t.Errorf("window %d, batch %d: %+v, want %+v (%v)", window, batch, got, want, a.Differences())
			}
		}
	}
}
