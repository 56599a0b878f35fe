package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/strait-replicator/strait/internal/kafkatest"
	"github.com/strait-replicator/strait/replicator"
)

// TestOneWayCopy: orders (8 partitions, 20,000 records with keys, headers,
// explicit timestamps, null values and null keys) appears on B as A.orders
// with per-partition identical sequences, checked by digests and by kcat.
func TestOneWayCopy(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 8, nil)
	a.produce(t, "orders", 8, 0, 2500, "one-way")

	reader := sdkmetric.NewManualReader()
	start := time.Now()
	startWorker(t, props([]*cluster{a, b}, "A->B.enabled = true", "A->B.topics = orders", "tasks.max = 4"),
		replicator.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	waitCopied(t, b, "A.orders", 20000, 60*time.Second)
	elapsed := time.Since(start)
	t.Logf("one-way copy: 20000 records in %s, %.0f records/s including start-up and topic creation (a measurement, not an assertion)",
		elapsed.Round(time.Millisecond), 20000/elapsed.Seconds())

	// record-count is recorded at acknowledgement, per remote topic (by
	// default: its partitions share one series).
	waitFor(t, 10*time.Second, func() (bool, string) {
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		var total int64
		series := 0
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == "record-count" {
					for _, dp := range sum.DataPoints {
						if topic, _ := dp.Attributes.Value("topic"); topic.AsString() == "A.orders" {
							total += dp.Value
							series++
						}
					}
				}
			}
		}
		return total == 20000 && series == 1, fmt.Sprintf("record-count = %d over %d series, want 20000 over 1", total, series)
	})

	src, dst := a.read(t, "orders"), b.read(t, "A.orders")
	if c := kafkatest.Compare(src, dst); !c.Equal() || c.Matched != 20000 {
		t.Fatalf("A.orders differs from orders: %+v", c)
	}
	if len(dst) != 8 {
		t.Errorf("A.orders has %d partitions, want 8", len(dst))
	}

	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not installed (apt-get install kcat): the independent-client check is skipped")
	}
	want := kcatView(t, a, kcat, "orders")
	got := kcatView(t, b, kcat, "A.orders")
	if len(got) != 20000 || !slices.Equal(got, want) {
		t.Fatalf("kcat sees %d records on A.orders that differ from the %d of orders", len(got), len(want))
	}
}

// kcatView reads topic with kcat and returns one line per record, sorted by
// partition then offset: partition, key length and bytes, value length and
// bytes, timestamp, headers.
func kcatView(t *testing.T, c *cluster, kcat, topic string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, kcat, "-b", c.seeds(), "-C", "-t", topic, "-o", "beginning", "-e", "-q",
		"-f", "%p|%o|%K|%k|%S|%s|%T|%h\n").Output()
	if err != nil {
		t.Fatalf("kcat on %s: %v", c.alias, err)
	}
	type line struct {
		p, o int
		rest string
	}
	var lines []line
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), "|", 3)
		if len(f) < 3 {
			t.Fatalf("kcat line %q", sc.Text())
		}
		p, perr := strconv.Atoi(f[0])
		o, oerr := strconv.Atoi(f[1])
		if perr != nil || oerr != nil {
			t.Fatalf("kcat line %q: partition or offset is not a number", sc.Text())
		}
		lines = append(lines, line{p, o, f[2]})
	}
	slices.SortFunc(lines, func(x, y line) int {
		if x.p != y.p {
			return x.p - y.p
		}
		return x.o - y.o
	})
	view := make([]string, len(lines))
	for i, l := range lines {
		// Offsets are the same here too (no gaps on the source), but the
		// comparison is of what a consumer sees: partition and content.
		view[i] = strconv.Itoa(l.p) + "|" + l.rest
	}
	return view
}

