// Package kstruct encodes and decodes the Kafka protocol "Struct" layout
// that MM2 uses for heartbeat, checkpoint and offset-sync records: fields
// concatenated in order, big-endian integers, strings as an INT16 length
// and UTF-8 bytes. There are no tags and no length prefix; readers ignore
// trailing bytes.
package kstruct

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrShort is returned when a field runs past the end of the input.
var ErrShort = errors.New("record too short")

// AppendString appends s as an INT16 length and its bytes. Strings longer
// than 32767 bytes cannot be encoded: MM2 would throw, so the caller must
// check with CheckString first.
func AppendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// CheckString reports whether s fits in a Struct STRING.
func CheckString(field, s string) error {
	if len(s) > math.MaxInt16 {
		return fmt.Errorf("%s is %d bytes, more than the 32767 a record string holds", field, len(s))
	}
	return nil
}

// AppendInt16 appends v big-endian.
func AppendInt16(b []byte, v int16) []byte { return binary.BigEndian.AppendUint16(b, uint16(v)) }

// AppendInt32 appends v big-endian.
func AppendInt32(b []byte, v int32) []byte { return binary.BigEndian.AppendUint32(b, uint32(v)) }

// AppendInt64 appends v big-endian.
func AppendInt64(b []byte, v int64) []byte { return binary.BigEndian.AppendUint64(b, uint64(v)) }

// Reader reads fields in order; the first error sticks and later reads
// return zero values.
type Reader struct {
	b   []byte
	err error
}

// NewReader reads b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Err is the first error met, naming the field.
func (r *Reader) Err() error { return r.err }

func (r *Reader) take(field string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.err = fmt.Errorf("read %s: %w", field, ErrShort)
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

// Int16 reads an INT16.
func (r *Reader) Int16(field string) int16 {
	if b := r.take(field, 2); b != nil {
		return int16(binary.BigEndian.Uint16(b))
	}
	return 0
}

// Int32 reads an INT32.
func (r *Reader) Int32(field string) int32 {
	if b := r.take(field, 4); b != nil {
		return int32(binary.BigEndian.Uint32(b))
	}
	return 0
}

// Int64 reads an INT64.
func (r *Reader) Int64(field string) int64 {
	if b := r.take(field, 8); b != nil {
		return int64(binary.BigEndian.Uint64(b))
	}
	return 0
}

// String reads a non-nullable STRING; a negative length is an error.
func (r *Reader) String(field string) string {
	n := r.Int16(field)
	if r.err != nil {
		return ""
	}
	if n < 0 {
		r.err = fmt.Errorf("read %s: negative string length %d", field, n)
		return ""
	}
	return string(r.take(field, int(n)))
}
