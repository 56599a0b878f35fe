package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/checkpoint"
)

// TestQuietPartitionFailsOverExactly: a group caught up to the end of a
// partition that went quiet translates to the end of its remote
// partition within seconds of the last record's copy, without waiting for
// the position flush (60 s here): the last record's offset sync is
// written about a second after its acknowledgement. Under MM2's rules
// alone the last sync is at 909 of 1,000 records (offset.lag.max 100),
// and the group translates to 910 until the flush: 90 records re-read.
func TestQuietPartitionFailsOverExactly(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "quiet", 1, nil)
	a.produce(t, "quiet", 1, 0, 1000, "quiet")
	if _, err := a.admin(t).CommitOffsets(context.Background(), "app", kadm.OffsetsFromRecords(kgo.Record{Topic: "quiet", Partition: 0, Offset: 999})); err != nil {
		t.Fatal(err)
	}
	startWorker(t, props([]*cluster{a, b}, "A->B.enabled = true", "emit.checkpoints.interval.seconds = 1", "offset.flush.interval.ms = 60000"))
	waitCopied(t, b, "A.quiet", 1000, 30*time.Second)
	copied := time.Now()
	tp := checkpoint.TopicPartition{Topic: "A.quiet", Partition: 0}
	waitFor(t, 10*time.Second, func() (bool, string) {
		got, _, err := checkpoint.ReadGroup(context.Background(), b.admin(t), []kgo.Opt{kgo.SeedBrokers(b.ListenAddrs()...)}, "A.checkpoints.internal", "app")
		if err != nil {
			return false, err.Error()
		}
		c, ok := got[tp]
		return ok && c.Upstream == 1000 && c.Downstream == 1000,
			fmt.Sprintf("checkpoint of app for A.quiet/0: %d->%d (present %v), want 1000->1000, the end of A.quiet/0", c.Upstream, c.Downstream, ok)
	})
	t.Logf("exact checkpoint %s after the copy completed (a measurement, not an assertion)", time.Since(copied).Round(10*time.Millisecond))
}
