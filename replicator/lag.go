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
	// End is the source partition's end offset (its last stable offset:
	// records of open transactions are not copied yet); Next the next
	// offset to copy (one past the stored position, or the log start if
	// none).
	End, Next int64
	// Records is End - Next: records on the source not yet copied (offset
	// gaps, such as transaction markers, count too), or 0 when only
	// transaction markers remain.
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
	ends, starts, err := logOffsets(ctx, srcAdm, !f.SourceConsumer.ReadUncommitted, names)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", src.Alias, err)
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
	zeroMarkerGaps(ctx, srcOpts, !f.SourceConsumer.ReadUncommitted, out)
	oldestUncopied(ctx, srcOpts, out)
	return out, nil
}

// zeroMarkerGaps sets Records to 0 for the lagging partitions whose offsets
// still to go hold only transaction markers (probeGaps).
func zeroMarkerGaps(ctx context.Context, opts []kgo.Opt, readCommitted bool, lags []PartitionLag) {
	spans := map[topicPartition]lagSpan{}
	for _, l := range lags {
		if l.Records > 0 {
			spans[topicPartition{Topic: l.Topic, Partition: l.Partition}] = lagSpan{next: l.Next, end: l.End}
		}
	}
	if len(spans) == 0 {
		return
	}
	found := probeGaps(ctx, opts, readCommitted, spans)
	for i, l := range lags {
		if found[topicPartition{Topic: l.Topic, Partition: l.Partition}] {
			lags[i].Records = 0
		}
	}
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
	Flow string
	// Copied is the records this worker copied (acknowledged by the
	// target) since it started, over every run of the flow's tasks here:
	// a pause, a restart or a tasks.max change never takes it back.
	Copied int64
	// Remaining is the flow's lag as last measured (every few seconds):
	// records on the source not yet acknowledged, over the partitions this
	// worker reports (metric replication-lag-records) whose lag is known.
	Remaining int64
	// LagKnown says the last measure read the source's offsets; false
	// before the first and while the source cannot be asked.
	LagKnown bool
	// LatencyMs is the newest sampled replication latency of any of the
	// flow's partitions (now - record timestamp at acknowledgement); -1
	// before the first sample.
	LatencyMs int64
}

// Progress reports every flow's progress. It reads memory only: it does
// not wait for a cluster.
func (w *Worker) Progress() []FlowProgress {
	var out []FlowProgress
	for _, f := range w.flows {
		cfg := f.view.Load()
		p := FlowProgress{Flow: f.name, LatencyMs: -1, Copied: f.metrics.flowCopied(cfg.Source, cfg.Target)}
		if snap := f.lag.snapshot(); snap != nil && snap.err == nil {
			p.LagKnown = true
			for _, pl := range snap.parts {
				if pl.known {
					p.Remaining += pl.lag
				}
			}
		}
		for _, t := range f.sourceRuns() {
			if parts := t.published.Load(); parts != nil {
				for _, ps := range *parts {
					p.LatencyMs = max(p.LatencyMs, ps.lastLatency.Load())
				}
			}
		}
		out = append(out, p)
	}
	return out
}
