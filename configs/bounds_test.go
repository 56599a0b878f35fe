package configs

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// boundsCase is one value of one numeric key as written: accepted (errKeys
// empty, and the typed field then holds want) or refused with exactly the
// keys in errKeys named.
type boundsCase struct {
	extra   string   // lines added to defaultsMinimal
	errKeys []string // the keys the error names, sorted; nil: accepted
	field   func(*Config) int64
	want    int64
}

// boundsRange adds, for key written as each of spellings, a case per
// accepted value (with the typed field) and per refused value.
func boundsRange(cases []boundsCase, spellings []string, pre string, field func(*Config) int64, accepted []int64, refused []string) []boundsCase {
	for _, k := range spellings {
		for _, v := range accepted {
			cases = append(cases, boundsCase{extra: pre + fmt.Sprintf("%s = %d\n", k, v), field: field, want: v})
		}
		for _, v := range refused {
			cases = append(cases, boundsCase{extra: pre + fmt.Sprintf("%s = %s\n", k, v), errKeys: []string{k}})
		}
	}
	return cases
}

func boundsFlowField(get func(Flow) int64) func(*Config) int64 {
	return func(c *Config) int64 {
		f, ok := c.Flow("A", "B")
		if !ok {
			return -1 << 62
		}
		return get(f)
	}
}

func boundsSeconds(d time.Duration) int64 { return int64(d / time.Second) }
func boundsMillis(d time.Duration) int64  { return int64(d / time.Millisecond) }

