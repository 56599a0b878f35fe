package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"golang.org/x/sync/errgroup"

	"github.com/strait-replicator/strait/internal/kclient"
	"github.com/strait-replicator/strait/internal/topicread"
	"github.com/strait-replicator/strait/policy"
)

// Syncs is where a flow's offset syncs are read from.
type Syncs struct {
	Topic   string
	Cluster string       // the alias of the cluster holding Topic, for messages
	Admin   *kadm.Client // on that cluster
	Opts    []kgo.Opt    // client options of that cluster
}

// Task is a flow's checkpoint task: it translates the committed offsets of
// the source's consumer groups through the flow's offset syncs, writes
// checkpoints to the target, and, when asked, commits them to the groups
// on the target that have no active member there.
//
// A group's offsets on a topic that came from the target (B.orders on A,
// in the flow A->B) translate back through the reverse flow's syncs, so an
// active/active consumer fails over on both kinds of topic.
type Task struct {
	Flow           string // "A->B"
	Source, Target string
	Policy         policy.Policy
	Topics         policy.Filter // topics, topics.exclude
	Groups         policy.Filter // groups, groups.exclude
	Interval       time.Duration // emit.checkpoints.interval.seconds
	// SyncGroupsInterval is sync.group.offsets.interval.seconds; zero when
	// sync.group.offsets.enabled is false.
	SyncGroupsInterval time.Duration
	Syncs              Syncs  // the flow's offset syncs
	Reverse            *Syncs // the reverse flow's offset syncs, if it runs
	CheckpointsTopic   string
	SourceAdmin        *kadm.Client
	TargetAdmin        *kadm.Client
	TargetOpts         []kgo.Opt
	Log                *slog.Logger
	// Latency, if set, records checkpoint-latency-ms: now - the checkpoint
	// record's timestamp when the target acknowledged it, per group, or per
	// group, topic and partition with LatencyPerPartition.
	Latency             metric.Int64Histogram
	LatencyPerPartition bool
	// WriteErrors, if set, counts failed checkpoint writes.
	WriteErrors metric.Int64Counter
	// Refresh is how old the checkpoint of a group that has not moved gets
	// before it is written again (Next); zero means DefaultRefresh.
	Refresh time.Duration
	// Now is the clock of the checkpoints' timestamps and ages; nil means
	// time.Now.
	Now func() time.Time

	mu      sync.Mutex
	forward *Store                    // upstream topic -> downstream offsets; guarded by mu
	reverse *Store                    // remote topic on the source -> offsets of the target's original; guarded by mu
	last    map[checkpointKey]Written // written by Run's emitting goroutine only, under lastMu
	lastMu  sync.Mutex                // guards writes of last and every read outside the emitting goroutine
}

// GroupCheckpoints is what a checkpoint task last wrote for one group.
type GroupCheckpoints struct {
	Group      string
	Partitions int       // partitions checkpointed
	Newest     time.Time // when the newest of its checkpoints was written
	Oldest     time.Time // when the oldest was written: what failover judges
}

// Checkpointed returns, per group, the checkpoints the task has written or
// loaded, sorted by group. Safe to call while Run runs.
func (t *Task) Checkpointed() []GroupCheckpoints {
	t.lastMu.Lock()
	defer t.lastMu.Unlock()
	by := map[string]*GroupCheckpoints{}
	for _, w := range t.last {
		g := by[w.Group]
		if g == nil {
			g = &GroupCheckpoints{Group: w.Group, Newest: w.At, Oldest: w.At}
			by[w.Group] = g
		}
		g.Partitions++
		if w.At.After(g.Newest) {
			g.Newest = w.At
		}
		if w.At.Before(g.Oldest) {
			g.Oldest = w.At
		}
	}
	out := make([]GroupCheckpoints, 0, len(by))
	for _, g := range by {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b GroupCheckpoints) int { return strings.Compare(a.Group, b.Group) })
	return out
}

