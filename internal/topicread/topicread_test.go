package topicread_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/internal/topicread"
)

// A record committed after another producer's transaction began must be
// read: tasks in exactly-once mode share the offsets topic's partitions,
// and a read that stopped at the last stable offset (held back by the open
// transaction) would start a task from older positions.
func TestReadToEndSeesCommitsBehindOpenTransaction(t *testing.T) {
	ctx, opts, adm, open := openAndCommitted(t)
	ends, err := topicread.Ends(ctx, adm, "state")
	if err != nil {
		t.Fatal(err)
	}
	if ends[0] != 3 {
		t.Fatalf("end of state/0 = %d with a transaction open at 0, a committed record at 1 and its marker at 2, want 3 (the read must reach the committed record)", ends[0])
	}
	type result struct {
		values []string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		r.err = topicread.ReadToEnd(ctx, adm, opts, "state", func(rec *kgo.Record) { r.values = append(r.values, string(rec.Value)) })
		done <- r
	}()
	// The read waits for the open transaction; it ends here.
	if err := open.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(r.values) != 1 || r.values[0] != "committed" {
		t.Fatalf("read %q, want [committed]: the record committed behind the open transaction", r.values)
	}
}

// The follower's WaitEnd waits for a transaction open when it is called,
// and then has handed on the record committed behind it (and not the
// aborted one); records written later reach it too.
func TestFollowerWaitEnd(t *testing.T) {
	ctx, opts, adm, open := openAndCommitted(t)
	var mu sync.Mutex
	var values []string
	f := topicread.NewFollower("state", func(r *kgo.Record) {
		mu.Lock()
		defer mu.Unlock()
		values = append(values, string(r.Value))
	})
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { f.Run(runCtx, opts, nil); close(ran) }()
	defer func() { stop(); <-ran }()

	waited := make(chan error, 1)
	go func() { waited <- f.WaitEnd(ctx, adm) }()
	if err := open.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := slices.Clone(values)
	mu.Unlock()
	if !slices.Equal(got, []string{"committed"}) {
		t.Fatalf("after WaitEnd the follower read %q, want [committed]", got)
	}

	plain, err := kgo.NewClient(append(opts, kgo.DefaultProduceTopic("state"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if err := plain.ProduceSync(ctx, kgo.StringRecord("later")).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := f.WaitEnd(ctx, adm); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got = slices.Clone(values)
	mu.Unlock()
	if !slices.Equal(got, []string{"committed", "later"}) {
		t.Fatalf("after a second WaitEnd the follower read %q, want [committed later]", got)
	}
	stop()
	<-ran
	if err := plain.ProduceSync(ctx, kgo.StringRecord("unread")).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := f.WaitEnd(ctx, adm); !errors.Is(err, topicread.ErrStopped) {
		t.Fatalf("WaitEnd for a record written after Run returned: %v, want ErrStopped", err)
	}
}

// openAndCommitted starts a cluster with topic "state" (one partition)
// holding a record of a transaction left open (offset 0) and a record
// another producer committed behind it (offset 1, marker at 2).
func openAndCommitted(t *testing.T) (context.Context, []kgo.Opt, *kadm.Client, *kgo.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "state"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	opts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
	txn := func(id string) *kgo.Client {
		cl, err := kgo.NewClient(append(opts, kgo.TransactionalID(id), kgo.DefaultProduceTopic("state"))...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		return cl
	}
	open, other := txn("open"), txn("other")
	if err := open.ProduceSync(ctx, kgo.StringRecord("pending")).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := other.ProduceSync(ctx, kgo.StringRecord("committed")).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := other.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	admCl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admCl.Close)
	return ctx, opts, kadm.NewClient(admCl), open
}

// TestReadTail: the last n offsets of each partition, or fewer where the
// log is shorter or starts later (records deleted), and nothing for an
// empty partition.
func TestReadTail(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "beats"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	opts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
	cl, err := kgo.NewClient(append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for i := range 10 {
		recs = append(recs, &kgo.Record{Topic: "beats", Partition: 0, Value: []byte{byte(i)}})
	}
	for i := range 2 {
		recs = append(recs, &kgo.Record{Topic: "beats", Partition: 1, Value: []byte{byte(i)}})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	got := map[int32][]int64{}
	if err := topicread.ReadTail(ctx, adm, opts, "beats", 4, func(r *kgo.Record) { got[r.Partition] = append(got[r.Partition], r.Offset) }); err != nil {
		t.Fatal(err)
	}
	if want := map[int32][]int64{0: {6, 7, 8, 9}, 1: {0, 1}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("tail of 4: %v, want %v", got, want)
	}
	// Records deleted up to 8 on partition 0: the tail starts there.
	if _, err := adm.DeleteRecords(ctx, kadm.Offsets{"beats": {0: {Topic: "beats", Partition: 0, At: 8}}}); err != nil {
		t.Fatal(err)
	}
	got = map[int32][]int64{}
	if err := topicread.ReadTail(ctx, adm, opts, "beats", 4, func(r *kgo.Record) { got[r.Partition] = append(got[r.Partition], r.Offset) }); err != nil {
		t.Fatal(err)
	}
	if want := map[int32][]int64{0: {8, 9}, 1: {0, 1}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("tail of 4 after deleting to 8: %v, want %v", got, want)
	}
}

// TestWarnEvery: a fetch error is logged with the caller's attributes, and
// repeats within the interval are not.
func TestWarnEvery(t *testing.T) {
	for _, tt := range []struct {
		interval time.Duration
		want     int
	}{{time.Hour, 1}, {0, 3}} {
		var buf bytes.Buffer
		warn := topicread.WarnEvery(slog.New(slog.NewTextHandler(&buf, nil)), tt.interval, "reading failed", "topic", "t", "cluster", "B")
		for range 3 {
			warn(errors.New("boom"))
		}
		if got := strings.Count(buf.String(), `level=WARN msg="reading failed" topic=t cluster=B err=boom`); got != tt.want {
			t.Errorf("interval %v: %d warnings, want %d:\n%s", tt.interval, got, tt.want, buf.String())
		}
	}
}
