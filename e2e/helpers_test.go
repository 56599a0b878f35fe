package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/internal/kafkatest"
	"github.com/strait-replicator/strait/replicator"
)

// cluster is a kfake cluster with the helpers the tests use.
type cluster struct {
	alias string
	*kfake.Cluster
}

func newCluster(t *testing.T, alias string, brokers int) *cluster {
	t.Helper()
	// Brokers allow short group sessions (Kafka's default minimum is 6 s),
	// so that a worker killed with -9 is noticed fast.
	c, err := kafkatest.NewCluster(alias, brokers, kfake.GroupMinSessionTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &cluster{alias, c}
}

func (c *cluster) seeds() string { return strings.Join(c.ListenAddrs(), ",") }

func (c *cluster) client(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...), kgo.MetadataMinAge(100 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func (c *cluster) admin(t *testing.T) *kadm.Client { return kadm.NewClient(c.client(t)) }

// createTopic creates topic with partitions and configs.
func (c *cluster) createTopic(t *testing.T, topic string, partitions int32, cfgs map[string]string) {
	t.Helper()
	m := map[string]*string{}
	for k, v := range cfgs {
		m[k] = &v
	}
	resp, err := c.admin(t).CreateTopic(context.Background(), partitions, 3, m, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create %s on %s: %v", topic, c.alias, err)
	}
}

// record builds the i-th test record of a stream named tag: keys (some
// null), a unique value (some null), headers and an explicit timestamp.
func record(tag string, partition int32, i int) *kgo.Record {
	r := &kgo.Record{
		Partition: partition,
		Key:       []byte(fmt.Sprintf("key-%d", i%101)),
		Value:     []byte(fmt.Sprintf("%s-%d-%d", tag, partition, i)),
		Headers:   []kgo.RecordHeader{{Key: "h1", Value: []byte(strconv.Itoa(i))}, {Key: "empty", Value: []byte{}}},
		Timestamp: time.UnixMilli(1_600_000_000_000 + int64(i)*7),
	}
	if i%13 == 0 {
		r.Key = nil
	}
	if i%17 == 0 {
		// A null value is not unique: keep the key unique instead so
		// every record's digest still differs.
		r.Value = nil
		r.Key = []byte(fmt.Sprintf("tombstone-%s-%d-%d", tag, partition, i))
	}
	return r
}

// produce writes n records to each of partitions of topic, synchronously.
func (c *cluster) produce(t *testing.T, topic string, partitions int32, from, n int, tag string) {
	t.Helper()
	cl := c.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic(topic))
	var recs []*kgo.Record
	for p := range partitions {
		for i := from; i < from+n; i++ {
			recs = append(recs, record(tag, p, i))
		}
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s on %s: %v", topic, c.alias, err)
	}
}

// produceRandom writes one record of size random bytes to partition: no
// codec shrinks it, so it stays that large on the wire.
func (c *cluster) produceRandom(t *testing.T, topic string, partition int32, size int) {
	t.Helper()
	v := make([]byte, size)
	rnd := rand.New(rand.NewPCG(1, uint64(size)))
	for i := range v {
		v[i] = byte(rnd.Uint32())
	}
	cl := c.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Partition: partition, Value: v}).FirstErr(); err != nil {
		t.Fatalf("produce to %s on %s: %v", topic, c.alias, err)
	}
}

// endOffsets sums topic's end offsets, or -1 if the topic does not exist.
func (c *cluster) endOffsets(t *testing.T, topic string) int64 {
	t.Helper()
	ends, err := c.admin(t).ListEndOffsets(context.Background(), topic)
	if err != nil || ends.Error() != nil {
		return -1
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	return total
}

func (c *cluster) topics(t *testing.T) []string {
	t.Helper()
	td, err := c.admin(t).ListTopics(context.Background())
	if err != nil {
		t.Fatalf("list topics on %s: %v", c.alias, err)
	}
	return td.Names()
}

func (c *cluster) read(t *testing.T, topic string) map[int32][]kafkatest.Digest {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := kafkatest.ReadTopic(ctx, c.ListenAddrs(), topic)
	if err != nil {
		t.Fatalf("read %s on %s: %v", topic, c.alias, err)
	}
	return d
}

// partitionEnds returns the end offset of each partition of topic on c.
func partitionEnds(t *testing.T, c *cluster, topic string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := c.admin(t).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("list end offsets of %s on %s: %v", topic, c.alias, err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

// committedRecords reads topic on c from its start to its end offsets as of
// the call, read_committed, and returns its records in order per partition
// (not control records).
func (c *cluster) committedRecords(t *testing.T, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	want := map[int32]int64{}
	for p, end := range partitionEnds(t, c, topic) {
		if end > 0 {
			want[p] = end
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords()) // markers reach the end offset
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s on %s: %d partitions not read to their end", topic, c.alias, len(want))
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("read %s/%d on %s: %v", topic, p, c.alias, err) })
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := want[r.Partition]
			if !ok {
				return
			}
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
			if r.Offset+1 >= end {
				delete(want, r.Partition)
			}
		})
	}
	return out
}

// waitFor polls cond every 50 ms until it holds or timeout passes; the
// message of the last poll says what was awaited.
func waitFor(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, msg)
		}
		time.Sleep(50 * time.Millisecond) // polling interval, not synchronisation
	}
}

