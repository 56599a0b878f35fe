package checkpoint

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestCheckpointGolden checks the worked example of MM2.md §2.2: group
// my-group, orders/3, upstream 100, downstream 42, metadata "".
func TestCheckpointGolden(t *testing.T) {
	c := Checkpoint{Group: "my-group", Topic: "orders", Partition: 3, Upstream: 100, Downstream: 42}
	wantKey := unhex(t, "00 08 6d 79 2d 67 72 6f 75 70 00 06 6f 72 64 65 72 73 00 00 00 03")
	wantValue := unhex(t, "00 00 00 00 00 00 00 00 00 64 00 00 00 00 00 00 00 2a 00 00")
	if got := c.AppendKey(nil); !bytes.Equal(got, wantKey) {
		t.Errorf("key % x, want % x", got, wantKey)
	}
	if got := c.AppendValue(nil); !bytes.Equal(got, wantValue) {
		t.Errorf("value % x, want % x", got, wantValue)
	}
	got, err := DecodeCheckpoint(wantKey, wantValue)
	if err != nil || got != c {
		t.Errorf("decode = %+v, %v", got, err)
	}
	// The remote-name form of the key from the same section.
	c.Topic = "A.orders"
	if got := c.AppendKey(nil)[10:20]; !bytes.Equal(got, unhex(t, "00 08 41 2e 6f 72 64 65 72 73")) {
		t.Errorf("remote topic in key: % x", got)
	}
}

func TestDecodeCheckpointErrors(t *testing.T) {
	key := Checkpoint{Group: "g", Topic: "t", Partition: 1}.AppendKey(nil)
	value := Checkpoint{Upstream: 1, Downstream: 2, Metadata: "m"}.AppendValue(nil)
	tests := []struct {
		name       string
		key, value []byte
		want       string
	}{
		{"empty key", nil, value, "group"},
		{"key cut in topic", key[:4], value, "topic"},
		{"value without metadata", key, value[:18], "metadata"},
		{"metadata cut", key, value[:len(value)-1], "metadata"},
		{"negative metadata length", key, append(value[:18:18], 0xff, 0xff), "negative"},
	}
	for _, tt := range tests {
		_, err := DecodeCheckpoint(tt.key, tt.value)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want mention of %q", tt.name, err, tt.want)
		}
	}
	if _, err := DecodeCheckpoint(key, append(value, 1, 2, 3)); err != nil {
		t.Errorf("trailing bytes: %v", err)
	}
	if err := (Checkpoint{Metadata: strings.Repeat("x", 40000)}).Validate(); err == nil {
		t.Error("oversized metadata accepted")
	}
}

func FuzzDecodeCheckpoint(f *testing.F) {
	c := Checkpoint{Group: "my-group", Topic: "A.orders", Partition: 3, Upstream: 100, Downstream: 42, Metadata: "m"}
	f.Add(c.AppendKey(nil), c.AppendValue(nil))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		c, err := DecodeCheckpoint(key, value)
		if err != nil {
			return
		}
		again, err := DecodeCheckpoint(c.AppendKey(nil), c.AppendValue(nil))
		if err != nil || again != c {
			t.Fatalf("round trip of %+v: %+v, %v", c, again, err)
		}
	})
}

// TestCheckpointGoldenRemote: MM2.md §2.2's example with the key topic
// renamed as MM2 writes it (A.orders) and a metadata string, decoded from
// the exact bytes; any value version is read with the version 0 layout and
// trailing bytes are ignored.
func TestCheckpointGoldenRemote(t *testing.T) {
	c := Checkpoint{Group: "my-group", Topic: "A.orders", Partition: 3, Upstream: 100, Downstream: 42, Metadata: "m1"}
	key := unhex(t, "00 08 6d 79 2d 67 72 6f 75 70   00 08 41 2e 6f 72 64 65 72 73   00 00 00 03")
	value := unhex(t, "00 00   00 00 00 00 00 00 00 64   00 00 00 00 00 00 00 2a   00 02 6d 31")
	if got := c.AppendKey(nil); !bytes.Equal(got, key) {
		t.Errorf("key % x, want % x", got, key)
	}
	if got := c.AppendValue(nil); !bytes.Equal(got, value) {
		t.Errorf("value % x, want % x", got, value)
	}
	for _, v := range [][]byte{value, append(unhex(t, "00 01"), value[2:]...), append(slices.Clone(value), 0xde, 0xad)} {
		if got, err := DecodeCheckpoint(key, v); err != nil || got != c {
			t.Errorf("decode % x = %+v, %v; want %+v", v, got, err, c)
		}
	}
	if got := c.String(); got != "Checkpoint{consumerGroupId=my-group, topicPartition=A.orders-3, upstreamOffset=100, downstreamOffset=42, metadata=m1}" {
		t.Errorf("String() = %s", got)
	}
}

func TestCheckpointValidate(t *testing.T) {
	long := strings.Repeat("x", 32768)
	tests := []struct {
		c    Checkpoint
		want string
	}{
		{Checkpoint{Group: long}, "group is 32768 bytes"},
		{Checkpoint{Topic: long}, "topic is 32768 bytes"},
		{Checkpoint{Metadata: long}, "metadata is 32768 bytes"},
		{Checkpoint{Group: "g", Topic: "t", Metadata: strings.Repeat("x", 32767)}, ""},
	}
	for _, tt := range tests {
		err := tt.c.Validate()
		if tt.want == "" {
			if err != nil {
				t.Errorf("Validate: %v", err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate: %v, want %q", err, tt.want)
		}
	}
}
