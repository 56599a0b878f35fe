package verify

import (
	"sort"

	"github.com/strait-replicator/strait/checkpoint"
)

// anchor says that the source record at up was copied to down. An inexact
// anchor is a guess (the first records of both sides paired when a
// partition has no offset sync): it sets the offset difference of the
// predictions but never decides a pair by itself.
type anchor struct {
	up, down int64
	exact    bool
}

// anchors are a partition's offset syncs as one copy history: the syncs
// written since the last one whose upstream or downstream offset went back
// (the source topic recreated or a task replaying records it had copied,
// the remote topic recreated), in the order written, so that both offsets
// only grow. A replay keeps its earlier copies on the target: they are
// paired by content, and what is left of them counts as extra.
type anchors []anchor

// newAnchors builds the copy history from one partition's syncs in the
// order they were written.
func newAnchors(syncs []checkpoint.OffsetSync) anchors {
	start := 0
	for i := 1; i < len(syncs); i++ {
		if syncs[i].Upstream < syncs[i-1].Upstream || syncs[i].Downstream < syncs[i-1].Downstream {
			start = i
		}
	}
	out := make(anchors, 0, len(syncs)-start)
	for _, s := range syncs[start:] {
		if n := len(out); n > 0 && out[n-1].up == s.Upstream && out[n-1].down == s.Downstream {
			continue // the same sync sent again (a delayed sync at a flush)
		}
		out = append(out, anchor{up: s.Upstream, down: s.Downstream, exact: true})
	}
	return out
}

// below is the index of the last anchor at or below down, or of the first
// one when all are above it; -1 when there is none.
func (as anchors) below(down int64) int {
	if len(as) == 0 {
		return -1
	}
	i := sort.Search(len(as), func(i int) bool { return as[i].down > down }) - 1
	return max(i, 0)
}

// upOf is the source offset the target record at down is a copy of:
// exactly when an exact anchor is at down, else predicted with the offset
// difference of the nearest anchor below (or of the first, for records
// before it). Without anchors it is down itself.
func (as anchors) upOf(down int64) (up int64, exact bool) {
	i := as.below(down)
	if i < 0 {
		return down, false
	}
	a := as[i]
	if a.down == down && a.exact {
		return a.up, true
	}
	return a.up + (down - a.down), false
}

// downOf is where an exact anchor says the source record at up was copied,
// and whether one says so. When the record was copied more than once (a
// replay) it is the first copy at or past near (the target record being
// paired), else the last copy.
func (as anchors) downOf(up, near int64) (int64, bool) {
	i := sort.Search(len(as), func(i int) bool { return as[i].up >= up })
	found, down := false, int64(0)
	for ; i < len(as) && as[i].up == up; i++ {
		if !as[i].exact {
			continue
		}
		found, down = true, as[i].down
		if down >= near {
			break
		}
	}
	return down, found
}

// copied reports whether up is within the copy history: at or past its
// first exact anchor. A target record predicted there is a copy.
func (as anchors) copied(up int64) bool {
	for _, a := range as {
		if a.exact {
			return up >= a.up
		}
	}
	return false
}

// translate is where the copy of source offset up starts on the target,
// when exact anchors bracket it (one at or below, the next past it): the
// offset difference is then known up to the gaps before the next anchor.
// It is what a read of the target can start from, less a margin.
func (as anchors) translate(up int64) (int64, bool) {
	i := sort.Search(len(as), func(i int) bool { return as[i].up > up }) - 1
	if i < 0 || i+1 >= len(as) || !as[i].exact || !as[i+1].exact {
		return 0, false
	}
	return min(as[i].down+(up-as[i].up), as[i+1].down), true
}
