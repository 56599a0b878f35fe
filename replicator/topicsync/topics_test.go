package topicsync

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/policy"
)

// testSync is a Syncer from one kfake cluster (A) to another (B) that
// replicates topics matching scale-.*, and the clusters' admin clients.
type testSync struct {
	*Syncer
	src, tgt *kadm.Client
}

func newTestSync(tb testing.TB) testSync {
	tb.Helper()
	client := func() *kgo.Client {
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(c.Close)
		// As the flow's admin clients: a listing is never from the cache.
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.MetadataMinAge(250*time.Millisecond))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(cl.Close)
		return cl
	}
	srcCl, tgtCl := client(), client()
	filter, err := policy.NewFilter([]string{"scale-.*"}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := configs.Flow{Source: "A", Target: "B", Policy: policy.Default{}, ReplicationFactor: 1}
	cfg.Topics = policy.Topics{Policy: cfg.Policy, Filter: filter, Target: "B"}
	src, tgt := kadm.NewClient(srcCl), kadm.NewClient(tgtCl)
	s := New(Config{Flow: cfg, SourceAdmin: src, TargetAdmin: tgt, SourceClient: srcCl, Log: slog.New(slog.DiscardHandler)})
	return testSync{s, src, tgt}
}

func (ts testSync) create(tb testing.TB, partitions int32, topics ...string) {
	tb.Helper()
	for chunk := range slices.Chunk(topics, 500) {
		resp, err := ts.src.CreateTopics(context.Background(), partitions, 1, nil, chunk...)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// refresh runs Topics and returns its partitions as topic/partition
// strings.
func (ts testSync) refresh(tb testing.TB) []string {
	tb.Helper()
	tps, err := ts.Topics(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]string, len(tps))
	for i, tp := range tps {
		out[i] = fmt.Sprintf("%s/%d", tp.Topic, tp.Partition)
	}
	return out
}

// TestTopicsFollowSource: the refresh creates the remote topics of the
// topics the filter passes (not the others), returns their partitions,
// the same slice again for an unchanged source, follows a partition
// increase and a new topic, and reports a topic deleted and created again
// (its id changed) once.
func TestTopicsFollowSource(t *testing.T) {
	ctx := context.Background()
	ts := newTestSync(t)
	ts.create(t, 2, "scale-a", "other")
	if got, want := ts.refresh(t), []string{"scale-a/0", "scale-a/1"}; !slices.Equal(got, want) {
		t.Fatalf("first refresh: %v, want %v", got, want)
	}
	remote, err := ts.tgt.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := remote.Names(); !slices.Equal(got, []string{"A.scale-a"}) || len(remote["A.scale-a"].Partitions) != 2 {
		t.Fatalf("remote topics %v, want A.scale-a with 2 partitions", got)
	}
	first, err := ts.Topics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ts.Topics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) == 0 || &again[0] != &first[0] {
		t.Errorf("an unchanged source gave a new slice of partitions")
	}

	if _, err := ts.src.CreatePartitions(ctx, 1, "scale-a"); err != nil {
		t.Fatal(err)
	}
	ts.create(t, 1, "scale-b")
	if got, want := ts.refresh(t), []string{"scale-a/0", "scale-a/1", "scale-a/2", "scale-b/0"}; !slices.Equal(got, want) {
		t.Fatalf("after a partition increase and a new topic: %v, want %v", got, want)
	}
	remote, err = ts.tgt.ListTopics(ctx, "A.scale-a", "A.scale-b")
	if err != nil {
		t.Fatal(err)
	}
	if n, m := len(remote["A.scale-a"].Partitions), len(remote["A.scale-b"].Partitions); n != 3 || m != 1 {
		t.Fatalf("remote partitions %d and %d, want 3 and 1", n, m)
	}
	if got := ts.Recreated(); len(got) != 0 {
		t.Fatalf("recreated %v before any topic was", got)
	}

	if _, err := ts.src.DeleteTopics(ctx, "scale-b"); err != nil {
		t.Fatal(err)
	}
	ts.refresh(t)
	ts.create(t, 1, "scale-b")
	ts.refresh(t)
	if got := ts.Recreated(); len(got) != 0 {
		t.Fatalf("recreated %v: the refresh between saw the topic gone", got)
	}
	old := ts.topicIDs["scale-a"]
	if _, err := ts.src.DeleteTopics(ctx, "scale-a"); err != nil {
		t.Fatal(err)
	}
	ts.create(t, 3, "scale-a")
	ts.refresh(t)
	if got := ts.Recreated(); !slices.Equal(got, []string{"scale-a"}) {
		t.Fatalf("recreated %v, want [scale-a]", got)
	}
	if !ts.IDChanged("scale-a", old) {
		t.Errorf("the old id of scale-a is not reported changed")
	}
	if got := ts.Recreated(); len(got) != 0 {
		t.Errorf("recreated %v reported twice", got)
	}

	// Every replicated topic gone, then back as it was: its partitions
	// again, not the empty listing's.
	before := ts.refresh(t)
	if _, err := ts.src.DeleteTopics(ctx, "scale-a", "scale-b"); err != nil {
		t.Fatal(err)
	}
	if got := ts.refresh(t); len(got) != 0 {
		t.Fatalf("no source topic, yet %v to copy", got)
	}
	ts.create(t, 3, "scale-a")
	ts.create(t, 1, "scale-b")
	if got := ts.refresh(t); !slices.Equal(got, before) {
		t.Fatalf("after the topics came back: %v, want %v", got, before)
	}
}

// BenchmarkTopicsUnchanged times a topic refresh of an unchanged source
// of 2,500 topics x 20 partitions whose remote topics are known: the
// source listing and the sync's own work, with kfake in this process.
func BenchmarkTopicsUnchanged(b *testing.B) {
	const topics, partitions = 2500, 20
	ts := newTestSync(b)
	names := make([]string, topics)
	for i := range names {
		names[i] = fmt.Sprintf("scale-%04d", i)
	}
	ts.create(b, partitions, names...)
	for range 2 { // creates the remote topics, then sees them
		if n := len(ts.refresh(b)); n != topics*partitions {
			b.Fatalf("%d partitions to copy, want %d", n, topics*partitions)
		}
	}
	for b.Loop() {
		ts.refreshes = 1 // never the periodic full listing
		tps, err := ts.Topics(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if len(tps) != topics*partitions || ts.listed != 0 {
			b.Fatalf("%d partitions, %d listed on the target", len(tps), ts.listed)
		}
	}
}
