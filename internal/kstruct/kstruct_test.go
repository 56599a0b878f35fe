package kstruct

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPrimitivesGolden checks the encodings of MM2.md §2.0: big-endian
// signed integers, strings as an INT16 length and UTF-8 bytes.
func TestPrimitivesGolden(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"int16 0", AppendInt16(nil, 0), "00 00"},
		{"int16 -1", AppendInt16(nil, -1), "ff ff"},
		{"int16 max", AppendInt16(nil, math.MaxInt16), "7f ff"},
		{"int32 3", AppendInt32(nil, 3), "00 00 00 03"},
		{"int32 -2", AppendInt32(nil, -2), "ff ff ff fe"},
		{"int64 ts", AppendInt64(nil, 1700000000000), "00 00 01 8b cf e5 68 00"},
		{"int64 min", AppendInt64(nil, math.MinInt64), "80 00 00 00 00 00 00 00"},
		{"string", AppendString(nil, "my-group"), "00 08 6d 79 2d 67 72 6f 75 70"},
		{"empty string", AppendString(nil, ""), "00 00"},
		{"utf-8 counts bytes", AppendString(nil, "é"), "00 02 c3 a9"},
		{"appends", AppendString([]byte{0xaa}, "A"), "aa 00 01 41"},
	}
	for _, tt := range tests {
		if want := unhex(t, tt.want); !bytes.Equal(tt.got, want) {
			t.Errorf("%s: % x, want % x", tt.name, tt.got, want)
		}
	}
}

func TestReader(t *testing.T) {
	b := unhex(t, "ff fe  ff ff ff fd  ff ff ff ff ff ff ff fc  00 02 41 42  00 00  99")
	r := NewReader(b)
	i16, i32, i64, s, empty := r.Int16("a"), r.Int32("b"), r.Int64("c"), r.String("d"), r.String("e")
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if i16 != -2 || i32 != -3 || i64 != -4 || s != "AB" || empty != "" {
		t.Errorf("read %d %d %d %q %q", i16, i32, i64, s, empty)
	}
	// Trailing bytes are left alone; the next read takes them.
	if got := r.String("f"); got != "" || r.Err() == nil || !errors.Is(r.Err(), ErrShort) {
		t.Errorf("read past the end: %q, %v", got, r.Err())
	}
}

func TestReaderErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		read func(r *Reader) any
		want string
	}{
		{"short int16", "01", func(r *Reader) any { return r.Int16("version") }, "read version: record too short"},
		{"short int32", "01 02 03", func(r *Reader) any { return r.Int32("partition") }, "read partition: record too short"},
		{"short int64", "01 02 03 04 05 06 07", func(r *Reader) any { return r.Int64("offset") }, "read offset: record too short"},
		{"short string length", "00", func(r *Reader) any { return r.String("topic") }, "read topic: record too short"},
		{"short string bytes", "00 03 41 42", func(r *Reader) any { return r.String("topic") }, "read topic: record too short"},
		{"negative string length", "ff ff 41", func(r *Reader) any { return r.String("topic") }, "read topic: negative string length -1"},
	}
	for _, tt := range tests {
		r := NewReader(unhex(t, tt.in))
		got := tt.read(r)
		if r.Err() == nil || r.Err().Error() != tt.want {
			t.Errorf("%s: err %v, want %q", tt.name, r.Err(), tt.want)
		}
		switch v := got.(type) {
		case string:
			if v != "" {
				t.Errorf("%s: got %q on error", tt.name, v)
			}
		default:
			if v != int16(0) && v != int32(0) && v != int64(0) {
				t.Errorf("%s: got %v on error", tt.name, v)
			}
		}
	}
}

// TestReaderErrorSticks: after the first error every read is zero and the
// error names the first field, even where the bytes would do.
func TestReaderErrorSticks(t *testing.T) {
	r := NewReader(unhex(t, "00 09 41  00 00 00 07"))
	if s := r.String("group"); s != "" {
		t.Errorf("short string read as %q", s)
	}
	if v := r.Int32("partition"); v != 0 {
		t.Errorf("read %d after an error", v)
	}
	if v := r.Int16("x"); v != 0 {
		t.Errorf("read %d after an error", v)
	}
	if v := r.Int64("y"); v != 0 {
		t.Errorf("read %d after an error", v)
	}
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "group") {
		t.Errorf("err = %v, want the first field named", err)
	}
	// A good read leaves the rest in place.
	r = NewReader(unhex(t, "00 01 41 00 00 00 07"))
	if s, p := r.String("group"), r.Int32("partition"); s != "A" || p != 7 || r.Err() != nil {
		t.Errorf("read %q %d %v", s, p, r.Err())
	}
}

func TestCheckString(t *testing.T) {
	if err := CheckString("metadata", strings.Repeat("x", math.MaxInt16)); err != nil {
		t.Errorf("32767 bytes refused: %v", err)
	}
	err := CheckString("metadata", strings.Repeat("x", math.MaxInt16+1))
	if err == nil || !strings.Contains(err.Error(), "metadata is 32768 bytes") {
		t.Errorf("32768 bytes: %v", err)
	}
	// A string of 32767 bytes round-trips.
	s := strings.Repeat("é", math.MaxInt16/2) + "x"
	r := NewReader(AppendString(nil, s))
	if got := r.String("s"); got != s || r.Err() != nil {
		t.Errorf("round trip of %d bytes: %d bytes, %v", len(s), len(got), r.Err())
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("\x00\x01A\x00\x00\x00\x03"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(b)
		s, p := r.String("s"), r.Int32("p")
		if r.Err() != nil {
			return
		}
		again := NewReader(AppendInt32(AppendString(nil, s), p))
		if s2, p2 := again.String("s"), again.Int32("p"); s2 != s || p2 != p || again.Err() != nil {
			t.Fatalf("round trip %q %d: %q %d %v", s, p, s2, p2, again.Err())
		}
	})
}
