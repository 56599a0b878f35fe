package replicator

import (
	"context"
	"testing"

	"github.com/strait-replicator/strait/checkpoint"
)

// translate returns what the syncs written translate upstream to, for
// partition 0 of orders.
func translate(syncs []checkpoint.OffsetSync, upstream int64) int64 {
	st := checkpoint.NewStore(checkpoint.DefaultHistory)
	for _, s := range syncs {
		st.Add(s)
	}
	down, ok := st.Translate(checkpoint.TopicPartition{Topic: "orders", Partition: 0}, upstream)
	if !ok {
		return -1
	}
	return down
}

// TestQuietSyncWritesLastSync: 1000 records acknowledged, then nothing.
// MM2's rules write syncs up to 909 (offset.lag.max 100): a group
// committed at 1000 translates to 910 until the next position flush. The
// first look after the last acknowledgement sees it move; the next one,
// a quiet interval later, writes the last record's sync, and the group
// translates to 1000.
func TestQuietSyncWritesLastSync(t *testing.T) {
	tt := newTestTask(t, false, 0)
	tt.send(0, 0, 999)
	for i := range int64(1000) {
		tt.ack(0, i, nil)
	}
	mm2 := tt.syncs.sent()
	if last := mm2[len(mm2)-1]; last.Upstream != 909 || translate(mm2, 1000) != 910 {
		t.Fatalf("MM2's rules wrote syncs up to %d, translating 1000 to %d; want 909 and 910", last.Upstream, translate(mm2, 1000))
	}
	tt.sendQuietSyncs() // sees the acknowledgements since the start
	if n := len(tt.syncs.sent()); n != len(mm2) {
		t.Fatalf("a look right after acknowledgements wrote %d syncs", n-len(mm2))
	}
	tt.sendQuietSyncs() // a quiet interval later
	got := tt.syncs.sent()
	if len(got) != len(mm2)+1 || got[len(got)-1] != (checkpoint.OffsetSync{Topic: "orders", Partition: 0, Upstream: 999, Downstream: 999}) {
		t.Fatalf("quiet partition: syncs %v after MM2's, want the last record's, 999->999", got[len(mm2):])
	}
	if down := translate(got, 1000); down != 1000 {
		t.Errorf("a group committed at 1000 translates to %d, want 1000 (0 re-read)", down)
	}
	tt.sendQuietSyncs()
	if n := len(tt.syncs.sent()); n != len(got) {
		t.Errorf("a partition still quiet wrote %d more syncs", n-len(got))
	}
}

// TestQuietSyncFlushed: a quiet partition's last sync is flushed as soon
// as it is sent, not left to the syncs producer's linger: a checkpoint
// taken meanwhile would translate a caught-up group to the sync before it
// and the group would re-read up to offset.lag.max records after failing
// over. Looks that send nothing flush nothing.
func TestQuietSyncFlushed(t *testing.T) {
	tt := newTestTask(t, false, 0)
	tt.send(0, 0, 999)
	for i := range int64(1000) {
		tt.ack(0, i, nil)
	}
	ctx := context.Background()
	tt.writeQuietSyncs(ctx) // sees the acknowledgements move
	if n := tt.syncs.flushed(); n != 0 {
		t.Fatalf("a look that sent nothing flushed %d times", n)
	}
	tt.writeQuietSyncs(ctx) // quiet: the last record's sync
	if n := tt.syncs.flushed(); n != 1 {
		t.Fatalf("the quiet partition's last sync was flushed %d times, want 1", n)
	}
	tt.writeQuietSyncs(ctx) // still quiet, nothing new to send
	if n := tt.syncs.flushed(); n != 1 {
		t.Errorf("a look with nothing to send flushed; %d flushes, want 1", n)
	}
}

// TestQuietSyncLeavesBusyPartitions: a partition acknowledged between
// every two looks gets exactly the syncs MM2's rules give it; the quiet
// rule only writes a delayed sync sooner, for a partition that stopped
// moving.
func TestQuietSyncLeavesBusyPartitions(t *testing.T) {
	tt := newTestTask(t, false, 0)
	want := checkpoint.NewSyncState(100)
	var due int
	tt.send(0, 0, 9999)
	for i := range int64(10000) {
		tt.ack(0, i, nil)
		if want.Update(checkpoint.OffsetSync{Topic: "orders", Partition: 0, Upstream: i, Downstream: i}) {
			due++
		}
		if i%37 == 0 {
			tt.sendQuietSyncs()
		}
	}
	if got := len(tt.syncs.sent()); got != due {
		t.Errorf("busy partition: %d syncs, want MM2's %d", got, due)
	}
}

// TestQuietSyncAfterFailure: a partition that stopped at a refused record
// gets the sync of its last acknowledged record, and none past it.
func TestQuietSyncAfterFailure(t *testing.T) {
	tt := newTestTask(t, false, 0)
	tt.send(0, 0, 49)
	for i := range int64(40) {
		tt.ack(0, i, nil)
	}
	for range 10 {
		tt.ack(0, -1, errRefusedForTest)
	}
	tt.sendQuietSyncs()
	tt.sendQuietSyncs()
	got := tt.syncs.sent()
	if last := got[len(got)-1]; last.Upstream != 39 || last.Downstream != 39 {
		t.Errorf("last sync %v, want 39->39, the last record acknowledged", last)
	}
}

var errRefusedForTest = ErrTimestampNotCopyable
