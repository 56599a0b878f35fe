package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/internal/kafkatest"
	"github.com/strait-replicator/strait/replicator"
)

// partitionMetrics is one collection of a worker's metrics: the value of
// each metric of remote topic remote per partition (a counter summed over
// its series), and the tasks task-state shows, as "task -> state".
type partitionMetrics struct {
	values map[string]map[int32]float64
	tasks  map[string]string
}

func collectPartitions(t *testing.T, reader *sdkmetric.ManualReader, remote string) partitionMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := partitionMetrics{values: map[string]map[int32]float64{}, tasks: map[string]string{}}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			put := func(attrs attribute.Set, v float64) {
				topic, _ := attrs.Value("topic")
				p, _ := attrs.Value("partition")
				if topic.AsString() != remote {
					return
				}
				if out.values[m.Name] == nil {
					out.values[m.Name] = map[int32]float64{}
				}
				out.values[m.Name][int32(p.AsInt64())] += v
			}
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				for _, dp := range d.DataPoints {
					if m.Name == "task-state" && dp.Value == 1 {
						task, _ := dp.Attributes.Value("task")
						state, _ := dp.Attributes.Value("state")
						out.tasks[task.AsString()] = state.AsString()
					}
					put(dp.Attributes, float64(dp.Value))
				}
			case metricdata.Gauge[float64]:
				for _, dp := range d.DataPoints {
					put(dp.Attributes, dp.Value)
				}
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					put(dp.Attributes, float64(dp.Value))
				}
			}
		}
	}
	return out
}

// lagOf returns replication-lag-records of each partition of remote that
// has one.
func lagOf(t *testing.T, reader *sdkmetric.ManualReader, remote string) map[int32]int64 {
	t.Helper()
	out := map[int32]int64{}
	for p, v := range collectPartitions(t, reader, remote).values["replication-lag-records"] {
		out[p] = int64(v)
	}
	return out
}

// copiedWatch checks, at each look, that what a worker says it copied
// never went back: its progress and its record-count.
type copiedWatch struct {
	t                 *testing.T
	w                 *worker
	reader            *sdkmetric.ManualReader
	remote            string
	progress, counted int64
}

// look returns the flow's Copied and record-count now, failing the test if
// either is below what an earlier look saw.
func (c *copiedWatch) look(flow string) (progress, counted int64) {
	c.t.Helper()
	for _, p := range c.w.Progress() {
		if p.Flow == flow {
			progress = p.Copied
		}
	}
	for _, v := range collectPartitions(c.t, c.reader, c.remote).values["record-count"] {
		counted += int64(v)
	}
	if progress < c.progress || counted < c.counted {
		c.t.Fatalf("copied went back: progress %d after %d, record-count %d after %d", progress, c.progress, counted, c.counted)
	}
	c.progress, c.counted = progress, counted
	return progress, counted
}

