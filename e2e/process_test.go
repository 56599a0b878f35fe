package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/checkpoint"
	"github.com/strait-replicator/strait/internal/kafkatest"
)

// analysis is how a remote topic compares with its source after restarts.
type analysis struct {
	copied int // distinct source records present on the target
	dups   int // records copied more than once
}

// analyse checks that every partition of dst is its source with records
// replayed, never skipped: each target record is a source record, and a
// source record only appears after every earlier one has.
func analyse(src, dst map[int32][]kafkatest.Digest) (analysis, error) {
	var a analysis
	for p, d := range dst {
		pos := make(map[kafkatest.Digest]int, len(src[p]))
		for i, s := range src[p] {
			pos[s] = i
		}
		next := 0
		for j, rec := range d {
			i, ok := pos[rec]
			switch {
			case !ok:
				return a, fmt.Errorf("partition %d record %d is not a source record", p, j)
			case i == next:
				next++
			case i < next:
				a.dups++
			default:
				return a, fmt.Errorf("partition %d: source records %d to %d were skipped (lost)", p, next, i-1)
			}
		}
		a.copied += next
	}
	return a, nil
}

// waitAllCopied waits until every record of topic on src is on dst's
// remote topic and returns how they compare; a record lost or out of order
// fails the test at once.
func waitAllCopied(t *testing.T, src *cluster, topic string, dst *cluster, remote string, timeout time.Duration) analysis {
	t.Helper()
	want := src.endOffsets(t, topic)
	var an analysis
	waitFor(t, timeout, func() (bool, string) {
		if !slices.Contains(dst.topics(t), remote) {
			return false, fmt.Sprintf("%s not on %s yet", remote, dst.alias)
		}
		var err error
		if an, err = analyse(src.read(t, topic), dst.read(t, remote)); err != nil {
			t.Fatal(err)
		}
		return int64(an.copied) == want, fmt.Sprintf("%d of %d source records copied", an.copied, want)
	})
	return an
}

// background produces to topic on c until stopped, rate records per
// second over partitions, each record unique.
type background struct {
	stopOnce sync.Once
	stopCh   chan struct{}
	done     chan error
}

func produceInBackground(t *testing.T, c *cluster, topic string, partitions int32, perTick int, tick time.Duration) *background {
	t.Helper()
	all := make([]int32, partitions)
	for p := range partitions {
		all[p] = p
	}
	return produceToInBackground(t, c, topic, all, perTick, tick)
}

// produceToInBackground produces perTick records every tick to each of
// the partitions parts of topic until stopped.
func produceToInBackground(t *testing.T, c *cluster, topic string, parts []int32, perTick int, tick time.Duration) *background {
	t.Helper()
	cl := c.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic(topic))
	b := &background{stopCh: make(chan struct{}), done: make(chan error, 1)}
	go func() { // joined by stop
		ticker := time.NewTicker(tick)
		defer ticker.Stop()
		for i := 0; ; i++ {
			select {
			case <-b.stopCh:
				b.done <- nil
				return
			case <-ticker.C:
			}
			var recs []*kgo.Record
			for _, p := range parts {
				for k := range perTick {
					recs = append(recs, record("bg", p, i*perTick+k))
				}
			}
			if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
				b.done <- err
				return
			}
		}
	}()
	t.Cleanup(func() { b.stop(t) })
	return b
}

func (b *background) stop(t *testing.T) {
	b.stopOnce.Do(func() {
		close(b.stopCh)
		if err := <-b.done; err != nil {
			t.Errorf("background producer: %v", err)
		}
	})
}

