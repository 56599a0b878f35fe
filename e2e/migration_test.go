package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-replicator/strait/checkpoint"
	"github.com/strait-replicator/strait/internal/connect"
	"github.com/strait-replicator/strait/internal/kafkatest"
)

// MM2's records, byte for byte as ../shared/MM2.md gives them, built here
// by hand (not with Strait's encoders, which the test checks against
// them).

// mm2String is Kafka's STRING: INT16 length, UTF-8 bytes.
func mm2String(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// mm2PositionKey is the key of MirrorSourceConnector's position in
// Connect's offsets topic (§9: JsonConverter, schemas off, HashMap order).
func mm2PositionKey(source, topic string, partition int32) []byte {
	return []byte(fmt.Sprintf(`["MirrorSourceConnector",{"cluster":%q,"partition":%d,"topic":%q}]`, source, partition, topic))
}

// mm2PositionValue is its value: the last upstream offset copied.
func mm2PositionValue(offset int64) []byte { return []byte(fmt.Sprintf(`{"offset":%d}`, offset)) }

// mm2Sync is an offset sync (§2.3): key topic STRING, partition INT32;
// value upstreamOffset INT64, offset INT64, no version.
func mm2Sync(topic string, partition int32, up, down int64) (key, value []byte) {
	key = binary.BigEndian.AppendUint32(mm2String(nil, topic), uint32(partition))
	value = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, uint64(up)), uint64(down))
	return key, value
}

// mm2Checkpoint is a checkpoint (§2.2): key group, topic (remote name),
// partition; value version INT16 0, upstreamOffset, offset, metadata.
func mm2Checkpoint(group, topic string, partition int32, up, down int64, metadata string) (key, value []byte) {
	key = binary.BigEndian.AppendUint32(mm2String(mm2String(nil, group), topic), uint32(partition))
	value = binary.BigEndian.AppendUint16(nil, 0)
	value = binary.BigEndian.AppendUint64(value, uint64(up))
	value = binary.BigEndian.AppendUint64(value, uint64(down))
	return key, mm2String(value, metadata)
}

// mm2Heartbeat is a heartbeat (§2.1): key source, target aliases; value
// version INT16 0, timestamp INT64.
func mm2Heartbeat(source, target string, at time.Time) (key, value []byte) {
	key = mm2String(mm2String(nil, source), target)
	value = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint16(nil, 0), uint64(at.UnixMilli()))
	return key, value
}

// mm2SyncsOf are the offset syncs MM2's rules (§5.2) write for a copy of
// consecutive source offsets from up to down on, n records, in one task
// run that ends with a clean stop (the delayed sync is sent).
func mm2SyncsOf(up, down, n, maxLag int64) [][2]int64 {
	var out [][2]int64
	last := int64(-1)
	for i := range n {
		if last == -1 || down+i-(last+1) >= maxLag {
			out = append(out, [2]int64{up + i, down + i})
			last = down + i
		}
	}
	if last != down+n-1 {
		out = append(out, [2]int64{up + n - 1, down + n - 1})
	}
	return out
}

