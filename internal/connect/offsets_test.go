package connect

import (
	"errors"
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
