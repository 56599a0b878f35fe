package checkpoint

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/strait-replicator/strait/policy"
)

// TestFailoverUpstreamTopic: a checkpoint's topic on B names the topic on A
// the group consumed, both for copies of A's topics and for B's own topics
// that reached A as remote topics (active/active).
func TestFailoverUpstreamTopic(t *testing.T) {
	f := &Failover{From: "A", To: "B", Policy: policy.Default{}}
	for target, want := range map[string]string{
		"A.orders":   "orders",     // a copy of A's orders
		"A.x.orders": "x.orders",   // one hop upstream only
		"orders":     "B.orders",   // B's own, read on A as B.orders
		"C.orders":   "B.C.orders", // from C: reached A through B
	} {
		if got := f.upstreamTopic(target); got != want {
			t.Errorf("upstreamTopic(%q) = %q, want %q", target, got, want)
		}
	}
}

// TestFailoverTranslate: translations are sorted by topic and partition,
// carry their checkpoint's offsets, metadata, time and age, say how far the
// group on the source is past each checkpoint only when the source told,
// and, with the offset syncs, what the group will re-read: from its offset
// on the source (the checkpoint's when the source is down) back to where
// the translated offset resumes on the source.
func TestFailoverTranslate(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	written := func(topic string, p int32, up, down int64, age time.Duration) Written {
		return Written{Checkpoint{Group: "g", Topic: topic, Partition: p, Upstream: up, Downstream: down, Metadata: "m" + topic}, now.Add(-age)}
	}
	cps := map[TopicPartition]Written{}
	for _, w := range []Written{
		written("orders", 0, 7, 7, 3*time.Second), // B's own: the source group reads B.orders
		written("A.orders", 1, 50, 40, 1500*time.Millisecond),
		written("A.orders", 0, 0, 0, 0),
		written("A.payments", 2, 20, 18, time.Minute),
		written("A.refunds", 0, 5, 5, 0),
		written("A.tail", 0, 1000, 910, 0),   // at the end, the last sync at 909
		written("A.exact", 0, 1000, 1000, 0), // at the end, the last sync at 999
		written("A.skips", 0, 50, 55, 0),     // a checkpoint past the group's records
	} {
		cps[TopicPartition{w.Topic, w.Partition}] = w
	}
	source := kadm.OffsetResponses{}
	source.Add(kadm.OffsetResponse{Offset: kadm.Offset{Topic: "orders", Partition: 1, At: 60}})   // A.orders/1
	source.Add(kadm.OffsetResponse{Offset: kadm.Offset{Topic: "orders", Partition: 0, At: 0}})    // A.orders/0: at the checkpoint
	source.Add(kadm.OffsetResponse{Offset: kadm.Offset{Topic: "B.orders", Partition: 0, At: 9}})  // orders/0
	source.Add(kadm.OffsetResponse{Offset: kadm.Offset{Topic: "payments", Partition: 2, At: -1}}) // no commit
	source.Add(kadm.OffsetResponse{Offset: kadm.Offset{Topic: "refunds", Partition: 0, At: 9}, Err: errors.New("failed")})
	source.Add(kadm.OffsetResponse{Offset: kadm.Offset{Topic: "tail", Partition: 0, At: 1000}})
	source.Add(kadm.OffsetResponse{Offset: kadm.Offset{Topic: "exact", Partition: 0, At: 1000}})
	source.Add(kadm.OffsetResponse{Offset: kadm.Offset{Topic: "skips", Partition: 0, At: 50}})

	forward, reverse := NewStore(DefaultHistory), NewStore(DefaultHistory)
	for _, s := range []OffsetSync{
		{Topic: "orders", Partition: 1, Upstream: 0, Downstream: 0}, {Topic: "orders", Partition: 1, Upstream: 45, Downstream: 35}, // 10 compacted away below 45
		{Topic: "orders", Partition: 0, Upstream: 0, Downstream: 0},
		{Topic: "tail", Partition: 0, Upstream: 0, Downstream: 0}, {Topic: "tail", Partition: 0, Upstream: 909, Downstream: 909},
		{Topic: "exact", Partition: 0, Upstream: 909, Downstream: 909}, {Topic: "exact", Partition: 0, Upstream: 999, Downstream: 999},
		{Topic: "skips", Partition: 0, Upstream: 0, Downstream: 0}, {Topic: "skips", Partition: 0, Upstream: 100, Downstream: 100},
		// payments: no sync at or below 18 downstream; refunds: none.
		{Topic: "payments", Partition: 2, Upstream: 30, Downstream: 28},
	} {
		forward.Add(s)
	}
	// B->A copied B's orders/0 from 0 to A's B.orders/0 from 2.
	reverse.Add(Reversed(policy.Default{}, "B", OffsetSync{Topic: "orders", Partition: 0, Upstream: 0, Downstream: 2}))
	syncs := syncStores{forward, reverse}

	type want struct {
		topic              string
		p                  int32
		off, up, age, back int64
		resumes, reread    *int64
	}
	n := func(v int64) *int64 { return &v }
	f := &Failover{From: "A", To: "B", Policy: policy.Default{}}
	for _, c := range []struct {
		name   string
		source kadm.OffsetResponses
		syncs  syncStores
		want   []want
	}{
		{"source answered", source, syncs, []want{
			{"A.exact", 0, 1000, 1000, 0, 0, n(1000), n(0)},
			{"A.orders", 0, 0, 0, 0, 0, n(0), n(0)},
			{"A.orders", 1, 40, 50, 1, 10, n(50), n(10)}, // 40 is source 50: the group moved 10 since
			{"A.payments", 2, 18, 20, 60, -1, nil, nil},
			{"A.refunds", 0, 5, 5, 0, -1, nil, nil},
			{"A.skips", 0, 55, 50, 0, 0, n(55), n(-5)},
			{"A.tail", 0, 910, 1000, 0, 0, n(910), n(90)}, // BEHIND SOURCE 0, yet 90 re-read
			{"orders", 0, 7, 7, 3, 2, n(9), n(0)},         // B's 7 is A's B.orders 9, where the group is
		}},
		{"source down", nil, syncs, []want{
			{"A.exact", 0, 1000, 1000, 0, -1, n(1000), n(0)},
			{"A.orders", 0, 0, 0, 0, -1, n(0), n(0)},
			{"A.orders", 1, 40, 50, 1, -1, n(50), n(0)},
			{"A.payments", 2, 18, 20, 60, -1, nil, nil},
			{"A.refunds", 0, 5, 5, 0, -1, nil, nil},
			{"A.skips", 0, 55, 50, 0, -1, n(55), n(-5)},
			{"A.tail", 0, 910, 1000, 0, -1, n(910), n(90)},
			{"orders", 0, 7, 7, 3, -1, n(9), n(-2)},
		}},
		{"syncs unknown", source, syncStores{}, []want{
			{"A.exact", 0, 1000, 1000, 0, 0, nil, nil},
			{"A.orders", 0, 0, 0, 0, 0, nil, nil},
			{"A.orders", 1, 40, 50, 1, 10, nil, nil},
			{"A.payments", 2, 18, 20, 60, -1, nil, nil},
			{"A.refunds", 0, 5, 5, 0, -1, nil, nil},
			{"A.skips", 0, 55, 50, 0, 0, nil, nil},
			{"A.tail", 0, 910, 1000, 0, 0, nil, nil},
			{"orders", 0, 7, 7, 3, 2, nil, nil},
		}},
	} {
		var wantTrs []Translation
		for _, w := range c.want {
			cp := cps[TopicPartition{w.topic, w.p}]
			wantTrs = append(wantTrs, Translation{Topic: w.topic, Partition: w.p, Offset: w.off, Upstream: w.up, Metadata: "m" + w.topic,
				AgeSeconds: w.age, WrittenAt: cp.At, Behind: w.back, ResumesAt: w.resumes, Reread: w.reread})
		}
		if got := f.translate(cps, c.source, c.syncs, now); !reflect.DeepEqual(got, wantTrs) {
			t.Errorf("%s:\n got %s\nwant %s", c.name, show(got), show(wantTrs))
		}
	}
}

