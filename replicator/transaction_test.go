package replicator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestRetriable(t *testing.T) {
	wrap := func(err error) error {
		return fmt.Errorf("A->B source 0: %w: %w", ErrTransactionAborted, &PartitionError{Flow: "A->B", Topic: "t", Err: err})
	}
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{context.Canceled, false},
		{wrap(kerr.NotLeaderForPartition), true},
		{wrap(kerr.RequestTimedOut), true},
		{wrap(kerr.TransactionAbortable), true},
		{wrap(kerr.UnknownProducerID), true},
		{wrap(io.EOF), true},
		{wrap(context.DeadlineExceeded), true},
		{wrap(kerr.ProducerFenced), false},
		{wrap(kerr.InvalidProducerEpoch), false},
		{wrap(kerr.TransactionalIDAuthorizationFailed), false},
		{wrap(kerr.MessageTooLarge), false},
		{wrap(kerr.TopicAuthorizationFailed), false},
		{wrap(kerr.InvalidTxnState), true}, // a coordinator that lost the transaction
		{fmt.Errorf("A->B source 0: %w: %w", ErrTransactionAborted, errors.New("commit transaction: timed out")), true},
		{fmt.Errorf("replicate: %w", kerr.InvalidTxnState), false}, // outside a transaction: not known passing
		{&DataLossError{Flow: "A->B", Topic: "t", From: 1, To: 2}, false},
	}
	for _, tt := range tests {
		if got := retriable(tt.err); got != tt.want {
			t.Errorf("retriable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestTransactionalIDAsConnect(t *testing.T) {
	if got, want := transactionalID("A-mm2", 3), "A-mm2-MirrorSourceConnector-3"; got != want {
		t.Errorf("transactionalID = %q, want %q", got, want)
	}
}

func TestLasting(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&PartitionError{Err: kerr.ProducerFenced}, true},
		{&PartitionError{Err: kerr.MessageTooLarge}, true},
		{&PartitionError{Err: kerr.TopicAuthorizationFailed}, true},
		{&DataLossError{Flow: "A->B", Topic: "t", From: 1, To: 2}, true},
		{&PartitionError{Err: kerr.NotLeaderForPartition}, false},
		{errors.New("list start offsets: request ListOffsets has 3 separate shard errors"), false},
	}
	for _, tt := range tests {
		if got := lasting(tt.err); got != tt.want {
			t.Errorf("lasting(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestRemovedTaskID(t *testing.T) {
	for _, tt := range []struct {
		id    string
		tasks int
		want  bool
	}{
		{"A-mm2-MirrorSourceConnector-5", 2, true},
		{"A-mm2-MirrorSourceConnector-2", 2, true},
		{"A-mm2-MirrorSourceConnector-1", 2, false}, // a live task
		{"B-mm2-MirrorSourceConnector-5", 2, false}, // another group
		{"A-mm2-x-MirrorSourceConnector-5", 2, false},
		{"A-mm2-MirrorSourceConnector-05", 2, false}, // not an id Strait or Connect writes
		{"A-mm2-MirrorSourceConnector-", 2, false},
		{"A-mm2-MirrorSourceConnector--1", 2, false},
		{"A-mm2-MirrorCheckpointConnector-5", 2, false},
	} {
		if got := removedTaskID("A-mm2", tt.id, tt.tasks); got != tt.want {
			t.Errorf("removedTaskID(A-mm2, %q, %d) = %v, want %v", tt.id, tt.tasks, got, tt.want)
		}
	}
}
