package kclient

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ProduceWait produces recs through cl and waits until each is
// acknowledged or ctx is done, returning the first error. Unlike
// ProduceSync it returns when ctx ends even if kgo cannot fail a record
// yet: an idempotent producer keeps a record whose request may have
// reached a broker that then went away until the broker answers, so that
// ProduceSync would wait for the broker's return. Such a record may still
// be written later, until the client is closed.
func ProduceWait(ctx context.Context, cl *kgo.Client, recs ...*kgo.Record) error {
	// Buffered for every promise: one that runs after ctx ended does not
	// block kgo.
	results := make(chan error, len(recs))
	for _, r := range recs {
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) { results <- err })
	}
	var first error
	for range recs {
		select {
		case err := <-results:
			if first == nil {
				first = err
			}
		case <-ctx.Done():
			return errors.Join(ctx.Err(), first)
		}
	}
	return first
}
