package verify

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/checkpoint"
	"github.com/strait-replicator/strait/internal/kafkatest"
)

// Record is a record of either side as the comparison sees it: its offset
// and the digest of everything a copy keeps (key, value, headers in order,
// timestamp), or the record itself until a digest is needed. Records at
// the heads of both sides are compared field by field when both are at
// hand (equal records, the common case, are never hashed); a digest is
// taken where a record is looked for among others, and of the records
// held past the first window while a partition without offset syncs is
// aligned, so that their fetched batches are let go.
type Record struct {
	Offset int64
	// Digest is the record's digest when rec is nil.
	Digest kafkatest.Digest
	rec    *kgo.Record
}

// recordOf is the comparison's view of a fetched record.
func recordOf(r *kgo.Record) Record { return Record{Offset: r.Offset, rec: r} }

// hash replaces the record by its digest.
func (r *Record) hash() kafkatest.Digest {
	if r.rec != nil {
		r.Digest, r.rec = kafkatest.DigestOf(r.rec), nil
	}
	return r.Digest
}

// same reports whether two records hold the same key, value, headers and
// timestamp.
func same(a, b *Record) bool {
	if a.rec != nil && b.rec != nil {
		return sameRecord(a.rec, b.rec)
	}
	return a.hash() == b.hash()
}

// Kind is the kind of a difference.
type Kind int

const (
	// Missing is a source record that is not on the target.
	Missing Kind = iota + 1
	// Extra is a target record that is no source record's copy.
	Extra
	// Different is a source record and its copy whose contents differ.
	Different
)