// waitCopied waits until topic on dst has as many records as want.
func waitCopied(t *testing.T, dst *cluster, topic string, want int64, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, func() (bool, string) {
		got := dst.endOffsets(t, topic)
		return got == want, fmt.Sprintf("%s on %s has %d records, want %d", topic, dst.alias, got, want)
	})
}

// props builds an MM2 properties file for the clusters with fast intervals
// and extra lines (a key given twice: the last wins).
func props(clusters []*cluster, extra ...string) string {
	var b strings.Builder
	aliases := make([]string, len(clusters))
	for i, c := range clusters {
		aliases[i] = c.alias
		fmt.Fprintf(&b, "%s.bootstrap.servers = %s\n", c.alias, c.seeds())
	}
	fmt.Fprintf(&b, "clusters = %s\n", strings.Join(aliases, ", "))
	b.WriteString("refresh.topics.interval.seconds = 1\nsync.topic.configs.interval.seconds = 1\noffset.flush.interval.ms = 500\n")
	// A worker killed with -9 stays in its group until its session
	// expires: the restarted one waits for that. kfake waits for a dead
	// member that had not rejoined a rebalance until the rebalance timeout
	// (Kafka removes it at its session timeout): keep that short too.
	b.WriteString("session.timeout.ms = 2000\nheartbeat.interval.ms = 300\nrebalance.timeout.ms = 4000\n")
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	return b.String()
}

// worker is Strait running in-process.
type worker struct {
	*replicator.Worker
	cancel context.CancelFunc
	done   chan error
}

// startWorker runs a worker for the properties text until the test ends or
// stop is called.
func startWorker(t *testing.T, text string, opts ...replicator.Option) *worker {
	t.Helper()
	return startWorkerLogging(t, text, io.Discard, opts...)
}

// startWorkerLogging is startWorker with the worker's log also written to
// logs.
func startWorkerLogging(t *testing.T, text string, logs io.Writer, opts ...replicator.Option) *worker {
	t.Helper()
	cfg, _, err := configs.Parse([]byte(text), configs.Properties, nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(testWriter{t}, logs), &slog.HandlerOptions{Level: slog.LevelInfo}))
	w, _, err := replicator.New(cfg, log, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	wk := &worker{Worker: w, cancel: cancel, done: make(chan error, 1)}
	go func() { wk.done <- w.Run(ctx) }() // joined by stop
	t.Cleanup(func() { wk.stop(t) })
	return wk
}

// stop stops the worker and waits for it; it may be called more than once.
func (w *worker) stop(t *testing.T) {
	t.Helper()
	w.cancel()
	select {
	case err, ok := <-w.done:
		if ok && err != nil {
			t.Errorf("worker: %v", err)
		}
		if ok {
			close(w.done)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("worker did not stop within 15 s")
	}
}

// testWriter sends logs to t.Log while the test runs.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// straitBinary builds cmd/strait once per test run.
func straitBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "strait-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "strait")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/strait").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// writeFile writes content to a file in the test's temp dir.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// process is `strait run` as a child process.
type process struct {
	cmd    *exec.Cmd
	output *kafkatest.LogBuffer
	exited chan struct{}
	err    error
}

func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	return startProcessEnv(t, nil, args...)
}

// startProcessEnv is startProcess with env added to this process's
// environment.
func startProcessEnv(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(straitBinary(t), args...), output: &kafkatest.LogBuffer{}, exited: make(chan struct{})}
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.output, p.output
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }() // joined through exited
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
				t.Errorf("kill strait: %v", err)
			}
			<-p.exited
		}
	})
	return p
}

// signal sends sig to the process. One that has already exited is left
// to wait, which reports how it exited.
func (p *process) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("signal %v to strait: %v", sig, err)
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *process) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		t.Fatalf("strait did not exit within %s; output:\n%s", timeout, p.output)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("wait: %v", p.err)
	}
	return 0
}

// pauseConnector pauses connector through w and waits until it and its
// tasks, want of them, show PAUSED. each, when not nil, runs at every poll
// (a watch that must see every state on the way).
func pauseConnector(t *testing.T, w *worker, connector string, want int, each func()) {
	t.Helper()
	if err := w.Pause(context.Background(), connector); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() (bool, string) {
		if each != nil {
			each()
		}
		st, err := w.Connector(connector)
		if err != nil {
			return false, err.Error()
		}
		for _, ts := range st.Tasks {
			if ts.State != replicator.StatePaused {
				return false, fmt.Sprintf("task %s is %s", ts.ID, ts.State)
			}
		}
		return st.State == replicator.StatePaused && len(st.Tasks) == want, fmt.Sprintf("%s is %s with %d tasks, want PAUSED with %d", connector, st.State, len(st.Tasks), want)
	})
}

// tooLargeForB sets up a record the target refuses: orders on A, 3
// partitions of 5 small records, then a 4,000-byte record in partition 1
// (offset 5), then 5 more records in each partition; A.orders on B allows
// max.message.bytes 2048.
func tooLargeForB(t *testing.T) (a, b *cluster) {
	t.Helper()
	a, b = newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 3, nil)
	b.createTopic(t, "A.orders", 3, map[string]string{"max.message.bytes": "2048"})
	a.produce(t, "orders", 3, 0, 5, "small")
	a.produceRandom(t, "orders", 1, 4000)
	a.produce(t, "orders", 3, 5, 5, "after")
	return a, b
}
