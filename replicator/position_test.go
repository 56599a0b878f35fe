package replicator

import "testing"

func TestPosition(t *testing.T) {
	type op struct {
		send    int64 // >= 0: sent(send)
		ack     bool  // ack one
		success bool
	}
	tests := []struct {
		name      string
		start     int64
		ops       []op
		wantAcked int64
		pending   int
	}{
		{"nothing sent", -1, nil, -1, 0},
		{"sent not acked", -1, []op{{send: 0}, {send: 1}}, -1, 2},
		{"acked in order", -1, []op{{send: 0}, {send: 1}, {ack: true, success: true}}, 0, 1},
		{"all acked", 9, []op{{send: 10}, {send: 11}, {ack: true, success: true}, {ack: true, success: true}}, 11, 0},
		{"gap in upstream offsets", -1, []op{{send: 0}, {send: 5}, {ack: true, success: true}, {ack: true, success: true}}, 5, 0},
		{"failure stops the run", -1, []op{{send: 0}, {send: 1}, {send: 2}, {ack: true, success: true}, {ack: true, success: false}, {ack: true, success: true}}, 0, 0},
		{"failure first", 4, []op{{send: 5}, {send: 6}, {ack: true, success: false}, {ack: true, success: true}}, 4, 0},
	}
	for _, tt := range tests {
		p := newPosition(tt.start)
		for _, o := range tt.ops {
			if o.ack {
				p.ack(o.success)
			} else {
				p.sent(o.send)
			}
		}
		if p.acked != tt.wantAcked || p.pending() != tt.pending {
			t.Errorf("%s: acked %d pending %d, want %d %d", tt.name, p.acked, p.pending(), tt.wantAcked, tt.pending)
		}
	}
}

func TestPositionReusesSpace(t *testing.T) {
	p := newPosition(-1)
	for i := int64(0); i < 10000; i++ {
		p.sent(i)
		p.sent(i + 1_000_000)
		if up, ok := p.ack(true); !ok || up != i {
			t.Fatalf("ack %d: got %d, %v; offsets come back in the order sent", i, up, ok)
		}
		p.ack(true)
	}
	if cap(p.inflight) > 64 {
		t.Errorf("in-flight buffer grew to %d with at most 2 in flight", cap(p.inflight))
	}
	if _, ok := p.ack(true); ok {
		t.Error("ack with nothing in flight")
	}
}
