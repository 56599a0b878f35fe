// Package topicread reads a topic from its start up to the end offsets it
// has when the read begins: how Strait loads the state it keeps in
// compacted topics (positions, checkpoints, offset syncs).
package topicread

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Ends returns, for each partition of topic that holds records, its end
// offset (high watermark): the offset a read must reach to have seen every
// record committed before the call. Not the last stable offset: a
// transaction open on a partition holds that back before records that
// other producers committed after it began (in exactly-once mode tasks
// share the offsets topic's partitions), and a read that stopped there
// would miss them.
func Ends(ctx context.Context, adm *kadm.Client, topic string) (map[int32]int64, error) {
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list start offsets of %s: %w", topic, err)
	}
	// A partition emptied by retention or DeleteRecords has nothing to read
	// although its end offset is not zero.
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if lo, ok := starts.Lookup(o.Topic, o.Partition); ok && lo.Offset < o.Offset {
			want[o.Partition] = o.Offset
		}
	})
	return want, nil
}

// ReadToEnd calls fn for every committed record of topic from the start to
// the end offsets it had when the call began. opts are the cluster's
// client options. Records are read read_committed: in exactly-once mode
// positions are written in the transactions of the records they cover, and
// a position of a transaction that never committed is not state. A
// transaction open when the call began keeps the read waiting until it
// commits or aborts (or ctx ends): fence the transactional ids whose state
// is read first, so that only live producers' transactions remain, which
// end within a commit interval.
func ReadToEnd(ctx context.Context, adm *kadm.Client, opts []kgo.Opt, topic string, fn func(*kgo.Record)) error {
	want, err := Ends(ctx, adm, topic)
	if err != nil || len(want) == 0 {
		return err
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, opts...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Transaction markers occupy offsets up to the end: see them, so
		// the read knows it has reached the end.
		kgo.KeepControlRecords(),
	)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read %s: %w", topic, err)
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) { ferr = fmt.Errorf("read %s/%d: %w", t, p, err) })
		if ferr != nil {
			return ferr
		}
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := want[r.Partition]
			if !ok {
				return
			}
			if !r.Attrs.IsControl() {
				fn(r)
			}
			if r.Offset+1 >= end {
				delete(want, r.Partition)
			}
		})
	}
	return nil
}