// mm2Copy copies source offsets [from, to) of topic's partition p from a
// to "A.<topic>" on b as MM2's source task does (same partition; key,
// value, headers, timestamp) and writes its offset syncs and, at its clean
// stop, its position, in MM2's bytes. It returns the syncs written.
func mm2Copy(t *testing.T, a, b *cluster, topic string, p int32, from, to int64) [][2]int64 {
	t.Helper()
	ctx := context.Background()
	var recs []*kgo.Record
	for _, r := range a.committedRecords(t, topic) {
		if r.Partition == p && r.Offset >= from && r.Offset < to {
			recs = append(recs, &kgo.Record{Topic: "A." + topic, Partition: p, Key: r.Key, Value: r.Value, Headers: r.Headers, Timestamp: r.Timestamp})
		}
	}
	if int64(len(recs)) != to-from {
		t.Fatalf("MM2: %d records of %s/%d in [%d, %d), want a gap-free range", len(recs), topic, p, from, to)
	}
	prod := b.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("MM2 copy: %v", err)
	}
	syncs := mm2SyncsOf(from, recs[0].Offset, to-from, 100)
	var out []*kgo.Record
	for _, s := range syncs {
		k, v := mm2Sync(topic, p, s[0], s[1])
		out = append(out, &kgo.Record{Topic: "mm2-offset-syncs.B.internal", Partition: 0, Key: k, Value: v})
	}
	if err := a.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner())).ProduceSync(ctx, out...).FirstErr(); err != nil {
		t.Fatalf("MM2 offset syncs: %v", err)
	}
	// Connect's producer: the default partitioner, murmur2 of the key.
	pos := &kgo.Record{Topic: "mm2-offsets.A.internal", Key: mm2PositionKey("A", topic, p), Value: mm2PositionValue(to - 1)}
	if err := b.client(t, kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil))).ProduceSync(ctx, pos).FirstErr(); err != nil {
		t.Fatalf("MM2 position: %v", err)
	}
	return syncs
}

// produceMM2Raw writes key/value records to partition 0 of topic on c.
func produceMM2Raw(t *testing.T, c *cluster, topic string, kvs ...[2][]byte) {
	t.Helper()
	var recs []*kgo.Record
	for _, kv := range kvs {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: 0, Key: kv[0], Value: kv[1]})
	}
	if err := c.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner())).ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatalf("write %s on %s: %v", topic, c.alias, err)
	}
}

