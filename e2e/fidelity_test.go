package e2e

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/strait-replicator/strait/internal/kafkatest"
	"github.com/strait-replicator/strait/replicator"
)

// rawRecord is a record as a test writes it on the wire: any int64
// timestamp, which no franz-go producer writes (it converts through
// nanoseconds).
type rawRecord struct {
	value []byte
	ts    int64 // ms
}

// produceRaw writes each of recs as a v2 batch of its own to
// topic/partition on c, through the partition's leader.
func (c *cluster) produceRaw(t *testing.T, topic string, partition int32, recs ...rawRecord) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := c.client(t)
	td, err := kadm.NewClient(cl).ListTopics(ctx, topic)
	if err != nil || td[topic].Err != nil {
		t.Fatalf("describe %s on %s: %v %v", topic, c.alias, err, td[topic].Err)
	}
	leader := td[topic].Partitions[partition].Leader
	for _, r := range recs {
		body := kbin.AppendInt8(nil, 0)
		body = kbin.AppendVarlong(body, 0)
		body = kbin.AppendVarint(body, 0)
		body = kbin.AppendVarintBytes(body, []byte("k"))
		body = kbin.AppendVarintBytes(body, r.value)
		body = kbin.AppendVarint(body, 1)
		body = kbin.AppendVarintString(body, "h")
		body = kbin.AppendVarintBytes(body, []byte{})
		b := kmsg.RecordBatch{PartitionLeaderEpoch: -1, Magic: 2, FirstTimestamp: r.ts, MaxTimestamp: r.ts, ProducerID: -1, ProducerEpoch: -1,
			FirstSequence: -1, NumRecords: 1, Records: append(kbin.AppendVarint(nil, int32(len(body))), body...)}
		batch := b.AppendTo(nil)
		binary.BigEndian.PutUint32(batch[8:], uint32(len(batch)-12))
		binary.BigEndian.PutUint32(batch[17:], crc32.Checksum(batch[21:], crc32.MakeTable(crc32.Castagnoli)))
		req := kmsg.NewPtrProduceRequest()
		req.Acks, req.TimeoutMillis = -1, 10_000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic, rt.TopicID = topic, td[topic].ID
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Partition, rp.Records = partition, batch
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl.Broker(int(leader)))
		if err == nil {
			err = kerr.ErrorForCode(resp.Topics[0].Partitions[0].ErrorCode)
		}
		if err != nil {
			t.Fatalf("produce to %s/%d on %s: %v", topic, partition, c.alias, err)
		}
	}
}

// stopped watches a worker for partitions that stop while their task
// runs on: through its partition-state metric and its log.
type stopped struct {
	reader *sdkmetric.ManualReader
	logs   *kafkatest.LogBuffer
}

// startWatched starts a worker for text whose stopped partitions can be
// watched: with metrics.partition.series, its metrics are per partition.
func startWatched(t *testing.T, text string) (*worker, stopped) {
	t.Helper()
	s := stopped{reader: sdkmetric.NewManualReader(), logs: &kafkatest.LogBuffer{}}
	w := startWorkerLogging(t, text+"metrics.partition.series = true\n", s.logs, replicator.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(s.reader))))
	return w, s
}

// states returns the partition-state of each partition of remote, by
// partition.
func (s stopped) states(t *testing.T, remote string) map[int32]string {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := s.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[int32]string{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			g, ok := m.Data.(metricdata.Gauge[int64])
			if !ok || m.Name != "partition-state" {
				continue
			}
			for _, dp := range g.DataPoints {
				topic, _ := dp.Attributes.Value("topic")
				p, _ := dp.Attributes.Value("partition")
				st, _ := dp.Attributes.Value("state")
				if topic.AsString() == remote && dp.Value == 1 {
					out[int32(p.AsInt64())] = st.AsString()
				}
			}
		}
	}
	return out
}

