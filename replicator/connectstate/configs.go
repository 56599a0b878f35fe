package connectstate

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ConfigsKind is what a configs-topic record of a connector holds.
type ConfigsKind int

const (
	// TargetState is a connector's target state (STARTED, PAUSED or
	// STOPPED), under "target-state-<connector>".
	TargetState ConfigsKind = iota + 1
	// ConnectorConfig is a connector's config, under
	// "connector-<connector>".
	ConnectorConfig
	// Restart is a request to restart a connector (KIP-745), under
	// "restart-connector-<connector>".
	Restart
)

// Target states of a connector, as Connect writes them.
const (
	Started = "STARTED"
	Paused  = "PAUSED"
	Stopped = "STOPPED" // KIP-875: a deleted (stopped) connector
)

// ConfigsRecord is what one record of a flow's configs topic says of one
// of MM2's connectors. The configs topic is per flow, as in MM2's
// dedicated mode, so the keys name a connector by its class.
type ConfigsRecord struct {
	Kind  ConfigsKind
	Class string // the connector's class, e.g. "MirrorSourceConnector"
	// State is the target state of a TargetState record: Started for a
	// tombstone. KIP-875's "state.v2" wins over "state".
	State string
	// Properties are a ConnectorConfig's settings; nil for a tombstone
	// (the connector's config was deleted).
	Properties map[string]string
	// IncludeTasks and OnlyFailed are a Restart's options.
	IncludeTasks, OnlyFailed bool
}

// ErrMalformed is a configs-topic record under a connector's key whose
// value Connect would not read.
var ErrMalformed = errors.New("malformed configs-topic record")

// targetState is the JSON of a target state.
type targetState struct {
	State   string `json:"state"`
	StateV2 string `json:"state.v2,omitempty"`
}

// connectorConfig is the JSON of a connector config.
type connectorConfig struct {
	Properties map[string]string `json:"properties"`
}

// restart is the JSON of a restart request.
type restart struct {
	IncludeTasks bool `json:"include-tasks"`
	OnlyFailed   bool `json:"only-failed"`
}

// TargetStateKey is the configs-topic key of connector class's target state.
func TargetStateKey(class string) string { return "target-state-" + class }

// ConnectorKey is the configs-topic key of connector class's config.
func ConnectorKey(class string) string { return "connector-" + class }

// RestartKey is the configs-topic key of a restart request of connector
// class.
func RestartKey(class string) string { return "restart-connector-" + class }

// TargetStateValue is the value of a target state record as Connect
// writes it since KIP-875: "state.v2" holds the state and "state" what
// older workers know (PAUSED for STOPPED).
func TargetStateValue(state string) []byte {
	old := state
	if state == Stopped {
		old = Paused
	}
	v, _ := json.Marshal(targetState{State: old, StateV2: state})
	return v
}

// ConnectorConfigValue is the value of a connector config record; nil
// (a tombstone) for nil properties.
func ConnectorConfigValue(properties map[string]string) []byte {
	if properties == nil {
		return nil
	}
	v, _ := json.Marshal(connectorConfig{Properties: properties})
	return v
}

// RestartValue is the value of a restart request.
func RestartValue(includeTasks, onlyFailed bool) []byte {
	v, _ := json.Marshal(restart{IncludeTasks: includeTasks, OnlyFailed: onlyFailed})
	return v
}

// ParseConfigsRecord reads r as a record about one of classes. ok is
// false for a record about none of them (other connectors, session keys,
// task configs); err wraps ErrMalformed for one of theirs that cannot be
// read.
func ParseConfigsRecord(r *kgo.Record, classes []string) (rec ConfigsRecord, ok bool, err error) {
	key := string(r.Key)
	for _, class := range classes {
		rec.Class = class
		switch key {
		case TargetStateKey(class):
			rec.Kind = TargetState
			var ts targetState
			if r.Value != nil && json.Unmarshal(r.Value, &ts) != nil {
				return rec, true, fmt.Errorf("%w: %s at offset %d", ErrMalformed, key, r.Offset)
			}
			rec.State = ts.StateV2
			if rec.State == "" {
				rec.State = ts.State
			}
			if rec.State == "" {
				rec.State = Started
			}
			return rec, true, nil
		case ConnectorKey(class):
			rec.Kind = ConnectorConfig
			var cc connectorConfig
			if r.Value != nil && json.Unmarshal(r.Value, &cc) != nil {
				return rec, true, fmt.Errorf("%w: %s at offset %d", ErrMalformed, key, r.Offset)
			}
			rec.Properties = cc.Properties
			return rec, true, nil
		case RestartKey(class):
			rec.Kind = Restart
			var rr restart
			if r.Value == nil || json.Unmarshal(r.Value, &rr) != nil {
				return rec, true, fmt.Errorf("%w: %s at offset %d", ErrMalformed, key, r.Offset)
			}
			rec.IncludeTasks, rec.OnlyFailed = rr.IncludeTasks, rr.OnlyFailed
			return rec, true, nil
		}
	}
	return ConfigsRecord{}, false, nil
}