type checkpointKey struct {
	group, topic string
	partition    int32
}

// Run emits checkpoints every Interval until ctx is done. It reads the
// offset syncs and the checkpoints already written before the first
// emission; the sync readers run until Run returns.
func (t *Task) Run(ctx context.Context) error {
	t.forward, t.reverse = NewStore(DefaultHistory), NewStore(DefaultHistory)
	t.lastMu.Lock()
	t.last = map[checkpointKey]Written{}
	t.lastMu.Unlock()
	if err := topicread.ReadToEnd(ctx, t.TargetAdmin, t.TargetOpts, t.CheckpointsTopic, t.loadCheckpoint); err != nil {
		return fmt.Errorf("checkpoints %s: load %s: %w", t.Flow, t.CheckpointsTopic, err)
	}
	producer, err := kgo.NewClient(append(slices.Clone(t.TargetOpts),
		kgo.DefaultProduceTopic(t.CheckpointsTopic), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		return err
	}
	defer producer.Close()

	g, ctx := errgroup.WithContext(ctx)
	ready := make(chan struct{}, 2)
	g.Go(func() error { return t.follow(ctx, t.Syncs, false, ready) })
	readers := 1
	if t.Reverse != nil {
		readers++
		g.Go(func() error { return t.follow(ctx, *t.Reverse, true, ready) })
	}
	g.Go(func() error {
		for range readers {
			select {
			case <-ready:
			case <-ctx.Done():
				return nil
			}
		}
		emit := time.NewTicker(t.Interval)
		defer emit.Stop()
		syncGroups := time.NewTicker(max(t.SyncGroupsInterval, time.Millisecond))
		if t.SyncGroupsInterval <= 0 {
			syncGroups.Stop()
		}
		defer syncGroups.Stop()
		for {
			if err := t.emit(ctx, producer); err != nil && ctx.Err() == nil {
				t.Log.Warn("emitting checkpoints failed; retrying at the next interval", "err", err)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-emit.C:
			case <-syncGroups.C:
				if err := t.syncGroupOffsets(ctx); err != nil && ctx.Err() == nil {
					t.Log.Warn("group offset sync failed; retrying at the next interval", "err", err)
				}
				continue
			}
		}
	})
	return g.Wait()
}

func (t *Task) loadCheckpoint(r *kgo.Record) {
	c, err := DecodeCheckpoint(r.Key, r.Value)
	if err != nil {
		t.Log.Warn("skipping undecodable checkpoint", "topic", t.CheckpointsTopic, "offset", r.Offset, "err", err)
		return
	}
	t.lastMu.Lock()
	defer t.lastMu.Unlock()
	t.last[checkpointKey{c.Group, c.Topic, c.Partition}] = Written{c, r.Timestamp}
}

// now reads the task's clock.
func (t *Task) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// follow reads a syncs topic from its start and keeps reading, through a
// topicread.Follower as the worker reads its state topics; it signals
// ready once it has read what the topic held when it began.
func (t *Task) follow(ctx context.Context, s Syncs, reverse bool, ready chan<- struct{}) error {
	// The topic may not exist yet: the flow that writes it creates it.
	for {
		_, err := topicread.Ends(ctx, s.Admin, s.Topic)
		if err == nil {
			break
		}
		t.Log.Debug("offset syncs topic not readable yet", "topic", s.Topic, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	fl := topicread.NewFollower(s.Topic, func(r *kgo.Record) {
		sync, err := DecodeOffsetSync(r.Key, r.Value)
		if err != nil {
			t.Log.Warn("skipping undecodable offset sync", "topic", s.Topic, "cluster", s.Cluster, "offset", r.Offset, "err", err)
			return
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if reverse {
			t.reverse.Add(Reversed(t.Policy, t.Target, sync))
		} else {
			t.forward.Add(sync)
		}
	})
	var g errgroup.Group
	g.Go(func() error {
		fl.Run(ctx, s.Opts, topicread.WarnEvery(t.Log, time.Minute, "reading offset syncs failed; retrying", "topic", s.Topic, "cluster", s.Cluster))
		return nil
	})
	g.Go(func() error {
		for {
			err := fl.WaitEnd(ctx, s.Admin)
			if err == nil {
				ready <- struct{}{} // buffered for every reader
				return nil
			}
			if ctx.Err() != nil || errors.Is(err, topicread.ErrStopped) {
				return nil
			}
			t.Log.Warn("offset syncs not read to their end yet; retrying", "topic", s.Topic, "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
		}
	})
	return g.Wait()
}

// translate returns the checkpoint of a group's committed offset, and
// whether the offset translates (else its Downstream is not set).
func (t *Task) translate(group, topic string, partition int32, o kadm.Offset) (Checkpoint, bool) {
	tp := TopicPartition{topic, partition}
	t.mu.Lock()
	defer t.mu.Unlock()
	store := t.forward
	if src, ok := t.Policy.TopicSource(topic); ok && src == t.Target {
		store = t.reverse
	}
	down, ok := store.Translate(tp, o.At)
	return Checkpoint{Group: group, Topic: policy.RemoteCheckpointTopic(t.Policy, t.Source, t.Target, topic), Partition: partition,
		Upstream: o.At, Downstream: down, Metadata: o.Metadata}, ok
}

// emit translates every group's committed offsets and writes the
// checkpoints that moved, and those of groups that did not move once they
// are Refresh old (Next).
func (t *Task) emit(ctx context.Context, producer *kgo.Client) error {
	listed, err := t.SourceAdmin.ListGroups(ctx)
	if err != nil {
		return fmt.Errorf("list groups on cluster %s: %w", t.Source, err)
	}
	var groups []string
	for _, g := range listed.Sorted() {
		if (g.ProtocolType == "consumer" || g.ProtocolType == "") && t.Groups.Match(g.Group) {
			groups = append(groups, g.Group)
		}
	}
	if len(groups) == 0 {
		return nil
	}
	refresh := t.Refresh
	if refresh <= 0 {
		refresh = DefaultRefresh
	}
	var recs []*kgo.Record
	var cps []Checkpoint
	// The checkpoints' timestamp, as MM2's: taken before the groups'
	// offsets are read, so that a rewritten one never claims more than the
	// read showed.
	now := t.now()
	for _, resp := range t.SourceAdmin.FetchManyOffsets(ctx, groups...) {
		if resp.Err != nil {
			t.Log.Warn("fetching group offsets failed", "group", resp.Group, "err", resp.Err)
			continue
		}
		resp.Fetched.Each(func(o kadm.OffsetResponse) {
			if o.Err != nil || o.At < 0 || !t.Topics.Match(o.Topic) {
				return
			}
			next, translated := t.translate(resp.Group, o.Topic, o.Partition, o.Offset)
			var prev *Written
			if w, seen := t.last[checkpointKey{next.Group, next.Topic, next.Partition}]; seen {
				prev = &w
			}
			cp, write := Next(prev, next, translated, now, refresh)
			if !write {
				return
			}
			if err := cp.Validate(); err != nil {
				t.Log.Warn("skipping checkpoint", "err", err)
				return
			}
			cps = append(cps, cp)
			recs = append(recs, &kgo.Record{Topic: t.CheckpointsTopic, Partition: 0, Key: cp.AppendKey(nil), Value: cp.AppendValue(nil), Timestamp: now})
		})
	}
	if len(recs) == 0 {
		return nil
	}
	// Not ProduceSync: a stop must not wait for a target that went away
	// with a request in flight.
	if err := kclient.ProduceWait(ctx, producer, recs...); err != nil {
		if t.WriteErrors != nil {
			t.WriteErrors.Add(ctx, 1)
		}
		return fmt.Errorf("write checkpoints to %s on cluster %s: %w", t.CheckpointsTopic, t.Target, err)
	}
	acked := t.now()
	t.lastMu.Lock()
	for i, cp := range cps {
		t.last[checkpointKey{cp.Group, cp.Topic, cp.Partition}] = Written{cp, recs[i].Timestamp}
	}
	t.lastMu.Unlock()
	if t.Latency != nil {
		byGroup := map[string]metric.RecordOption{} // one attribute set per group
		for i, cp := range cps {
			attrs := byGroup[cp.Group]
			if t.LatencyPerPartition {
				attrs = metric.WithAttributes(attribute.String("source", t.Source), attribute.String("target", t.Target), attribute.String("group", cp.Group),
					attribute.String("topic", cp.Topic), attribute.Int("partition", int(cp.Partition)))
			} else if attrs == nil {
				attrs = metric.WithAttributes(attribute.String("source", t.Source), attribute.String("target", t.Target), attribute.String("group", cp.Group))
				byGroup[cp.Group] = attrs
			}
			t.Latency.Record(ctx, acked.Sub(recs[i].Timestamp).Milliseconds(), attrs)
		}
	}
	t.Log.Debug("checkpoints written", "count", len(recs))
	return nil
}

// written returns the last checkpoint written per group and partition, as
// offsets to commit on the target.
func (t *Task) written() map[string]kadm.Offsets {
	out := map[string]kadm.Offsets{}
	for _, w := range t.last {
		cp := w.Checkpoint
		os := out[cp.Group]
		os.Add(kadm.Offset{Topic: cp.Topic, Partition: cp.Partition, At: cp.Downstream, LeaderEpoch: -1, Metadata: cp.Metadata})
		out[cp.Group] = os
	}
	return out
}

// syncGroupOffsets commits the checkpointed offsets to each group on the
// target that has no active member there, never lowering an offset the
// group already has on the target.
func (t *Task) syncGroupOffsets(ctx context.Context) error {
	written := t.written()
	if len(written) == 0 {
		return nil
	}
	groups := make([]string, 0, len(written))
	for g := range written {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	described, err := t.TargetAdmin.DescribeGroups(ctx, groups...)
	if err != nil {
		return fmt.Errorf("describe groups on cluster %s: %w", t.Target, err)
	}
	var errs []error
	for _, g := range groups {
		d, ok := described[g]
		if !ok || (d.Err != nil && !errors.Is(d.Err, kerr.GroupIDNotFound)) || (d.Err == nil && !Inactive(d.State)) {
			continue // active on the target, or unknown: never touch it
		}
		committed, err := t.TargetAdmin.FetchOffsets(ctx, g)
		if errors.Is(err, kerr.GroupIDNotFound) {
			committed, err = kadm.OffsetResponses{}, nil
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("fetch offsets of group %s on cluster %s: %w", g, t.Target, err))
			continue
		}
		commit := Raise(written[g], committed)
		if len(commit) == 0 {
			continue
		}
		resp, err := t.TargetAdmin.CommitOffsets(ctx, g, commit)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("commit offsets of group %s on cluster %s: %w", g, t.Target, err))
			continue
		}
		t.Log.Info("synced group offsets to target", "group", g, "partitions", len(commit))
	}
	return errors.Join(errs...)
}

// Inactive reports whether a group in state can have its offsets committed
// by an admin: it has no members (Empty) or does not exist (Dead).
func Inactive(state string) bool { return state == "Empty" || state == "Dead" || state == "" }

// Raise returns the offsets of want that are absent from committed or
// above what committed holds: committing them never lowers an offset.
func Raise(want kadm.Offsets, committed kadm.OffsetResponses) kadm.Offsets {
	out := kadm.Offsets{}
	want.Each(func(o kadm.Offset) {
		if c, ok := committed.Lookup(o.Topic, o.Partition); ok && c.Err == nil && c.At >= o.At {
			return
		}
		out.Add(o)
	})
	return out
}
