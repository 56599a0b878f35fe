package replicator

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/internal/kclient"
	"github.com/strait-replicator/strait/replicator/connectstate"
)

// PartitionLag is how far a flow's copy of one source partition is behind.
type PartitionLag struct {
	Flow      string
	Topic     string // source topic
	Remote    string // remote topic on the target
	Partition int32
	// End is the source partition's end offset; Next the next offset to
	// copy (one past the stored position, or the log start if none).
	End, Next int64
	// Records is End - Next: records on the source not yet copied (offset
	// gaps, such as transaction markers, count too).
	Records int64
	// Behind is the age of the oldest record not yet copied; zero when
	// nothing is behind or it could not be read.
	Behind time.Duration
}

// Lag reads, without running anything, how far flow f is behind: the
// source's end offsets against the positions in the flow's offsets topic.
func Lag(ctx context.Context, f configs.Flow, src, tgt configs.Cluster) ([]PartitionLag, error) {
	srcOpts, err := kclient.ClusterOpts(src, f.Name()+"|lag")
	if err != nil {
		return nil, err
	}
	tgtOpts, err := kclient.ClusterOpts(tgt, f.Name()+"|lag")
	if err != nil {
		return nil, err
	}
	srcAdm, _, err := openAdmin(ctx, src, srcOpts)
	if err != nil {
		return nil, err
	}
	defer srcAdm.Close()
	tgtAdm, _, err := openAdmin(ctx, tgt, tgtOpts)
	if err != nil {
		return nil, err
	}
	defer tgtAdm.Close()
	positions, err := connectstate.NewOffsets(f.OffsetsTopic, f.Source, slog.New(slog.DiscardHandler)).Read(ctx, tgtAdm, tgtOpts)
	if err != nil {
		return nil, fmt.Errorf("read positions of %s: %w", f.Name(), err)
	}
	topics, err := srcAdm.ListTopics(ctx)
	if err != nil {
		return nil, fmt.Errorf("list topics on cluster %s: %w", src.Alias, err)
	}
	var names []string
	for _, d := range topics.Sorted() {
		if d.Err == nil && f.Topics.Replicate(d.Topic) {
			names = append(names, d.Topic)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	ends, err := srcAdm.ListEndOffsets(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("list end offsets on cluster %s: %w", src.Alias, err)
	}
	starts, err := srcAdm.ListStartOffsets(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("list start offsets on cluster %s: %w", src.Alias, err)
	}
	var out []PartitionLag
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			return
		}
		l := PartitionLag{Flow: f.Name(), Topic: o.Topic, Remote: f.Policy.FormatRemoteTopic(f.Source, o.Topic), Partition: o.Partition, End: o.Offset}
		if pos, ok := positions[topicPartition{Topic: o.Topic, Partition: o.Partition}]; ok {
			l.Next = pos + 1
		} else if s, ok := starts.Lookup(o.Topic, o.Partition); ok {
			l.Next = s.Offset
		}
		l.Records = max(l.End-l.Next, 0)
		out = append(out, l)
	})
	slices.SortFunc(out, func(a, b PartitionLag) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	oldestUncopied(ctx, srcOpts, out)
	return out, nil
}

// oldestUncopied fills Behind from the timestamp of the first record not yet
// copied of each lagging partition; it gives up quietly after a few
// seconds (Behind stays zero).
func oldestUncopied(ctx context.Context, opts []kgo.Opt, lags []PartitionLag) {
	want := map[string]map[int32]kgo.Offset{}
	index := map[topicPartition]int{}
	for i, l := range lags {
		if l.Records == 0 {
			continue
		}
		if want[l.Topic] == nil {
			want[l.Topic] = map[int32]kgo.Offset{}
		}
		want[l.Topic][l.Partition] = kgo.NewOffset().At(l.Next)
		index[topicPartition{Topic: l.Topic, Partition: l.Partition}] = i
	}
	if len(index) == 0 {
		return
	}
	cl, err := kgo.NewClient(append(slices.Clone(opts), kgo.ConsumePartitions(want), kgo.FetchIsolationLevel(kgo.ReadCommitted()))...)
	if err != nil {
		return
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	now := time.Now()
	for len(index) > 0 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachPartition(func(p kgo.FetchTopicPartition) {
			i, ok := index[topicPartition{Topic: p.Topic, Partition: p.Partition}]
			if !ok || len(p.Records) == 0 {
				return
			}
			lags[i].Behind = max(now.Sub(p.Records[0].Timestamp), 0)
			delete(index, topicPartition{Topic: p.Topic, Partition: p.Partition})
		})
	}
}

// FlowProgress is a flow's copying progress as the worker sees it.
type FlowProgress struct {
	Flow      string
	Copied    int64 // records acknowledged since the tasks started
	Remaining int64 // records on the source not yet acknowledged
	// LatencyMs is the newest sampled replication latency of any of the
	// flow's partitions (now - record timestamp at acknowledgement); -1
	// before the first sample.
	LatencyMs int64
}

// Progress reports every flow's progress.
func (w *Worker) Progress() []FlowProgress {
	var out []FlowProgress
	for _, f := range w.flows {
		p := FlowProgress{Flow: f.name, LatencyMs: -1}
		for _, t := range f.sourceRuns() {
			p.Copied += t.status.Copied.Load()
			if parts := t.published.Load(); parts != nil {
				for _, ps := range *parts {
					if lag, ok := ps.lag(); ok {
						p.Remaining += lag
					}
					p.LatencyMs = max(p.LatencyMs, ps.lastLatency.Load())
				}
			}
		}
		out = append(out, p)
	}
	return out
}

// lag is the partition's records on the source not yet acknowledged by the
// target, known once a fetch reported the source's high watermark.
func (ps *partState) lag() (int64, bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.hwm < 0 {
		return 0, false
	}
	return max(ps.hwm-(ps.pos.acked+1), 0), true
}
