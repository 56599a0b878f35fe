package verify

import (
	"math/rand/v2"
	"testing"
)

// FuzzAlign plants differences at random in a random copy made by
// Strait's sync rules or MM2's (source gaps, target gaps, a pre-filled target, a
// source truncated after the copy, records given in random batches) and
// checks the Aligner finds each one and nothing else. Planted differences
// are at least four records apart: a record missing next to one extra is a
// changed record to any reader.
func FuzzAlign(f *testing.F) {
	f.Add(uint64(1), uint16(300), uint8(0))
	f.Add(uint64(2), uint16(1500), uint8(7))
	f.Add(uint64(3), uint16(50), uint8(5))
	f.Add(uint64(4), uint16(2000), uint8(2))
	f.Add(uint64(5), uint16(800), uint8(15))
	f.Fuzz(func(t *testing.T, seed uint64, n uint16, flags uint8) {
		rnd := rand.New(rand.NewPCG(seed, uint64(n)))
		count := int(n % 2500)
		base := int64(rnd.IntN(1000))
		var offsets []int64
		for o := base; len(offsets) < count; o++ {
			if rnd.IntN(20) == 0 {
				o += int64(1 + rnd.IntN(3)) // transaction markers, aborted records
			}
			offsets = append(offsets, o)
		}
		src := sourceOf(offsets...)
		c := copier{insert: map[int64]int{}, gapAfter: map[int64]int64{}, mm2: flags&8 != 0}
		if flags&1 != 0 {
			c.prefill = 1 + rnd.IntN(30)
		}
		truncated := 0
		if flags&4 != 0 && count > 0 {
			truncated = rnd.IntN(count)
		}
		var want Counts
		next := truncated + 1 // no plant at the first record compared: one extra there is a pre-filled one
		for i, s := range src {
			if flags&2 != 0 && rnd.IntN(30) == 0 {
				c.gapAfter[s.Offset] = int64(1 + rnd.IntN(2))
			}
			// Nor at the last: one extra after it is a copy of a record
			// past the source's end.
			if i < next || i >= count-1 || rnd.IntN(25) != 0 {
				continue
			}
			next = i + 4
			switch rnd.IntN(3) {
			case 0:
				c.skip = append(c.skip, s.Offset)
				want.Missing++
			case 1:
				k := 1 + rnd.IntN(3)
				c.insert[s.Offset] = k
				want.Extra += int64(k)
			case 2:
				c.change = append(c.change, s.Offset)
				want.Different++
			}
		}
		tgt, syncs := c.run(src)
		src = src[truncated:]
		want.Compared = int64(len(src)) - want.Missing
		want.Gone = int64(truncated)
		want.Outside = int64(c.prefill)
		r := rangeOf(src, syncs)
		if len(src) == 0 {
			r.SourceLogStart, r.SourceStart, r.SourceEnd = base, base, base
		}
		got := align(r, src, tgt, 1+rnd.IntN(200)).Counts()
		if c.mm2 {
			// MM2's syncs miss the target's own gaps: a copy of a record
			// gone from the source next to the compared range may be
			// told from a record outside it only roughly. Neither is a
			// difference.
			got.Gone, got.Outside = got.Gone+got.Outside, 0
			want.Gone, want.Outside = want.Gone+want.Outside, 0
		}
		if got != want {
			t.Fatalf("counts %+v, want %+v (skip %v, insert %v, change %v, prefill %d, truncated %d)", got, want, c.skip, c.insert, c.change, c.prefill, truncated)
		}
	})
}
