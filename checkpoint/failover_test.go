package checkpoint

import (
	"errors"
	"reflect"
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
// carry their checkpoint's offsets, metadata and age, and say how far the
// group on the source is past each checkpoint only when the source told.
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
	} {
		cps[TopicPartition{w.Topic, w.Partition}] = w
	}
	source := kadm.OffsetResponses{}
	source.Add(kadm.OffsetResponse{Offset: kadm.Offset{Topic: "orders", Partition: 1, At: 60}})   // A.orders/1
	source.Add(kadm.OffsetResponse{Offset: kadm.Offset{Topic: "orders", Partition: 0, At: 0}})    // A.orders/0: at the checkpoint
	source.Add(kadm.OffsetResponse{Offset: kadm.Offset{Topic: "B.orders", Partition: 0, At: 9}})  // orders/0
	source.Add(kadm.OffsetResponse{Offset: kadm.Offset{Topic: "payments", Partition: 2, At: -1}}) // no commit
	source.Add(kadm.OffsetResponse{Offset: kadm.Offset{Topic: "refunds", Partition: 0, At: 9}, Err: errors.New("failed")})

	tr := func(topic string, p int32, off, up, age, behind int64) Translation {
		return Translation{Topic: topic, Partition: p, Offset: off, Upstream: up, Metadata: "m" + topic, AgeSeconds: age, Behind: behind}
	}
	f := &Failover{From: "A", To: "B", Policy: policy.Default{}}
	for _, c := range []struct {
		name   string
		source kadm.OffsetResponses
		want   []Translation
	}{
		{"source answered", source, []Translation{
			tr("A.orders", 0, 0, 0, 0, 0),
			tr("A.orders", 1, 40, 50, 1, 10),
			tr("A.payments", 2, 18, 20, 60, -1),
			tr("A.refunds", 0, 5, 5, 0, -1),
			tr("orders", 0, 7, 7, 3, 2),
		}},
		{"source down", nil, []Translation{
			tr("A.orders", 0, 0, 0, 0, -1),
			tr("A.orders", 1, 40, 50, 1, -1),
			tr("A.payments", 2, 18, 20, 60, -1),
			tr("A.refunds", 0, 5, 5, 0, -1),
			tr("orders", 0, 7, 7, 3, -1),
		}},
	} {
		if got := f.translate(cps, c.source, now); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
}
