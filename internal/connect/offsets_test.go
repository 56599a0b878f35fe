package connect

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"testing"
)

func TestSourceOffsetGolden(t *testing.T) {
	p := SourcePartition{Cluster: "A", Topic: "orders", Partition: 0}
	key := SourceOffsetKey(SourceConnector, p)
	if want := `["MirrorSourceConnector",{"cluster":"A","partition":0,"topic":"orders"}]`; string(key) != want {
		t.Errorf("key %s, want %s", key, want)
	}
	if got := string(SourceOffsetValue(1234)); got != `{"offset":1234}` {
		t.Errorf("value %s", got)
	}
	name, got, err := DecodeSourceOffsetKey(key)
	if err != nil || name != SourceConnector || got != p {
		t.Errorf("decode = %q %+v %v", name, got, err)
	}
}

func TestDecodeSourceOffset(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
		p   SourcePartition
	}{
		{`["MirrorSourceConnector",{"topic":"t","partition":7,"cluster":"us"}]`, true, SourcePartition{"us", "t", 7}},
		{`["MirrorCheckpointConnector",{"partition":0,"topic":"A.orders","group":"g1"}]`, false, SourcePartition{}},
		{`["MirrorHeartbeatConnector",{"sourceClusterAlias":"A","targetClusterAlias":"B"}]`, false, SourcePartition{}},
		{`["x",{"cluster":"A","partition":-1,"topic":"t"}]`, false, SourcePartition{}},
		{`garbage`, false, SourcePartition{}},
		{`["only-one"]`, false, SourcePartition{}},
	}
	for _, tt := range tests {
		_, p, err := DecodeSourceOffsetKey([]byte(tt.key))
		if (err == nil) != tt.ok || p != tt.p {
			t.Errorf("%s: %+v, %v", tt.key, p, err)
		}
		if err != nil && !errors.Is(err, ErrNotSource) {
			t.Errorf("%s: error %v is not ErrNotSource", tt.key, err)
		}
	}
	if n, err := DecodeSourceOffsetValue([]byte(`{"offset":99}`)); n != 99 || err != nil {
		t.Errorf("value: %d %v", n, err)
	}
	for _, bad := range []string{`{}`, `{"offset":"x"}`, `nope`, `{"offset":1.5}`} {
		if _, err := DecodeSourceOffsetValue([]byte(bad)); err == nil {
			t.Errorf("value %s accepted", bad)
		}
	}
}

func FuzzDecodeSourceOffsetKey(f *testing.F) {
	f.Add([]byte(`["MirrorSourceConnector",{"cluster":"A","partition":0,"topic":"orders"}]`))
	f.Fuzz(func(t *testing.T, key []byte) {
		name, p, err := DecodeSourceOffsetKey(key)
		if err != nil {
			return
		}
		name2, p2, err := DecodeSourceOffsetKey(SourceOffsetKey(name, p))
		if err != nil || name2 != name || p2 != p {
			t.Fatalf("round trip %q %+v: %q %+v %v", name, p, name2, p2, err)
		}
	})
}

// TestSourceOffsetKeyGolden: MM2.md §9's key layout, byte for byte, with
// what Connect's JsonConverter (Jackson) writes for awkward names: no
// HTML escaping, quotes and backslashes escaped, several-digit partitions.
func TestSourceOffsetKeyGolden(t *testing.T) {
	tests := []struct {
		name string
		p    SourcePartition
		want string
	}{
		{SourceConnector, SourcePartition{"A", "orders", 0}, `["MirrorSourceConnector",{"cluster":"A","partition":0,"topic":"orders"}]`},
		{SourceConnector, SourcePartition{"us-east", "a<b>&c", 12}, `["MirrorSourceConnector",{"cluster":"us-east","partition":12,"topic":"a<b>&c"}]`},
		{"my-source", SourcePartition{`q"x`, `back\slash`, 2147483647}, `["my-source",{"cluster":"q\"x","partition":2147483647,"topic":"back\\slash"}]`},
	}
	for _, tt := range tests {
		got := SourceOffsetKey(tt.name, tt.p)
		if string(got) != tt.want {
			t.Errorf("key %s, want %s", got, tt.want)
		}
		name, p, err := DecodeSourceOffsetKey(got)
		if err != nil || name != tt.name || p != tt.p {
			t.Errorf("decode %s = %q %+v %v", got, name, p, err)
		}
	}
	for _, tt := range []struct {
		offset int64
		want   string
	}{{0, `{"offset":0}`}, {1234, `{"offset":1234}`}, {-1, `{"offset":-1}`}, {math.MaxInt64, `{"offset":9223372036854775807}`}} {
		got := SourceOffsetValue(tt.offset)
		if string(got) != tt.want {
			t.Errorf("value %s, want %s", got, tt.want)
		}
		if n, err := DecodeSourceOffsetValue(got); err != nil || n != tt.offset {
			t.Errorf("decode %s = %d, %v", got, n, err)
		}
	}
}

