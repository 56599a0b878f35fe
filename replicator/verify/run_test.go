package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/internal/kafkatest"
)

// runFixture is a source and a target cluster (in-process kfake) with
// topic orders of 3 partitions on A, copied to A.orders on B by a loop
// that changes the value of orders/2@7, and the flow A->B.
func runFixture(t *testing.T) (configs.Flow, configs.Cluster, configs.Cluster) {
	t.Helper()
	ctx := context.Background()
	var seeds [2][]string
	for i, alias := range []string{"A", "B"} {
		c, err := kafkatest.NewCluster(alias, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		seeds[i] = c.ListenAddrs()
	}
	client := func(s []string) *kgo.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(s...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	src, tgt := client(seeds[0]), client(seeds[1])
	for _, c := range []struct {
		cl    *kgo.Client
		topic string
	}{{src, "orders"}, {tgt, "A.orders"}} {
		if _, err := kadm.NewClient(c.cl).CreateTopic(ctx, 3, 1, nil, c.topic); err != nil {
			t.Fatal(err)
		}
	}
	var recs, copies []*kgo.Record
	for p := range int32(3) {
		for i := range 40 {
			r := &kgo.Record{Topic: "orders", Partition: p, Key: []byte(fmt.Sprint("k", i)), Value: []byte(fmt.Sprint("v", p, "-", i)), Timestamp: time.UnixMilli(1_700_000_000_000 + int64(i))}
			c := *r
			c.Topic = "A.orders"
			if p == 2 && i == 7 {
				c.Value = []byte("changed")
			}
			recs, copies = append(recs, r), append(copies, &c)
		}
	}
	if err := src.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := tgt.ProduceSync(ctx, copies...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := configs.Parse([]byte(fmt.Sprintf("clusters = A, B\nA.bootstrap.servers = %s\nB.bootstrap.servers = %s\nA->B.enabled = true\n",
		strings.Join(seeds[0], ","), strings.Join(seeds[1], ","))), configs.Properties, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := cfg.Flow("A", "B")
	a, _ := cfg.Cluster("A")
	b, _ := cfg.Cluster("B")
	return f, a, b
}

// TestRunReadsBothClusters: Run reads every partition of both clusters
// (more partitions than readers, so a reader's clients move from one
// partition to the next), with no offset syncs and no positions, finds
// the changed record and names its field, and counts progress to the
// total.
func TestRunReadsBothClusters(t *testing.T) {
	f, a, b := runFixture(t)
	p := &Progress{}
	rep, err := Run(context.Background(), Options{Flow: f, Source: a, Target: b, Parallel: 2, Progress: p})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Topics) != 1 || rep.Topics[0].Topic != "orders" || rep.Topics[0].Remote != "A.orders" || len(rep.Topics[0].Partitions) != 3 {
		t.Fatalf("report %+v, want orders -> A.orders, 3 partitions", rep.Topics)
	}
	tr := rep.Topics[0]
	if want := (Counts{Compared: 120, Different: 1}); tr.Counts != want || rep.Total != want {
		t.Errorf("counts %+v (total %+v), want %+v", tr.Counts, rep.Total, want)
	}
	want := PartitionDifference{Partition: 2, Difference: Difference{Kind: Different, SourceOffset: 7, TargetOffset: 7, Fields: []string{"value"}}}
	if tr.First == nil || fmt.Sprint(*tr.First) != fmt.Sprint(want) {
		t.Errorf("first difference %+v, want %+v", tr.First, want)
	}
	if !rep.Differs() || rep.Read != 240 || p.Total() != 240 || p.Done() != 240 {
		t.Errorf("differs %v, read %d, progress %d of %d; want true, 240, 240 of 240", rep.Differs(), rep.Read, p.Done(), p.Total())
	}
}

// TestRunStopsWithItsContext: a cancelled Run returns the context's error
// once its goroutines are done.
func TestRunStopsWithItsContext(t *testing.T) {
	f, a, b := runFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, Options{Flow: f, Source: a, Target: b}); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context: %v, want context.Canceled", err)
	}
}
