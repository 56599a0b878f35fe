package kclient

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestProduceWait: records acknowledged return nil; a produce request
// the broker holds (sent, so the idempotent producer cannot fail its
// records) does not keep ProduceWait past its context.
func TestProduceWait(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var hold atomic.Bool
	release := make(chan struct{})
	defer close(release)
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if hold.Load() {
			c.SleepControl(func() { <-release })
		}
		return nil, nil, false
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic("t"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ProduceWait(ctx, cl, &kgo.Record{Value: []byte("a")}, &kgo.Record{Value: []byte("b")}); err != nil {
		t.Fatalf("ProduceWait: %v", err)
	}
	hold.Store(true)
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	if err := ProduceWait(short, cl, &kgo.Record{Value: []byte("c")}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ProduceWait of a held record: %v, want the context's deadline", err)
	}
}
