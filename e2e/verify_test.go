package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/checkpoint"
	"github.com/strait-replicator/strait/internal/connect"
)

// verifyOutput is `strait verify --json`'s output, as a script reads it.
type verifyOutput struct {
	Identical bool `json:"identical"`
	Flows     []struct {
		Flow   string        `json:"flow"`
		Topics []verifyTopic `json:"topics"`
	} `json:"flows"`
}

type verifyTopic struct {
	Topic      string            `json:"topic"`
	Remote     string            `json:"remote_topic"`
	First      *verifyDiff       `json:"first_difference"`
	Partitions []verifyPartition `json:"partitions"`
	verifyCounts
}

type verifyCounts struct {
	Compared  int64 `json:"compared"`
	Missing   int64 `json:"missing"`
	Extra     int64 `json:"extra"`
	Different int64 `json:"different"`
	Pending   int64 `json:"pending"`
	Gone      int64 `json:"gone_from_source"`
	Outside   int64 `json:"outside_range"`
}

type verifyPartition struct {
	Partition int32 `json:"partition"`
	verifyCounts
	Differences []verifyDiff `json:"differences"`
}

type verifyDiff struct {
	Partition    int32    `json:"partition"`
	Kind         string   `json:"kind"`
	SourceOffset *int64   `json:"source_offset"`
	TargetOffset *int64   `json:"target_offset"`
	Fields       []string `json:"fields"`
}

func (d verifyDiff) String() string {
	s := d.Kind
	if d.SourceOffset != nil {
		s += fmt.Sprintf(" source@%d", *d.SourceOffset)
	}
	if d.TargetOffset != nil {
		s += fmt.Sprintf(" target@%d", *d.TargetOffset)
	}
	if len(d.Fields) > 0 {
		s += " " + strings.Join(d.Fields, ",")
	}
	return s
}

// runVerify runs `strait verify` with args and returns its exit code and
// output (stdout and stderr together).
func runVerify(t *testing.T, args ...string) (int, string) {
	t.Helper()
	code, stdout, stderr := verifyProcess(t, args...)
	return code, stdout + stderr
}

// runVerifyJSON runs `strait verify --json` and decodes its output.
func runVerifyJSON(t *testing.T, args ...string) (int, verifyOutput) {
	t.Helper()
	code, stdout, stderr := verifyProcess(t, append([]string{"--json"}, args...)...)
	var out verifyOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("exit %d, output is not JSON: %v\n%s\nstderr:\n%s", code, err, stdout, stderr)
	}
	return code, out
}

// verifyProcess runs `strait verify` with args, its stdout and stderr
// apart (stderr has the progress).
func verifyProcess(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, straitBinary(t), append([]string{"verify"}, args...)...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("strait verify: %v\n%s", err, e.String())
	}
	return code, o.String(), e.String()
}

// waitVerified runs `strait verify --json` until it finds the copy
// identical with nothing left to copy.
func waitVerified(t *testing.T, cfg string, timeout time.Duration) verifyOutput {
	t.Helper()
	var out verifyOutput
	waitFor(t, timeout, func() (bool, string) {
		var code int
		code, out = runVerifyJSON(t, "-c", cfg)
		var total verifyCounts
		for _, f := range out.Flows {
			for _, tp := range f.Topics {
				total.Missing += tp.Missing + tp.Extra + tp.Different
				total.Pending += tp.Pending
			}
		}
		return code == 0 && total.Pending == 0, fmt.Sprintf("verify: exit %d, %d differences, %d pending", code, total.Missing, total.Pending)
	})
	return out
}

// fakeCopier copies topics from a to b as a replicator does (same
// partition and order; key, value, headers, timestamp; offset syncs by
// Strait's rules to a, positions to b in Connect's format), with
// differences planted.
type fakeCopier struct {
	t    *testing.T
	a, b *cluster
	// plant, if set, is called for every source record before it is
	// copied: it returns the records no source holds to write before
	// the copy, and the copy (nil: the record is lost; a changed one).
	plant func(topic string, r *kgo.Record) (foreign []*kgo.Record, copy *kgo.Record)
}

const (
	fakeSyncsTopic   = "mm2-offset-syncs.B.internal"
	fakeOffsetsTopic = "mm2-offsets.A.internal"
)

