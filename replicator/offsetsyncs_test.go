package replicator

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestOffsetSyncsLinger: the offset-syncs producer gathers syncs for
// syncLinger unless linger.ms is set for it, and the data producer's
// linger.ms does not reach it.
func TestOffsetSyncsLinger(t *testing.T) {
	for _, c := range []struct {
		name  string
		extra []string
		want  time.Duration
	}{
		{"unset", nil, syncLinger},
		{"data producer's linger.ms only", []string{"B.producer.linger.ms = 5"}, syncLinger},
		{"A->B.producer.linger.ms", []string{"A->B.producer.linger.ms = 7"}, 7 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := newTestCluster(t, "A"), newTestCluster(t, "B")
			f := newABWorker(t, a, b, c.extra...).flows[0]
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := f.prepare(ctx); err != nil {
				t.Fatalf("prepare: %v", err)
			}
			t.Cleanup(f.close)
			if got := f.syncs.cl.OptValue(kgo.ProducerLinger); got != c.want {
				t.Fatalf("offset-syncs producer linger = %v, want %v", got, c.want)
			}
		})
	}
}
