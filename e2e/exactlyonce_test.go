package e2e

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestExactlyOnceAcrossCrashes runs strait as a process in exactly-once
// mode under continuous production, kills it with -9 several times, makes
// the target answer produce requests with REQUEST_TIMED_OUT after writing
// them and NOT_LEADER_FOR_PARTITION before, and checks that a
// read_committed reader of the target sees every source record exactly
// once, in order.
func TestExactlyOnceAcrossCrashes(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 4, nil)
	kills := 3
	if testing.Short() {
		kills = 2
	}
	cfg := writeFile(t, "mm2.properties", props([]*cluster{a, b}, "A->B.enabled = true", "tasks.max = 2",
		"B.exactly.once.source.support = enabled", "offset.flush.interval.ms = 500"))
	bg := produceInBackground(t, a, "orders", 4, 10, 20*time.Millisecond) // 2,000 records/s
	copiedAtLeast := func(n int64) {
		t.Helper()
		waitFor(t, 60*time.Second, func() (bool, string) {
			got := b.endOffsets(t, "A.orders")
			return got >= n, fmt.Sprintf("A.orders has %d offsets, want at least %d", got, n)
		})
	}

	for i := range kills {
		p := startProcess(t, "run", "-c", cfg)
		copiedAtLeast(b.endOffsets(t, "A.orders") + 1500)
		if i == 1 {
			// Passing target faults while copying: the write happens but
			// the answer is a timeout (kgo retries; the idempotent,
			// transactional producer keeps one copy), and a leader
			// change.
			h := b.Fault(
				kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "A.orders", Err: kerr.RequestTimedOut, Count: 3},
				kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "A.orders", Err: kerr.NotLeaderForPartition, Count: 3},
			)
			to := (b.LeaderFor("A.orders", 1) + 1) % 3 // another broker: a move
			if err := b.MoveTopicPartition("A.orders", 1, to); err != nil {
				t.Fatal(err)
			}
			copiedAtLeast(b.endOffsets(t, "A.orders") + 1500)
			waitFor(t, 30*time.Second, func() (bool, string) {
				return h.Hits() == 6, fmt.Sprintf("%d of 6 produce requests faulted", h.Hits())
			})
			if got := b.LeaderFor("A.orders", 1); got != to {
				t.Errorf("leader of A.orders/1 is %d, want %d: it did not move", got, to)
			}
		}
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p.wait(t, 10*time.Second)
	}
	p := startProcess(t, "run", "-c", cfg)
	copiedAtLeast(b.endOffsets(t, "A.orders") + 1000)
	bg.stop(t)
	an := waitAllCopied(t, a, "orders", b, "A.orders", 60*time.Second)
	t.Logf("exactly-once after %d kill -9: %d records copied, %d duplicates seen by a read_committed reader", kills, an.copied, an.dups)
	if an.dups != 0 {
		t.Errorf("%d duplicates under read_committed, want 0", an.dups)
	}
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d, want 0; output:\n%s", code, p.output)
	}
}

// TestRemovedTaskTransactionFenced: a source task that crashed with a
// transaction open on the offsets topic and no longer exists (tasks.max
// went down) would hold every read_committed read of that topic until its
// transaction timed out (5 min here); the leader fences it, and the copy
// goes on at once.
func TestRemovedTaskTransactionFenced(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 4, nil)
	a.produce(t, "orders", 4, 0, 100, "zombie")
	b.createTopic(t, "mm2-offsets.A.internal", 25, map[string]string{"cleanup.policy": "compact"})
	zombie := b.client(t, kgo.TransactionalID("A-mm2-MirrorSourceConnector-7"), kgo.TransactionTimeout(5*time.Minute))
	if err := zombie.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	rec := &kgo.Record{Topic: "mm2-offsets.A.internal", Key: []byte(`["MirrorSourceConnector",{"cluster":"A","partition":0,"topic":"orders"}]`), Value: []byte(`{"offset":0}`)}
	if err := zombie.ProduceSync(context.Background(), rec).FirstErr(); err != nil {
		t.Fatal(err)
	}

	w := startWorker(t, props([]*cluster{a, b}, "A->B.enabled = true", "tasks.max = 2", "B.exactly.once.source.support = enabled"))
	an := waitAllCopied(t, a, "orders", b, "A.orders", 60*time.Second)
	if an.dups != 0 {
		t.Errorf("%d duplicates", an.dups)
	}
	w.stop(t)
	// The zombie's position never counted: partition 0 was copied from
	// its start.
	if err := zombie.EndTransaction(context.Background(), kgo.TryCommit); err == nil {
		t.Error("the removed task's transaction committed after the fencing")
	}
}
