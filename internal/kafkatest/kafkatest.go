// Package kafkatest starts in-process kfake clusters and reads topics back
// for comparison. The demo and the end-to-end tests share it.
package kafkatest

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// NewCluster starts a kfake cluster with brokers brokers, reporting alias
// as its cluster id (kfake's default id is the same for every cluster).
func NewCluster(alias string, brokers int, opts ...kfake.Opt) (*kfake.Cluster, error) {
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(brokers), kfake.ClusterID(alias)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("start cluster %s: %w", alias, err)
	}
	return c, nil
}

// Digest is one record reduced to a hash of everything a replicator must
// keep: key, value (nil and empty differ), headers in order, timestamp.
type Digest uint64

// DigestOf hashes r.
func DigestOf(r *kgo.Record) Digest {
	h := fnv.New64a()
	var n [8]byte
	field := func(b []byte) {
		if b == nil {
			h.Write([]byte{0})
			return
		}
		h.Write([]byte{1})
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field(r.Key)
	field(r.Value)
	binary.BigEndian.PutUint64(n[:], uint64(len(r.Headers)))
	h.Write(n[:])
	for _, hd := range r.Headers {
		field([]byte(hd.Key))
		field(hd.Value)
	}
	binary.BigEndian.PutUint64(n[:], uint64(r.Timestamp.UnixMilli()))
	h.Write(n[:])
	return Digest(h.Sum64())
}

// ReadTopic reads every partition of topic from its start to its end offset
// as of the call, with read_committed, and returns the digests in order per
// partition.
func ReadTopic(ctx context.Context, seeds []string, topic string) (map[int32][]Digest, error) {
	adm, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	ends, err := kadm.NewClient(adm).ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	if err := ends.Error(); err != nil {
		return nil, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	out := map[int32][]Digest{}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		out[o.Partition] = nil
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	if len(want) == 0 {
		return out, nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords()) // markers reach the end offset; they are not records
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %d partitions not read to their end: %w", topic, len(want), err)
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) { ferr = fmt.Errorf("read %s/%d: %w", t, p, err) })
		if ferr != nil {
			return nil, ferr
		}
		fs.EachRecord(func(r *kgo.Record) {
			if end, ok := want[r.Partition]; ok {
				if !r.Attrs.IsControl() {
					out[r.Partition] = append(out[r.Partition], DigestOf(r))
				}
				if r.Offset+1 >= end {
					delete(want, r.Partition)
				}
			}
		})
	}
	return out, nil
}

// Comparison is how a remote topic compares with its source.
type Comparison struct {
	Source, Target int    // records on each side
	Matched        int    // records equal at the same place of the same partition
	Problem        string // the first difference, empty when they are identical
}

// Equal reports whether the target is an exact copy of the source.
func (c Comparison) Equal() bool { return c.Problem == "" }

// Compare compares partition by partition, record by record.
func Compare(src, dst map[int32][]Digest) Comparison {
	var c Comparison
	parts := make([]int32, 0, len(src))
	for p := range src {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	for _, d := range dst {
		c.Target += len(d)
	}
	for _, p := range parts {
		s, d := src[p], dst[p]
		c.Source += len(s)
		for i := range min(len(s), len(d)) {
			if s[i] == d[i] {
				c.Matched++
			} else if c.Problem == "" {
				c.Problem = fmt.Sprintf("partition %d record %d differs", p, i)
			}
		}
		if len(s) != len(d) && c.Problem == "" {
			c.Problem = fmt.Sprintf("partition %d has %d records on the source and %d on the target", p, len(s), len(d))
		}
	}
	if c.Problem == "" && c.Target != c.Source {
		c.Problem = fmt.Sprintf("%d records on the source, %d on the target", c.Source, c.Target)
	}
	return c
}

// ConsumeGroup consumes up to limit records of topics in group, committing
// what it consumes, then leaves the group. It stops early once no record
// came for three polls of a second. It returns how often each record
// (by digest) was consumed. Small fetches spread the consumption over
// every partition.
func ConsumeGroup(ctx context.Context, seeds []string, group string, limit int, topics ...string) (map[Digest]int, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topics...),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond),
		kgo.FetchMaxPartitionBytes(2048), kgo.FetchMaxBytes(16384))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	seen := map[Digest]int{}
	total, idle := 0, 0
	for total < limit && idle < 3 {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := cl.PollRecords(pctx, limit-total)
		cancel()
		if err := ctx.Err(); err != nil {
			return seen, fmt.Errorf("consume %v: %d records: %w", topics, total, err)
		}
		recs := fs.Records()
		if len(recs) == 0 {
			idle++
			continue
		}
		idle = 0
		for _, r := range recs {
			seen[DigestOf(r)]++
		}
		total += len(recs)
		if err := cl.CommitRecords(ctx, recs...); err != nil {
			return seen, fmt.Errorf("commit group %s: %w", group, err)
		}
	}
	return seen, nil
}

// Tally compares what a group consumed before (first) and after (second) a
// failover with the source's records: lost are records consumed in
// neither, reread those consumed in both.
func Tally(src map[int32][]Digest, first, second map[Digest]int) (lost, reread int) {
	for _, part := range src {
		for _, d := range part {
			switch {
			case first[d] == 0 && second[d] == 0:
				lost++
			case first[d] > 0 && second[d] > 0:
				reread++
			}
		}
	}
	return lost, reread
}