// TestRestartNoLoss runs strait as a process under continuous production:
// SIGTERM mid-stream and restart loses nothing and duplicates nothing
// (positions are flushed at stop); kill -9 mid-stream and restart loses
// nothing and duplicates at most what was copied since the last position
// flush.
func TestRestartNoLoss(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 4, nil)
	const (
		flushInterval = 500 * time.Millisecond
		perTick       = 25 // per partition
		tick          = 20 * time.Millisecond
		rate          = 4 * perTick * int(time.Second/tick) // records/s: 5000
	)
	cfg := writeFile(t, "mm2.properties", props([]*cluster{a, b}, "A->B.enabled = true", "tasks.max = 2",
		fmt.Sprintf("offset.flush.interval.ms = %d", flushInterval.Milliseconds())))
	bg := produceInBackground(t, a, "orders", 4, perTick, tick)

	copiedAtLeast := func(n int64) {
		waitFor(t, 60*time.Second, func() (bool, string) {
			got := b.endOffsets(t, "A.orders")
			return got >= n, fmt.Sprintf("A.orders has %d records, want at least %d", got, n)
		})
	}
	check := func() analysis {
		t.Helper()
		// Target first: the source read after it holds every record the
		// target can have.
		dst := b.read(t, "A.orders")
		an, err := analyse(a.read(t, "orders"), dst)
		if err != nil {
			t.Fatal(err)
		}
		return an
	}

	p1 := startProcess(t, "run", "-c", cfg)
	copiedAtLeast(3000)
	p1.signal(t, syscall.SIGTERM)
	stopped := time.Now()
	if code := p1.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d, want 0; output:\n%s", code, p1.output)
	}
	t.Logf("SIGTERM: stopped in %s", time.Since(stopped).Round(time.Millisecond))

	p2 := startProcess(t, "run", "-c", cfg)
	copiedAtLeast(b.endOffsets(t, "A.orders") + 3000)
	afterTerm := check()
	t.Logf("after SIGTERM and restart: %d records copied, %d duplicates", afterTerm.copied, afterTerm.dups)
	// Bound after a graceful stop: zero. Every acknowledged position is
	// written before the process exits, so the restart resumes exactly.
	if afterTerm.dups != 0 {
		t.Errorf("%d duplicates after SIGTERM, want 0", afterTerm.dups)
	}

	// Let it catch up and store positions covering what it had copied, so
	// that the records at risk are those copied since, then crash it.
	waitFor(t, 30*time.Second, func() (bool, string) {
		lag := a.endOffsets(t, "orders") - b.endOffsets(t, "A.orders")
		return lag < int64(rate/10), fmt.Sprintf("lag %d", lag)
	})
	copied := b.endOffsets(t, "A.orders") - int64(afterTerm.dups)
	waitFor(t, 30*time.Second, func() (bool, string) {
		stored := storedPositions(t, b, "mm2-offsets.A.internal", "orders")
		return stored >= copied, fmt.Sprintf("positions stored for %d records, want %d", stored, copied)
	})
	// Crash it once every partition has an offset sync past its stored
	// position (one is due every offset.lag.max+1 = 101 records): the
	// restarted worker then has copies to count as duplicates.
	waitFor(t, 30*time.Second, func() (bool, string) {
		newest, stored := newestSyncs(t, a, "orders"), positions(t, b, "mm2-offsets.A.internal", "orders")
		for p := range int32(4) {
			if newest[p] <= stored[p] {
				return false, fmt.Sprintf("orders/%d: newest sync at %d, stored position %d", p, newest[p], stored[p])
			}
		}
		return true, ""
	})
	if err := p2.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p2.wait(t, 10*time.Second)
	// The restarted worker counts as duplicates the records it copies
	// again up to the newest offset sync of each partition (what the
	// crashed run is known to have copied), from the stored positions
	// it resumes at: the count it will report is knowable now.
	newest := newestSyncs(t, a, "orders")
	var known int64
	for p, at := range positions(t, b, "mm2-offsets.A.internal", "orders") {
		known += max(0, newest[p]-at)
	}

	addr := freeAddr(t)
	cfg3 := writeFile(t, "mm2-3.properties", props([]*cluster{a, b}, "A->B.enabled = true", "tasks.max = 2",
		fmt.Sprintf("offset.flush.interval.ms = %d", flushInterval.Milliseconds()), "listeners = http://"+addr))
	p3 := startProcess(t, "run", "-c", cfg3)
	copiedAtLeast(b.endOffsets(t, "A.orders") + 2000)
	bg.stop(t)
	final := waitAllCopied(t, a, "orders", b, "A.orders", 60*time.Second)
	killDups := final.dups - afterTerm.dups
	// Bound after kill -9: the records copied since the last position
	// flush, at most two flush intervals of production plus the lag
	// allowed at the kill (rate/10).
	bound := int(float64(rate)*(2*flushInterval).Seconds()) + rate/10
	t.Logf("after kill -9 and restart: %d records, %d duplicates (bound %d); no record lost", final.copied, killDups, bound)
	if killDups > bound {
		t.Errorf("%d duplicates after kill -9, more than the bound %d", killDups, bound)
	}
	// The restarted worker counts what it copies again from the offset
	// syncs of the crashed one: exactly known, computed above; a lower
	// bound of the truth (syncs in flight at the crash, and the records
	// since each partition's last sync, are not known to it), never more.
	reported := metricSum(t, addr, "duplicate_record_count_total")
	t.Logf("duplicate-record-count reported by the restarted worker: %d (want %d by the syncs; measured %d)", reported, known, killDups)
	if reported != known || reported > int64(killDups) {
		t.Errorf("duplicate-record-count %d, want %d (the records up to the crashed run's newest syncs), at most the %d duplicates measured", reported, known, killDups)
	}

	p3.signal(t, syscall.SIGTERM)
	if code := p3.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d, want 0; output:\n%s", code, p3.output)
	}
}

