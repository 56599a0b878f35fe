package group

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/strait-replicator/strait/replicator/task"
)

// TestWireBytes pins the JSON a member joins with and the leader assigns:
// workers of two Strait versions share a group during a rolling upgrade,
// so a renamed field or tag would split it. The bytes are those the
// worker group sent before it was a package of its own.
func TestWireBytes(t *testing.T) {
	src := task.SourceID(0)
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"metadata with loads",
			memberMetadata{Worker: "w1", Owned: map[task.ID]string{src: "orders/0,orders/1,", task.SingleID(task.Checkpoint): ""},
				Loads: []partitionLoad{{Topic: "orders", Partition: 1, Rate: 1234.5}}},
			`{"worker":"w1","owned":{"checkpoint-0":"","source-0":"orders/0,orders/1,"},"loads":[{"topic":"orders","partition":1,"bytes_per_second":1234.5}]}`},
		{"metadata owning nothing", memberMetadata{Worker: "w2", Owned: map[task.ID]string{}},
			`{"worker":"w2","owned":{}}`},
		{"metadata without a claim", memberMetadata{Worker: "w3"},
			`{"worker":"w3","owned":null}`},
		{"assignment (Seq is not sent)",
			Assignment{Seq: 7, Generation: 3, Leader: "w1", SourceTasks: 2, Tasks: []Spec{
				{ID: src, Partitions: []task.TopicPartition{{Topic: "orders", Partition: 0}, {Topic: "orders", Partition: 1}}},
				{ID: task.SingleID(task.Heartbeat)}}},
			`{"generation":3,"leader":"w1","source_tasks":2,"tasks":[{"id":"source-0","partitions":[{"Topic":"orders","Partition":0},{"Topic":"orders","Partition":1}]},{"id":"heartbeat-0"}]}`},
		{"empty assignment, as lead sends it", Assignment{Generation: 4, Leader: "w2", Tasks: []Spec{}},
			`{"generation":4,"leader":"w2","source_tasks":0,"tasks":[]}`},
		{"lost assignment", Assignment{Generation: -1},
			`{"generation":-1,"leader":"","source_tasks":0,"tasks":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("got  %s\nwant %s", b, tt.want)
			}
			// The bytes read back as the value (Seq aside: it is not sent).
			back := reflect.New(reflect.TypeOf(tt.v))
			if err := json.Unmarshal(b, back.Interface()); err != nil {
				t.Fatal(err)
			}
			want := tt.v
			if a, ok := want.(Assignment); ok {
				a.Seq = 0
				want = a
			}
			if got := back.Elem().Interface(); !reflect.DeepEqual(got, want) {
				t.Errorf("read back %+v, want %+v", got, want)
			}
		})
	}
}

// TestSpecDigest: a task's digest is its partitions in order, as the
// runner's (task.Digest) and the claims of older workers have it.
func TestSpecDigest(t *testing.T) {
	s := Spec{ID: task.SourceID(1), Partitions: []task.TopicPartition{{Topic: "orders", Partition: 3}, {Topic: "a.b", Partition: 10}}}
	if got := s.Digest(); got != "orders/3,a.b/10," {
		t.Errorf("Digest = %q", got)
	}
	if got := (Spec{ID: task.SingleID(task.Checkpoint)}).Digest(); got != "" {
		t.Errorf("Digest of a task without partitions = %q, want empty", got)
	}
}
