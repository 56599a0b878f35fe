package connectstate

import (
	"context"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/internal/connect"
	"github.com/strait-replicator/strait/internal/kafkatest"
	"github.com/strait-replicator/strait/replicator/task"
)

// TestOffsets: positions written are read back, by a one-off read and by
// a follower; positions of other connectors and source clusters, and
// malformed records, are skipped; a tombstone forgets a position.
func TestOffsets(t *testing.T) {
	c, err := kafkatest.NewCluster("B", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	opts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...), kgo.AllowAutoTopicCreation()}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const topic = "mm2-offsets.A.internal"
	if _, err := adm.CreateTopic(ctx, 5, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	s := NewOffsets(topic, "A", slog.New(slog.DiscardHandler))
	fctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.Follow(fctx, opts) }() // stopped below
	defer func() { stop(); <-done }()

	orders3, orders4 := task.TopicPartition{Topic: "orders", Partition: 3}, task.TopicPartition{Topic: "orders", Partition: 4}
	if err := s.Write(ctx, cl, map[task.TopicPartition]int64{orders3: 41, orders4: 7}); err != nil {
		t.Fatal(err)
	}
	other := []*kgo.Record{
		// Another source cluster's, another connector's, no JSON key, a bad value, a tombstone of orders-4.
		{Topic: topic, Key: connect.SourceOffsetKey(connect.SourceConnector, connect.SourcePartition{Cluster: "C", Topic: "orders", Partition: 3}), Value: connect.SourceOffsetValue(99)},
		{Topic: topic, Key: connect.SourceOffsetKey("OtherConnector", connect.SourcePartition{Cluster: "A", Topic: "orders", Partition: 3}), Value: connect.SourceOffsetValue(99)},
		{Topic: topic, Key: []byte("not json"), Value: connect.SourceOffsetValue(99)},
		{Topic: topic, Key: connect.SourceOffsetKey(connect.SourceConnector, connect.SourcePartition{Cluster: "A", Topic: "orders", Partition: 3}), Value: []byte("{")},
		{Topic: topic, Key: connect.SourceOffsetKey(connect.SourceConnector, connect.SourcePartition{Cluster: "A", Topic: "orders", Partition: 4})},
	}
	if err := cl.ProduceSync(ctx, other...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	want := map[task.TopicPartition]int64{orders3: 41}
	read, err := s.Read(ctx, adm, opts)
	if err != nil || !maps.Equal(read, want) {
		t.Fatalf("Read: %v %v, want %v", read, err, want)
	}
	current, err := s.Current(ctx, adm)
	if err != nil || !maps.Equal(current, want) {
		t.Fatalf("Current: %v %v, want %v", current, err, want)
	}
	if got := s.Stored(); !maps.Equal(got, want) {
		t.Fatalf("Stored: %v, want %v", got, want)
	}
}

// TestOffsetsResume: a position a stopped task kept is where its next run
// on this worker resumes while the offsets topic still holds what the
// task knew (or a position between that and the kept one); a position
// written over by someone else (further on, or a reset) wins and the kept
// one is dropped; a Write of a partition replaces what was kept of it.
func TestOffsetsResume(t *testing.T) {
	c, err := kafkatest.NewCluster("B", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	opts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const topic = "mm2-offsets.A.internal"
	if _, err := adm.CreateTopic(ctx, 5, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	s := NewOffsets(topic, "A", slog.New(slog.DiscardHandler))
	fctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.Follow(fctx, opts) }() // stopped below
	defer func() { stop(); <-done }()

	tp := func(p int32) task.TopicPartition { return task.TopicPartition{Topic: "orders", Partition: p} }
	// Stored now: p0..p4 at 10; p5 has none.
	stored := map[task.TopicPartition]int64{tp(0): 10, tp(1): 10, tp(2): 10, tp(3): 10, tp(4): 10}
	if err := s.Write(ctx, cl, stored); err != nil {
		t.Fatal(err)
	}
	s.Keep(map[task.TopicPartition]Kept{
		tp(0): {Acked: 50, Written: 10, Downstream: 70}, // unchanged since: resume at 50, downstream known
		tp(1): {Acked: 50, Written: 10, Downstream: 70}, // another writer got to 30 (or a late write of ours): 50, downstream unknown
		tp(2): {Acked: 50, Written: 10, Downstream: 70}, // another worker got further (60): 60
		tp(3): {Acked: 50, Written: 10, Downstream: 70}, // reset (-1) by someone: -1
		tp(4): {Acked: 50, Written: 10, Downstream: 70}, // written by this worker (Write): 20
		tp(5): {Acked: 5, Written: NoPosition, Downstream: 8},
	})
	// Others' writes, through another client (not s.Write).
	other := NewOffsets(topic, "A", slog.New(slog.DiscardHandler))
	if err := other.Write(ctx, cl, map[task.TopicPartition]int64{tp(1): 30, tp(2): 60, tp(3): -1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, cl, map[task.TopicPartition]int64{tp(4): 20}); err != nil {
		t.Fatal(err)
	}
	want := map[task.TopicPartition]ResumePoint{
		tp(0): {Position: 50, Stored: 10, Downstream: 70},
		tp(1): {Position: 50, Stored: 30, Downstream: -1},
		tp(2): {Position: 60, Stored: 60, Downstream: -1},
		tp(3): {Position: -1, Stored: -1, Downstream: -1},
		tp(4): {Position: 20, Stored: 20, Downstream: -1},
		tp(5): {Position: 5, Stored: NoPosition, Downstream: 8},
	}
	got, err := s.Resume(ctx, adm)
	if err != nil || !maps.Equal(got, want) {
		t.Fatalf("Resume: %v %v, want %v", got, err, want)
	}
	// The kept positions written over are dropped: p2 stays at 60 even
	// once the topic goes back to what the task knew.
	if err := other.Write(ctx, cl, map[task.TopicPartition]int64{tp(2): 10}); err != nil {
		t.Fatal(err)
	}
	got, err = s.Resume(ctx, adm)
	if err != nil || got[tp(2)] != (ResumePoint{Position: 10, Stored: 10, Downstream: -1}) {
		t.Fatalf("Resume after the kept p2 was dropped: %v %v", got[tp(2)], err)
	}
}