func (k Kind) String() string {
	switch k {
	case Missing:
		return "missing"
	case Extra:
		return "extra"
	case Different:
		return "different"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Difference is one difference found in a partition. SourceOffset is set
// for Missing and Different, TargetOffset for Extra and Different.
type Difference struct {
	Kind         Kind
	SourceOffset int64
	TargetOffset int64
	// Fields name what differs in a Different pair ("key", "value",
	// "headers", "timestamp", as Fields says), when the records were read
	// again to tell; the Aligner, which sees digests only, leaves it nil.
	Fields []string
}

// Counts are what the comparison of a partition (or the sum over a topic)
// found. Compared, Missing, Extra and Different are the columns;
// the others are records that are not differences, counted so that every
// record read is accounted for.
type Counts struct {
	// Compared is how many source records were paired with a target
	// record: equal, or Different.
	Compared int64 `json:"compared"`
	// Missing, Extra and Different are the differences.
	Missing   int64 `json:"missing"`
	Extra     int64 `json:"extra"`
	Different int64 `json:"different"`
	// Pending is how many source records past the target's end are at or
	// past the flow's stored position: not copied yet, not missing.
	Pending int64 `json:"pending"`
	// Gone is how many target records are copies of source records that
	// are no longer on the source: below its log start (retention,
	// DeleteRecords) or, in a compacted topic, compacted away.
	Gone int64 `json:"gone_from_source"`
	// Outside is how many target records are outside the compared range:
	// before the copy of its first source record (a target that held
	// records before replication began, --from-time) or copies of source
	// records past the source's end as read at start.
	Outside int64 `json:"outside_range"`
}

// Differs reports whether c holds a difference.
func (c Counts) Differs() bool { return c.Missing+c.Extra+c.Different > 0 }

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Compared += o.Compared
	c.Missing += o.Missing
	c.Extra += o.Extra
	c.Different += o.Different
	c.Pending += o.Pending
	c.Gone += o.Gone
	c.Outside += o.Outside
}

// Range is what the comparison of one partition knows besides the records.
type Range struct {
	// SourceLogStart is the source partition's log start offset: records
	// below it are gone.
	SourceLogStart int64
	// SourceStart is the first source offset compared (the log start, or
	// the first offset at --from-time); SourceEnd is one past the last
	// (the last stable offset read at start).
	SourceStart, SourceEnd int64
	// Syncs are the partition's offset syncs in the order written.
	Syncs []checkpoint.OffsetSync
	// Positioned says the flow has stored a position for the partition;
	// NextToCopy is then that position + 1: source records at or past it
	// that are not on the target are pending, not missing.
	Positioned bool
	NextToCopy int64
	// Compacted says the source topic is compacted: a target record whose
	// source offset is in a gap of the source's offsets is a copy of a
	// record compacted away since, not an extra record.
	Compacted bool
	// NoSource says the source has no such partition: every target record
	// is extra.
	NoSource bool
}

// Default sizes of the windows an Aligner searches (in records per side).
const (
	// DefaultWindow is how far ahead a mismatch looks for a record of one
	// side on the other, to tell records missing or extra from records
	// changed where no offset sync decides.
	DefaultWindow = 1024
	// InitialWindow is how far the first records of each side are looked
	// for on the other when the partition has no offset sync.
	InitialWindow = 1 << 16
	// MaxDifferences is how many differences a partition keeps (all are
	// counted).
	MaxDifferences = 20
)

// Need is what an Aligner needs to go on.
type Need int

const (
	// NeedSource asks for more source records (AddSource) or the end
	// (EndSource).
	NeedSource Need = iota + 1
	// NeedTarget asks the same of the target.
	NeedTarget
	// Done says every record was accounted for.
	Done
)

// queue is one side's records not yet accounted for.
type queue struct {
	recs []Record
	head int
}

func (q *queue) len() int         { return len(q.recs) - q.head }
func (q *queue) at(i int) *Record { return &q.recs[q.head+i] }
func (q *queue) rest() []Record   { return q.recs[q.head:] }

// pop takes the head, letting its fetched record go.
func (q *queue) pop() Record {
	r := q.recs[q.head]
	q.recs[q.head].rec = nil
	q.head++
	return r
}

// find is the index of the first record in [from, to) with digest d, or
// -1.
func (q *queue) find(d kafkatest.Digest, from, to int) int {
	for i := from; i < min(to, q.len()); i++ {
		if q.recs[q.head+i].hash() == d {
			return i
		}
	}
	return -1
}

func (q *queue) push(rs []Record) {
	if q.head > 0 && q.head >= len(q.recs)/2 {
		n := copy(q.recs, q.recs[q.head:])
		clear(q.recs[n:])
		q.recs, q.head = q.recs[:n], 0
	}
	q.recs = append(q.recs, rs...)
}

// shed hashes the records past the first keep, so that only those keep
// fetched records (and their batches) are held.
func (q *queue) shed(keep int) {
	for i := q.head + keep; i < len(q.recs); i++ {
		q.recs[i].hash()
	}
}

// Aligner compares one source partition with its remote partition as their
// records stream in, in offset order, holding only the records it has not
// accounted for yet (at most a window's worth past what it asked for).
//
// Records are copied to the same partition in order, so equal records at
// the heads of both sides pair. Where the heads differ, the offset syncs
// decide where they can: an exact sync at either head says where its copy
// is (a truncated source, a pre-filled target, skipped transaction markers
// and aborted records all show there). Elsewhere a record of one side
// found a little ahead on the other says the records before it are missing
// or extra; failing that, the offset difference of the nearest sync says
// whether the heads are a changed pair or which one has no counterpart.
//
// Use: NewAligner, then call Advance and give it what it asks for until it
// says Done. An Aligner is not safe for concurrent use.
type Aligner struct {
	r       Range
	an      anchors
	window  int
	initial int

	src, tgt         queue
	srcEnded         bool
	tgtEnded         bool
	aligned, started bool
	lastSrc          int64 // offset of the last source record accounted for

	counts Counts
	diffs  []Difference
	// firstDifferent is the first pair found different; set with
	// hasDifferent.
	firstDifferent Difference
	hasDifferent   bool
}

// NewAligner compares a partition described by r. window is how far a
// mismatch looks ahead (DefaultWindow when zero or less).
func NewAligner(r Range, window int) *Aligner {
	if window <= 0 {
		window = DefaultWindow
	}
	a := &Aligner{r: r, an: newAnchors(r.Syncs), window: window, initial: max(window, InitialWindow), lastSrc: r.SourceStart - 1}
	a.aligned = len(a.an) > 0
	return a
}

// AddSource gives the next source records, in offset order (no control
// records).
func (a *Aligner) AddSource(rs []Record) { a.src.push(rs) }

// AddTarget gives the next target records, in offset order.
func (a *Aligner) AddTarget(rs []Record) { a.tgt.push(rs) }

// EndSource says the source has no more records in range.
func (a *Aligner) EndSource() { a.srcEnded = true }

// EndTarget says the target has no more records in range.
func (a *Aligner) EndTarget() { a.tgtEnded = true }

// Counts are what the comparison found so far.
func (a *Aligner) Counts() Counts { return a.counts }

// Differences are the first MaxDifferences differences found, in the
// order found.
func (a *Aligner) Differences() []Difference { return a.diffs }

// FirstDifferent is the first pair found different, if any.
func (a *Aligner) FirstDifferent() (Difference, bool) { return a.firstDifferent, a.hasDifferent }

// Advance accounts for every record it can and returns what it needs to
// go on, or Done.
func (a *Aligner) Advance() Need {
	for {
		ns, nt := a.src.len(), a.tgt.len()
		switch {
		case ns == 0 && !a.srcEnded:
			return NeedSource
		case nt == 0 && !a.tgtEnded:
			return NeedTarget
		case ns == 0 && nt == 0:
			return Done
		case ns == 0:
			a.trailingTarget(a.tgt.pop())
			continue
		case nt == 0:
			a.trailingSource(a.src.pop())
			continue
		}
		if !a.aligned {
			if need := a.align(); need != 0 {
				return need
			}
			continue
		}
		// The common case: runs of equal records.
		s, t := a.src.rest(), a.tgt.rest()
		n, i := min(len(s), len(t)), 0
		for i < n && same(&s[i], &t[i]) {
			s[i].rec, t[i].rec = nil, nil
			i++
		}
		if i > 0 {
			a.src.head += i
			a.tgt.head += i
			a.counts.Compared += int64(i)
			a.started, a.lastSrc = true, s[i-1].Offset
			continue
		}
		if need := a.mismatch(); need != 0 {
			return need
		}
	}
}

// align pairs the first records of a partition without offset syncs: the
// first source record found among the first target records (a target
// holding more, or copies of records gone from the source), or the first
// target record among the first source records (a target missing the
// first ones), whichever is nearer; else the two first records.
func (a *Aligner) align() Need {
	// Up to InitialWindow records of each side are held here: as
	// digests, past the first window.
	a.src.shed(a.window)
	a.tgt.shed(a.window)
	if a.tgt.len() < a.initial && !a.tgtEnded {
		return NeedTarget
	}
	if a.src.len() < a.initial && !a.srcEnded {
		return NeedSource
	}
	s, t := a.src.at(0), a.tgt.at(0)
	ks := a.tgt.find(s.hash(), 0, a.initial)
	kt := a.src.find(t.hash(), 0, a.initial)
	guess := anchor{up: s.Offset, down: t.Offset}
	switch {
	case ks >= 0 && (kt < 0 || ks <= kt):
		guess.down = a.tgt.at(ks).Offset
	case kt >= 0:
		guess.up = a.src.at(kt).Offset
	}
	a.an, a.aligned = anchors{guess}, true
	return 0
}

// mismatch accounts for the heads of both sides when they differ, or says
// what it needs to decide.
func (a *Aligner) mismatch() Need {
	s, t := a.src.at(0), a.tgt.at(0)
	// An exact sync at the source head says where its copy is.
	if d, ok := a.an.downOf(s.Offset, t.Offset); ok {
		switch {
		case t.Offset < d:
			a.notCopy(a.tgt.pop())
		case t.Offset > d:
			a.missing(a.src.pop())
		default:
			a.different(a.src.pop(), a.tgt.pop())
		}
		return 0
	}
	// An exact sync at the target head says what it is a copy of.
	if u, ok := a.an.upOf(t.Offset); ok {
		switch {
		case s.Offset < u:
			a.missing(a.src.pop())
		case s.Offset > u:
			a.notCopy(a.tgt.pop())
		default:
			a.different(a.src.pop(), a.tgt.pop())
		}
		return 0
	}
	// A target record predicted before the compared range is no copy of
	// the head (this also spares a search per copy of a record gone from
	// the source).
	if u, _ := a.an.upOf(t.Offset); u < a.r.SourceStart {
		a.notCopy(a.tgt.pop())
		return 0
	}
	// Either head found a little ahead on the other side.
	if a.tgt.len() < a.window && !a.tgtEnded {
		return NeedTarget
	}
	if a.src.len() < a.window && !a.srcEnded {
		return NeedSource
	}
	ks := a.tgt.find(s.hash(), 1, a.window)
	kt := a.src.find(t.hash(), 1, a.window)
	switch {
	case ks > 0 && (kt < 0 || ks <= kt):
		for range ks {
			a.notCopy(a.tgt.pop())
		}
		return 0
	case kt > 0:
		for range kt {
			a.missing(a.src.pop())
		}
		return 0
	}
	// Neither: if the records after the heads pair again a little
	// further on, in step, the heads are a changed record (or one missing
	// where one is extra: the same thing to a reader). Syncs written by
	// MM2's rules miss the target's own gaps, so this comes before the
	// offset difference of the nearest sync, which decides otherwise.
	for k := 1; k < min(a.window, a.src.len(), a.tgt.len()); k++ {
		if same(a.src.at(k), a.tgt.at(k)) {
			a.different(a.src.pop(), a.tgt.pop())
			return 0
		}
	}
	u, _ := a.an.upOf(t.Offset)
	switch {
	case u < s.Offset:
		a.notCopy(a.tgt.pop())
	case u > s.Offset:
		a.missing(a.src.pop())
	default:
		a.different(a.src.pop(), a.tgt.pop())
	}
	return 0
}

// trailingSource accounts for a source record after the target's last.
func (a *Aligner) trailingSource(s Record) {
	a.lastSrc = s.Offset
	if a.r.Positioned && s.Offset >= a.r.NextToCopy {
		a.counts.Pending++
		return
	}
	a.missing(s)
}

// trailingTarget accounts for a target record after the source's last.
func (a *Aligner) trailingTarget(t Record) {
	if a.r.NoSource {
		a.extra(t)
		return
	}
	if u, _ := a.an.upOf(t.Offset); u >= a.r.SourceEnd {
		a.counts.Outside++
		return
	}
	a.notCopy(t)
}

// notCopy accounts for a target record that is no copy of the source
// record at the head: a copy of a record gone from the source, a record
// outside the compared range, or an extra one.
func (a *Aligner) notCopy(t Record) {
	u, _ := a.an.upOf(t.Offset)
	switch {
	case u < a.r.SourceLogStart && a.an.copied(u):
		a.counts.Gone++
	case u < a.r.SourceStart || !a.started:
		a.counts.Outside++
	case a.r.Compacted && u > a.lastSrc && (a.src.len() == 0 || u < a.src.at(0).Offset):
		a.counts.Gone++
	default:
		a.extra(t)
	}
}

func (a *Aligner) extra(t Record) {
	a.counts.Extra++
	a.note(Difference{Kind: Extra, TargetOffset: t.Offset})
}

func (a *Aligner) missing(s Record) {
	a.lastSrc = s.Offset
	a.counts.Missing++
	a.note(Difference{Kind: Missing, SourceOffset: s.Offset})
}

func (a *Aligner) different(s, t Record) {
	a.started, a.lastSrc = true, s.Offset
	a.counts.Compared++
	a.counts.Different++
	d := Difference{Kind: Different, SourceOffset: s.Offset, TargetOffset: t.Offset}
	if !a.hasDifferent {
		a.firstDifferent, a.hasDifferent = d, true
	}
	a.note(d)
}

func (a *Aligner) note(d Difference) {
	if len(a.diffs) < MaxDifferences {
		a.diffs = append(a.diffs, d)
	}
}
