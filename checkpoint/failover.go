package checkpoint

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/strait-replicator/strait/heartbeat"
	"github.com/strait-replicator/strait/internal/topicread"
	"github.com/strait-replicator/strait/policy"
)

// sourceWait bounds the question to the source cluster in Translations: the
// source may be down, which is what a failover is for.
const sourceWait = 5 * time.Second

// Translation is one partition's position of a group translated to the
// cluster the group moves to.
type Translation struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Offset is where the group resumes on the target.
	Offset int64 `json:"offset"`
	// Upstream is the source offset it was translated from.
	Upstream   int64  `json:"upstream_offset"`
	Metadata   string `json:"metadata"`
	AgeSeconds int64  `json:"checkpoint_age_seconds"`
	// WrittenAt is when the checkpoint was written: when the checkpoint
	// task last found the group at Upstream (it writes the checkpoint of a
	// group that does not move again every Refresh).
	WrittenAt time.Time `json:"checkpoint_time"`
	// Behind is how many offsets the source group has moved past the
	// checkpointed one; -1 when the source cannot be asked.
	Behind int64 `json:"behind_source"`
	// ResumesAt is the source offset of the record the group reads first
	// at Offset on the target, by the offset syncs; nil when they cannot be
	// read.
	ResumesAt *int64 `json:"resumes_at_source_offset"`
	// Reread is how many records the group reads again after the failover:
	// its committed offset on the source (Upstream when the source cannot
	// be asked, and then it may re-read up to Behind more) minus ResumesAt.
	// It counts both the group's moves since the checkpoint and a
	// translation short of the group's offset (one past an older sync, at a
	// partition's end before its last sync is written). Negative: records
	// the group would skip. nil when ResumesAt is unknown.
	Reread *int64 `json:"reread"`
}

// Failover moves a consumer group from cluster From to cluster To, as MM2's
// RemoteClusterUtils.translateOffsets and an admin's commit do: it reads the
// checkpoints that the flow From->To wrote on To, and commits them to the
// group on To. It holds no goroutine; the caller owns and closes the
// clients.
type Failover struct {
	From, To string        // cluster aliases
	Policy   policy.Policy // the flow From->To's replication policy
	// FromAdmin is on From, which may be unreachable: only Behind needs it.
	FromAdmin *kadm.Client
	ToAdmin   *kadm.Client
	ToOpts    []kgo.Opt // client options of To, to read the checkpoints topic
	// Syncs are the flow From->To's offset syncs and Reverse the flow
	// To->From's (active/active), read to tell what each translation
	// re-reads; nil when there is no such flow. Syncs on From are read
	// within the same few seconds as the group's offsets there.
	Syncs, Reverse *Syncs
	// AdminTimeout is the flow's admin.timeout.ms: it bounds each admin
	// request (zero: only the caller's ctx does).
	AdminTimeout time.Duration
	// Now is the clock that ages are measured by; nil means time.Now.
	Now func() time.Time
}

// now reads the failover's clock.
func (f *Failover) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// adminContext bounds one admin request by AdminTimeout.
func (f *Failover) adminContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if f.AdminTimeout > 0 {
		return context.WithTimeout(ctx, f.AdminTimeout)
	}
	return ctx, func() {}
}

// EnsureInactive returns an error when group has active members on To:
// committing would be refused, and would race its consumers. A group that
// To has never seen is inactive. It blocks for one DescribeGroups request.
func (f *Failover) EnsureInactive(ctx context.Context, group string) error {
	ctx, cancel := f.adminContext(ctx)
	defer cancel()
	described, err := f.ToAdmin.DescribeGroups(ctx, group)
	if err == nil {
		err = described.Error()
	}
	if errors.Is(err, kerr.GroupIDNotFound) {
		return nil // never used on the target: nothing to stop
	}
	if err != nil {
		return fmt.Errorf("describe group %s on cluster %s: %w", group, f.To, err)
	}
	if d := described[group]; !Inactive(d.State) {
		return fmt.Errorf("group %s is %s with %d active member(s) on cluster %s: stop its consumers there first", group, d.State, len(d.Members), f.To)
	}
	return nil
}

// Commit commits the translated offsets to group on To. It blocks for one
// OffsetCommit request.
func (f *Failover) Commit(ctx context.Context, group string, trs []Translation) error {
	var offsets kadm.Offsets
	for _, tr := range trs {
		offsets.Add(kadm.Offset{Topic: tr.Topic, Partition: tr.Partition, At: tr.Offset, LeaderEpoch: -1, Metadata: tr.Metadata})
	}
	ctx, cancel := f.adminContext(ctx)
	defer cancel()
	resp, err := f.ToAdmin.CommitOffsets(ctx, group, offsets)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return fmt.Errorf("commit offsets of group %s on cluster %s: %w", group, f.To, err)
	}
	return nil
}

