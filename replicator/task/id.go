package task

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// Kind is a connector kind of a flow, as MM2 names its connectors.
type Kind int

// The connector kinds.
const (
	Source Kind = iota
	Checkpoint
	Heartbeat
	// Kinds is the number of kinds.
	Kinds
)

// names are the kinds as task ids name them.
var names = [Kinds]string{"source", "checkpoint", "heartbeat"}

// String is the kind as task ids name it: "source", "checkpoint",
// "heartbeat".
func (k Kind) String() string {
	if k < 0 || k >= Kinds {
		return "unknown"
	}
	return names[k]
}

// ID names one task of a flow: its connector kind and its number. In the
// worker group's JSON and in logs it reads "source-3", "checkpoint-0",
// "heartbeat-0". The zero ID is source task 0.
type ID struct {
	Kind  Kind
	Index int
}

// SourceID is source task i.
func SourceID(i int) ID { return ID{Kind: Source, Index: i} }

// SingleID is the one task of a checkpoint or heartbeat connector.
func SingleID(k Kind) ID { return ID{Kind: k} }

func (id ID) String() string { return id.Kind.String() + "-" + strconv.Itoa(id.Index) }

// MarshalText implements encoding.TextMarshaler, for the group's JSON.
func (id ID) MarshalText() ([]byte, error) {
	if id.Kind < 0 || id.Kind >= Kinds || id.Index < 0 {
		return nil, fmt.Errorf("invalid task id %d/%d", id.Kind, id.Index)
	}
	return []byte(id.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// ParseID reads "<connector>-<index>".
func ParseID(s string) (ID, error) {
	name, num, ok := strings.Cut(s, "-")
	if !ok {
		return ID{}, fmt.Errorf("task id %q: want <connector>-<index>", s)
	}
	for k, n := range names {
		if n != name {
			continue
		}
		i, err := strconv.Atoi(num)
		if err != nil || i < 0 || num != strconv.Itoa(i) {
			return ID{}, fmt.Errorf("task id %q: index %q is not a task number", s, num)
		}
		if Kind(k) != Source && i != 0 {
			return ID{}, fmt.Errorf("task id %q: a %s connector has one task, 0", s, name)
		}
		return ID{Kind: Kind(k), Index: i}, nil
	}
	return ID{}, fmt.Errorf("task id %q: unknown connector %q", s, name)
}

// Compare orders ids by connector, then number.
func (id ID) Compare(o ID) int {
	if c := cmp.Compare(id.Kind, o.Kind); c != 0 {
		return c
	}
	return cmp.Compare(id.Index, o.Index)
}

// TopicPartition is one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return tp.Topic + "/" + strconv.Itoa(int(tp.Partition)) }

// Digest identifies a task's config by its partitions: a task whose
// partitions change is stopped everywhere before it runs with the new
// ones.
func Digest(partitions []TopicPartition) string {
	var b strings.Builder
	for _, tp := range partitions {
		b.WriteString(tp.String())
		b.WriteByte(',')
	}
	return b.String()
}
