package topicread_test

import (
	"context"
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
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
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
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