// TestActiveActiveNoLoop: A<->B with orders on both: B ends with orders and
// A.orders, A with orders and B.orders, counts exact, and no A.B.* or B.A.*
// topic ever appears.
func TestActiveActiveNoLoop(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	for _, c := range []*cluster{a, b} {
		c.createTopic(t, "orders", 4, nil)
		c.produce(t, "orders", 4, 0, 1000, "aa-"+c.alias)
	}
	startWorker(t, props([]*cluster{a, b}, "A->B.enabled = true", "B->A.enabled = true", "tasks.max = 2"))

	loopCheck := func() {
		for _, c := range []*cluster{a, b} {
			for _, topic := range c.topics(t) {
				if strings.HasPrefix(topic, "A.B.") || strings.HasPrefix(topic, "B.A.") || strings.HasPrefix(topic, "A.A.") || strings.HasPrefix(topic, "B.B.") {
					t.Fatalf("replication loop: %s exists on %s", topic, c.alias)
				}
			}
		}
	}
	waitFor(t, 60*time.Second, func() (bool, string) {
		loopCheck()
		ab, ba := b.endOffsets(t, "A.orders"), a.endOffsets(t, "B.orders")
		return ab == 4000 && ba == 4000, fmt.Sprintf("A.orders on B: %d, B.orders on A: %d, want 4000 each", ab, ba)
	})
	// More traffic after the remote topics exist, then wait for refreshes
	// that would have created a loop.
	a.produce(t, "orders", 4, 1000, 500, "aa-A")
	b.produce(t, "orders", 4, 1000, 500, "aa-B")
	waitFor(t, 60*time.Second, func() (bool, string) {
		loopCheck()
		ab, ba := b.endOffsets(t, "A.orders"), a.endOffsets(t, "B.orders")
		return ab == 6000 && ba == 6000, fmt.Sprintf("A.orders on B: %d, B.orders on A: %d, want 6000 each", ab, ba)
	})
	for _, c := range []*cluster{a, b} {
		var user []string
		for _, topic := range c.topics(t) {
			if !strings.HasPrefix(topic, "mm2-") && !strings.HasSuffix(topic, ".internal") && !strings.HasSuffix(topic, "heartbeats") {
				user = append(user, topic)
			}
		}
		slices.Sort(user)
		other := map[string]string{"A": "B", "B": "A"}[c.alias]
		if want := []string{other + ".orders", "orders"}; !slices.Equal(user, want) {
			t.Errorf("topics on %s: %v, want %v", c.alias, user, want)
		}
		if got := c.endOffsets(t, "orders"); got != 6000 {
			t.Errorf("orders on %s has %d records, want 6000 (replicated records must not land in the local topic)", c.alias, got)
		}
	}
	if c := kafkatest.Compare(a.read(t, "orders"), b.read(t, "A.orders")); !c.Equal() {
		t.Errorf("A.orders: %+v", c)
	}
	if c := kafkatest.Compare(b.read(t, "orders"), a.read(t, "B.orders")); !c.Equal() {
		t.Errorf("B.orders: %+v", c)
	}
}

// TestAggregation: regions us and eu replicate into central, which holds
// us.orders and eu.orders with every record.
func TestAggregation(t *testing.T) {
	us, eu, central := newCluster(t, "us", 3), newCluster(t, "eu", 3), newCluster(t, "central", 3)
	for _, c := range []*cluster{us, eu} {
		c.createTopic(t, "orders", 3, nil)
		c.produce(t, "orders", 3, 0, 700, "agg-"+c.alias)
	}
	startWorker(t, props([]*cluster{us, eu, central}, "us->central.enabled = true", "eu->central.enabled = true"))
	waitCopied(t, central, "us.orders", 2100, 60*time.Second)
	waitCopied(t, central, "eu.orders", 2100, 60*time.Second)
	for _, src := range []*cluster{us, eu} {
		if c := kafkatest.Compare(src.read(t, "orders"), central.read(t, src.alias+".orders")); !c.Equal() {
			t.Errorf("%s.orders on central: %+v", src.alias, c)
		}
	}
}

// topicConfig reads one config of topic; a topic that cannot be described
// fails the test.
func topicConfig(t *testing.T, c *cluster, topic, key string) (value string, override bool) {
	t.Helper()
	rcs, err := c.admin(t).DescribeTopicConfigs(context.Background(), topic)
	if err != nil {
		t.Fatalf("describe configs of %s on %s: %v", topic, c.alias, err)
	}
	rc, err := rcs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		t.Fatalf("describe configs of %s on %s: %v", topic, c.alias, err)
	}
	for _, cfg := range rc.Configs {
		if cfg.Key == key {
			return cfg.MaybeValue(), cfg.Source == 1 // DYNAMIC_TOPIC_CONFIG
		}
	}
	return "", false
}

