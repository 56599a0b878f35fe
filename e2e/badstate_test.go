package e2e

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestBadInternalRecordsSkipped writes garbage into every internal topic a
// worker reads (positions, connector configs and states, offset syncs,
// checkpoints, heartbeats) and restarts it: it reports each bad record,
// skips it and replicates on from the last good position, losing nothing.
func TestBadInternalRecordsSkipped(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 2, nil)
	a.produce(t, "orders", 2, 0, 50, "before") // 100 records
	cfg := writeFile(t, "mm2.properties", props([]*cluster{a, b}, "A->B.enabled = true"))
	p := startProcess(t, "run", "-c", cfg)
	waitCopied(t, b, "A.orders", 100, 60*time.Second)
	waitFor(t, 30*time.Second, func() (bool, string) {
		n := storedPositions(t, b, "mm2-offsets.A.internal", "orders")
		return n == 100, fmt.Sprintf("positions cover %d of 100 records", n)
	})
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit code %d; output:\n%s", code, p.output)
	}

	garbage := []byte{0xff, 0x00, '{', 'x'}
	write := func(c *cluster, topic string, recs ...*kgo.Record) {
		t.Helper()
		cl := c.client(t, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
		for _, r := range recs {
			r.Topic = topic
		}
		if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			t.Fatalf("write garbage to %s: %v", topic, err)
		}
	}
	straitWrote := []kgo.RecordHeader{{Key: "strait-instance", Value: []byte("0123456789abcdef")}}
	posKey := []byte(`["MirrorSourceConnector",{"cluster":"A","partition":0,"topic":"orders"}]`)
	write(b, "mm2-offsets.A.internal",
		&kgo.Record{Key: garbage, Value: garbage},
		&kgo.Record{Key: posKey, Value: garbage}, // a position that is not one
		&kgo.Record{Key: posKey, Value: []byte(`{"offset":"x"}`)},
		&kgo.Record{Key: []byte(`["other-connector",{"x":1}]`), Value: garbage}) // another connector's: not ours
	write(b, "mm2-configs.A.internal",
		&kgo.Record{Key: garbage, Value: garbage},
		&kgo.Record{Key: []byte("target-state-MirrorSourceConnector"), Value: garbage},
		// As an earlier Strait wrote them (its instance header), and one
		// as MM2 writes its own config, which Strait does not apply.
		&kgo.Record{Key: []byte("connector-MirrorSourceConnector"), Value: []byte(`{"properties":{"tasks.max":"not a number"}}`), Headers: straitWrote},
		&kgo.Record{Key: []byte("connector-MirrorCheckpointConnector"), Value: garbage, Headers: straitWrote},
		&kgo.Record{Key: []byte("connector-MirrorHeartbeatConnector"), Value: []byte(`{"properties":{"tasks.max":"not a number"}}`)})
	write(b, "mm2-status.A.internal", &kgo.Record{Key: garbage, Value: garbage})
	write(a, "mm2-offset-syncs.B.internal", &kgo.Record{Key: garbage, Value: garbage})
	write(b, "A.checkpoints.internal", &kgo.Record{Key: garbage, Value: garbage})
	write(b, "heartbeats", &kgo.Record{Key: garbage, Value: garbage})

	p = startProcess(t, "run", "-c", cfg)
	a.produce(t, "orders", 2, 50, 50, "after")
	waitCopied(t, b, "A.orders", 200, 60*time.Second)
	an, err := analyse(a.read(t, "orders"), b.read(t, "A.orders"))
	if err != nil {
		t.Fatal(err)
	}
	if an.copied != 200 || an.dups != 0 {
		t.Errorf("after the garbage: %d of 200 records copied, %d duplicates; want 200 and 0", an.copied, an.dups)
	}
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit code %d; output:\n%s", code, p.output)
	}
	out := p.output.String()
	for _, want := range []string{
		"skipping malformed record in offsets topic",
		"skipping malformed record in configs topic",
		"connector config stored in the configs topic is invalid",
		"ignoring a connector config Strait did not write (MM2's); the configuration file is used",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the worker did not report %q; output:\n%s", want, out)
		}
	}
	if strings.Contains(out, "panic") || strings.Contains(out, "task failed") {
		t.Errorf("a task failed or the worker panicked:\n%s", out)
	}
}
