package checkpoint

import "sort"

// TopicPartition names a partition of a source topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Store keeps a sparse history of offset syncs per source partition and
// translates a consumer group's upstream offset to a downstream one that
// is safe: a consumer resuming there on the target never skips a record
// it had not consumed on the source.
//
// Like MM2 3.5+ (KAFKA-14666) the history reaches far back with few syncs,
// so groups behind the newest sync still translate. Unlike MM2, which
// resumes one past the nearest sync (re-reading up to offset.lag.max
// records), Store translates exactly between a sync and the sync written
// right after it: the source task writes a sync wherever downstream −
// upstream changes (SyncState), so every record between two consecutive
// syncs has the first one's difference. A sync's successor is the next
// sync read for the partition; compaction of the offset-syncs topic never
// removes a record between two that survive with the same key, so
// consecutive in the topic is consecutive as written. A sync that only
// continues its predecessor's difference is folded into it (extends), so
// syncs written for offset.lag.max and at offset flushes take no room in
// the history, and thinning only ever drops syncs where the difference
// changed.
//
// A Store is not safe for concurrent use.
type Store struct {
	max   int
	parts map[TopicPartition][]entry
}

type entry struct {
	up, down         int64
	hasNext          bool
	nextUp, nextDown int64
}

// DefaultHistory is how many syncs a partition keeps by default.
const DefaultHistory = 64

// NewStore keeps at most history syncs per partition (at least 4).
func NewStore(history int) *Store {
	return &Store{max: max(history, 4), parts: map[TopicPartition][]entry{}}
}

// Add records a sync read from the offset-syncs topic, in topic order. A
// sync whose upstream offset is below the newest one (the source topic was
// recreated, or a task replayed) starts the partition's history anew, as
// MM2 does.
func (s *Store) Add(sync OffsetSync) {
	tp := TopicPartition{sync.Topic, sync.Partition}
	h := s.parts[tp]
	if n := len(h); n > 0 {
		last := &h[n-1]
		if sync.Upstream < last.up {
			h = h[:0]
		} else {
			last.hasNext, last.nextUp, last.nextDown = true, sync.Upstream, sync.Downstream
			if n >= 2 && extends(h[n-2], *last) {
				// The last sync only continued its predecessor's run:
				// the predecessor now runs to the new sync, and every
				// translation stays as it was (see extends).
				h[n-2].nextUp, h[n-2].nextDown = sync.Upstream, sync.Downstream
				h = h[:n-1]
			}
		}
	}
	h = append(h, entry{up: sync.Upstream, down: sync.Downstream})
	if len(h) > s.max {
		h = thin(h)
	}
	s.parts[tp] = h
}

// extends reports whether e, the sync written right after p (the newest
// two a partition keeps are always consecutive: thinning keeps the newer
// half), has p's downstream − upstream: then every record from p to e's
// successor has that difference (no sync between them, and e's own run has
// it), so p with e's successor as its own translates every offset in both
// runs as the two did, and e can go. A partition copied without gaps or with
// gaps of the same length on both sides (MM2's offset.lag.max syncs, and
// the delayed syncs written at each offset flush) then keeps two syncs
// however long it runs, and translation stays exact everywhere below the
// newest, where thinning made it one past the nearest sync.
func extends(p, e entry) bool {
	return e.down-e.up == p.down-p.up
}

// thin drops every other sync of the older half, so that density falls off
// with age: recent syncs are all kept, old ones exponentially fewer. Each
// survivor keeps its own successor, so exactness near it is not lost.
func thin(h []entry) []entry {
	half := len(h) / 2
	out := h[:0]
	for i, e := range h {
		if i < half && i%2 == 1 {
			continue
		}
		out = append(out, e)
	}
	return out
}

// Translate returns the downstream offset at which a consumer of the
// remote partition resumes after committing upstream on the source, and
// whether there is one. There is none when the store has no sync for the
// partition or every sync it keeps is past upstream (the group is behind
// the kept history). Translation is exact at a sync, between a sync and
// its successor, and just past the newest sync; elsewhere it is one past
// the nearest sync below, as in MM2, which may re-read records but never
// skips one.
func (s *Store) Translate(tp TopicPartition, upstream int64) (int64, bool) {
	h := s.parts[tp]
	i := sort.Search(len(h), func(i int) bool { return h[i].up > upstream }) - 1
	if i < 0 {
		return 0, false
	}
	e := h[i]
	switch {
	case upstream == e.up:
		return e.down, true
	case e.hasNext && upstream == e.nextUp:
		return e.nextDown, true
	case e.hasNext && upstream < e.nextUp:
		// Every record from e up to the one before its successor has e's
		// downstream − upstream; past that run lies a gap, which ends at
		// the successor on both sides: never go beyond it.
		return min(e.down+(upstream-e.up), e.nextDown), true
	case e.hasNext:
		// Past a successor that thinning dropped from the history: one past
		// that successor, never lower than what it translated to (MM2's
		// sync+1 from the nearest sync it knows).
		return e.nextDown + 1, true
	default:
		return e.down + 1, true
	}
}

// Resume is Translate the other way: it returns the upstream offset of the
// record from which a consumer resuming at downstream on the remote
// partition reads on (the source records from there on are the ones it
// will read), and whether that is known. It is exact at a sync and between
// a sync and its successor, but where gaps on both sides before the
// successor leave the length of the run before them unknown: there it
// answers the lowest offset it can be, so that a re-read counted from it is
// never too small. Past the newest sync it assumes what the source task's
// rules make true once every due sync is written: the records there have
// the newest sync's downstream − upstream. It is unknown below the oldest
// kept sync and past a successor that thinning dropped.
func (s *Store) Resume(tp TopicPartition, downstream int64) (int64, bool) {
	h := s.parts[tp]
	// Newest first: after the target was truncated downstream offsets
	// start again lower, and the newest run is the one that holds them.
	for i := len(h) - 1; i >= 0; i-- {
		e := h[i]
		if e.down > downstream {
			continue
		}
		switch {
		case downstream == e.down:
			return e.up, true
		case !e.hasNext:
			return e.up + (downstream - e.down), true
		case downstream < e.nextDown:
			// As in Translate: e's run of records, then a gap that ends at
			// the successor on both sides.
			return min(e.up+(downstream-e.down), e.nextUp), true
		case downstream == e.nextDown:
			return e.nextUp, true
		default:
			return 0, false // past a dropped successor: gaps unknown
		}
	}
	return 0, false
}

// Syncs is the number of syncs kept for tp.
func (s *Store) Syncs(tp TopicPartition) int { return len(s.parts[tp]) }

// ShouldEmit reports whether a checkpoint next for a group and partition is
// written given prev, the last one written (nil for none). A checkpoint
// never goes backwards on the target unless the group went backwards on the
// source: it is written when it is the first, when its upstream offset is
// below the previous one (the group was rewound on the source, so its
// target position must follow), or when its downstream offset moved up.
func ShouldEmit(prev *Checkpoint, next Checkpoint) bool {
	switch {
	case prev == nil:
		return true
	case next.Upstream < prev.Upstream:
		return true
	default:
		return next.Downstream > prev.Downstream
	}
}