// TestMoveFromMM2AndBack: MM2 copied the first 200 records of each
// partition of orders (whose first 10 were deleted before, so offsets
// differ by 10) and stopped, leaving its records in its internal topics:
// positions in Connect's JSON, offset syncs, checkpoints of two groups,
// heartbeats, its connector configs. Strait, started with the same
// properties, copies only the rest (nothing twice, nothing lost);
// translates the groups through MM2's offset syncs and keeps MM2's
// checkpoint of a group it no longer sees; a failover moves a group to
// where it stopped. Then Strait stops and everything it wrote is what MM2
// reads: the position under MM2's exact key, in the same partition of the
// offsets topic; offset syncs, checkpoints and heartbeats in MM2's bytes.
// MM2 resumes from Strait's position and copies the next records once.
func TestMoveFromMM2AndBack(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	ctx := context.Background()
	a.createTopic(t, "orders", 2, nil)
	a.produce(t, "orders", 2, 0, 300, "mm2")
	for p := range int32(2) {
		if err := a.DeleteRecords("orders", p, 10); err != nil {
			t.Fatal(err)
		}
	}
	// MM2's internal topics as MM2 creates them (§1).
	a.createTopic(t, "mm2-offset-syncs.B.internal", 1, map[string]string{"cleanup.policy": "compact"})
	b.createTopic(t, "mm2-offsets.A.internal", 25, map[string]string{"cleanup.policy": "compact"})
	b.createTopic(t, "mm2-configs.A.internal", 1, map[string]string{"cleanup.policy": "compact"})
	b.createTopic(t, "mm2-status.A.internal", 5, map[string]string{"cleanup.policy": "compact"})
	b.createTopic(t, "A.checkpoints.internal", 1, map[string]string{"cleanup.policy": "compact"})
	b.createTopic(t, "heartbeats", 1, map[string]string{"cleanup.policy": "compact"})
	b.createTopic(t, "A.orders", 2, nil)

	// MM2 ran: source offsets 10..209 are 0..199 on B.
	for p := range int32(2) {
		syncs := mm2Copy(t, a, b, "orders", p, 10, 210)
		if want := [][2]int64{{10, 0}, {111, 101}, {209, 199}}; !slices.Equal(syncs, want) {
			t.Fatalf("MM2's syncs %v, want %v", syncs, want)
		}
	}
	// Its other connectors' offsets, always 0 (§9).
	produceMM2Raw(t, b, "mm2-offsets.A.internal",
		[2][]byte{[]byte(`["MirrorCheckpointConnector",{"partition":0,"topic":"A.orders","group":"g1"}]`), []byte(`{"offset":0}`)},
		[2][]byte{[]byte(`["MirrorHeartbeatConnector",{"sourceClusterAlias":"A","targetClusterAlias":"B"}]`), []byte(`{"offset":0}`)})
	// Groups on A: g1 consumed up to 150 and 120, g2 (gone from A since)
	// up to 50. MM2 translated them one past the nearest sync below
	// (§5.4): 150 and 120 -> 101+1, 50 -> 0+1.
	var g1 kadm.Offsets
	g1.Add(kadm.Offset{Topic: "orders", Partition: 0, At: 150, LeaderEpoch: -1, Metadata: "m0"})
	g1.Add(kadm.Offset{Topic: "orders", Partition: 1, At: 120, LeaderEpoch: -1, Metadata: "m1"})
	if resp, err := a.admin(t).CommitOffsets(ctx, "g1", g1); err != nil || resp.Error() != nil {
		t.Fatalf("commit g1 on A: %v %v", err, resp.Error())
	}
	cp := func(group string, p int32, up, down int64, meta string) [2][]byte {
		k, v := mm2Checkpoint(group, "A.orders", p, up, down, meta)
		return [2][]byte{k, v}
	}
	produceMM2Raw(t, b, "A.checkpoints.internal", cp("g1", 0, 150, 102, "m0"), cp("g1", 1, 120, 102, "m1"), cp("g2", 0, 50, 1, "kept"))
	hk, hv := mm2Heartbeat("A", "B", time.Now())
	produceMM2Raw(t, b, "heartbeats", [2][]byte{hk, hv})
	// Its connector configs (as dedicated mode stores them: the flow's
	// keys with the clusters' and aliases; NOT VERIFIED against a live
	// MM2 byte for byte) and states.
	connector := func(class string) [2][]byte {
		props := map[string]string{
			"name": class, "connector.class": "org.apache.kafka.connect.mirror." + class,
			"source.cluster.alias": "A", "target.cluster.alias": "B", "enabled": "true",
			"source.cluster.bootstrap.servers": a.seeds(), "target.cluster.bootstrap.servers": b.seeds(),
			"refresh.topics.interval.seconds": "1", "sync.topic.configs.interval.seconds": "1", "emit.checkpoints.interval.seconds": "1",
		}
		v, err := json.Marshal(map[string]any{"properties": props})
		if err != nil {
			t.Fatal(err)
		}
		return [2][]byte{[]byte("connector-" + class), v}
	}
	produceMM2Raw(t, b, "mm2-configs.A.internal",
		connector("MirrorSourceConnector"), connector("MirrorCheckpointConnector"), connector("MirrorHeartbeatConnector"),
		[2][]byte{[]byte("target-state-MirrorSourceConnector"), []byte(`{"state":"STARTED"}`)},
		[2][]byte{[]byte("task-MirrorSourceConnector-0"), []byte(`{"properties":{"task.assigned.partitions":"orders-0,orders-1"}}`)},
		[2][]byte{[]byte("commit-MirrorSourceConnector"), []byte(`{"tasks":1}`)})

	// Strait's encoders agree with MM2's bytes.
	if k := connect.SourceOffsetKey(connect.SourceConnector, connect.SourcePartition{Cluster: "A", Topic: "orders", Partition: 1}); !bytes.Equal(k, mm2PositionKey("A", "orders", 1)) {
		t.Fatalf("Strait's position key %s, MM2's %s", k, mm2PositionKey("A", "orders", 1))
	}
	if k, v := mm2Sync("orders", 1, 111, 101); !bytes.Equal(k, (checkpoint.OffsetSync{Topic: "orders", Partition: 1}).AppendKey(nil)) ||
		!bytes.Equal(v, (checkpoint.OffsetSync{Upstream: 111, Downstream: 101}).AppendValue(nil)) {
		t.Fatal("Strait's offset sync bytes differ from MM2's")
	}

	// Strait takes over with the same properties: not while an MM2 worker
	// is in the flow's group, so that both never copy at once.
	text := props([]*cluster{a, b}, "A->B.enabled = true", "emit.checkpoints.interval.seconds = 1")
	cfg := writeFile(t, "mm2.properties", text)
	leave := joinAsConnectWorker(t, b, "A-mm2")
	early := startProcess(t, "run", "-c", cfg)
	code := early.wait(t, 60*time.Second)
	t.Logf("strait run while MM2 runs: exit %d\n%s", code, early.output)
	if code == 0 || !bytes.Contains([]byte(early.output.String()), []byte("used by clients of another kind")) {
		t.Errorf("strait run while an MM2 worker is in group A-mm2: exit %d, want an error naming the group's other clients", code)
	}
	if n := b.endOffsets(t, "A.orders"); n != 2*200 {
		t.Errorf("strait run while MM2 runs copied: A.orders has %d records, want MM2's 400", n)
	}
	leave()
	// kfake keeps an empty group's protocol type (Kafka lets another
	// kind join an Empty group): delete it, as an operator may.
	if _, err := b.admin(t).DeleteGroups(ctx, "A-mm2"); err != nil {
		t.Fatal(err)
	}
	w := startWorker(t, text)
	waitCopied(t, b, "A.orders", 2*290, 60*time.Second)
	if c := kafkatest.Compare(a.read(t, "orders"), b.read(t, "A.orders")); !c.Equal() {
		t.Fatalf("after Strait took over, A.orders is not orders: %s (%d source, %d target records)", c.Problem, c.Source, c.Target)
	}
	// Through MM2's syncs, exactly: source 150 is target 140.
	want := map[checkpoint.TopicPartition]upDown{{Topic: "A.orders", Partition: 0}: {150, 140}, {Topic: "A.orders", Partition: 1}: {120, 110}}
	waitCheckpoints(t, b, "A", "g1", want)
	// g2 is not on A any more: MM2's checkpoint stays, and translates.
	p := startProcess(t, "translate", "-c", cfg, "--group", "g2", "--from", "A", "--to", "B", "--json")
	if code := p.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("translate g2: exit %d\n%s", code, p.output)
	}
	if !bytes.Contains([]byte(p.output.String()), []byte(`"offset": 1,`)) || !bytes.Contains([]byte(p.output.String()), []byte(`"metadata": "kept"`)) {
		t.Errorf("translate g2: want MM2's checkpoint (offset 1, metadata kept):\n%s", p.output)
	}
	// The group moves to B where it stopped on A.
	failover(t, b, text, "g1", want)
	for tp, w := range want {
		r := readRecordAt(t, b, tp.Topic, tp.Partition, w.down)
		s := readRecordAt(t, a, "orders", tp.Partition, w.up)
		if kafkatest.DigestOf(r) != kafkatest.DigestOf(s) {
			t.Errorf("g1 resumes on B at %s/%d@%d, which is not orders/%d@%d", tp.Topic, tp.Partition, w.down, tp.Partition, w.up)
		}
	}
	// And the copy is verified.
	if code, out := runVerify(t, "-c", cfg, "--topics", "orders"); code != 0 {
		t.Errorf("verify after the move: exit %d\n%s", code, out)
	}
	w.stop(t)

	// Back to MM2: what Strait wrote is what MM2 reads.
	positions := map[string][]int32{} // key -> partitions of the offsets topic holding it
	newest := map[string]string{}
	for _, r := range b.rawRecords(t, "mm2-offsets.A.internal") {
		k := string(r.Key)
		if !slices.Contains(positions[k], r.Partition) {
			positions[k] = append(positions[k], r.Partition)
		}
		newest[k] = string(r.Value)
	}
	for p := range int32(2) {
		k := string(mm2PositionKey("A", "orders", p))
		if len(positions[k]) != 1 {
			t.Errorf("position of orders/%d in partitions %v of the offsets topic, want one (Connect's, the key's hash): MM2 might read an old one", p, positions[k])
		}
		if newest[k] != `{"offset":299}` {
			t.Errorf("newest position of orders/%d %s, want {\"offset\":299}", p, newest[k])
		}
	}
	for k := range positions {
		if _, _, err := connect.DecodeSourceOffsetKey([]byte(k)); err == nil && !bytes.HasPrefix([]byte(k), []byte(`["MirrorSourceConnector",{"cluster":"A","partition":`)) {
			t.Errorf("position key %s is not in MM2's key order", k)
		}
	}
	newestSync := map[int32][2]int64{}
	for _, r := range a.rawRecords(t, "mm2-offset-syncs.B.internal") {
		topic, p, up, down, ok := decodeMM2Sync(r.Key, r.Value)
		if !ok || r.Partition != 0 {
			t.Errorf("offset sync %x/%x on partition %d is not MM2's", r.Key, r.Value, r.Partition)
			continue
		}
		if topic != "orders" {
			continue // heartbeats (from B->A's heartbeat connector), copied too
		}
		if down != up-10 {
			t.Errorf("offset sync orders/%d %d->%d: the copy of source offset %d is at %d", p, up, down, up, up-10)
		}
		newestSync[p] = [2]int64{up, down}
	}
	for p := range int32(2) {
		if newestSync[p] != [2]int64{299, 289} {
			t.Errorf("newest offset sync of orders/%d %v, want 299->289 (the last record, as MM2's delayed sync)", p, newestSync[p])
		}
	}
	for _, r := range b.rawRecords(t, "A.checkpoints.internal") {
		if _, ok := decodeMM2Checkpoint(r.Key, r.Value); !ok || r.Partition != 0 {
			t.Errorf("checkpoint %x/%x on partition %d is not MM2's", r.Key, r.Value, r.Partition)
		}
	}
	for _, r := range b.rawRecords(t, "heartbeats") {
		if !bytes.Equal(r.Key, hk) || len(r.Value) != 10 || r.Value[0] != 0 || r.Value[1] != 0 || r.Partition != 0 {
			t.Errorf("heartbeat %x/%x on partition %d is not MM2's A->B heartbeat", r.Key, r.Value, r.Partition)
		}
	}

	// MM2 resumes where Strait stopped, read as Connect reads its offsets
	// topic (the newest value of each key), and copies what came since.
	a.produce(t, "orders", 2, 300, 50, "back")
	for p := range int32(2) {
		var at int64
		if err := json.Unmarshal([]byte(newest[string(mm2PositionKey("A", "orders", p))]), &struct {
			Offset *int64 `json:"offset"`
		}{&at}); err != nil {
			t.Fatal(err)
		}
		mm2Copy(t, a, b, "orders", p, at+1, 350)
	}
	if c := kafkatest.Compare(a.read(t, "orders"), b.read(t, "A.orders")); !c.Equal() {
		t.Errorf("after MM2 resumed from Strait's positions: %s", c.Problem)
	}
	if code, out := runVerify(t, "-c", cfg, "--topics", "orders"); code != 0 {
		t.Errorf("verify after the move back: exit %d\n%s", code, out)
	}
}

