package checkpoint

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// TestInactive: offsets are committed only to groups with no member on the
// target; the broker would refuse the others, and a live consumer's
// position is its own.
func TestInactive(t *testing.T) {
	for state, want := range map[string]bool{
		"Empty":               true,
		"Dead":                true,
		"":                    true, // not described: no such group
		"Stable":              false,
		"PreparingRebalance":  false,
		"CompletingRebalance": false,
		"Unknown":             false,
	} {
		if got := Inactive(state); got != want {
			t.Errorf("Inactive(%q) = %v, want %v", state, got, want)
		}
	}
}

// TestRaise: group offset sync never lowers an offset the group has on the
// target, and fills in what the target lacks.
func TestRaise(t *testing.T) {
	off := func(topic string, p int32, at int64) kadm.Offset {
		return kadm.Offset{Topic: topic, Partition: p, At: at, LeaderEpoch: -1, Metadata: "m"}
	}
	want := kadm.Offsets{}
	want.Add(off("A.orders", 0, 100))
	want.Add(off("A.orders", 1, 100))
	want.Add(off("A.orders", 2, 100))
	want.Add(off("A.orders", 3, 100))
	want.Add(off("A.payments", 0, 5))
	committed := kadm.OffsetResponses{}
	committed.Add(kadm.OffsetResponse{Offset: off("A.orders", 0, 99)})                                // lower: raised
	committed.Add(kadm.OffsetResponse{Offset: off("A.orders", 1, 100)})                               // equal: left
	committed.Add(kadm.OffsetResponse{Offset: off("A.orders", 2, 101)})                               // higher: never lowered
	committed.Add(kadm.OffsetResponse{Offset: off("A.orders", 3, 500), Err: kerr.UnknownServerError}) // unreadable: written
	got := Raise(want, committed)
	var keys []string
	got.Each(func(o kadm.Offset) { keys = append(keys, fmt.Sprintf("%s/%d@%d", o.Topic, o.Partition, o.At)) })
	wantKeys := map[string]bool{"A.orders/0@100": true, "A.orders/3@100": true, "A.payments/0@5": true}
	if len(keys) != len(wantKeys) {
		t.Errorf("Raise = %v, want %v", keys, wantKeys)
	}
	for _, k := range keys {
		if !wantKeys[k] {
			t.Errorf("Raise = %v, want %v", keys, wantKeys)
		}
	}
	if o, ok := got.Lookup("A.orders", 0); !ok || o.Metadata != "m" {
		t.Errorf("metadata not carried: %+v", o)
	}
	if len(Raise(kadm.Offsets{}, committed)) != 0 {
		t.Error("nothing wanted, something committed")
	}
	if got := Raise(want, nil); len(got) != 2 || len(got["A.orders"]) != 4 {
		t.Errorf("nothing on the target: %v", got)
	}
}
