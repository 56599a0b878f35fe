package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/checkpoint"
	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/heartbeat"
)

// pyConsumer is a consumer written with confluent-kafka-python
// (librdkafka), an independent client: it subscribes to topic in group,
// reads every partition from the group's committed offset (reset: where a
// partition without one starts; "error" fails on it) to the end offsets as
// of its start, optionally commits those ends, leaves the group, and prints
// one JSON line per record, then one with the offsets it started from.
const pyConsumer = `
import json, sys, time
from confluent_kafka import Consumer, TopicPartition, KafkaError, KafkaException

bootstrap, group, topic, reset, commit = sys.argv[1:6]
c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
              "auto.offset.reset": reset, "session.timeout.ms": 6000})
parts = [TopicPartition(topic, p) for p in sorted(c.list_topics(topic, timeout=10).topics[topic].partitions)]
ends = {tp.partition: c.get_watermark_offsets(tp, timeout=10)[1] for tp in parts}
try:
    start = {tp.partition: tp.offset for tp in c.committed(parts, timeout=10)}
except KafkaException as e:
    # A group the cluster has never seen: Kafka answers with no offsets, kfake with this error.
    if e.args[0].code() != KafkaError.GROUP_ID_NOT_FOUND:
        raise
    start = {tp.partition: -1 for tp in parts}
todo = {p for p in ends if ends[p] > max(start[p], 0)}
c.subscribe([topic])
first = {}
deadline = time.time() + 60
while todo:
    if time.time() > deadline:
        sys.exit("partitions %s not read to their end" % sorted(todo))
    m = c.poll(0.2)
    if m is None:
        continue
    if m.error():
        raise KafkaException(m.error())
    first.setdefault(m.partition(), m.offset())
    print(json.dumps({"p": m.partition(), "o": m.offset(), "v": m.value().decode()}))
    if m.offset() + 1 >= ends[m.partition()]:
        todo.discard(m.partition())
if commit == "commit":
    c.commit(offsets=[TopicPartition(topic, p, o) for p, o in ends.items()], asynchronous=False)
c.close()
print(json.dumps({"started": {str(p): o for p, o in start.items()}, "first": {str(p): o for p, o in first.items()}}))
`

// pyRecord is a record the Python consumer read.
type pyRecord struct {
	Partition int32  `json:"p"`
	Offset    int64  `json:"o"`
	Value     string `json:"v"`
}

// consumePython runs pyConsumer on c and returns the values it read and,
// per partition, the committed offset it started from (negative: none).
// A partition's first record must be the one at that offset.
func consumePython(t *testing.T, c *cluster, group, topic, reset string, commit bool) (map[string]int, map[int32]int64) {
	t.Helper()
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import confluent_kafka").Run(); err != nil {
		t.Skip("python3-confluent-kafka is not installed (apt-get install python3-confluent-kafka): the third-party failover check is skipped")
	}
	mode := "no-commit"
	if commit {
		mode = "commit"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-c", pyConsumer, c.seeds(), group, topic, reset, mode)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python consumer of %s in %s on %s: %v\n%s", topic, group, c.alias, err, stderr.String())
	}
	seen := map[string]int{}
	var tail struct {
		Started map[int32]int64 `json:"started"`
		First   map[int32]int64 `json:"first"`
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := sc.Bytes()
		if strings.HasPrefix(sc.Text(), `{"started"`) {
			if err := json.Unmarshal(line, &tail); err != nil {
				t.Fatalf("python consumer: %v: %s", err, line)
			}
			continue
		}
		var r pyRecord
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("python consumer: %v: %s", err, line)
		}
		seen[r.Value]++
	}
	if tail.Started == nil {
		t.Fatalf("python consumer printed no summary:\n%s\n%s", out, stderr.String())
	}
	for p, first := range tail.First {
		if at := tail.Started[p]; at >= 0 && first != at {
			t.Fatalf("%s/%d on %s: group %s read first offset %d, not its committed offset %d", topic, p, c.alias, group, first, at)
		}
	}
	return seen, tail.Started
}

