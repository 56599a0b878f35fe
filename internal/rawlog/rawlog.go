package rawlog

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Leader returns topic's id and the broker leading its partition, as the
// cluster's metadata names them.
func Leader(ctx context.Context, adm *kadm.Client, topic string, partition int32) (kadm.TopicID, int32, error) {
	td, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return kadm.TopicID{}, -1, err
	}
	d, ok := td[topic]
	if !ok || d.Err != nil {
		return kadm.TopicID{}, -1, fmt.Errorf("describe %s: %w", topic, orUnknown(d.Err))
	}
	pd, ok := d.Partitions[partition]
	if !ok || pd.Err != nil {
		return kadm.TopicID{}, -1, fmt.Errorf("describe %s/%d: %w", topic, partition, orUnknown(pd.Err))
	}
	if pd.Leader < 0 {
		return kadm.TopicID{}, -1, fmt.Errorf("%s/%d: %w", topic, partition, kerr.LeaderNotAvailable)
	}
	return d.ID, pd.Leader, nil
}

// orUnknown is a described topic's or partition's error, or
// UNKNOWN_TOPIC_OR_PARTITION for one the answer left out.
func orUnknown(err error) error {
	if err != nil {
		return err
	}
	return kerr.UnknownTopicOrPartition
}

// Fetch reads topic/partition from offset on, once, from its leader, and
// returns the record batches as stored (up to 8 MiB, and at least one
// whole batch).
func Fetch(ctx context.Context, cl *kgo.Client, adm *kadm.Client, topic string, partition int32, offset int64) ([]byte, error) {
	id, leader, err := Leader(ctx, adm, topic, partition)
	if err != nil {
		return nil, err
	}
	req := kmsg.NewPtrFetchRequest()
	req.MinBytes, req.MaxBytes = 1, 64<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, id
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = partition, offset, 8<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl.Broker(int(leader)))
	if err != nil {
		return nil, err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return nil, fmt.Errorf("fetch %s/%d: answer for %d topics", topic, partition, len(resp.Topics))
	}
	p := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
		return nil, fmt.Errorf("fetch %s/%d: %w", topic, partition, err)
	}
	return p.RecordBatches, nil
}

// Timestamps returns the stored timestamp of each record of the v2
// batches in batches (one partition's, as a fetch answers them) from
// offset from on, by offset, and the last offset read (-1 for none). A
// partial batch at the end is left out, as consumers leave it; v0/v1
// message sets and transaction markers are read past, with no
// timestamps.
func Timestamps(batches []byte, from int64, decompressor kgo.Decompressor) (ts map[int64]int64, through int64, err error) {
	ts, through = map[int64]int64{}, -1
	for len(batches) >= 17 {
		size := 12 + int(int32(binary.BigEndian.Uint32(batches[8:])))
		if size < 17 || size > len(batches) {
			break
		}
		raw := batches[:size]
		batches = batches[size:]
		if magic := raw[16]; magic != 2 {
			// A v0/v1 message set: offset of its (last) message.
			through = max(through, int64(binary.BigEndian.Uint64(raw)))
			continue
		}
		var b kmsg.RecordBatch
		if err := b.ReadFrom(raw); err != nil {
			return ts, through, fmt.Errorf("read batch at offset %d: %w", int64(binary.BigEndian.Uint64(raw)), err)
		}
		last := b.FirstOffset + int64(b.LastOffsetDelta)
		if last < from || b.Attributes&0x20 != 0 { // before from, or a transaction marker
			through = max(through, last)
			continue
		}
		records := b.Records
		if codec := kgo.CompressionCodecType(b.Attributes & 0x07); codec != kgo.CodecNone {
			if records, err = decompressor.Decompress(records, codec); err != nil {
				return ts, through, fmt.Errorf("decompress batch at offset %d: %w", b.FirstOffset, err)
			}
		}
		rd := kbin.Reader{Src: records}
		for range b.NumRecords {
			length := int(rd.Varint())
			body := kbin.Reader{Src: rd.Span(length)}
			body.Int8() // attributes
			tsDelta := body.Varlong()
			offset := b.FirstOffset + int64(body.Varint())
			if !rd.Ok() || !body.Ok() {
				return ts, through, fmt.Errorf("read records of the batch at offset %d: %w", b.FirstOffset, kerr.CorruptMessage)
			}
			t := b.FirstTimestamp + tsDelta
			if b.Attributes&0x08 != 0 { // LogAppendTime: the batch's, as consumers read it
				t = b.MaxTimestamp
			}
			if offset >= from {
				ts[offset] = t
			}
		}
		through = max(through, last)
	}
	return ts, through, nil
}
