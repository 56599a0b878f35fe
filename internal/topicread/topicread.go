// Package topicread reads a topic from its start up to the end offsets it
// has when the read begins: how Strait loads the state it keeps in
// compacted topics (positions, checkpoints, offset syncs).
package topicread

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
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
	from := make(map[int32]kgo.Offset, len(want))
	for p := range want {
		from[p] = kgo.NewOffset().AtStart()
	}
	return readUntil(ctx, opts, topic, from, want, fn)
}

// ReadTail calls fn, as ReadToEnd does, for the committed records among
// the last n offsets of each partition of topic (the newest heartbeats of
// a compacted topic, say), up to the end offsets it had when the call
// began.
func ReadTail(ctx context.Context, adm *kadm.Client, opts []kgo.Opt, topic string, n int64, fn func(*kgo.Record)) error {
	ends, err := Ends(ctx, adm, topic)
	if err != nil || len(ends) == 0 {
		return err
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return fmt.Errorf("read %s: list start offsets: %w", topic, err)
	}
	from, want := map[int32]kgo.Offset{}, map[int32]int64{}
	for p, end := range ends {
		start := max(end-n, 0)
		if o, ok := starts.Lookup(topic, p); ok && o.Err == nil {
			start = max(start, o.Offset)
		}
		if start < end {
			from[p], want[p] = kgo.NewOffset().At(start), end
		}
	}
	if len(want) == 0 {
		return nil
	}
	return readUntil(ctx, opts, topic, from, want, fn)
}

// readUntil reads the partitions of topic in from, each from its offset
// there to its end in want, calling fn for every committed record.
func readUntil(ctx context.Context, opts []kgo.Opt, topic string, from map[int32]kgo.Offset, want map[int32]int64, fn func(*kgo.Record)) error {
	cl, err := kgo.NewClient(slices.Concat(opts, []kgo.Opt{
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Transaction markers occupy offsets up to the end: see them, so
		// the read knows it has reached the end.
		kgo.KeepControlRecords(),
	})...)
	if err != nil {
		return err
	}
	defer cl.Close()
	want = maps.Clone(want)
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

// Follower reads a topic from its start and keeps reading, read_committed,
// handing each record to a function: one reader of a state topic shared by
// everything that needs it up to date (as Connect's KafkaBasedLog). WaitEnd
// waits until it has read what the topic held when WaitEnd was called.
type Follower struct {
	topic string
	from  map[int32]int64   // where reading starts, per partition; nil: every partition from its start
	fn    func(*kgo.Record) // called by Run only

	mu       sync.Mutex
	next     map[int32]int64 // per partition, the offset after the last record read
	failed   map[int32]error // per partition, a fetch error retrying does not fix, until it reads again
	progress chan struct{}   // closed and replaced whenever next, failed or err change
	err      error           // why Run stopped
}

// ErrStopped is what WaitEnd returns once its Follower's Run has returned.
var ErrStopped = errors.New("topic follower stopped")

// NewFollower returns a Follower of topic calling fn for every committed
// record; fn must not block.
func NewFollower(topic string, fn func(*kgo.Record)) *Follower {
	return &Follower{topic: topic, fn: fn, next: map[int32]int64{}, failed: map[int32]error{}, progress: make(chan struct{})}
}

// NewFollowerFrom returns a Follower of the partitions of topic in from,
// each read from the offset from gives (a state already loaded up to
// there), calling fn for every committed record; fn must not block.
func NewFollowerFrom(topic string, from map[int32]int64, fn func(*kgo.Record)) *Follower {
	f := NewFollower(topic, fn)
	f.from = maps.Clone(from)
	maps.Copy(f.next, from)
	return f
}

// Run reads until ctx is done. opts are the cluster's client options;
// onError hears the fetch errors that retrying will not fix (they also end
// the WaitEnd calls).
func (f *Follower) Run(ctx context.Context, opts []kgo.Opt, onError func(error)) {
	consume := []kgo.Opt{kgo.ConsumeTopics(f.topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}
	if f.from != nil {
		at := map[int32]kgo.Offset{}
		for p, o := range f.from {
			at[p] = kgo.NewOffset().At(o)
		}
		consume = []kgo.Opt{kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{f.topic: at})}
	}
	cl, err := kgo.NewClient(slices.Concat(opts, consume, []kgo.Opt{
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(), // markers take offsets up to the end
	})...)
	if err != nil {
		f.fail(err)
		return
	}
	defer cl.Close()
	defer f.fail(ErrStopped)
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		failed := map[int32]error{}
		fs.EachError(func(t string, p int32, err error) {
			err = fmt.Errorf("read %s/%d: %w", t, p, err)
			if onError != nil {
				onError(err)
			}
			if ke := (*kerr.Error)(nil); errors.As(err, &ke) && !ke.Retriable {
				failed[p] = err // kgo goes on trying; a wait for p fails meanwhile
			}
		})
		moved := map[int32]int64{}
		fs.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				f.fn(r)
			}
			moved[r.Partition] = r.Offset + 1
		})
		if len(moved) == 0 && len(failed) == 0 {
			continue
		}
		f.mu.Lock()
		for p, o := range moved {
			f.next[p] = max(f.next[p], o)
			delete(f.failed, p)
		}
		for p, err := range failed {
			f.failed[p] = err
		}
		f.signal()
		f.mu.Unlock()
	}
}

// WarnEvery returns an onError for Run that logs each fetch error as a
// warning with args (say which topic on which cluster), at most once per
// interval: the client retries fetch errors, so an outage would otherwise
// log at every poll. Run calls it from one goroutine.
func WarnEvery(log *slog.Logger, interval time.Duration, msg string, args ...any) func(error) {
	var last time.Time
	return func(err error) {
		if now := time.Now(); last.IsZero() || now.Sub(last) >= interval {
			last = now
			log.Warn(msg, append(slices.Clone(args), "err", err)...)
		}
	}
}

// signal wakes the waits; f.mu is held.
func (f *Follower) signal() {
	close(f.progress)
	f.progress = make(chan struct{})
}

func (f *Follower) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
	f.signal()
}

// WaitEnd returns once the follower has handed on every record the topic
// held when it was called (for a read_committed reader: once transactions
// open then have ended), or why it cannot.
func (f *Follower) WaitEnd(ctx context.Context, adm *kadm.Client) error {
	want, err := Ends(ctx, adm, f.topic)
	if err != nil {
		return err
	}
	for {
		f.mu.Lock()
		var behind []int32
		for p, end := range want {
			if f.next[p] < end {
				behind = append(behind, p)
			}
		}
		progress, ferr := f.progress, f.err
		for _, p := range behind {
			if ferr == nil {
				ferr = f.failed[p]
			}
		}
		f.mu.Unlock()
		if len(behind) == 0 {
			return nil
		}
		if ferr != nil {
			return fmt.Errorf("read %s: %w", f.topic, ferr)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("read %s: %w", f.topic, ctx.Err())
		case <-progress:
		}
	}
}