// shiftClock is the wall clock moved forward by what the test advanced it:
// minutes pass for the tasks that take it without the test waiting them.
type shiftClock struct {
	mu     sync.Mutex
	offset time.Duration // guarded by mu
}

func (c *shiftClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// advance moves the clock forward by d and returns the new offset.
func (c *shiftClock) advance(d time.Duration) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
	return c.offset
}

// runTask runs fn until the returned stop is called or the test ends; stop
// waits for it and fails the test on its error.
func runTask(t *testing.T, name string, fn func(context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }() // joined by stop
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("%s: %v", name, err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// strait runs a strait command with the clock moved by offset and returns
// its exit code and output.
func strait(t *testing.T, offset time.Duration, args ...string) (int, string) {
	t.Helper()
	p := startProcessEnv(t, []string{"STRAIT_CLOCK_OFFSET=" + offset.String()}, args...)
	code := p.wait(t, 60*time.Second)
	return code, p.output.String()
}

// TestFailoverAtTheTail: a group that an independent client (librdkafka,
// through confluent-kafka-python) consumed to the end of every partition on
// A fails over to B with nothing lost and nothing re-read, right after the
// copy ends and again after five idle minutes; `strait failover` says
// beforehand what the group will re-read, and refuses once the checkpoint
// flow or replication has stopped, naming which.
//
// The minutes are simulated: the checkpoint task and the heartbeats into A
// run here, the way the worker runs them, on a clock the test moves
// forward, and translate and failover take the same clock
// (STRAIT_CLOCK_OFFSET); the worker copies records (and those heartbeats)
// on real time. The worker keeps MM2's default offset flush interval (60
// s): a partition's last offset sync must not wait for it.
func TestFailoverAtTheTail(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	const partitions, perPartition = 4, 1000
	a.createTopic(t, "orders", partitions, nil)
	prod := a.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic("orders"))
	source := map[string]bool{}
	for i := 0; i < perPartition; i += 100 {
		var recs []*kgo.Record
		for p := range int32(partitions) {
			for j := i; j < i+100; j++ {
				v := fmt.Sprintf("tail-%d-%d", p, j)
				source[v] = true
				recs = append(recs, &kgo.Record{Partition: p, Key: []byte(fmt.Sprint(j)), Value: []byte(v)})
			}
		}
		if err := prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// The application consumes everything on A and commits at the end.
	onA, started := consumePython(t, a, "app", "orders", "earliest", true)
	if len(onA) != partitions*perPartition {
		t.Fatalf("the python consumer read %d distinct records on A, want %d", len(onA), partitions*perPartition)
	}
	for p, at := range started {
		if at >= 0 {
			t.Fatalf("group app had a commit on orders/%d before it consumed: %d", p, at)
		}
	}
	for tp, at := range committed(t, a, "app") {
		if at != perPartition {
			t.Fatalf("group app committed %d on %s/%d on A, want %d", at, tp.Topic, tp.Partition, perPartition)
		}
	}

	text := props([]*cluster{a, b}, "A->B.enabled = true", "offset.flush.interval.ms = 60000",
		// The test runs these two on its clock.
		"A->B.emit.checkpoints.enabled = false", "B->A.emit.heartbeats.enabled = false")
	cfgFile := writeFile(t, "mm2.properties", text)
	cfg, _, err := configs.Parse([]byte(text), configs.Properties, nil)
	if err != nil {
		t.Fatal(err)
	}
	flow, ok := cfg.Flow("A", "B")
	if !ok {
		t.Fatal("no flow A->B")
	}
	a.createTopic(t, "heartbeats", 1, map[string]string{"cleanup.policy": "compact"})
	b.createTopic(t, "A.checkpoints.internal", 1, map[string]string{"cleanup.policy": "compact"})
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	clock := &shiftClock{}
	runTask(t, "heartbeats B->A", (&heartbeat.Task{Source: "B", Target: "A", Topic: "heartbeats", Interval: time.Second,
		TargetOpts: []kgo.Opt{kgo.SeedBrokers(a.ListenAddrs()...)}, Log: log, Now: clock.Now}).Run)
	checkpoints := func() func() {
		t.Helper()
		return runTask(t, "checkpoints A->B", (&checkpoint.Task{Flow: "A->B", Source: "A", Target: "B",
			Policy: flow.Policy, Topics: flow.Topics.Filter, Groups: flow.Groups, Interval: time.Second,
			Syncs:            checkpoint.Syncs{Topic: "mm2-offset-syncs.B.internal", Admin: a.admin(t), Opts: []kgo.Opt{kgo.SeedBrokers(a.ListenAddrs()...)}},
			CheckpointsTopic: "A.checkpoints.internal", SourceAdmin: a.admin(t), TargetAdmin: b.admin(t),
			TargetOpts: []kgo.Opt{kgo.SeedBrokers(b.ListenAddrs()...)}, Log: log, Now: clock.Now}).Run)
	}
	stopCheckpoints := checkpoints()
	w := startWorker(t, text)

	exact := map[checkpoint.TopicPartition]upDown{}
	for p := range int32(partitions) {
		exact[checkpoint.TopicPartition{Topic: "A.orders", Partition: p}] = upDown{perPartition, perPartition}
	}
	readCheckpoints := func() map[checkpoint.TopicPartition]checkpoint.Written {
		t.Helper()
		got, _, err := checkpoint.ReadGroup(context.Background(), b.admin(t), []kgo.Opt{kgo.SeedBrokers(b.ListenAddrs()...)}, "A.checkpoints.internal", "app")
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	// 1. Right after the copy ends. The group is at the end of every
	// partition; its checkpoints translate exactly once the offset sync of
	// each partition's last record is written: within seconds of the copy,
	// not at the next offset flush a minute later. If they are not exact
	// within 15 s, fail over anyway: what follows measures the re-read.
	waitCopied(t, b, "A.orders", partitions*perPartition, 60*time.Second)
	copied := time.Now()
	var cps map[checkpoint.TopicPartition]checkpoint.Written
	waitFor(t, 30*time.Second, func() (bool, string) {
		cps = readCheckpoints()
		for tp := range exact {
			if c, ok := cps[tp]; !ok || c.Upstream != perPartition {
				return false, fmt.Sprintf("no checkpoint of app at upstream %d for %v yet: %+v", perPartition, tp, c)
			}
		}
		return true, ""
	})
	if !within(15*time.Second-time.Since(copied), func() bool { cps = readCheckpoints(); return sameCheckpoints(cps, exact) }) {
		t.Errorf("15 s after the copy ended the checkpoints of app are %s, want %d->%d on every partition: the last offset sync of a quiet partition waits for the offset flush",
			showCheckpoints(cps), perPartition, perPartition)
	}
	code, out := strait(t, 0, "failover", "-c", cfgFile, "--group", "app", "--from", "A", "--to", "B", "--json")
	if code != 0 {
		t.Fatalf("failover right after the copy: exit %d\n%s", code, out)
	}
	var planned []checkpoint.Translation
	if err := json.Unmarshal([]byte(out[:strings.LastIndex(out, "]")+1]), &planned); err != nil {
		t.Fatalf("failover output: %v\n%s", err, out)
	}
	predicted := int64(0)
	for _, tr := range planned {
		if tr.Reread == nil || tr.ResumesAt == nil {
			t.Fatalf("%s/%d: failover cannot tell what the group re-reads:\n%s", tr.Topic, tr.Partition, out)
		}
		if tr.Behind != 0 {
			t.Errorf("%s/%d: behind source %d, want 0 (the group is idle)", tr.Topic, tr.Partition, tr.Behind)
		}
		// A.orders is an exact copy: offset N on B is offset N on A.
		if *tr.ResumesAt != tr.Offset || *tr.Reread != perPartition-tr.Offset {
			t.Errorf("%s/%d: resumes at source %d, re-reads %d; committed %d on B of an exact copy of a partition the group read to %d",
				tr.Topic, tr.Partition, *tr.ResumesAt, *tr.Reread, tr.Offset, perPartition)
		}
		predicted += *tr.Reread
	}
	onB, _ := consumePython(t, b, "app", "A.orders", "error", false)
	lost, reread := tally(t, source, onA, onB)
	t.Logf("right after the copy: failover predicted %d re-read; consumed %d on B: lost %d, re-read %d", predicted, len(onB), lost, reread)
	if int64(reread) != predicted {
		t.Errorf("failover said the group re-reads %d records, it re-read %d", predicted, reread)
	}
	if lost != 0 || reread != 0 {
		t.Errorf("right after the copy: lost %d, re-read %d; want 0 each", lost, reread)
	}

	// 2. Five idle minutes later: the group has not moved, replication and
	// the checkpoint flow run. Its checkpoints are rewritten, so failover
	// accepts them as they are, without --force.
	offset := clock.advance(5*time.Minute + 30*time.Second)
	jumped := time.Now().Add(offset)
	waitFresh := func(what string, heartbeats, checkpoints bool) {
		t.Helper()
		waitFor(t, 30*time.Second, func() (bool, string) {
			if heartbeats {
				if hb := newestHeartbeat(t, b, "A.heartbeats"); hb.Before(jumped) {
					return false, fmt.Sprintf("%s: newest heartbeat from A on B at %s, before the clock moved to %s", what, hb, jumped)
				}
			}
			if checkpoints {
				for tp, c := range readCheckpoints() {
					if c.At.Before(jumped) {
						return false, fmt.Sprintf("%s: checkpoint of app for %v written at %s, before the clock moved to %s", what, tp, c.At, jumped)
					}
				}
			}
			return true, ""
		})
	}
	waitFresh("idle", true, true)
	code, out = strait(t, offset, "translate", "-c", cfgFile, "--group", "app", "--from", "A", "--to", "B")
	if code != 0 {
		t.Fatalf("translate after 5 idle minutes: exit %d\n%s", code, out)
	}
	checkTranslateTable(t, out, exact)
	code, out = strait(t, offset, "failover", "-c", cfgFile, "--group", "app", "--from", "A", "--to", "B")
	if code != 0 {
		t.Fatalf("failover of an idle group after 5 minutes: exit %d (refused?)\n%s", code, out)
	}
	checkCommitted(t, b, "app", exact)
	onB2, _ := consumePython(t, b, "app", "A.orders", "error", false)
	if lost, reread := tally(t, source, onA, onB2); lost != 0 || reread != 0 {
		t.Errorf("after 5 idle minutes: lost %d, re-read %d; want 0 each", lost, reread)
	}

	// 3. The checkpoint flow stops (replication still runs): six minutes
	// later failover refuses, naming the checkpoint flow.
	stopCheckpoints()
	offset = clock.advance(6 * time.Minute)
	jumped = time.Now().Add(offset)
	waitFresh("checkpoints stopped", true, false)
	code, out = strait(t, offset, "failover", "-c", cfgFile, "--group", "app", "--from", "A", "--to", "B")
	if code == 0 || !strings.Contains(out, "the checkpoint flow A->B has not confirmed") || strings.Contains(out, "looks stopped") {
		t.Errorf("failover with the checkpoint flow stopped for 6 minutes: exit %d, want a refusal naming the checkpoint flow only:\n%s", code, out)
	}

	// 4. Replication stops (the checkpoint flow runs again): six minutes
	// later failover refuses, naming replication.
	checkpoints()
	w.stop(t)
	offset = clock.advance(6 * time.Minute)
	jumped = time.Now().Add(offset)
	waitFresh("replication stopped", false, true)
	code, out = strait(t, offset, "failover", "-c", cfgFile, "--group", "app", "--from", "A", "--to", "B")
	if code == 0 || !strings.Contains(out, "replication from A to B looks stopped") || strings.Contains(out, "has not confirmed") {
		t.Errorf("failover with replication stopped for 6 minutes: exit %d, want a refusal naming replication only:\n%s", code, out)
	}
}

// tally counts, over the source records, those consumed neither on A nor
// on B (lost) and those consumed on B that were consumed on A or more than
// once on B (re-read); a record read on B that is not a source record fails
// the test.
func tally(t *testing.T, source map[string]bool, onA, onB map[string]int) (lost, reread int) {
	t.Helper()
	for v := range source {
		if onA[v] == 0 && onB[v] == 0 {
			lost++
		}
	}
	for v, n := range onB {
		if !source[v] {
			t.Fatalf("read %q on B, not a record of the source", v)
		}
		reread += n - 1
		if onA[v] > 0 {
			reread++
		}
	}
	return lost, reread
}

// within polls cond every 100 ms until it holds, for at most timeout, and
// reports whether it held: for a wait whose end is itself a finding.
func within(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond) // polling interval, not synchronisation
	}
	return true
}

// sameCheckpoints reports whether cps has want's offsets on every partition
// of want.
func sameCheckpoints(cps map[checkpoint.TopicPartition]checkpoint.Written, want map[checkpoint.TopicPartition]upDown) bool {
	for tp, w := range want {
		if c, ok := cps[tp]; !ok || c.Upstream != w.up || c.Downstream != w.down {
			return false
		}
	}
	return true
}

func showCheckpoints(cps map[checkpoint.TopicPartition]checkpoint.Written) string {
	var parts []string
	for tp, c := range cps {
		parts = append(parts, fmt.Sprintf("%s/%d %d->%d", tp.Topic, tp.Partition, c.Upstream, c.Downstream))
	}
	return strings.Join(parts, ", ")
}

// newestHeartbeat is the time of the newest heartbeat in topic on c (zero
// when there is none yet).
func newestHeartbeat(t *testing.T, c *cluster, topic string) time.Time {
	t.Helper()
	var newest time.Time
	if c.endOffsets(t, topic) <= 0 {
		return newest
	}
	for _, r := range c.rawRecords(t, topic) {
		if h, err := heartbeat.Decode(r.Key, r.Value); err == nil && time.UnixMilli(h.Timestamp).After(newest) {
			newest = time.UnixMilli(h.Timestamp)
		}
	}
	return newest
}

// checkTranslateTable checks `strait translate`'s table: one row per
// partition of want with the checkpoint's offsets, 0 to re-read and 0
// behind the source, and the liveness lines below it.
func checkTranslateTable(t *testing.T, out string, want map[checkpoint.TopicPartition]upDown) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if got := strings.Fields(lines[0]); strings.Join(got, " ") != "TOPIC PARTITION OFFSET SOURCE OFFSET RE-READ BEHIND SOURCE CHECKPOINT AGE" {
		t.Fatalf("translate header %q:\n%s", lines[0], out)
	}
	rows := 0
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) != 7 || !strings.HasPrefix(f[0], "A.") {
			continue
		}
		rows++
		var p int32
		var off, up int64
		fmt.Sscan(f[1], &p)
		fmt.Sscan(f[2], &off)
		fmt.Sscan(f[3], &up)
		w, ok := want[checkpoint.TopicPartition{Topic: f[0], Partition: p}]
		if !ok || off != w.down || up != w.up || f[4] != "0" || f[5] != "0" {
			t.Errorf("translate row %q: want %s/%d offset %d, source offset %d, re-read 0, behind 0", line, f[0], p, w.down, w.up)
		}
	}
	if rows != len(want) {
		t.Errorf("translate printed %d rows, want %d:\n%s", rows, len(want), out)
	}
	if !strings.Contains(out, "replication A->B: newest heartbeat from A on B is") || !strings.Contains(out, "checkpoint flow A->B: the oldest of the group's") {
		t.Errorf("translate does not say how fresh replication and the checkpoints are:\n%s", out)
	}
}