// show prints translations with their pointers followed.
func show(trs []Translation) string {
	var b strings.Builder
	for _, tr := range trs {
		opt := func(p *int64) string {
			if p == nil {
				return "nil"
			}
			return fmt.Sprint(*p)
		}
		fmt.Fprintf(&b, "\n  %s/%d off %d up %d age %d at %s behind %d resumes %s reread %s meta %q",
			tr.Topic, tr.Partition, tr.Offset, tr.Upstream, tr.AgeSeconds, tr.WrittenAt.Format(time.RFC3339Nano), tr.Behind, opt(tr.ResumesAt), opt(tr.Reread), tr.Metadata)
	}
	return b.String()
}

// TestFailoverJudge: a group's checkpoints are judged by whether
// replication (the newest heartbeat from A on B) and the checkpoint flow
// (each checkpoint, rewritten while the group is idle) are alive, not by
// when the group last moved; a stale one is refused naming why.
func TestFailoverJudge(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	const maxAge = 5 * time.Minute
	tr := func(topic string, p int32, age time.Duration) Translation {
		return Translation{Topic: topic, Partition: p, WrittenAt: now.Add(-age)}
	}
	fresh := []Translation{tr("A.orders", 0, time.Minute), tr("A.orders", 1, maxAge)}
	var many []Translation
	for p := range int32(7) {
		many = append(many, tr("A.orders", p, 10*time.Minute-time.Duration(p)*time.Minute))
	}
	tests := []struct {
		name      string
		trs       []Translation
		heartbeat time.Time
		want      []string // each a substring of one reason, in order; nil: fresh
	}{
		// Idle for an hour: its checkpoints were rewritten a minute ago.
		{"healthy idle group", fresh, now.Add(-time.Second), nil},
		{"at the limit", fresh, now.Add(-maxAge), nil},
		{"no heartbeats: not judged", fresh, time.Time{}, nil},
		{"replication stopped", fresh, now.Add(-maxAge - time.Second),
			[]string{"replication from A to B looks stopped: the newest heartbeat from A on B (A.heartbeats) is 5m1s old, more than 5m0s"}},
		{"checkpoint flow stopped", []Translation{tr("A.orders", 0, time.Minute), tr("A.orders", 1, maxAge+time.Millisecond), tr("A.orders", 2, 7*time.Minute)}, now,
			[]string{"the checkpoint flow A->B has not confirmed the group's position on 2 of 3 partitions (A.orders/1, A.orders/2) for up to 7m0s, more than 5m0s"}},
		{"many stale partitions", many, now,
			[]string{"on 5 of 7 partitions (A.orders/0, A.orders/1, A.orders/2, A.orders/3, A.orders/4) for up to 10m0s"}},
		{"six stale", append(many[:0:0], append(many, tr("B.x", 0, time.Hour))...), now,
			[]string{"on 6 of 8 partitions (A.orders/0, A.orders/1, A.orders/2, A.orders/3, A.orders/4 and 1 more) for up to 1h0m0s"}},
		{"both", []Translation{tr("A.orders", 0, time.Hour)}, now.Add(-time.Hour),
			[]string{"heartbeat from A on B (A.heartbeats) is 1h0m0s old", "on 1 of 1 partitions (A.orders/0)"}},
	}
	f := &Failover{From: "A", To: "B", Policy: policy.Default{}}
	for _, tt := range tests {
		err := f.Judge("g", tt.trs, tt.heartbeat, now, maxAge)
		if tt.want == nil {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		var se *StaleError
		if !errors.As(err, &se) || se.Group != "g" || len(se.Reasons) != len(tt.want) {
			t.Errorf("%s: %#v, want a StaleError of group g with %d reason(s)", tt.name, err, len(tt.want))
			continue
		}
		for i, w := range tt.want {
			if !strings.Contains(se.Reasons[i], w) {
				t.Errorf("%s: reason %d %q, want %q in it", tt.name, i, se.Reasons[i], w)
			}
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "the checkpoints of group g may not hold: ") || !strings.Contains(msg, strings.Join(se.Reasons, "; ")) {
			t.Errorf("%s: message %q", tt.name, msg)
		}
	}
	if got := f.HeartbeatsTopic(); got != "A.heartbeats" {
		t.Errorf("HeartbeatsTopic() = %q", got)
	}
	if got := (&Failover{From: "A", To: "B", Policy: policy.Identity{SourceAlias: "A"}}).HeartbeatsTopic(); got != "A.heartbeats" {
		t.Errorf("identity policy: HeartbeatsTopic() = %q, want A.heartbeats as MM2's", got)
	}
}

// TestReversed: a sync of B->A (B's orders/3 at 10 copied to A's
// B.orders/3 at 12) is, for A->B's translation, B.orders/3 from 12 on A to
// 10 on B.
func TestReversed(t *testing.T) {
	got := Reversed(policy.Default{}, "B", OffsetSync{Topic: "orders", Partition: 3, Upstream: 10, Downstream: 12})
	if want := (OffsetSync{Topic: "B.orders", Partition: 3, Upstream: 12, Downstream: 10}); got != want {
		t.Errorf("Reversed = %v, want %v", got, want)
	}
}

// TestFailoverClock: a failover measures ages by its Now, the wall clock
// when it has none.
func TestFailoverClock(t *testing.T) {
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	if got := (&Failover{Now: func() time.Time { return at }}).now(); !got.Equal(at) {
		t.Errorf("now() = %s with Now set, want %s", got, at)
	}
	before := time.Now()
	if got := (&Failover{}).now(); got.Before(before) || got.After(time.Now()) {
		t.Errorf("now() = %s without Now, want the wall clock", got)
	}
}