// wait waits until exactly the partitions of want (source partition ->
// first offset not copied) of topic (remote on the target) stopped, with
// the worker's source tasks RUNNING: partition-state is FAILED for them
// and RUNNING for the others, and the log names each with its offset, in
// an error that says "topic/partition offset N" and every string of also.
func (s stopped) wait(t *testing.T, w *worker, topic, remote string, want map[int32]int64, also ...string) {
	t.Helper()
	waitFor(t, 60*time.Second, func() (bool, string) {
		for _, st := range w.Status() {
			if strings.Contains(st.ID, "source") && st.State != replicator.StateRunning {
				return false, fmt.Sprintf("task %s is %s (%v), want RUNNING", st.ID, st.State, st.Err)
			}
		}
		states := s.states(t, remote)
		failed := 0
		for p, st := range states {
			_, ok := want[p]
			if ok != (st == replicator.StateFailed) {
				return false, fmt.Sprintf("partition-state of %s: %v, want FAILED for %v only", remote, states, want)
			}
			if ok {
				failed++
			}
		}
		if failed != len(want) {
			return false, fmt.Sprintf("partition-state of %s: %v, want FAILED for %v", remote, states, want)
		}
		logs := s.logs.String()
		for p, off := range want {
			line := ""
			for _, l := range strings.Split(logs, "\n") {
				if strings.Contains(l, `msg="partition stopped`) && strings.Contains(l, fmt.Sprintf("topic=%s partition=%d offset=%d ", topic, p, off)) {
					line = l
				}
			}
			if line == "" {
				return false, fmt.Sprintf("no log of %s/%d stopped at offset %d", topic, p, off)
			}
			for _, say := range append([]string{fmt.Sprintf("%s/%d offset %d", topic, p, off)}, also...) {
				if !strings.Contains(line, say) {
					t.Fatalf("the error of %s/%d does not say %q: %s", topic, p, say, line)
				}
			}
		}
		return true, ""
	})
}

// partitionCounts returns the number of records in each partition of
// topic on c.
func partitionCounts(t *testing.T, c *cluster, topic string) map[int32]int {
	t.Helper()
	out := map[int32]int{}
	for p, ds := range c.read(t, topic) {
		out[p] = len(ds)
	}
	return out
}

// TestTimestampsOutOfRangeCopiedExactly: records stamped in the year 3000,
// the year 1000, Long.MAX, Long.MIN and -1, which franz-go's consumer
// reads changed (Long.MAX as -1, Long.MIN as 0) and its producer would
// write changed, are copied with their stored timestamps exactly (read
// raw on the target), in order with the records around them, and kcat
// (librdkafka) reads the same timestamps on both clusters; no partition
// stops and the task stays RUNNING.
func TestTimestampsOutOfRangeCopiedExactly(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "ts", 3, nil)
	a.produce(t, "ts", 3, 0, 20, "before")
	year3000 := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	year1000 := time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	a.produceRaw(t, "ts", 1, rawRecord{[]byte("year 3000"), year3000}, rawRecord{[]byte("year 1000"), year1000}, rawRecord{[]byte("after"), 1})
	a.produceRaw(t, "ts", 2, rawRecord{[]byte("no timestamp"), -1}, rawRecord{[]byte("Long.MAX"), math.MaxInt64},
		rawRecord{[]byte("Long.MIN"), math.MinInt64}, rawRecord{[]byte("after"), 2})

	w, stops := startWatched(t, props([]*cluster{a, b}, "A->B.enabled = true", "tasks.max = 1"))
	waitCopied(t, b, "A.ts", 67, 60*time.Second)
	if c := kafkatest.Compare(a.read(t, "ts"), b.read(t, "A.ts")); !c.Equal() {
		t.Errorf("A.ts is not a copy of ts as franz-go reads them: %+v", c)
	}
	for p, tail := range map[int32][]int64{1: {year3000, year1000, 1}, 2: {-1, math.MaxInt64, math.MinInt64, 2}} {
		src, dst := a.storedTimestamps(t, "ts", p), b.storedTimestamps(t, "A.ts", p)
		if !slices.Equal(dst, src) || len(src) != 20+len(tail) || !slices.Equal(src[20:], tail) {
			t.Errorf("A.ts/%d stored timestamps %v, want those of ts/%d, %v, ending %v", p, dst, p, src, tail)
		}
	}
	for _, st := range w.Status() {
		if strings.Contains(st.ID, "source") && st.State != replicator.StateRunning {
			t.Errorf("task %s is %s (%v), want RUNNING", st.ID, st.State, st.Err)
		}
	}
	if st := stops.states(t, "A.ts"); st[0] != replicator.StateRunning || st[1] != replicator.StateRunning || st[2] != replicator.StateRunning {
		t.Errorf("partition-state of A.ts: %v, want all RUNNING", st)
	}

	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not installed (apt-get install kcat): the independent client's check of the timestamps is skipped")
	}
	src, dst := kcatTimestamps(t, a, kcat, "ts"), kcatTimestamps(t, b, kcat, "A.ts")
	for p, tail := range map[int32][]int64{1: {year3000, year1000, 1}, 2: {-1, math.MaxInt64, math.MinInt64, 2}} {
		if !slices.Equal(dst[p], src[p]) || len(src[p]) != 20+len(tail) || !slices.Equal(src[p][20:], tail) {
			t.Errorf("kcat reads the timestamps of A.ts/%d as %v, of ts/%d as %v; want them equal, ending %v", p, dst[p], p, src[p], tail)
		}
	}
}

