package connectstate

import (
	"errors"
	"maps"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

var classes = []string{"MirrorSourceConnector", "MirrorCheckpointConnector", "MirrorHeartbeatConnector"}

// TestConfigsRecordBytes pins the values as Kafka Connect writes them
// (KafkaConfigBackingStore, schemas disabled).
func TestConfigsRecordBytes(t *testing.T) {
	for _, tt := range []struct{ name, got, want string }{
		{"paused", string(TargetStateValue(Paused)), `{"state":"PAUSED","state.v2":"PAUSED"}`},
		{"started", string(TargetStateValue(Started)), `{"state":"STARTED","state.v2":"STARTED"}`},
		{"stopped: older workers read PAUSED", string(TargetStateValue(Stopped)), `{"state":"PAUSED","state.v2":"STOPPED"}`},
		{"restart", string(RestartValue(true, false)), `{"include-tasks":true,"only-failed":false}`},
		{"connector config", string(ConnectorConfigValue(map[string]string{"tasks.max": "2"})), `{"properties":{"tasks.max":"2"}}`},
		{"keys", TargetStateKey("MirrorSourceConnector") + " " + ConnectorKey("MirrorSourceConnector") + " " + RestartKey("MirrorSourceConnector"),
			"target-state-MirrorSourceConnector connector-MirrorSourceConnector restart-connector-MirrorSourceConnector"},
		{"status keys", TaskStatusKey("MirrorCheckpointConnector", 0) + " " + ConnectorStatusKey("MirrorCheckpointConnector"),
			"status-task-MirrorCheckpointConnector-0 status-connector-MirrorCheckpointConnector"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, tt.got, tt.want)
		}
	}
	if ConnectorConfigValue(nil) != nil {
		t.Error("no properties: want a tombstone")
	}
}

func TestParseConfigsRecord(t *testing.T) {
	rec := func(key, value string) *kgo.Record {
		r := &kgo.Record{Key: []byte(key)}
		if value != "" {
			r.Value = []byte(value)
		}
		return r
	}
	for _, tt := range []struct {
		name      string
		r         *kgo.Record
		ok        bool
		malformed bool
		want      ConfigsRecord
	}{
		{"paused", rec("target-state-MirrorSourceConnector", `{"state":"PAUSED"}`), true, false,
			ConfigsRecord{Kind: TargetState, Class: "MirrorSourceConnector", State: Paused}},
		{"state.v2 wins", rec("target-state-MirrorHeartbeatConnector", `{"state":"PAUSED","state.v2":"STOPPED"}`), true, false,
			ConfigsRecord{Kind: TargetState, Class: "MirrorHeartbeatConnector", State: Stopped}},
		{"tombstone of a target state: started", rec("target-state-MirrorSourceConnector", ""), true, false,
			ConfigsRecord{Kind: TargetState, Class: "MirrorSourceConnector", State: Started}},
		{"config", rec("connector-MirrorCheckpointConnector", `{"properties":{"a":"1"}}`), true, false,
			ConfigsRecord{Kind: ConnectorConfig, Class: "MirrorCheckpointConnector", Properties: map[string]string{"a": "1"}}},
		{"config tombstone", rec("connector-MirrorCheckpointConnector", ""), true, false,
			ConfigsRecord{Kind: ConnectorConfig, Class: "MirrorCheckpointConnector"}},
		{"restart", rec("restart-connector-MirrorSourceConnector", `{"include-tasks":true,"only-failed":true}`), true, false,
			ConfigsRecord{Kind: Restart, Class: "MirrorSourceConnector", IncludeTasks: true, OnlyFailed: true}},
		{"malformed target state", rec("target-state-MirrorSourceConnector", `{"state":`), true, true, ConfigsRecord{}},
		{"malformed config", rec("connector-MirrorSourceConnector", `[`), true, true, ConfigsRecord{}},
		{"restart without value", rec("restart-connector-MirrorSourceConnector", ""), true, true, ConfigsRecord{}},
		{"another connector", rec("target-state-OtherConnector", `{"state":"PAUSED"}`), false, false, ConfigsRecord{}},
		{"task config", rec("task-MirrorSourceConnector-0", `{}`), false, false, ConfigsRecord{}},
		{"session key", rec("session-key", `{}`), false, false, ConfigsRecord{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := ParseConfigsRecord(tt.r, classes)
			if ok != tt.ok || (err != nil) != tt.malformed || err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("ok %v err %v, want ok %v malformed %v", ok, err, tt.ok, tt.malformed)
			}
			if tt.malformed || !ok {
				return
			}
			if got.Kind != tt.want.Kind || got.Class != tt.want.Class || got.State != tt.want.State ||
				got.IncludeTasks != tt.want.IncludeTasks || got.OnlyFailed != tt.want.OnlyFailed || !maps.Equal(got.Properties, tt.want.Properties) ||
				(got.Properties == nil) != (tt.want.Properties == nil) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// A record written by the encoders reads back as what was written.
func TestConfigsRoundTrip(t *testing.T) {
	for _, state := range []string{Started, Paused, Stopped} {
		got, ok, err := ParseConfigsRecord(&kgo.Record{Key: []byte(TargetStateKey(classes[2])), Value: TargetStateValue(state)}, classes)
		if !ok || err != nil || got.State != state || got.Class != classes[2] {
			t.Errorf("%s: %+v %v %v", state, got, ok, err)
		}
	}
}

// TestStatusView: the last status per key, tombstones delete, anything
// that is not a status is refused.
func TestStatusView(t *testing.T) {
	var v StatusView
	key := TaskStatusKey(classes[0], 1)
	for _, tt := range []struct {
		value string
		ok    bool
		state string // after the record; "" for none
	}{
		{`{"state":"RUNNING","trace":null,"worker_id":"w1:8083","generation":3}`, true, "RUNNING"},
		{`{"state":"FAILED","trace":"boom","worker_id":"w2:8083","generation":4}`, true, "FAILED"},
		{`{"worker_id":"w2:8083"}`, false, "FAILED"},
		{`nope`, false, "FAILED"},
		{"", true, ""},
	} {
		r := &kgo.Record{Key: []byte(key)}
		if tt.value != "" {
			r.Value = []byte(tt.value)
		}
		if ok := v.Apply(r); ok != tt.ok {
			t.Fatalf("%s: Apply %v, want %v", tt.value, ok, tt.ok)
		}
		got, found := v.Task(classes[0], 1)
		if found != (tt.state != "") || got.State != tt.state {
			t.Fatalf("after %s: %+v %v, want state %q", tt.value, got, found, tt.state)
		}
	}
}
