package replicator

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// TaskID names one task of a flow: its connector and its number. In the
// worker group's JSON and in logs it reads "source-3", "checkpoint-0",
// "heartbeat-0". The zero TaskID is source task 0.
type TaskID struct {
	kind  connKind
	index int
}

// connIDs are the connector kinds as task ids name them.
var connIDs = [connKinds]string{"source", "checkpoint", "heartbeat"}

func sourceTaskID(i int) TaskID { return TaskID{kind: sourceConnector, index: i} }

// singleTaskID is the one task of a checkpoint or heartbeat connector.
func singleTaskID(k connKind) TaskID { return TaskID{kind: k} }

func (id TaskID) String() string {
	if id.kind < 0 || id.kind >= connKinds {
		return "unknown-" + strconv.Itoa(id.index)
	}
	return connIDs[id.kind] + "-" + strconv.Itoa(id.index)
}

// MarshalText implements encoding.TextMarshaler, for the group's JSON.
func (id TaskID) MarshalText() ([]byte, error) {
	if id.kind < 0 || id.kind >= connKinds || id.index < 0 {
		return nil, fmt.Errorf("invalid task id %d/%d", id.kind, id.index)
	}
	return []byte(id.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *TaskID) UnmarshalText(b []byte) error {
	v, err := parseTaskID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// parseTaskID reads "<connector>-<index>".
func parseTaskID(s string) (TaskID, error) {
	name, num, ok := strings.Cut(s, "-")
	if !ok {
		return TaskID{}, fmt.Errorf("task id %q: want <connector>-<index>", s)
	}
	for k, n := range connIDs {
		if n != name {
			continue
		}
		i, err := strconv.Atoi(num)
		if err != nil || i < 0 || num != strconv.Itoa(i) {
			return TaskID{}, fmt.Errorf("task id %q: index %q is not a task number", s, num)
		}
		if k != int(sourceConnector) && i != 0 {
			return TaskID{}, fmt.Errorf("task id %q: a %s connector has one task, 0", s, name)
		}
		return TaskID{kind: connKind(k), index: i}, nil
	}
	return TaskID{}, fmt.Errorf("task id %q: unknown connector %q", s, name)
}

// compare orders task ids by connector, then number.
func (id TaskID) compare(o TaskID) int {
	if c := cmp.Compare(id.kind, o.kind); c != 0 {
		return c
	}
	return cmp.Compare(id.index, o.index)
}