func (c *fakeCopier) copy(topic string) {
	t := c.t
	t.Helper()
	ctx := context.Background()
	remote := "A." + topic
	prod := c.b.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	write := func(r *kgo.Record, p int32) {
		t.Helper()
		r.Topic, r.Partition = remote, p
		if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("copy to %s: %v", remote, err)
		}
	}
	states := map[int32]*checkpoint.SyncState{}
	last := map[int32]int64{}
	var syncs []*kgo.Record
	for _, r := range c.a.committedRecords(t, topic) {
		var foreign []*kgo.Record
		cp := &kgo.Record{Key: r.Key, Value: r.Value, Headers: r.Headers, Timestamp: r.Timestamp}
		if c.plant != nil {
			foreign, cp = c.plant(topic, r)
		}
		for _, f := range foreign {
			write(f, r.Partition)
		}
		last[r.Partition] = r.Offset
		if cp == nil {
			continue
		}
		write(cp, r.Partition)
		st, ok := states[r.Partition]
		if !ok {
			s := checkpoint.NewSyncState(100)
			st = &s
			states[r.Partition] = st
		}
		s := checkpoint.OffsetSync{Topic: topic, Partition: r.Partition, Upstream: r.Offset, Downstream: cp.Offset}
		if st.Update(s) {
			syncs = append(syncs, &kgo.Record{Topic: fakeSyncsTopic, Key: s.AppendKey(nil), Value: s.AppendValue(nil)})
		}
	}
	for _, st := range states {
		if s, ok := st.TakeDelayed(); ok {
			syncs = append(syncs, &kgo.Record{Topic: fakeSyncsTopic, Key: s.AppendKey(nil), Value: s.AppendValue(nil)})
		}
	}
	if err := c.a.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner())).ProduceSync(ctx, syncs...).FirstErr(); err != nil {
		t.Fatalf("write offset syncs: %v", err)
	}
	var positions []*kgo.Record
	for p, off := range last {
		positions = append(positions, &kgo.Record{Topic: fakeOffsetsTopic,
			Key:   connect.SourceOffsetKey(connect.SourceConnector, connect.SourcePartition{Cluster: "A", Topic: topic, Partition: p}),
			Value: connect.SourceOffsetValue(off)})
	}
	if err := c.b.client(t).ProduceSync(ctx, positions...).FirstErr(); err != nil { // Connect's partitioner: the key's hash
		t.Fatalf("write positions: %v", err)
	}
}

// foreignRecord is a record no source holds.
func foreignRecord(i int) *kgo.Record {
	return &kgo.Record{Value: []byte(fmt.Sprintf("foreign-%d", i)), Timestamp: time.UnixMilli(1_500_000_000_000)}
}