// TestTimestampsOutOfRangeStopOnlyTheirPartition: in exactly-once mode, a
// record stamped in the year 3000 and one stamped Long.MAX (which
// franz-go's consumer reads as -1 and its producer would write back
// changed, and which Strait writes itself only in at-least-once mode)
// stop only their own partitions, at their offsets, with an error naming
// them and exactly-once mode: the records before them are copied exactly,
// none after them, the task stays RUNNING, its other partition keeps
// copying, and partition-state shows which stopped.
func TestTimestampsOutOfRangeStopOnlyTheirPartition(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "ts", 3, nil)
	a.produce(t, "ts", 3, 0, 20, "before")
	year3000 := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	a.produceRaw(t, "ts", 1, rawRecord{[]byte("year 3000"), year3000}, rawRecord{[]byte("after"), 1})
	a.produceRaw(t, "ts", 2, rawRecord{[]byte("no timestamp"), -1}, rawRecord{[]byte("Long.MAX"), math.MaxInt64}, rawRecord{[]byte("after"), 2})

	w, stops := startWatched(t, props([]*cluster{a, b}, "A->B.enabled = true", "tasks.max = 1", "B.exactly.once.source.support = enabled"))
	stops.wait(t, w, "ts", "A.ts", map[int32]int64{1: 20, 2: 21}, "timestamp cannot be copied exactly", "stored as", "exactly-once mode")

	// The other partition goes on; the stopped ones stay where they
	// stopped, with the records before the refused ones copied exactly.
	a.produce(t, "ts", 1, 20, 30, "later") // partition 0 only
	waitFor(t, 30*time.Second, func() (bool, string) {
		n := partitionCounts(t, b, "A.ts")
		return n[0] == 50, fmt.Sprintf("A.ts has %v records per partition, want 50 on partition 0", n)
	})
	src, dst := a.read(t, "ts"), b.read(t, "A.ts")
	for p, n := range map[int32]int{0: 50, 1: 20, 2: 21} {
		if !slices.Equal(dst[p], src[p][:n]) {
			t.Errorf("A.ts/%d: %d records, want exact copies of the first %d of ts/%d", p, len(dst[p]), n, p)
		}
	}

	if st := stops.states(t, "A.ts"); st[0] != replicator.StateRunning || st[1] != replicator.StateFailed || st[2] != replicator.StateFailed {
		t.Errorf("partition-state of A.ts after more records: %v, want 0 RUNNING, 1 and 2 FAILED", st)
	}
}

// storedTimestamps reads topic/partition of c raw, from its start to its
// end, and returns the timestamp of each record as stored (not as
// franz-go's consumer converts it), in offset order, transaction markers
// left out.
func (c *cluster) storedTimestamps(t *testing.T, topic string, partition int32) []int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ts, err := kafkatest.StoredTimestamps(ctx, c.client(t), topic, partition)
	if err != nil {
		t.Fatalf("read %s/%d on %s raw: %v", topic, partition, c.alias, err)
	}
	return ts
}

// kcatTimestamps reads topic with kcat (librdkafka, an independent client)
// and returns the timestamp it reads of each record (%T), by partition in
// offset order.
func kcatTimestamps(t *testing.T, c *cluster, kcat, topic string) map[int32][]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, kcat, "-b", c.seeds(), "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%p %o %T\n").Output()
	if err != nil {
		t.Fatalf("kcat on %s: %v", c.alias, err)
	}
	type rec struct{ o, ts int64 }
	byPart := map[int32][]rec{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var p int32
		var r rec
		if _, err := fmt.Sscanf(l, "%d %d %d", &p, &r.o, &r.ts); err != nil {
			t.Fatalf("kcat line %q: %v", l, err)
		}
		byPart[p] = append(byPart[p], r)
	}
	ts := map[int32][]int64{}
	for p, rs := range byPart {
		slices.SortFunc(rs, func(x, y rec) int { return cmp.Compare(x.o, y.o) })
		for _, r := range rs {
			ts[p] = append(ts[p], r.ts)
		}
	}
	return ts
}

// randomBytes returns n bytes no codec shrinks.
func randomBytes(n int, seed uint64) []byte {
	v := make([]byte, n)
	rnd := rand.New(rand.NewPCG(seed, uint64(n)))
	for i := range v {
		v[i] = byte(rnd.Uint32())
	}
	return v
}

