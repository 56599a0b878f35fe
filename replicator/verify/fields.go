package verify

import (
	"bytes"

	"github.com/twmb/franz-go/pkg/kgo"
)

// sameRecord reports whether Fields finds nothing, without naming: what
// equal digests say, byte for byte.
func sameRecord(a, b *kgo.Record) bool {
	if a.Timestamp.UnixMilli() != b.Timestamp.UnixMilli() || !sameBytes(a.Key, b.Key) || !sameBytes(a.Value, b.Value) || len(a.Headers) != len(b.Headers) {
		return false
	}
	for i := range a.Headers {
		if a.Headers[i].Key != b.Headers[i].Key || !sameBytes(a.Headers[i].Value, b.Headers[i].Value) {
			return false
		}
	}
	return true
}

// sameBytes tells nil from empty, as the digest does.
func sameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

// Fields names what differs between a source record and its copy: "key",
// "value", "headers", "timestamp" (a nil and an empty key or value
// differ, as they do in the digest).
func Fields(src, tgt *kgo.Record) []string {
	var out []string
	same := sameBytes
	if !same(src.Key, tgt.Key) {
		out = append(out, "key")
	}
	if !same(src.Value, tgt.Value) {
		out = append(out, "value")
	}
	headers := len(src.Headers) == len(tgt.Headers)
	for i := 0; headers && i < len(src.Headers); i++ {
		headers = src.Headers[i].Key == tgt.Headers[i].Key && same(src.Headers[i].Value, tgt.Headers[i].Value)
	}
	if !headers {
		out = append(out, "headers")
	}
	if src.Timestamp.UnixMilli() != tgt.Timestamp.UnixMilli() {
		out = append(out, "timestamp")
	}
	return out
}