// TestVerifyFindsEachDifference plants one kind of difference per topic on
// partition 1 (partition 0 stays an exact copy), and the shifts of offsets
// that are no difference (a source truncated before and after the copy,
// transactions on the source, a target that held records before the
// copy), in a copy made as a replicator makes it; `strait verify` finds
// each difference, where it is, and nothing else, and exits 1; 0 on the
// identical topics alone; 2 on bad input.
func TestVerifyFindsEachDifference(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, fakeSyncsTopic, 1, map[string]string{"cleanup.policy": "compact"})
	b.createTopic(t, fakeOffsetsTopic, 25, map[string]string{"cleanup.policy": "compact"})
	kinds := []string{"clean", "missing", "extra", "value", "header", "timestamp", "gap-before", "gap-after", "txn", "prefilled"}
	for _, k := range kinds {
		a.createTopic(t, k, 2, nil)
		b.createTopic(t, "A."+k, 2, nil)
		if k != "txn" {
			a.produce(t, k, 2, 0, 60, k)
		}
	}
	// txn: per partition 10 committed, 5 aborted, 10 committed, 5 plain.
	ctx := context.Background()
	txn := a.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic("txn"), kgo.TransactionalID("verify-writer"))
	plain := a.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic("txn"))
	i := 0
	for _, commit := range []kgo.TransactionEndTry{kgo.TryCommit, kgo.TryAbort, kgo.TryCommit} {
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for p := range int32(2) {
			for range map[kgo.TransactionEndTry]int{kgo.TryCommit: 10, kgo.TryAbort: 5}[commit] {
				if err := txn.ProduceSync(ctx, record("txn", p, i)).FirstErr(); err != nil {
					t.Fatal(err)
				}
				i++
			}
		}
		if err := txn.EndTransaction(ctx, commit); err != nil {
			t.Fatal(err)
		}
	}
	for p := range int32(2) {
		for range 5 {
			if err := plain.ProduceSync(ctx, record("txn", p, i)).FirstErr(); err != nil {
				t.Fatal(err)
			}
			i++
		}
	}
	if err := a.DeleteRecords("gap-before", 0, 20); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteRecords("gap-before", 1, 20); err != nil {
		t.Fatal(err)
	}
	nforeign := 0
	cp := &fakeCopier{t: t, a: a, b: b, plant: func(topic string, r *kgo.Record) ([]*kgo.Record, *kgo.Record) {
		cp := &kgo.Record{Key: r.Key, Value: r.Value, Headers: append([]kgo.RecordHeader(nil), r.Headers...), Timestamp: r.Timestamp}
		var foreign []*kgo.Record
		if topic == "prefilled" && r.Offset == 0 {
			for range 5 {
				foreign = append(foreign, foreignRecord(nforeign))
				nforeign++
			}
		}
		if r.Partition != 1 || r.Offset != 30 {
			return foreign, cp
		}
		switch topic {
		case "missing":
			return nil, nil
		case "extra":
			nforeign++
			return []*kgo.Record{foreignRecord(nforeign)}, cp
		case "value":
			cp.Value = []byte("changed")
		case "header":
			cp.Headers[0].Value = []byte("changed")
		case "timestamp":
			cp.Timestamp = cp.Timestamp.Add(time.Millisecond)
		}
		return foreign, cp
	}}
	for _, k := range kinds {
		cp.copy(k)
	}
	for p := range int32(2) {
		if err := a.DeleteRecords("gap-after", p, 25); err != nil {
			t.Fatal(err)
		}
	}
	cfg := writeFile(t, "mm2.properties", props([]*cluster{a, b}, "A->B.enabled = true"))

	code, out := runVerifyJSON(t, "-c", cfg)
	if code != 1 || out.Identical {
		t.Fatalf("exit %d, identical %v; want 1, false", code, out.Identical)
	}
	if len(out.Flows) != 1 || out.Flows[0].Flow != "A->B" {
		t.Fatalf("flows %+v, want A->B alone", out.Flows)
	}
	one := func(kind string, src, tgt int64, fields ...string) []string {
		d := verifyDiff{Kind: kind, Fields: fields}
		if src >= 0 {
			d.SourceOffset = &src
		}
		if tgt >= 0 {
			d.TargetOffset = &tgt
		}
		return []string{d.String()}
	}
	// What each topic's partitions hold: p0's counts, p1's counts and
	// p1's differences.
	type want struct {
		p0, p1 verifyCounts
		diffs  []string
	}
	all := verifyCounts{Compared: 60}
	wants := map[string]want{
		"clean":      {all, all, nil},
		"missing":    {all, verifyCounts{Compared: 59, Missing: 1}, one("missing", 30, -1)},
		"extra":      {all, verifyCounts{Compared: 60, Extra: 1}, one("extra", -1, 30)},
		"value":      {all, verifyCounts{Compared: 60, Different: 1}, one("different", 30, 30, "value")},
		"header":     {all, verifyCounts{Compared: 60, Different: 1}, one("different", 30, 30, "headers")},
		"timestamp":  {all, verifyCounts{Compared: 60, Different: 1}, one("different", 30, 30, "timestamp")},
		"gap-before": {verifyCounts{Compared: 40}, verifyCounts{Compared: 40}, nil},
		"gap-after":  {verifyCounts{Compared: 35, Gone: 25}, verifyCounts{Compared: 35, Gone: 25}, nil},
		"txn":        {verifyCounts{Compared: 25}, verifyCounts{Compared: 25}, nil},
		"prefilled":  {verifyCounts{Compared: 60, Outside: 5}, verifyCounts{Compared: 60, Outside: 5}, nil},
	}
	seen := map[string]bool{}
	for _, tp := range out.Flows[0].Topics {
		w, ok := wants[tp.Topic]
		if !ok {
			t.Errorf("topic %s compared: not one of the test's", tp.Topic)
			continue
		}
		seen[tp.Topic] = true
		if tp.Remote != "A."+tp.Topic || len(tp.Partitions) != 2 {
			t.Errorf("%s: remote %s, %d partitions; want A.%s, 2", tp.Topic, tp.Remote, len(tp.Partitions), tp.Topic)
			continue
		}
		for _, p := range tp.Partitions {
			wc, wd := w.p0, []string(nil)
			if p.Partition == 1 {
				wc, wd = w.p1, w.diffs
			}
			if p.verifyCounts != wc {
				t.Errorf("%s/%d: %+v, want %+v", tp.Topic, p.Partition, p.verifyCounts, wc)
			}
			var got []string
			for _, d := range p.Differences {
				got = append(got, d.String())
			}
			if strings.Join(got, "; ") != strings.Join(wd, "; ") {
				t.Errorf("%s/%d: differences %q, want %q", tp.Topic, p.Partition, got, wd)
			}
		}
		if (tp.First != nil) != (w.diffs != nil) || (tp.First != nil && (tp.First.Partition != 1 || tp.First.String() != w.diffs[0])) {
			t.Errorf("%s: first difference %+v, want partition 1 %q", tp.Topic, tp.First, w.diffs)
		}
	}
	if len(seen) != len(wants) {
		t.Errorf("topics compared %v, want %d", seen, len(wants))
	}

	// The table names the first difference of each topic.
	code, text := runVerify(t, "-c", cfg)
	t.Logf("strait verify:\n%s", text)
	if code != 1 {
		t.Errorf("table: exit %d, want 1", code)
	}
	for _, row := range [][]string{
		{"missing", "A.missing", "119", "1", "0", "0", "partition", "1", "offset", "30:", "missing"},
		{"extra", "A.extra", "120", "0", "1", "0", "partition", "1", "target", "offset", "30:", "extra"},
		{"value", "A.value", "120", "0", "0", "1", "partition", "1", "offset", "30", "(target", "30):", "value", "differs"},
		{"clean", "A.clean", "120", "0", "0", "0", "-"},
	} {
		if !verifyTableHasRow(text, row...) {
			t.Errorf("no row %q", row)
		}
	}
	if !strings.Contains(text, "DIFFERENT: 1 missing on the target, 1 extra on the target, 3 different") {
		t.Error("no verdict line with the totals")
	}

	// The identical topics alone: exit 0.
	code, text = runVerify(t, "-c", cfg, "--topics", "clean|gap-.*|txn|prefilled", "--flow", "A->B")
	if code != 0 || !strings.Contains(text, "flow A->B: identical (440 records compared)") {
		t.Errorf("identical topics: exit %d, want 0 and a verdict of 440 records compared:\n%s", code, text)
	}
	// --from-time: only what came after a record's timestamp; record i
	// is stamped 1,600,000,000,000 + 7i ms.
	code, out = runVerifyJSON(t, "-c", cfg, "--topics", "clean", "--from-time", fmt.Sprint(1_600_000_000_000+7*50))
	if code != 0 || len(out.Flows) != 1 || len(out.Flows[0].Topics) != 1 {
		t.Fatalf("--from-time: exit %d, %+v", code, out)
	}
	// The target is read from a window before the copy of the first
	// record compared: here from its start, 50 records per partition.
	if c := out.Flows[0].Topics[0].verifyCounts; c != (verifyCounts{Compared: 20, Outside: 100}) {
		t.Errorf("--from-time: %+v, want 20 compared (10 per partition), 100 outside", c)
	}

	// Bad input exits 2 and names the problem.
	unreachable := writeFile(t, "unreachable.properties", "clusters = A, B\nA.bootstrap.servers = 127.0.0.1:1\nB.bootstrap.servers = "+b.seeds()+
		"\nA->B.enabled = true\nadmin.timeout.ms = 2000\n")
	for _, c := range []struct {
		name string
		args []string
		say  string
	}{
		{"no file", []string{"-c", "/nonexistent/mm2.properties"}, "/nonexistent/mm2.properties"},
		{"unknown flow", []string{"-c", cfg, "--flow", "B->A"}, `--flow "B->A": no such enabled flow (enabled: A->B)`},
		{"bad pattern", []string{"-c", cfg, "--topics", "("}, "--topics"},
		{"bad time", []string{"-c", cfg, "--from-time", "yesterday"}, "--from-time"},
		{"no topic", []string{"-c", cfg, "--topics", "nothing-.*"}, "matches --topics"},
		{"unreachable cluster", []string{"-c", unreachable}, "cluster A (127.0.0.1:1)"},
	} {
		code, text := runVerify(t, c.args...)
		if code != 2 || !strings.Contains(text, c.say) {
			t.Errorf("%s: exit %d, want 2 and %q in:\n%s", c.name, code, c.say, text)
		}
	}
}