// TestLargeRecordCopiedWhole: records of 1 MiB and 2.5 MiB into topics
// whose max.message.bytes allows 3 MiB are copied byte for byte, with the
// small records around them; the producer's limits follow the topic's, not
// franz-go's default request size.
func TestLargeRecordCopiedWhole(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	limit := map[string]string{"max.message.bytes": "3145728"}
	a.createTopic(t, "big", 2, limit)
	b.createTopic(t, "A.big", 2, limit)
	a.produce(t, "big", 2, 0, 10, "small")
	cl := a.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchMaxBytes(4<<20), kgo.ProducerBatchCompression(kgo.NoCompression()))
	big := []*kgo.Record{
		{Topic: "big", Partition: 0, Key: []byte("1 MiB"), Value: randomBytes(1<<20, 1), Timestamp: time.UnixMilli(1_700_000_000_000)},
		{Topic: "big", Partition: 1, Key: []byte("2.5 MiB"), Value: randomBytes(5<<19, 2), Headers: []kgo.RecordHeader{{Key: "h", Value: []byte{}}}},
	}
	if err := cl.ProduceSync(context.Background(), big...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	a.produce(t, "big", 2, 10, 10, "small")
	startWorker(t, props([]*cluster{a, b}, "A->B.enabled = true"))
	waitCopied(t, b, "A.big", 42, 60*time.Second)
	if c := kafkatest.Compare(a.read(t, "big"), b.read(t, "A.big")); !c.Equal() {
		t.Errorf("A.big is not a copy of big: %+v", c)
	}
}

// TestRecordTooLargeStopsOnlyItsPartition: a record larger than the
// target topic's max.message.bytes stops its partition at its offset,
// naming it and the limit; the partition's records before it are copied,
// none after it, and the other partitions keep copying. Once the limit is
// raised, a restart copies it and the rest: the target is then an exact
// copy, nothing lost and nothing twice.
func TestRecordTooLargeStopsOnlyItsPartition(t *testing.T) {
	a, b := tooLargeForB(t)
	text := props([]*cluster{a, b}, "A->B.enabled = true", "sync.topic.configs.enabled = false", "tasks.max = 1")
	w, stops := startWatched(t, text)
	stops.wait(t, w, "orders", "A.orders", map[int32]int64{1: 5}, "MESSAGE_TOO_LARGE", "max.message.bytes 2048")
	a.produce(t, "orders", 3, 10, 5, "later")
	waitFor(t, 30*time.Second, func() (bool, string) {
		n := partitionCounts(t, b, "A.orders")
		return n[0] == 15 && n[2] == 15, fmt.Sprintf("A.orders has %v records per partition, want 15 on 0 and 2", n)
	})
	src := a.read(t, "orders")
	if dst := b.read(t, "A.orders"); !slices.Equal(dst[1], src[1][:5]) {
		t.Errorf("A.orders/1 has %d records, want exact copies of the 5 before the large one", len(dst[1]))
	}

	w.stop(t)
	v := "1048588"
	if _, err := b.admin(t).AlterTopicConfigs(context.Background(), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "max.message.bytes", Value: &v}}, "A.orders"); err != nil {
		t.Fatal(err)
	}
	startWorker(t, text)
	waitCopied(t, b, "A.orders", 46, 30*time.Second)
	if c := kafkatest.Compare(a.read(t, "orders"), b.read(t, "A.orders")); !c.Equal() {
		t.Errorf("after the restart, A.orders is not a copy of orders: %+v", c)
	}
}

// TestRecordRefusedAtRuntimeStopsOnlyItsPartition: the target topic's
// limit lowered while the task runs: the broker refuses the next large
// record (MESSAGE_TOO_LARGE on its batch), which stops its partition only,
// at its offset, with no record after it written; the other partitions
// keep copying.
func TestRecordRefusedAtRuntimeStopsOnlyItsPartition(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 3, nil)
	a.produce(t, "orders", 3, 0, 5, "small")
	text := props([]*cluster{a, b}, "A->B.enabled = true", "sync.topic.configs.enabled = false", "tasks.max = 1")
	w, stops := startWatched(t, text)
	waitCopied(t, b, "A.orders", 15, 30*time.Second)
	v := "2048"
	if _, err := b.admin(t).AlterTopicConfigs(context.Background(), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "max.message.bytes", Value: &v}}, "A.orders"); err != nil {
		t.Fatal(err)
	}
	a.produceRandom(t, "orders", 1, 4000)
	a.produce(t, "orders", 3, 5, 5, "after")
	stops.wait(t, w, "orders", "A.orders", map[int32]int64{1: 5}, "MESSAGE_TOO_LARGE")
	a.produce(t, "orders", 3, 10, 5, "later")
	waitFor(t, 30*time.Second, func() (bool, string) {
		n := partitionCounts(t, b, "A.orders")
		return n[0] == 15 && n[2] == 15, fmt.Sprintf("A.orders has %v records per partition, want 15 on 0 and 2", n)
	})
	if dst := b.read(t, "A.orders"); !slices.Equal(dst[1], a.read(t, "orders")[1][:5]) {
		t.Errorf("A.orders/1 has %d records, want exact copies of the 5 before the refused one", len(dst[1]))
	}
}