// storedPositions reads the offsets topic on c and returns, over topic's
// partitions, the sum of stored position + 1: how many records of topic
// (from offset 0) the positions cover.
func storedPositions(t *testing.T, c *cluster, offsetsTopic, topic string) int64 {
	t.Helper()
	var sum int64
	for _, at := range positions(t, c, offsetsTopic, topic) {
		sum += at + 1
	}
	return sum
}

// positions reads the offsets topic on c and returns the stored position
// (the offset of the last record copied) of each partition of topic.
func positions(t *testing.T, c *cluster, offsetsTopic, topic string) map[int32]int64 {
	t.Helper()
	latest := map[int32]int64{}
	for _, r := range c.committedRecords(t, offsetsTopic) { // exactly-once positions are in transactions
		var k []json.RawMessage
		var part struct {
			Topic     string `json:"topic"`
			Partition int32  `json:"partition"`
		}
		var v struct {
			Offset int64 `json:"offset"`
		}
		if json.Unmarshal(r.Key, &k) != nil || len(k) != 2 || json.Unmarshal(k[1], &part) != nil || part.Topic != topic {
			continue // another connector's, or not a position
		}
		if json.Unmarshal(r.Value, &v) == nil {
			latest[part.Partition] = v.Offset
		}
	}
	return latest
}

