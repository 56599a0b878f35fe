package heartbeat

import (
	"fmt"

	"github.com/strait-replicator/strait/internal/kstruct"
)

// Version is the only heartbeat value version MM2 writes.
const Version = 0

// Heartbeat says that flow Source->Target was alive at Timestamp (Unix
// milliseconds), written to the heartbeats topic of Target.
type Heartbeat struct {
	Source    string
	Target    string
	Timestamp int64
}

// AppendKey appends the key: sourceClusterAlias STRING, targetClusterAlias
// STRING.
func (h Heartbeat) AppendKey(b []byte) []byte {
	b = kstruct.AppendString(b, h.Source)
	return kstruct.AppendString(b, h.Target)
}

// AppendValue appends the value: version INT16 (0), timestamp INT64.
func (h Heartbeat) AppendValue(b []byte) []byte {
	b = kstruct.AppendInt16(b, Version)
	return kstruct.AppendInt64(b, h.Timestamp)
}

// Decode reads a heartbeat record. Any version is read with the version 0
// layout, as MM2 does; trailing bytes are ignored.
func Decode(key, value []byte) (Heartbeat, error) {
	k := kstruct.NewReader(key)
	h := Heartbeat{Source: k.String("sourceClusterAlias"), Target: k.String("targetClusterAlias")}
	if err := k.Err(); err != nil {
		return Heartbeat{}, fmt.Errorf("decode heartbeat key: %w", err)
	}
	v := kstruct.NewReader(value)
	v.Int16("version")
	h.Timestamp = v.Int64("timestamp")
	if err := v.Err(); err != nil {
		return Heartbeat{}, fmt.Errorf("decode heartbeat value: %w", err)
	}
	return h, nil
}