// readRecordAt reads the record at offset of topic's partition on c.
func readRecordAt(t *testing.T, c *cluster, topic string, partition int32, offset int64) *kgo.Record {
	t.Helper()
	cl := c.client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().At(offset)}}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		recs := cl.PollFetches(ctx).Records()
		if ctx.Err() != nil {
			t.Fatalf("read %s/%d@%d on %s: nothing", topic, partition, offset, c.alias)
		}
		if len(recs) > 0 {
			if recs[0].Offset != offset {
				t.Fatalf("read %s/%d@%d on %s: got offset %d", topic, partition, offset, c.alias, recs[0].Offset)
			}
			return recs[0]
		}
	}
}

// decodeMM2Sync reads an offset sync as MM2 does, strictly: a key of
// exactly a STRING and an INT32, a value of exactly two INT64.
func decodeMM2Sync(key, value []byte) (topic string, partition int32, up, down int64, ok bool) {
	if len(key) < 2 {
		return "", 0, 0, 0, false
	}
	n := int(binary.BigEndian.Uint16(key))
	if len(key) != 2+n+4 || len(value) != 16 {
		return "", 0, 0, 0, false
	}
	return string(key[2 : 2+n]), int32(binary.BigEndian.Uint32(key[2+n:])), int64(binary.BigEndian.Uint64(value)), int64(binary.BigEndian.Uint64(value[8:])), true
}