// newestSyncs reads the offset syncs Strait wrote to A for B and returns
// the upstream offset of the newest one of each partition of topic.
func newestSyncs(t *testing.T, a *cluster, topic string) map[int32]int64 {
	t.Helper()
	newest := map[int32]int64{}
	for _, r := range a.rawRecords(t, "mm2-offset-syncs.B.internal") {
		s, err := checkpoint.DecodeOffsetSync(r.Key, r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if s.Topic == topic {
			newest[s.Partition] = s.Upstream
		}
	}
	return newest
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// metricSum adds up every series of a Prometheus metric served at addr
// whose line contains every one of labels.
func metricSum(t *testing.T, addr, name string, labels ...string) int64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	var sum int64
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, name+"{") || !containsAll(line, labels) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("metric line %q", line)
		}
		sum += int64(v)
	}
	return sum
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// TestBadInputs: each invalid configuration exits 2 naming the key, before
// connecting to anything; an unreachable cluster exits 1 naming it.
func TestBadInputs(t *testing.T) {
	base := "clusters = A, B\nA.bootstrap.servers = 127.0.0.1:1\nB.bootstrap.servers = 127.0.0.1:2\nA->B.enabled = true\n"
	tests := []struct {
		name, extra string
		mention     []string
	}{
		{"bad value", "tasks.max = lots", []string{"tasks.max", "not an integer"}},
		{"unknown alias", "A->C.enabled = true", []string{"A->C.enabled", "unknown cluster alias"}},
		{"flow to itself", "B->B.enabled = true", []string{"B->B.enabled", "to itself"}},
		{"invalid regex", "A->B.topics = orders(", []string{"A->B.topics", "regular expression"}},
		{"two problems", "tasks.max = 0\nA->B.topics.exclude = [", []string{"tasks.max", "A->B.topics.exclude", "2 invalid"}},
		{"bad client setting", "A.consumer.isolation.level = dirty", []string{"consumer.isolation.level"}},
		{"unknown key", "A->B.topic = orders", []string{"A->B.topic (line 5): unknown key (did you mean A->B.topics?)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startProcess(t, "run", "-c", writeFile(t, "bad.properties", base+tt.extra+"\n"))
			if code := p.wait(t, 10*time.Second); code != 2 {
				t.Fatalf("exit code %d, want 2; output:\n%s", code, p.output)
			}
			for _, m := range tt.mention {
				if !strings.Contains(p.output.String(), m) {
					t.Errorf("output does not mention %q:\n%s", m, p.output)
				}
			}
		})
	}
	t.Run("yaml", func(t *testing.T) {
		p := startProcess(t, "run", "-c", writeFile(t, "bad.yaml", "clusters: [A, B]\nA->B:\n  enabled: maybe\n"))
		if code := p.wait(t, 10*time.Second); code != 2 || !strings.Contains(p.output.String(), "A->B.enabled") {
			t.Fatalf("exit code %d; output:\n%s", code, p.output)
		}
	})
	t.Run("unknown key allowed", func(t *testing.T) {
		// --allow-unknown-keys: a warning, and the worker goes on (to the
		// unreachable cluster).
		p := startProcess(t, "run", "--allow-unknown-keys", "-c", writeFile(t, "shared.properties", base+"A->B.topic = orders\n"))
		if code := p.wait(t, 30*time.Second); code != 1 {
			t.Fatalf("exit code %d, want 1; output:\n%s", code, p.output)
		}
		if !strings.Contains(p.output.String(), `unknown key \"A->B.topic\" ignored`) && !strings.Contains(p.output.String(), `unknown key "A->B.topic" ignored`) {
			t.Errorf("output does not warn about A->B.topic:\n%s", p.output)
		}
	})
	t.Run("unreachable cluster", func(t *testing.T) {
		p := startProcess(t, "run", "-c", writeFile(t, "mm2.properties", base))
		if code := p.wait(t, 30*time.Second); code != 1 {
			t.Fatalf("exit code %d, want 1; output:\n%s", code, p.output)
		}
		if out := p.output.String(); !strings.Contains(out, "cluster A") || !strings.Contains(out, "127.0.0.1:1") || !strings.Contains(out, "unreachable") {
			t.Errorf("output does not name cluster A and its address:\n%s", out)
		}
	})
	t.Run("too few brokers", func(t *testing.T) {
		a, b := newCluster(t, "A", 1), newCluster(t, "B", 1)
		p := startProcess(t, "run", "-c", writeFile(t, "mm2.properties", props([]*cluster{a, b}, "A->B.enabled = true")))
		if code := p.wait(t, 30*time.Second); code != 1 {
			t.Fatalf("exit code %d, want 1; output:\n%s", code, p.output)
		}
		for _, key := range []string{"lower replication.factor", "lower offset.storage.replication.factor", "lower offset-syncs.topic.replication.factor"} {
			if !strings.Contains(p.output.String(), key) {
				t.Errorf("output does not say %q:\n%s", key, p.output)
			}
		}
	})
	t.Run("version", func(t *testing.T) {
		p := startProcess(t, "version")
		if code := p.wait(t, 10*time.Second); code != 0 || !strings.HasPrefix(p.output.String(), "strait ") {
			t.Fatalf("exit code %d; output %q", code, p.output)
		}
	})
}