// Translations reads group's checkpoints on To and, when From answers
// within a few seconds, compares them with the group's offsets there; with
// the offset syncs, when they can be read, it tells what each translation
// re-reads. It blocks until the checkpoints topic is read to its end; the
// result is sorted by topic and partition, and empty when no checkpoint
// names group.
func (f *Failover) Translations(ctx context.Context, group string) ([]Translation, error) {
	topic := f.Policy.CheckpointsTopic(f.From)
	cps, _, err := ReadGroup(ctx, f.ToAdmin, f.ToOpts, topic, group)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", f.To, err)
	}
	wait := sourceWait
	if f.AdminTimeout > 0 {
		wait = min(wait, f.AdminTimeout)
	}
	sctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var (
		source           kadm.OffsetResponses
		forward, reverse *Store
		g                errgroup.Group
	)
	g.Go(func() error {
		var err error
		if source, err = f.FromAdmin.FetchOffsets(sctx, group); err != nil {
			source = nil // unknown: every Behind stays -1
		}
		return nil
	})
	g.Go(func() error { forward = f.readSyncs(sctx, f.Syncs, false); return nil })
	g.Go(func() error { reverse = f.readSyncs(sctx, f.Reverse, true); return nil })
	_ = g.Wait() // each leaves its part unknown on error
	return f.translate(cps, source, syncStores{forward, reverse}, f.now()), nil
}