// TestLagAndCopiedThroughPause: a paused connector's partitions show the
// records written since the pause as their lag (read from the source, not
// from tasks that no longer fetch), and what the worker copied never goes
// back: not at the pause, not when it resumes with tasks.max changed (new
// tasks), and the tasks' own counts add up to all that was copied.
func TestLagAndCopiedThroughPause(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 2, nil)
	a.produce(t, "orders", 2, 0, 100, "lagtruth")
	w, s := startWatched(t, props([]*cluster{a, b}, "A->B.enabled = true", "tasks.max = 2", "emit.heartbeats.enabled = false"))
	watch := &copiedWatch{t: t, w: w, reader: s.reader, remote: "A.orders"}
	waitCopied(t, b, "A.orders", 200, 30*time.Second)
	waitFor(t, 10*time.Second, func() (bool, string) {
		progress, counted := watch.look("A->B")
		return progress == 200 && counted == 200, fmt.Sprintf("progress says %d copied, record-count %d, want 200", progress, counted)
	})

	const connector = "A.B.MirrorSourceConnector"
	pauseConnector(t, w, connector, 2, func() { watch.look("A->B") })
	ctx := context.Background()
	a.produce(t, "orders", 2, 100, 150, "lagtruth-paused")
	waitFor(t, 30*time.Second, func() (bool, string) {
		watch.look("A->B")
		lag := lagOf(t, s.reader, "A.orders")
		var remaining int64
		for _, p := range w.Progress() {
			remaining = p.Remaining
		}
		return lag[0] == 150 && lag[1] == 150 && remaining == 300,
			fmt.Sprintf("paused: replication-lag-records of A.orders %v, progress remaining %d; want 150 per partition, 300", lag, remaining)
	})

	if _, err := w.Configure(ctx, connector, map[string]string{"tasks.max": "1"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Resume(ctx, connector); err != nil {
		t.Fatal(err)
	}
	waitCopied(t, b, "A.orders", 500, 30*time.Second)
	waitFor(t, 30*time.Second, func() (bool, string) {
		progress, counted := watch.look("A->B")
		var tasks int64
		for _, st := range w.Status() {
			tasks += st.Copied
		}
		lag := lagOf(t, s.reader, "A.orders")
		return progress == 500 && counted == 500 && tasks == 500 && lag[0] == 0 && lag[1] == 0 && len(lag) == 2,
			fmt.Sprintf("resumed with one task: progress says %d copied, record-count %d, the tasks %d, lag %v; want 500 and a lag of 0", progress, counted, tasks, lag)
	})
}

// TestLagOfStoppedPartition: a partition stopped by a record the target
// refuses is no longer fetched, yet its lag follows the source: every
// record from the refused one on.
func TestLagOfStoppedPartition(t *testing.T) {
	a, b := tooLargeForB(t)
	w, stops := startWatched(t, props([]*cluster{a, b}, "A->B.enabled = true", "sync.topic.configs.enabled = false", "tasks.max = 1"))
	stops.wait(t, w, "orders", "A.orders", map[int32]int64{1: 5}, "MESSAGE_TOO_LARGE")
	a.produce(t, "orders", 3, 10, 20, "later")
	ends := partitionEnds(t, a, "orders")
	waitFor(t, 30*time.Second, func() (bool, string) {
		lag := lagOf(t, stops.reader, "A.orders")
		return len(lag) == 3 && lag[0] == 0 && lag[2] == 0 && lag[1] == ends[1]-5,
			fmt.Sprintf("replication-lag-records of A.orders %v, want 0 on partitions 0 and 2 and %d on 1 (stopped at offset 5 of %d)", lag, ends[1]-5, ends[1])
	})
}

// produceTransactions writes n transactions of per records each to
// topic/partition on c, committed; each ends with a commit marker, which
// takes an offset.
func (c *cluster) produceTransactions(t *testing.T, topic string, partition int32, n, per int) {
	t.Helper()
	ctx := context.Background()
	cl := c.client(t, kgo.TransactionalID("lagtruth-"+topic), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic(topic))
	for i := range n {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		recs := make([]*kgo.Record, per)
		for j := range recs {
			recs[j] = record("txn", partition, i*per+j)
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("produce to %s on %s: %v", topic, c.alias, err)
		}
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatalf("commit transaction on %s: %v", c.alias, err)
		}
	}
}