// TestRunServesRESTAndMetrics: `strait run` with listeners serves the REST
// API, /healthz, /readyz and Prometheus metrics named after MM2's, and the
// age of a consumer group's checkpoints.
func TestRunServesRESTAndMetrics(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 2, nil)
	a.produce(t, "orders", 2, 0, 100, "metrics")
	var committed kadm.Offsets
	committed.Add(kadm.Offset{Topic: "orders", Partition: 0, At: 60, LeaderEpoch: -1})
	if resp, err := a.admin(t).CommitOffsets(context.Background(), "billing", committed); err != nil || resp.Error() != nil {
		t.Fatalf("commit billing on A: %v %v", err, resp.Error())
	}
	addr := freeAddr(t)
	p := startProcess(t, "run", "-c", writeFile(t, "mm2.properties", props([]*cluster{a, b}, "A->B.enabled = true", "listeners = http://"+addr,
		"emit.checkpoints.interval.seconds = 1")))
	waitCopied(t, b, "A.orders", 200, 30*time.Second)
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, err.Error()
		}
		return resp.StatusCode, string(body)
	}
	waitFor(t, 10*time.Second, func() (bool, string) {
		code, body := get("/readyz")
		return code == 200, fmt.Sprintf("/readyz: %d %s", code, body)
	})
	if code, body := get("/healthz"); code != 200 {
		t.Errorf("/healthz: %d %s", code, body)
	}
	// record-count equals the records copied, and lag goes to 0.
	waitFor(t, 10*time.Second, func() (bool, string) {
		copied := metricSum(t, addr, "record_count_total", `topic="A.orders"`)
		lag := metricSum(t, addr, "replication_lag_records", `topic="A.orders"`)
		return copied == 200 && lag == 0, fmt.Sprintf("record-count %d (want 200), lag %d (want 0)", copied, lag)
	})
	if code, body := get("/metrics"); code != 200 || !containsAll(body, []string{"byte_count_total{", "record_rate{", "byte_rate{", "record_age_ms_max{", "replication_latency_ms_bucket{", `task_state{`}) {
		t.Errorf("/metrics lacks MM2's names: %d\n%s", code, body)
	}
	if code, body := get("/connectors/A.B.MirrorSourceConnector/status"); code != 200 || !strings.Contains(body, `"RUNNING"`) {
		t.Errorf("status: %d %s", code, body)
	}
	// The group's checkpoints, written every second, are seconds old.
	ageRE := regexp.MustCompile(`(?m)^checkpoint_age_seconds\{[^}]*flow="A->B"[^}]*group="billing"[^}]*\} ([0-9.e+-]+)$`)
	waitFor(t, 30*time.Second, func() (bool, string) {
		_, body := get("/metrics")
		m := ageRE.FindStringSubmatch(body)
		if m == nil {
			return false, "no checkpoint_age_seconds of group billing in /metrics"
		}
		age, err := strconv.ParseFloat(m[1], 64)
		return err == nil && age >= 0 && age < 10, fmt.Sprintf("checkpoint_age_seconds of billing is %s, want a few seconds", m[1])
	})
	// Checkpoint latency is per group by default (per partition with
	// metrics.partition.series).
	_, body := get("/metrics")
	latency := regexp.MustCompile(`(?m)^checkpoint_latency_ms_count\{[^}]*group="billing"[^}]*\}`).FindAllString(body, -1)
	if len(latency) != 1 || strings.Contains(latency[0], "partition=") {
		t.Errorf("checkpoint_latency_ms_count of group billing: %q, want one series without a partition label", latency)
	}
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.output)
	}
}

// TestLagCommand: `strait lag` shows how far the target is behind per
// partition, and a group's lag on the source and through its checkpoints
// on the target.
func TestLagCommand(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 1, nil)
	a.produce(t, "orders", 1, 0, 100, "lag")
	var os kadm.Offsets
	os.Add(kadm.Offset{Topic: "orders", Partition: 0, At: 60, LeaderEpoch: -1})
	resp, err := a.admin(t).CommitOffsets(context.Background(), "lagging", os)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	text := props([]*cluster{a, b}, "A->B.enabled = true", "emit.checkpoints.interval.seconds = 1")
	w := startWorker(t, text)
	waitCopied(t, b, "A.orders", 100, 30*time.Second)
	waitCheckpoints(t, b, "A", "lagging", map[checkpoint.TopicPartition]upDown{{Topic: "A.orders", Partition: 0}: {60, 60}})
	w.stop(t)
	a.produce(t, "orders", 1, 100, 40, "lag")

	p := startProcess(t, "lag", "-c", writeFile(t, "mm2.properties", text), "--group", "lagging")
	if code := p.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.output)
	}
	out := p.output.String()
	t.Logf("strait lag:\n%s", out)
	has := func(fields ...string) bool {
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) >= len(fields) && slices.Equal(f[:len(fields)], fields) {
				return true
			}
		}
		return false
	}
	if !has("A->B", "orders", "0", "140", "100", "40") {
		t.Error("no row: A->B orders 0, end 140, next 100, lag 40")
	}
	if !has("A", "lagging", "orders", "0", "60", "140", "80") {
		t.Error("no row: group lagging on A at 60 of 140")
	}
	if !has("B", "lagging", "(checkpoint", "from", "A)", "A.orders", "0", "60", "100", "40") {
		t.Error("no row: group lagging on B through its checkpoint, at 60 of 100")
	}
}
