package replicator

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/configs"
)

// TestConfigsTopicHandOver: the records one worker writes to the configs
// topic (through its REST API) and what a worker that reads them does:
// pause, resume, stop (delete), a new connector config, a restart of the
// tasks; malformed records change nothing.
func TestConfigsTopicHandOver(t *testing.T) {
	record := func(key, value string) *kgo.Record {
		r := &kgo.Record{Key: []byte(key), Offset: 7}
		if value != "" {
			r.Value = []byte(value)
		}
		if strings.HasPrefix(key, "connector-") { // as Strait writes them
			r.Headers = []kgo.RecordHeader{{Key: instanceHeader, Value: []byte("0123456789abcdef")}}
		}
		return r
	}
	fromMM2 := func(key, value string) *kgo.Record {
		r := record(key, value)
		r.Headers = nil
		return r
	}
	type want struct {
		paused, deleted [connKinds]bool
		restart         [connKinds]restartRequest
		stored          [connKinds]map[string]string
		config          bool // a connector config to apply
		restartRecord   bool // taken as a restart record
	}
	for _, tt := range []struct {
		name    string
		records []*kgo.Record
		want    want
	}{
		{name: "pause", records: []*kgo.Record{record("target-state-MirrorSourceConnector", `{"state":"PAUSED"}`)},
			want: want{paused: [connKinds]bool{sourceConnector: true}}},
		{name: "pause then resume", records: []*kgo.Record{
			record("target-state-MirrorCheckpointConnector", `{"state":"PAUSED"}`),
			record("target-state-MirrorCheckpointConnector", `{"state":"STARTED"}`)}},
		{name: "KIP-875's state.v2 wins over state", records: []*kgo.Record{record("target-state-MirrorSourceConnector", `{"state":"PAUSED","state.v2":"STOPPED"}`)},
			want: want{paused: [connKinds]bool{sourceConnector: true}, deleted: [connKinds]bool{sourceConnector: true}}},
		{name: "stopped then started again", records: []*kgo.Record{
			record("target-state-MirrorHeartbeatConnector", `{"state":"PAUSED","state.v2":"STOPPED"}`),
			record("target-state-MirrorHeartbeatConnector", `{"state":"STARTED"}`)}},
		{name: "a tombstone of a target state resumes", records: []*kgo.Record{
			record("target-state-MirrorSourceConnector", `{"state":"PAUSED"}`),
			record("target-state-MirrorSourceConnector", "")}},
		{name: "malformed target state is skipped", records: []*kgo.Record{
			record("target-state-MirrorSourceConnector", `{"state":"PAUSED"}`),
			record("target-state-MirrorSourceConnector", `{"state":`)},
			want: want{paused: [connKinds]bool{sourceConnector: true}}},
		{name: "a connector config is stored and applied", records: []*kgo.Record{record("connector-MirrorSourceConnector", `{"properties":{"tasks.max":"4"}}`)},
			want: want{stored: [connKinds]map[string]string{sourceConnector: {"tasks.max": "4"}}, config: true}},
		{name: "a tombstone drops the stored config", records: []*kgo.Record{
			record("connector-MirrorCheckpointConnector", `{"properties":{"emit.checkpoints.interval.seconds":"5"}}`),
			record("connector-MirrorCheckpointConnector", "")},
			want: want{config: true}},
		{name: "a connector config MM2 wrote is not applied", records: []*kgo.Record{fromMM2("connector-MirrorSourceConnector", `{"properties":{"tasks.max":"4"}}`)}},
		{name: "malformed connector config is skipped", records: []*kgo.Record{record("connector-MirrorSourceConnector", `[`)}},
		{name: "restart with tasks", records: []*kgo.Record{record("restart-connector-MirrorSourceConnector", `{"include-tasks":true,"only-failed":true}`)},
			want: want{restart: [connKinds]restartRequest{sourceConnector: {all: true, onlyFailed: true}}, restartRecord: true}},
		{name: "restart of the connector only restarts no task", records: []*kgo.Record{record("restart-connector-MirrorCheckpointConnector", `{"include-tasks":false}`)},
			want: want{restartRecord: true}},
		{name: "malformed restart is taken and ignored", records: []*kgo.Record{record("restart-connector-MirrorSourceConnector", `{`)},
			want: want{restartRecord: true}},
		{name: "other keys are not ours", records: []*kgo.Record{record("session-key", `{}`), record("task-MirrorSourceConnector-0", `{}`)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := testFlow(t, configs.Flow{Source: "A", Target: "B", TasksMax: 1, ConfigsTopic: "mm2-configs.A.internal"}, 1<<20)
			var got want
			for _, r := range tt.records {
				if f.applyRestartRecord(r) {
					got.restartRecord = true
					continue
				}
				got.config = f.applyConfigsRecord(r) || got.config
			}
			for k := range connKinds {
				got.paused[k], got.deleted[k] = f.ctl.isPaused(k), f.ctl.isDeleted(k)
			}
			_, got.restart = f.ctl.take()
			got.stored = f.stored
			show := func(w want) string {
				s := fmt.Sprintf("paused %v deleted %v restart %+v config %v restartRecord %v stored", w.paused, w.deleted, w.restart, w.config, w.restartRecord)
				for k := range connKinds {
					s += fmt.Sprintf(" %v", w.stored[k])
				}
				return s
			}
			same := got.paused == tt.want.paused && got.deleted == tt.want.deleted && got.config == tt.want.config &&
				got.restartRecord == tt.want.restartRecord && fmt.Sprint(got.restart) == fmt.Sprint(tt.want.restart)
			for k := range connKinds {
				same = same && maps.Equal(got.stored[k], tt.want.stored[k])
			}
			if !same {
				t.Errorf("got  %s\nwant %s", show(got), show(tt.want))
			}
		})
	}
}
