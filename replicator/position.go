package replicator

// position tracks one partition's records between "sent to the target" and
// "acknowledged", so that a partition's stored position only ever covers an
// unbroken run of acknowledged records. kgo acknowledges a partition's
// records in the order they were produced; position relies on that and
// pairs each acknowledgement with the oldest record in flight.
//
// The zero value is not ready: use newPosition.
type position struct {
	inflight []int64 // upstream offsets in flight, oldest at head
	head     int
	acked    int64 // last upstream offset acknowledged in an unbroken run; -1 for none
	failed   bool
}

func newPosition(acked int64) position { return position{acked: acked} }

// sent records that the record at upstream offset was produced.
func (p *position) sent(upstream int64) {
	if p.head > 0 && p.head*2 >= len(p.inflight) {
		n := copy(p.inflight, p.inflight[p.head:])
		p.inflight, p.head = p.inflight[:n], 0
	}
	p.inflight = append(p.inflight, upstream)
}

// ack pairs an acknowledgement with the oldest record in flight and returns
// its upstream offset; ok is false if nothing was in flight. A failed
// position stays where it failed.
func (p *position) ack(success bool) (upstream int64, ok bool) {
	if p.head == len(p.inflight) {
		return 0, false
	}
	upstream = p.inflight[p.head]
	p.head++
	if !success {
		p.failed = true
	}
	if !p.failed {
		p.acked = upstream
	}
	return upstream, true
}

// pending is the number of records in flight.
func (p *position) pending() int { return len(p.inflight) - p.head }

// unsend forgets the n records sent last, which were not produced after
// all (their partition stopped): they were never acknowledged, nor will be.
func (p *position) unsend(n int) {
	n = min(n, p.pending())
	p.inflight = p.inflight[:len(p.inflight)-n]
}