// Every numeric key: the smallest and largest values accepted and the first
// refused on each side, at every scope the key may be written, each refusal
// naming the key exactly as written.
func TestBounds(t *testing.T) {
	var cases []boundsCase
	const maxInt32, overInt32 = 2147483647, "2147483648"

	// Replication factors: 1..32767, or -1 for the broker's default (KIP-464).
	rfAccepted := []int64{-1, 1, 32767}
	rfRefused := []string{"-2", "0", "32768", "x", "1.5", ""}
	flowRF := map[string]func(Flow) int64{
		KeyReplicationFactor:  func(f Flow) int64 { return int64(f.ReplicationFactor) },
		KeyHeartbeatsTopicRF:  func(f Flow) int64 { return int64(f.HeartbeatsTopicRF) },
		KeyCheckpointsTopicRF: func(f Flow) int64 { return int64(f.CheckpointsTopicRF) },
		KeyOffsetSyncsTopicRF: func(f Flow) int64 { return int64(f.OffsetSyncsTopicRF) },
	}
	for k, get := range flowRF {
		cases = boundsRange(cases, []string{k, "A->B." + k}, "", boundsFlowField(get), rfAccepted, rfRefused)
	}
	workerRF := map[string]func(Flow) int64{
		KeyOffsetStorageRF: func(f Flow) int64 { return int64(f.OffsetsTopicRF) },
		KeyConfigStorageRF: func(f Flow) int64 { return int64(f.ConfigsTopicRF) },
		KeyStatusStorageRF: func(f Flow) int64 { return int64(f.StatusTopicRF) },
	}
	for k, get := range workerRF {
		cases = boundsRange(cases, []string{k, "B." + k}, "", boundsFlowField(get), rfAccepted, rfRefused)
	}

	// Internal topics' partitions: at least 1, or -1 for the broker's default.
	parts := map[string]func(Flow) int64{
		KeyOffsetStoragePartitions: func(f Flow) int64 { return int64(f.OffsetsTopicPartitions) },
		KeyStatusStoragePartitions: func(f Flow) int64 { return int64(f.StatusTopicPartitions) },
	}
	for k, get := range parts {
		cases = boundsRange(cases, []string{k, "B." + k}, "", boundsFlowField(get), []int64{-1, 1, maxInt32}, []string{"-2", "0", overInt32, "x"})
	}

	// Intervals in seconds: at least 1 (an INT, as Strait reads them).
	secs := map[string]struct {
		pre string
		get func(Flow) int64
	}{
		KeyRefreshTopicsInterval:    {"", func(f Flow) int64 { return boundsSeconds(f.RefreshTopicsInterval) }},
		KeySyncTopicConfigsInterval: {"", func(f Flow) int64 { return boundsSeconds(f.SyncTopicConfigsInterval) }},
		KeySyncTopicACLsInterval:    {"", func(f Flow) int64 { return boundsSeconds(f.SyncTopicACLsInterval) }},
		KeyEmitCheckpointsInterval:  {"", func(f Flow) int64 { return boundsSeconds(f.EmitCheckpointsInterval) }},
		KeyEmitHeartbeatsInterval:   {"", func(f Flow) int64 { return boundsSeconds(f.EmitHeartbeatsInterval) }},
		KeySyncGroupOffsetsInterval: {"sync.group.offsets.enabled = true\n", func(f Flow) int64 { return boundsSeconds(f.SyncGroupOffsetsInterval) }},
	}
	for k, s := range secs {
		cases = boundsRange(cases, []string{k, "A->B." + k}, s.pre, boundsFlowField(s.get), []int64{1, maxInt32}, []string{"-1", "0", overInt32, "x"})
	}

	// Counts and milliseconds of the flow: at least 1.
	counts := map[string]struct {
		pre string
		get func(Flow) int64
	}{
		KeyTasksMax:                    {"", func(f Flow) int64 { return int64(f.TasksMax) }},
		KeyAdminTimeout:                {"", func(f Flow) int64 { return boundsMillis(f.AdminTimeout) }},
		KeyTransactionBoundaryInterval: {"transaction.boundary = interval\n", func(f Flow) int64 { return boundsMillis(f.TransactionInterval) }},
	}
	for k, c := range counts {
		cases = boundsRange(cases, []string{k, "A->B." + k}, c.pre, boundsFlowField(c.get), []int64{1, maxInt32}, []string{"-1", "0", overInt32, "x"})
	}
	// offset.flush.interval.ms is a flow key and a worker key: MM2 reads it
	// under the target alias too.
	cases = boundsRange(cases, []string{KeyOffsetFlushInterval, "B." + KeyOffsetFlushInterval, "A->B." + KeyOffsetFlushInterval}, "",
		boundsFlowField(func(f Flow) int64 { return boundsMillis(f.OffsetFlushInterval) }), []int64{1, maxInt32}, []string{"-1", "0", overInt32, "x"})

	// offset.lag.max: any integer Strait reads (MM2's is a LONG without a
	// validator; Strait reads an INT).
	cases = boundsRange(cases, []string{KeyOffsetLagMax, "A->B." + KeyOffsetLagMax}, "",
		boundsFlowField(func(f Flow) int64 { return f.OffsetLagMax }), []int64{-2147483648, -1, 0, maxInt32}, []string{"-2147483649", overInt32, "x"})

	// Worker group timings: at least 1 ms, and the heartbeat below the
	// session timeout.
	cases = boundsRange(cases, []string{KeyRebalanceTimeout, "B." + KeyRebalanceTimeout}, "",
		boundsFlowField(func(f Flow) int64 { return boundsMillis(f.RebalanceTimeout) }), []int64{1, maxInt32}, []string{"-1", "0", overInt32, "x"})
	cases = boundsRange(cases, []string{KeyHeartbeatInterval, "B." + KeyHeartbeatInterval}, "",
		boundsFlowField(func(f Flow) int64 { return boundsMillis(f.HeartbeatInterval) }), []int64{1, 9999}, []string{"-1", "0", "10000", "x"})
	cases = boundsRange(cases, []string{KeySessionTimeout, "B." + KeySessionTimeout}, "",
		boundsFlowField(func(f Flow) int64 { return boundsMillis(f.SessionTimeout) }), []int64{3001, maxInt32}, []string{overInt32})
	cases = append(cases,
		// A session timeout at or below the default heartbeat (3 s): the
		// heartbeat is what is wrong, under the name it has (its default).
		boundsCase{extra: "session.timeout.ms = 3000\n", errKeys: []string{"heartbeat.interval.ms"}},
		boundsCase{extra: "B.session.timeout.ms = 3000\n", errKeys: []string{"heartbeat.interval.ms"}},
		boundsCase{extra: "session.timeout.ms = 2\nheartbeat.interval.ms = 1\n", field: boundsFlowField(func(f Flow) int64 { return boundsMillis(f.SessionTimeout) }), want: 2},
		boundsCase{extra: "B.session.timeout.ms = 2\nB.heartbeat.interval.ms = 2\n", errKeys: []string{"B.heartbeat.interval.ms"}},
		boundsCase{extra: "B.session.timeout.ms = 45000\nB.heartbeat.interval.ms = 44999\n", field: boundsFlowField(func(f Flow) int64 { return boundsMillis(f.HeartbeatInterval) }), want: 44999},
		boundsCase{extra: "B.session.timeout.ms = 45000\nB.heartbeat.interval.ms = 45000\n", errKeys: []string{"B.heartbeat.interval.ms"}},
		// B's worker settings are the A->B flow's; the heartbeat-only flow
		// B->A runs with A's (here the top level's), checked too.
		boundsCase{extra: "B.session.timeout.ms = 45000\nheartbeat.interval.ms = 44999\n", errKeys: []string{"heartbeat.interval.ms"}},
		boundsCase{extra: "B->A.emit.heartbeats.enabled = false\nB.session.timeout.ms = 45000\nheartbeat.interval.ms = 44999\n", field: boundsFlowField(func(f Flow) int64 { return boundsMillis(f.HeartbeatInterval) }), want: 44999},
		// A cluster's own value wins over the top level's.
		boundsCase{extra: "heartbeat.interval.ms = 20000\nsession.timeout.ms = 30000\nB.heartbeat.interval.ms = 9999\n", field: boundsFlowField(func(f Flow) int64 { return boundsMillis(f.HeartbeatInterval) }), want: 9999},
	)

	// memory.max.bytes: at least the minimum for one flow of one task,
	// up to an int64; top level only.
	cases = boundsRange(cases, []string{KeyMemoryMaxBytes}, "", func(c *Config) int64 { return c.MemoryMaxBytes },
		[]int64{MemoryMinimum(1, 1), 1<<63 - 1}, []string{fmt.Sprint(MemoryMinimum(1, 1) - 1), "16777216", "16777215", "0", "-1", "9223372036854775808", "x", "256MiB"})

	// A flow's enabled switches are booleans.
	cases = append(cases,
		boundsCase{extra: "A->B.sync.group.offsets.enabled = yes\n", errKeys: []string{"A->B.sync.group.offsets.enabled"}},
		boundsCase{extra: "refresh.topics.enabled = 1\n", errKeys: []string{"refresh.topics.enabled"}},
		boundsCase{extra: "B->A.enabled = on\n", errKeys: []string{"B->A.enabled"}},
	)

	for _, c := range cases {
		cfg, _, err := Parse([]byte(defaultsMinimal+c.extra), Properties, nil)
		name := strings.ReplaceAll(strings.TrimSpace(c.extra), "\n", "; ")
		if c.errKeys == nil {
			if err != nil {
				t.Errorf("%s: refused: %v", name, err)
				continue
			}
			if got := c.field(cfg); got != c.want {
				t.Errorf("%s: typed value %d, want %d", name, got, c.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: accepted, want refused naming %v", name, c.errKeys)
			continue
		}
		if got := defaultsErrKeys(err); !slices.Equal(got, c.errKeys) {
			t.Errorf("%s: error names %v, want %v: %v", name, got, c.errKeys, err)
		}
		for _, k := range c.errKeys {
			if !strings.Contains(err.Error(), "  "+k+": ") {
				t.Errorf("%s: message does not start a line with %q: %v", name, k+":", err)
			}
		}
	}
}

// A value a flow does not read is not checked against the flow's bounds:
// the interval of a switched-off job, the interval of transaction.boundary =
// poll. (The integer syntax is still checked.)
func TestBoundsOfUnusedValues(t *testing.T) {
	for _, extra := range []string{
		"emit.heartbeats.enabled = false\nemit.heartbeats.interval.seconds = 0\n",
		"sync.group.offsets.interval.seconds = 0\n", // sync.group.offsets is off
		"refresh.topics.enabled = false\nA->B.refresh.topics.interval.seconds = -5\n",
		"transaction.boundary.interval.ms = 0\n", // transaction.boundary = poll
	} {
		if _, _, err := Parse([]byte(defaultsMinimal+extra), Properties, nil); err != nil {
			t.Errorf("%q refused: %v", extra, err)
		}
	}
	_, _, err := Parse([]byte(defaultsMinimal+"emit.heartbeats.enabled = false\nemit.heartbeats.interval.seconds = x\n"), Properties, nil)
	if got := defaultsErrKeys(err); !slices.Equal(got, []string{"emit.heartbeats.interval.seconds"}) {
		t.Errorf("a non-number under a switched-off job: %v", err)
	}
}

// A session.timeout.ms that is not a number, or below 1, is one error: the
// heartbeat interval, compared with it, is not what is wrong.
func TestBoundsSessionNotANumber(t *testing.T) {
	var known []string
	for _, k := range []string{"session.timeout.ms", "B.session.timeout.ms"} {
		for _, v := range []string{"x", "0", "-1"} {
			_, _, err := Parse([]byte(defaultsMinimal+k+" = "+v+"\n"), Properties, nil)
			got := defaultsErrKeys(err)
			switch {
			case slices.Equal(got, []string{k}):
			case slices.Contains(got, k) && slices.Contains(got, "heartbeat.interval.ms") && len(got) == 2:
				known = append(known, k+" = "+v)
			default:
				t.Errorf("%s = %s: error names %v: %v", k, v, got, err)
			}
		}
	}
	if len(known) > 0 {
		t.Errorf("a bad session.timeout.ms also blames heartbeat.interval.ms: %v", known)
	}
}

// tasks.assignment (Strait's own) is a flow key like the others: read
// without an "unknown key" warning, its value checked, overridable from the
// environment without being in the file.
func TestTasksAssignmentIsAFlowKey(t *testing.T) {
	cfg, warnings, err := Parse([]byte(defaultsMinimal+"A->B.tasks.assignment = load\n"), Properties, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !defaultsFlow(t, cfg, "A", "B").LoadAware {
		t.Error("A->B.tasks.assignment = load not applied")
	}
	if len(warnings) != 0 {
		t.Errorf("tasks.assignment warned about: %v", warnings)
	}
	_, _, err = Parse([]byte(defaultsMinimal+"A->B.tasks.assignment = bogus\n"), Properties, nil)
	if got := defaultsErrKeys(err); !slices.Equal(got, []string{"A->B.tasks.assignment"}) {
		t.Errorf("tasks.assignment = bogus: error names %v: %v", got, err)
	}
	cfg, _, err = Parse([]byte(defaultsMinimal), Properties, []string{"STRAIT_TASKS_ASSIGNMENT=load"})
	if err != nil || !defaultsFlow(t, cfg, "A", "B").LoadAware {
		t.Errorf("STRAIT_TASKS_ASSIGNMENT=load not applied: %v", err)
	}
}