// decodeMM2Checkpoint reads a checkpoint as MM2 does, strictly.
func decodeMM2Checkpoint(key, value []byte) (checkpoint.Checkpoint, bool) {
	str := func(b []byte) (string, []byte, bool) {
		if len(b) < 2 || len(b) < 2+int(binary.BigEndian.Uint16(b)) {
			return "", nil, false
		}
		n := int(binary.BigEndian.Uint16(b))
		return string(b[2 : 2+n]), b[2+n:], true
	}
	var c checkpoint.Checkpoint
	var ok bool
	var rest []byte
	if c.Group, rest, ok = str(key); !ok {
		return c, false
	}
	if c.Topic, rest, ok = str(rest); !ok || len(rest) != 4 {
		return c, false
	}
	c.Partition = int32(binary.BigEndian.Uint32(rest))
	if len(value) < 18 || binary.BigEndian.Uint16(value) != 0 {
		return c, false
	}
	c.Upstream, c.Downstream = int64(binary.BigEndian.Uint64(value[2:])), int64(binary.BigEndian.Uint64(value[10:]))
	if c.Metadata, rest, ok = str(value[18:]); !ok || len(rest) != 0 {
		return c, false
	}
	return c, true
}

// joinAsConnectWorker joins group on c as a Connect worker (an MM2 node in
// dedicated mode) does, protocol type "connect", and returns a function
// that leaves the group.
func joinAsConnectWorker(t *testing.T, c *cluster, group string) (leave func()) {
	t.Helper()
	ctx := context.Background()
	cl := c.client(t)
	var member string
	for {
		req := kmsg.NewPtrJoinGroupRequest()
		req.Group, req.MemberID, req.ProtocolType = group, member, "connect"
		req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = 30000, 30000
		proto := kmsg.NewJoinGroupRequestProtocol()
		proto.Name, proto.Metadata = "sessioned", []byte{0, 1}
		req.Protocols = append(req.Protocols, proto)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatalf("join %s as a Connect worker: %v", group, err)
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); errors.Is(err, kerr.MemberIDRequired) {
			member = resp.MemberID
			continue
		} else if err != nil {
			t.Fatalf("join %s as a Connect worker: %v", group, err)
		}
		member = resp.MemberID
		sync := kmsg.NewPtrSyncGroupRequest()
		sync.Group, sync.Generation, sync.MemberID = group, resp.Generation, member
		sync.ProtocolType, sync.Protocol = kmsg.StringPtr("connect"), kmsg.StringPtr("sessioned")
		if _, err := sync.RequestWith(ctx, cl); err != nil {
			t.Fatalf("sync %s as a Connect worker: %v", group, err)
		}
		break
	}
	return func() {
		req := kmsg.NewPtrLeaveGroupRequest()
		req.Group = group
		m := kmsg.NewLeaveGroupRequestMember()
		m.MemberID = member
		req.Members = append(req.Members, m)
		if _, err := req.RequestWith(ctx, cl); err != nil {
			t.Fatalf("leave %s: %v", group, err)
		}
	}
}
