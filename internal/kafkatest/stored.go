package kafkatest

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/internal/rawlog"
)

// StoredTimestamps reads topic/partition through cl raw, from its start to
// its end, and returns the timestamp of each record as stored (not as
// franz-go's consumer converts it), in offset order, transaction markers
// left out.
func StoredTimestamps(ctx context.Context, cl *kgo.Client, topic string, partition int32) ([]int64, error) {
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	end, ok := ends.Lookup(topic, partition)
	if !ok {
		return nil, fmt.Errorf("end offset of %s/%d: not listed", topic, partition)
	}
	if end.Err != nil {
		return nil, fmt.Errorf("end offset of %s/%d: %w", topic, partition, end.Err)
	}
	byOffset := map[int64]int64{}
	for next := int64(0); next < end.Offset; {
		batches, err := rawlog.Fetch(ctx, cl, adm, topic, partition, next)
		if err != nil {
			return nil, err
		}
		ts, through, err := rawlog.Timestamps(batches, next, kgo.DefaultDecompressor())
		if err != nil {
			return nil, err
		}
		if through < next {
			return nil, fmt.Errorf("fetch %s/%d at %d read nothing", topic, partition, next)
		}
		maps.Copy(byOffset, ts)
		next = through + 1
	}
	out := make([]int64, 0, len(byOffset))
	for _, o := range slices.Sorted(maps.Keys(byOffset)) {
		out = append(out, byOffset[o])
	}
	return out, nil
}