// TestPartitionAndConfigFollow: a partition increase on the source (8->12)
// and a retention.ms change are followed; the excluded min.insync.replicas
// is never copied.
func TestPartitionAndConfigFollow(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 8, map[string]string{"retention.ms": "3600000", "min.insync.replicas": "2"})
	a.produce(t, "orders", 8, 0, 10, "follow")
	startWorker(t, props([]*cluster{a, b}, "A->B.enabled = true"))
	waitCopied(t, b, "A.orders", 80, 30*time.Second)
	if v, over := topicConfig(t, b, "A.orders", "retention.ms"); v != "3600000" || !over {
		t.Errorf("retention.ms on A.orders = %q (override %v), want 3600000 copied at creation", v, over)
	}
	if v, over := topicConfig(t, b, "A.orders", "min.insync.replicas"); over {
		t.Errorf("excluded min.insync.replicas was copied: %q", v)
	}

	adm := a.admin(t)
	parts, err := adm.UpdatePartitions(context.Background(), 12, "orders")
	if err == nil {
		err = parts.Error()
	}
	if err != nil {
		t.Fatalf("grow orders to 12 partitions: %v", err)
	}
	retention := "7200000"
	altered, err := adm.AlterTopicConfigs(context.Background(), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: &retention}}, "orders")
	if err == nil {
		var r kadm.AlterConfigsResponse
		if r, err = altered.On("orders", nil); err == nil {
			err = r.Err
		}
	}
	if err != nil {
		t.Fatalf("set retention.ms of orders: %v", err)
	}
	a.produce(t, "orders", 12, 10, 10, "follow") // partitions 8-11 get records 10..19 only
	waitFor(t, 30*time.Second, func() (bool, string) {
		v, _ := topicConfig(t, b, "A.orders", "retention.ms")
		return v == retention, fmt.Sprintf("retention.ms on A.orders is %q, want %s", v, retention)
	})
	waitCopied(t, b, "A.orders", 8*20+4*10, 30*time.Second)
	dst := b.read(t, "A.orders")
	if len(dst) != 12 {
		t.Fatalf("A.orders has %d partitions, want 12", len(dst))
	}
	if c := kafkatest.Compare(a.read(t, "orders"), dst); !c.Equal() {
		t.Errorf("A.orders: %+v", c)
	}
	if _, over := topicConfig(t, b, "A.orders", "min.insync.replicas"); over {
		t.Error("excluded min.insync.replicas copied by config sync")
	}
}

// TestIdentityPolicyMigration: with IdentityReplicationPolicy a one-way
// flow copies orders to orders.
func TestIdentityPolicyMigration(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 4, nil)
	a.produce(t, "orders", 4, 0, 300, "identity")
	startWorker(t, props([]*cluster{a, b}, "A->B.enabled = true",
		"replication.policy.class = org.apache.kafka.connect.mirror.IdentityReplicationPolicy"))
	waitCopied(t, b, "orders", 1200, 30*time.Second)
	if c := kafkatest.Compare(a.read(t, "orders"), b.read(t, "orders")); !c.Equal() {
		t.Errorf("orders on B: %+v", c)
	}
	if slices.Contains(b.topics(t), "A.orders") {
		t.Error("identity policy created A.orders")
	}
}

// TestSourceTruncationFails: records deleted on the source (DeleteRecords)
// before Strait copied them fail the partition with the gap named; with
// data.loss.policy=skip the task goes on and counts the loss.
func TestSourceTruncationFails(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 1, nil)
	a.produce(t, "orders", 1, 0, 100, "trunc")
	cfg := props([]*cluster{a, b}, "A->B.enabled = true")
	w := startWorker(t, cfg)
	waitCopied(t, b, "A.orders", 100, 30*time.Second)
	w.stop(t)

	a.produce(t, "orders", 1, 100, 100, "trunc")
	if err := a.DeleteRecords("orders", 0, 150); err != nil {
		t.Fatal(err)
	}
	w = startWorker(t, cfg)
	waitFor(t, 30*time.Second, func() (bool, string) {
		for _, s := range w.Status() {
			if s.State == "FAILED" {
				if msg := s.Err.Error(); !strings.Contains(msg, "orders/0") || !strings.Contains(msg, "offsets 100 to 149 (50 records)") {
					t.Fatalf("data-loss error does not name the gap: %s", msg)
				}
				return true, ""
			}
		}
		return false, fmt.Sprintf("no task failed: %+v", w.Status())
	})
	if got := b.endOffsets(t, "A.orders"); got != 100 {
		t.Errorf("A.orders has %d records after the failure, want 100", got)
	}
	w.stop(t)

	w = startWorker(t, cfg+"data.loss.policy = skip\n")
	waitCopied(t, b, "A.orders", 150, 30*time.Second)
	waitFor(t, 10*time.Second, func() (bool, string) {
		var lost int64
		for _, s := range w.Status() {
			lost += s.Lost
		}
		return lost == 50, fmt.Sprintf("lost = %d, want 50", lost)
	})
}