// verifyTableHasRow reports whether text has a line whose fields start with fields.
func verifyTableHasRow(text string, fields ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) >= len(fields) && strings.Join(f[:len(fields)], " ") == strings.Join(fields, " ") {
			return true
		}
	}
	return false
}

// TestVerifyStraitCopy: Strait, in exactly-once mode (its transaction
// markers shift the target's offsets), copies topics whose offsets differ
// from their copies' (source records deleted before the copy, source
// transactions with an aborted one, a target that held records first);
// verify finds them identical while the source is still written to, and
// after the copy's source records were deleted; a record written to the
// remote topic by someone else is found.
func TestVerifyStraitCopy(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 3, nil)
	a.produce(t, "orders", 3, 0, 200, "v")
	for p := range int32(3) {
		if err := a.DeleteRecords("orders", p, 30); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	txn := a.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic("orders"), kgo.TransactionalID("verify-strait"))
	for i, commit := range []kgo.TransactionEndTry{kgo.TryCommit, kgo.TryAbort, kgo.TryCommit} {
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for p := range int32(3) {
			for k := range 20 {
				if err := txn.ProduceSync(ctx, record("txn", p, 1000+100*i+k)).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := txn.EndTransaction(ctx, commit); err != nil {
			t.Fatal(err)
		}
	}
	b.createTopic(t, "A.orders", 3, nil)
	b.produce(t, "A.orders", 3, 0, 7, "before")
	text := props([]*cluster{a, b}, "A->B.enabled = true", "B.exactly.once.source.support = enabled", "offset.flush.interval.ms = 200")
	cfg := writeFile(t, "mm2.properties", text)
	startWorker(t, text)
	waitVerified(t, cfg, 60*time.Second)
	orders := func(out verifyOutput) verifyTopic {
		t.Helper()
		for _, tp := range out.Flows[0].Topics {
			if tp.Topic == "orders" {
				return tp
			}
		}
		t.Fatalf("orders not compared: %+v", out)
		return verifyTopic{}
	}

	// While the source is written to and Strait copies.
	before := a.endOffsets(t, "orders")
	bg := produceInBackground(t, a, "orders", 3, 5, 20*time.Millisecond)
	waitFor(t, 30*time.Second, func() (bool, string) {
		n := a.endOffsets(t, "orders") - before
		return n >= 300, fmt.Sprintf("%d records produced in the background", n)
	})
	code, out := runVerifyJSON(t, "-c", cfg)
	bg.stop(t)
	if code != 0 || !out.Identical {
		t.Fatalf("live: exit %d, %+v; want 0", code, out)
	}
	c := orders(out).verifyCounts
	t.Logf("live: %+v", c)
	if c.Compared+c.Pending < 3*(170+40)+300 || c.Outside < 3*7 {
		t.Errorf("live: %+v, want at least %d compared or pending and %d outside (held before the copy)", c, 3*(170+40)+300, 3*7)
	}

	waitVerified(t, cfg, 60*time.Second)
	for p := range int32(3) {
		if err := a.DeleteRecords("orders", p, 100); err != nil {
			t.Fatal(err)
		}
	}
	code, out = runVerifyJSON(t, "-c", cfg)
	if c := orders(out).verifyCounts; code != 0 || c.Gone != 3*70 || c.Outside != 3*7 || c.Missing+c.Extra+c.Different+c.Pending != 0 {
		t.Errorf("source truncated after the copy: exit %d, %+v; want 0, %d gone, %d outside", code, c, 3*70, 3*7)
	}

	// Someone writes to the remote topic, then the source gets more.
	b.produce(t, "A.orders", 1, 500, 1, "intruder")
	a.produce(t, "orders", 3, 300, 10, "after")
	waitFor(t, 60*time.Second, func() (bool, string) {
		code, out = runVerifyJSON(t, "-c", cfg)
		c := orders(out).verifyCounts
		return c.Pending == 0 && c.Missing == 0, fmt.Sprintf("%+v", c)
	})
	p0 := orders(out).Partitions[0]
	if code != 1 || p0.Extra != 1 || p0.Missing+p0.Different != 0 || orders(out).Extra != 1 {
		t.Errorf("intruder: exit %d, partition 0 %+v (%v); want 1 and one extra", code, p0.verifyCounts, p0.Differences)
	}
}
