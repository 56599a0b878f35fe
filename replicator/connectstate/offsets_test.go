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
