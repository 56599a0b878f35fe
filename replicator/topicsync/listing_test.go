package topicsync

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestListingPassesAHungBroker: the broker a listing asks first does not
// answer (its metadata requests are held). The listing is answered by the
// next broker after the lister's try, and the next listing starts there:
// the hung broker is not asked again. Before, every listing asked the
// first broker and waited out the client's request timeout (10 s) there.
func TestListingPassesAHungBroker(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(4, "orders", "payments"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	brokers, err := kadm.NewClient(cl).ListBrokers(ctx) // the client learns every broker
	if err != nil || len(brokers) != 3 {
		t.Fatalf("brokers %v, %v", brokers, err)
	}
	hung := brokers.NodeIDs()[0] // DiscoveredBrokers' first: the lowest node id
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	var asked atomic.Int32
	c.ControlKey(int16(kmsg.Metadata), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if c.CurrentNode() == hung && req.(*kmsg.MetadataRequest).Topics == nil {
			asked.Add(1)
			c.SleepControl(func() { <-release })
		}
		return nil, nil, false
	})

	l := sourceLister{cl: cl, try: 300 * time.Millisecond}
	for i := range 3 {
		began := time.Now()
		topics, err := l.list(ctx)
		if err != nil {
			t.Fatalf("listing %d: %v", i, err)
		}
		if _, ok := topics["orders"]; !ok || topics["orders"].partitions != 4 || len(topics) != 2 {
			t.Fatalf("listing %d: %v", i, topics)
		}
		t.Logf("listing %d answered in %v", i, time.Since(began))
	}
	if n := asked.Load(); n != 1 {
		t.Errorf("the hung broker was asked %d times; want once, by the first listing", n)
	}
}