// TestLagZeroAfterTransaction: once every record of committed source
// transactions is copied, the partition's lag is 0, although the commit
// markers after them take offsets up to the end offset.
func TestLagZeroAfterTransaction(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "txn", 1, nil)
	a.produceTransactions(t, "txn", 0, 2, 10)
	if end := partitionEnds(t, a, "txn")[0]; end != 22 {
		t.Fatalf("txn/0 ends at %d, want 22: 20 records and 2 commit markers", end)
	}
	text := props([]*cluster{a, b}, "A->B.enabled = true")
	w, s := startWatched(t, text)
	waitCopied(t, b, "A.txn", 20, 30*time.Second)
	waitFor(t, 30*time.Second, func() (bool, string) {
		lag := lagOf(t, s.reader, "A.txn")
		var p replicator.FlowProgress
		for _, fp := range w.Progress() {
			p = fp
		}
		lagged, ok := lag[0]
		return ok && lagged == 0 && p.LagKnown && p.Remaining == 0,
			fmt.Sprintf("replication-lag-records of A.txn %v, progress %+v; want a lag of 0 for partition 0", lag, p)
	})

	// `strait lag`, from the stored positions, agrees.
	w.stop(t)
	cfg, _, err := configs.Parse([]byte(text), configs.Properties, nil)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := cfg.Cluster("A")
	tgt, _ := cfg.Cluster("B")
	lags, err := replicator.Lag(context.Background(), cfg.Flows[0], src, tgt)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range lags {
		if l.Topic == "txn" {
			found = true
			if l.End != 22 || l.Next != 21 || l.Records != 0 {
				t.Errorf("strait lag shows txn/%d at %d of %d with %d records to go, want 21 of 22 and none", l.Partition, l.Next, l.End, l.Records)
			}
		}
	}
	if !found {
		t.Errorf("strait lag shows no txn partition: %+v", lags)
	}
}

// TestCountsWithoutPositionFlush: with positions written once a minute,
// record-count and the progress still show the records copied at once
// (within the flow's count flush, not the position flush), the latency
// gauges of a partition gone idle end in no data rather than their last
// value, and task-state covers the checkpoint and heartbeat tasks.
func TestCountsWithoutPositionFlush(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 1, nil)
	w, s := startWatched(t, props([]*cluster{a, b}, "A->B.enabled = true", "offset.flush.interval.ms = 60000"))
	waitFor(t, 30*time.Second, func() (bool, string) {
		st := w.Status()
		return len(st) > 0 && st[0].State == replicator.StateRunning, fmt.Sprintf("tasks %+v, want a source task RUNNING", st)
	})
	a.produce(t, "orders", 1, 0, 100, "counts") // fewer than a batch of acknowledgements
	waitCopied(t, b, "A.orders", 100, 30*time.Second)
	copiedAt := time.Now()
	waitFor(t, 10*time.Second, func() (bool, string) {
		counted := collectPartitions(t, s.reader, "A.orders").values["record-count"][0]
		var copied int64
		for _, p := range w.Progress() {
			copied = p.Copied
		}
		// The flow copies heartbeats too.
		return counted == 100 && copied >= 100, fmt.Sprintf("record-count %v, progress %d copied; want 100 of orders (positions are written every 60 s)", counted, copied)
	})
	t.Logf("counted %s after the target had every record", time.Since(copiedAt).Round(10*time.Millisecond))

	// The copies' latency shows, then goes once the partition stays idle
	// (the gauges cover the last 10 to 20 s), rather than staying at its
	// last value.
	gauges := []string{"replication-latency-ms-max", "replication-latency-ms-min", "replication-latency-ms-avg", "record-age-ms-max"}
	now := collectPartitions(t, s.reader, "A.orders")
	for _, name := range gauges {
		if _, ok := now.values[name][0]; !ok {
			t.Errorf("no %s for A.orders/0 just after copying", name)
		}
	}
	waitFor(t, 60*time.Second, func() (bool, string) {
		idle := collectPartitions(t, s.reader, "A.orders")
		for _, name := range gauges {
			if v, ok := idle.values[name]; ok {
				return false, fmt.Sprintf("%s of an idle partition: %v, want no data", name, v)
			}
		}
		return true, ""
	})
	waitFor(t, 30*time.Second, func() (bool, string) {
		tasks := collectPartitions(t, s.reader, "A.orders").tasks
		want := map[string]string{"A->B source 0": "RUNNING", "A->B checkpoint 0": "RUNNING", "A->B heartbeat 0": "RUNNING"}
		for task, state := range want {
			if tasks[task] != state {
				return false, fmt.Sprintf("task-state %v, want at least %v", tasks, want)
			}
		}
		return true, ""
	})
}

