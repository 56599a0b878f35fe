// Package connect encodes the records Kafka Connect keeps in its offsets
// topic for MM2's connectors, so that Strait resumes from positions MM2
// wrote and MM2 from positions Strait wrote. Keys are compared as exact
// bytes by compaction, so the JSON is written as Connect's JsonConverter
// (schemas disabled) writes it: compact, fields in Java HashMap order.
package connect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// SourceConnector is the default name of MM2's source connector, which keys
// its offsets.
const SourceConnector = "MirrorSourceConnector"

// SourcePartition is the Connect source partition of MirrorSourceConnector:
// one topic-partition of the source cluster, under its original name.
type SourcePartition struct {
	Cluster   string
	Topic     string
	Partition int32
}

// ErrNotSource is returned by DecodeSourceOffsetKey for keys of other
// connectors or of another shape; the offsets topic is shared, so callers
// skip such records.
var ErrNotSource = errors.New("not a MirrorSourceConnector offset")

func quote(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // Jackson does not escape <, > and &
	_ = enc.Encode(s)        // a string always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// SourceOffsetKey is the offsets-topic key for p under connector name:
// ["MirrorSourceConnector",{"cluster":"A","partition":0,"topic":"orders"}].
func SourceOffsetKey(name string, p SourcePartition) []byte {
	b := make([]byte, 0, 64+len(p.Topic))
	b = append(b, '[')
	b = append(b, quote(name)...)
	b = append(b, `,{"cluster":`...)
	b = append(b, quote(p.Cluster)...)
	b = append(b, `,"partition":`...)
	b = strconv.AppendInt(b, int64(p.Partition), 10)
	b = append(b, `,"topic":`...)
	b = append(b, quote(p.Topic)...)
	return append(b, "}]"...)
}

// SourceOffsetValue is the offsets-topic value for the last replicated
// upstream offset: {"offset":N}. The task resumes at N+1.
func SourceOffsetValue(offset int64) []byte {
	b := append([]byte(`{"offset":`), strconv.FormatInt(offset, 10)...)
	return append(b, '}')
}

// DecodeSourceOffsetKey reads a key written by SourceOffsetKey or by Connect
// in any field order. It returns the connector name with the partition.
func DecodeSourceOffsetKey(key []byte) (string, SourcePartition, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(key, &parts); err != nil || len(parts) != 2 {
		return "", SourcePartition{}, ErrNotSource
	}
	var name string
	if err := json.Unmarshal(parts[0], &name); err != nil {
		return "", SourcePartition{}, ErrNotSource
	}
	var m struct {
		Cluster   *string      `json:"cluster"`
		Topic     *string      `json:"topic"`
		Partition *json.Number `json:"partition"`
	}
	dec := json.NewDecoder(bytes.NewReader(parts[1]))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m.Cluster == nil || m.Topic == nil || m.Partition == nil {
		return "", SourcePartition{}, ErrNotSource
	}
	p, err := strconv.ParseInt(m.Partition.String(), 10, 32)
	if err != nil || p < 0 {
		return "", SourcePartition{}, fmt.Errorf("%w: partition %s", ErrNotSource, m.Partition)
	}
	return name, SourcePartition{Cluster: *m.Cluster, Topic: *m.Topic, Partition: int32(p)}, nil
}

// DecodeSourceOffsetValue reads {"offset":N}.
func DecodeSourceOffsetValue(value []byte) (int64, error) {
	var v struct {
		Offset *json.Number `json:"offset"`
	}
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil || v.Offset == nil {
		return 0, fmt.Errorf("offset value %q: not {\"offset\":N}", value)
	}
	n, err := strconv.ParseInt(v.Offset.String(), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("offset value %q: %w", value, err)
	}
	return n, nil
}