func TestDecodeSourceOffsetKeyShapes(t *testing.T) {
	tests := []struct {
		key  string
		ok   bool
		name string
		p    SourcePartition
	}{
		{`["MirrorSourceConnector",{"cluster":"A","partition":2147483647,"topic":"t"}]`, true, SourceConnector, SourcePartition{"A", "t", 2147483647}},
		{`["MirrorSourceConnector",{"cluster":"A","partition":2147483648,"topic":"t"}]`, false, "", SourcePartition{}},
		{`["MirrorSourceConnector",{"cluster":"A","partition":1e3,"topic":"t"}]`, false, "", SourcePartition{}},
		{`["MirrorSourceConnector",{"cluster":"","partition":0,"topic":""}]`, true, SourceConnector, SourcePartition{}},
		{`["MirrorSourceConnector",{"partition":0,"topic":"t"}]`, false, "", SourcePartition{}},
		{`["MirrorSourceConnector",{"cluster":"A","topic":"t"}]`, false, "", SourcePartition{}},
		{`["MirrorSourceConnector",{"cluster":"A","partition":0}]`, false, "", SourcePartition{}},
		{`[1,{"cluster":"A","partition":0,"topic":"t"}]`, false, "", SourcePartition{}},
		{`["MirrorSourceConnector",{"cluster":"A","partition":0,"topic":"t"},3]`, false, "", SourcePartition{}},
		{`["MirrorSourceConnector",["A",0,"t"]]`, false, "", SourcePartition{}},
		{`{"cluster":"A","partition":0,"topic":"t"}`, false, "", SourcePartition{}},
	}
	for _, tt := range tests {
		name, p, err := DecodeSourceOffsetKey([]byte(tt.key))
		if (err == nil) != tt.ok || name != tt.name || p != tt.p {
			t.Errorf("%s: %q %+v %v", tt.key, name, p, err)
		}
		if err != nil && !errors.Is(err, ErrNotSource) {
			t.Errorf("%s: error %v is not ErrNotSource", tt.key, err)
		}
	}
}

func TestDecodeSourceOffsetValue(t *testing.T) {
	tests := []struct {
		value string
		ok    bool
		n     int64
	}{
		{`{"offset":0}`, true, 0},
		{`{"offset":42}`, true, 42},
		{`{"offset":-1}`, true, -1},
		{`{"offset":9223372036854775807}`, true, math.MaxInt64},
		{`{"offset":9223372036854775808}`, false, 0},
		{`{"offset":12,"other":"x"}`, true, 12},
		{` {"offset" : 7} `, true, 7},
		{`{"offset":null}`, false, 0},
		{`null`, false, 0},
		{`{"offset":1e2}`, false, 0},
		{`{"Offset":5}`, true, 5}, // encoding/json matches keys case-insensitively; Connect never writes this
		{``, false, 0},
	}
	for _, tt := range tests {
		n, err := DecodeSourceOffsetValue([]byte(tt.value))
		if (err == nil) != tt.ok || n != tt.n {
			t.Errorf("%q: %d, %v; want %d, ok %v", tt.value, n, err, tt.n, tt.ok)
		}
	}
}

// FuzzDecodeSourceOffsetValue: the value decoder never panics, what it
// accepts is a JSON object whose "offset" is that integer, and a value it
// writes reads back.
func FuzzDecodeSourceOffsetValue(f *testing.F) {
	f.Add([]byte(`{"offset":1234}`))
	f.Add([]byte(`{"offset":-1}`))
	f.Add([]byte(`{"offset":"x"}`))
	f.Fuzz(func(t *testing.T, value []byte) {
		n, err := DecodeSourceOffsetValue(value)
		if err != nil {
			return
		}
		var v map[string]json.RawMessage
		dec := json.NewDecoder(bytes.NewReader(value))
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%q accepted as %d but is not a JSON object: %v", value, n, err)
		}
		again, err := DecodeSourceOffsetValue(SourceOffsetValue(n))
		if err != nil || again != n {
			t.Fatalf("round trip of %d: %d, %v", n, again, err)
		}
	})
}