// TestProgressSilentWhenCaughtUp: `strait run` logs progress while a flow
// has a backlog (held a few seconds by a rate limit) and no progress line
// once it is caught up, also when transaction markers end the source's
// partitions (they take offsets, but are nothing to copy).
func TestProgressSilentWhenCaughtUp(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "txn", 1, nil)
	a.produceTransactions(t, "txn", 0, 3, 50)
	const every = 100 * time.Millisecond
	p := startProcess(t, "run", "-c", writeFile(t, "mm2.properties", props([]*cluster{a, b}, "A->B.enabled = true",
		"replication.bytes.per.second = 1000")), "--progress-interval", every.String())
	waitCopied(t, b, "A.txn", 150, 60*time.Second)
	if out := p.output.String(); !regexp.MustCompile(`msg=progress flow=A->B copied=\d+ remaining=[1-9]`).MatchString(out) {
		t.Fatalf("no progress line with records remaining was logged while the backlog was copied:\n%s", out)
	}
	// Quiet for 30 progress intervals: absence can only be observed over
	// a window, so the condition is "no new line for quiet".
	const quiet = 30 * every
	lines, since := -1, time.Now()
	waitFor(t, 30*time.Second, func() (bool, string) {
		out := p.output.String()
		n := strings.Count(out, "msg=progress")
		if n != lines {
			lines, since = n, time.Now()
		}
		last := ""
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "msg=progress") {
				last = l
			}
		}
		return time.Since(since) >= quiet, fmt.Sprintf("%d progress lines, the last %s ago: %s", n, time.Since(since).Round(time.Millisecond), last)
	})
}

// TestLagReportedOnceAcrossWorkers: with two workers sharing a flow's
// tasks, each partition's lag is reported by one worker only (alerts sum
// it over workers), paused connector included.
func TestLagReportedOnceAcrossWorkers(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 4, nil)
	a.produce(t, "orders", 4, 0, 50, "workers")
	text := props([]*cluster{a, b}, "A->B.enabled = true", "tasks.max = 4", "emit.heartbeats.enabled = false", "emit.checkpoints.enabled = false",
		"metrics.partition.series = true")
	var workers []*worker
	var readers []*sdkmetric.ManualReader
	for _, id := range []string{"worker-1:8083", "worker-2:8083"} {
		reader := sdkmetric.NewManualReader()
		workers = append(workers, startWorkerLogging(t, text, &kafkatest.LogBuffer{},
			replicator.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))), replicator.WithWorkerID(id)))
		readers = append(readers, reader)
	}
	waitCopied(t, b, "A.orders", 200, 30*time.Second)
	// reported returns, per partition, the workers reporting its lag and
	// the lag they report.
	reported := func() (map[int32][]int, map[int32]int64) {
		by, lags := map[int32][]int{}, map[int32]int64{}
		for i, r := range readers {
			for p, lag := range lagOf(t, r, "A.orders") {
				by[p] = append(by[p], i)
				lags[p] += lag
			}
		}
		return by, lags
	}
	running := func() (bool, string) {
		here := map[int]int{}
		for i, w := range workers {
			for _, st := range w.Status() {
				if !st.Elsewhere && st.State == replicator.StateRunning {
					here[i]++
				}
			}
		}
		return here[0]+here[1] == 4 && here[0] > 0 && here[1] > 0, fmt.Sprintf("source tasks running per worker: %v, want 4 shared by both", here)
	}
	waitFor(t, 60*time.Second, running)
	waitFor(t, 30*time.Second, func() (bool, string) {
		by, lags := reported()
		for p := range int32(4) {
			if len(by[p]) != 1 || lags[p] != 0 {
				return false, fmt.Sprintf("lag of A.orders reported by workers %v: %v; want each partition once, 0", by, lags)
			}
		}
		return true, ""
	})

	const connector = "A.B.MirrorSourceConnector"
	pauseConnector(t, workers[0], connector, 4, nil)
	a.produce(t, "orders", 4, 50, 10, "workers-paused")
	waitFor(t, 30*time.Second, func() (bool, string) {
		by, lags := reported()
		for p := range int32(4) {
			if len(by[p]) != 1 || lags[p] != 10 {
				return false, fmt.Sprintf("paused: lag of A.orders reported by workers %v: %v; want each partition once, 10", by, lags)
			}
		}
		return true, ""
	})
}
