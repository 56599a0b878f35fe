package checkpoint

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

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
	// Behind is how many offsets the source group has moved past the
	// checkpointed one: what the group will re-read beyond the
	// translation; -1 when the source cannot be asked.
	Behind int64 `json:"behind_source"`
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
	// AdminTimeout is the flow's admin.timeout.ms: it bounds each admin
	// request (zero: only the caller's ctx does).
	AdminTimeout time.Duration
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
// within a few seconds, compares them with the group's offsets there. It
// blocks until the checkpoints topic is read to its end; the result is
// sorted by topic and partition, and empty when no checkpoint names group.
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
	source, err := f.FromAdmin.FetchOffsets(sctx, group)
	if err != nil {
		source = nil // unknown: every Behind stays -1
	}
	return f.translate(cps, source, time.Now()), nil
}

// translate turns the checkpoints cps, as of now, into translations sorted
// by topic and partition; source, the group's offsets on From (nil when
// unknown), gives each its Behind.
func (f *Failover) translate(cps map[TopicPartition]Written, source kadm.OffsetResponses, now time.Time) []Translation {
	out := make([]Translation, 0, len(cps))
	for _, w := range cps {
		tr := Translation{Topic: w.Topic, Partition: w.Partition, Offset: w.Downstream, Upstream: w.Upstream,
			Metadata: w.Metadata, AgeSeconds: int64(now.Sub(w.At).Seconds()), Behind: -1}
		if o, ok := source.Lookup(f.upstreamTopic(w.Topic), w.Partition); ok && o.Err == nil && o.At >= 0 {
			tr.Behind = o.At - w.Upstream
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