// Groups lists, sorted, the groups that the checkpoints of the flow
// From->To on To cover: those with at least one checkpoint. It blocks
// until the checkpoints topic is read to its end.
func (f *Failover) Groups(ctx context.Context) ([]string, error) {
	topic := f.Policy.CheckpointsTopic(f.From)
	seen := map[string]bool{}
	err := topicread.ReadToEnd(ctx, f.ToAdmin, f.ToOpts, topic, func(r *kgo.Record) {
		if c, err := DecodeCheckpoint(r.Key, r.Value); err == nil {
			seen[c.Group] = true
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read the groups of %s on cluster %s: %w", topic, f.To, err)
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// readSyncs reads the offset syncs s to their end into a store, as the
// checkpoint task holds them (reverse: the reverse flow's, turned round);
// nil when s is nil or cannot be read.
func (f *Failover) readSyncs(ctx context.Context, s *Syncs, reverse bool) *Store {
	if s == nil {
		return nil
	}
	store := NewStore(DefaultHistory)
	err := topicread.ReadToEnd(ctx, s.Admin, s.Opts, s.Topic, func(r *kgo.Record) {
		sync, err := DecodeOffsetSync(r.Key, r.Value)
		if err != nil || r.Partition != 0 {
			return // as the checkpoint task: partition 0 only
		}
		if reverse {
			sync = Reversed(f.Policy, f.To, sync)
		}
		store.Add(sync)
	})
	if err != nil {
		return nil
	}
	return store
}

// syncStores are the offset syncs a failover translates back with: the
// flow's (keyed by the topic on From) and the reverse flow's, turned round
// (keyed by the remote topic on From); nil when unknown.
type syncStores struct{ forward, reverse *Store }

// translate turns the checkpoints cps, as of now, into translations sorted
// by topic and partition; source, the group's offsets on From (nil when
// unknown), gives each its Behind, and with the syncs its Reread.
func (f *Failover) translate(cps map[TopicPartition]Written, source kadm.OffsetResponses, syncs syncStores, now time.Time) []Translation {
	out := make([]Translation, 0, len(cps))
	for _, w := range cps {
		up := f.upstreamTopic(w.Topic)
		tr := Translation{Topic: w.Topic, Partition: w.Partition, Offset: w.Downstream, Upstream: w.Upstream,
			Metadata: w.Metadata, AgeSeconds: int64(now.Sub(w.At).Seconds()), WrittenAt: w.At, Behind: -1}
		at := w.Upstream // the group's offset on From, as far as known
		if o, ok := source.Lookup(up, w.Partition); ok && o.Err == nil && o.At >= 0 {
			tr.Behind, at = o.At-w.Upstream, o.At
		}
		store := syncs.forward
		// As the checkpoint task translated it: a copy of To's own topic
		// through the reverse flow's syncs (a name that is not remote has
		// no source, never an alias).
		if src, _ := f.Policy.TopicSource(up); src == f.To {
			store = syncs.reverse
		}
		if store != nil {
			if resume, ok := store.Resume(TopicPartition{up, w.Partition}, w.Downstream); ok {
				reread := at - resume
				tr.ResumesAt, tr.Reread = &resume, &reread
			}
		}
		out = append(out, tr)
	}
	slices.SortFunc(out, func(a, b Translation) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return out
}

// upstreamTopic is the topic on From that a checkpoint's topic on To came
// from: A.orders came from orders; orders (on B, from B.orders on A) from
// B.orders.
func (f *Failover) upstreamTopic(target string) string {
	if src, ok := f.Policy.TopicSource(target); ok && src == f.From {
		if up, ok := f.Policy.UpstreamTopic(target); ok {
			return up
		}
	}
	return f.Policy.FormatRemoteTopic(f.To, target)
}

// HeartbeatsTopic is the topic on To that holds the heartbeats that
// travelled From->To: From's heartbeats topic, copied by the flow's source
// task ("A.heartbeats" on B). Whichever flow wrote them into From, a recent
// one there says that replication From->To was copying records then.
func (f *Failover) HeartbeatsTopic() string {
	return f.Policy.FormatRemoteTopic(f.From, policy.HeartbeatsTopic)
}

// NewestHeartbeat returns the time of the newest heartbeat in
// HeartbeatsTopic on To; the zero time when the topic does not exist or
// holds none (heartbeats are not emitted into From, or not replicated). It
// blocks until the topic is read to its end.
func (f *Failover) NewestHeartbeat(ctx context.Context) (time.Time, error) {
	topic := f.HeartbeatsTopic()
	actx, cancel := f.adminContext(ctx)
	listed, err := f.ToAdmin.ListTopics(actx, topic)
	cancel()
	if err != nil {
		return time.Time{}, fmt.Errorf("list topic %s on cluster %s: %w", topic, f.To, err)
	}
	if !listed.Has(topic) {
		return time.Time{}, nil
	}
	var newest int64
	err = topicread.ReadToEnd(ctx, f.ToAdmin, f.ToOpts, topic, func(r *kgo.Record) {
		if h, err := heartbeat.Decode(r.Key, r.Value); err == nil {
			newest = max(newest, h.Timestamp)
		}
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("read heartbeats from %s on cluster %s: %w", topic, f.To, err)
	}
	if newest == 0 {
		return time.Time{}, nil
	}
	return time.UnixMilli(newest), nil
}

// StaleError says why the checkpoints of a group are not to be committed:
// replication or the checkpoint flow looks stopped.
type StaleError struct {
	Group   string
	Reasons []string
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("the checkpoints of group %s may not hold: %s", e.Group, strings.Join(e.Reasons, "; "))
}

// Judge returns a *StaleError when, as of now, the translations trs of
// group may not reflect where the group is on From; nil when they do.
//
// It judges by whether what produces them runs, not by when the group last
// moved: the checkpoint task writes the checkpoint of a group that did not
// move again every Refresh, having read the group's offset on From (Next),
// so a checkpoint older than maxAge says that the checkpoint flow stopped,
// cannot reach From, or the group moved where translation could not follow
// it. newestHeartbeat (NewestHeartbeat) older than maxAge says that
// replication From->To stopped copying. The zero newestHeartbeat (none
// reached To) judges nothing: the caller says that it cannot tell.
func (f *Failover) Judge(group string, trs []Translation, newestHeartbeat, now time.Time, maxAge time.Duration) error {
	var reasons []string
	if !newestHeartbeat.IsZero() {
		if age := now.Sub(newestHeartbeat); age > maxAge {
			reasons = append(reasons, fmt.Sprintf("replication from %s to %s looks stopped: the newest heartbeat from %s on %s (%s) is %s old, more than %s",
				f.From, f.To, f.From, f.To, f.HeartbeatsTopic(), age.Round(time.Second), maxAge))
		}
	}
	var stale []string
	var oldest time.Duration
	for _, tr := range trs {
		if age := now.Sub(tr.WrittenAt); age > maxAge {
			stale = append(stale, fmt.Sprintf("%s/%d", tr.Topic, tr.Partition))
			oldest = max(oldest, age)
		}
	}
	if len(stale) > 0 {
		const named = 5
		list := strings.Join(stale[:min(len(stale), named)], ", ")
		if len(stale) > named {
			list += fmt.Sprintf(" and %d more", len(stale)-named)
		}
		reasons = append(reasons, fmt.Sprintf("the checkpoint flow %s->%s has not confirmed the group's position on %d of %d partitions (%s) for up to %s, more than %s: is its checkpoint task running and able to reach %s? (nor is a group confirmed that moved past what replication has copied)",
			f.From, f.To, len(stale), len(trs), list, oldest.Round(time.Second), maxAge, f.From))
	}
	if len(reasons) == 0 {
		return nil
	}
	return &StaleError{Group: group, Reasons: reasons}
}
