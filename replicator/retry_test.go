package replicator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestRetryClassification sorts each kind of failure once, alone, so that
// every alternative of refused, retriable and lasting is needed.
func TestRetryClassification(t *testing.T) {
	aborted := func(err error) error {
		return fmt.Errorf("A->B source 0: %w: %w", ErrTransactionAborted, err)
	}
	part := func(err error) error { return &PartitionError{Flow: "A->B", Topic: "t", Partition: 1, Err: err} }
	tests := []struct {
		name                        string
		err                         error
		refused, retriable, lasting bool
	}{
		{"nil", nil, false, false, false},
		{"message too large", part(kerr.MessageTooLarge), true, false, true},
		{"record list too large", part(kerr.RecordListTooLarge), true, false, true},
		{"invalid record", part(kerr.InvalidRecord), true, false, true},
		{"corrupt message", part(kerr.CorruptMessage), true, false, true},
		{"topic authorization", part(kerr.TopicAuthorizationFailed), true, false, true},
		{"cluster authorization", part(kerr.ClusterAuthorizationFailed), true, false, true},
		{"group authorization", part(kerr.GroupAuthorizationFailed), true, false, true},
		{"fenced", part(kerr.ProducerFenced), false, false, true},
		{"data loss", &DataLossError{Flow: "A->B", Topic: "t", From: 5, To: 9}, false, false, true},
		{"retriable kafka error", part(kerr.NotLeaderForPartition), false, true, false},
		{"transaction abortable", part(kerr.TransactionAbortable), false, true, false},
		{"unknown producer id", part(kerr.UnknownProducerID), false, true, false},
		{"invalid producer id mapping", part(kerr.InvalidProducerIDMapping), false, true, false},
		{"operation not attempted", part(kerr.OperationNotAttempted), false, true, false},
		{"other kafka error", part(kerr.InvalidTxnState), false, false, false},
		{"network", part(&net.OpError{Op: "dial", Err: errors.New("no route")}), false, true, false},
		{"eof", part(io.EOF), false, true, false},
		{"unexpected eof", part(io.ErrUnexpectedEOF), false, true, false},
		{"connection reset", part(syscall.ECONNRESET), false, true, false},
		{"connection refused", part(syscall.ECONNREFUSED), false, true, false},
		{"deadline", part(context.DeadlineExceeded), false, true, false},
		{"record timeout", part(kgo.ErrRecordTimeout), false, true, false},
		{"unknown", errors.New("something else"), false, false, false},
		{"canceled", context.Canceled, false, false, false},
		// In an aborted transaction: passing, unless the cause lasts or the
		// task was stopped.
		{"aborted: unknown cause", aborted(errors.New("coordinator moved")), false, true, false},
		{"aborted: canceled", aborted(context.Canceled), false, false, false},
		{"aborted: fenced", aborted(kerr.ProducerFenced), false, false, true},
		{"aborted: refused", aborted(kerr.MessageTooLarge), true, false, true},
		{"aborted: data loss", aborted(&DataLossError{Flow: "A->B", Topic: "t", From: 1, To: 1}), false, false, true},
	}
	for _, tt := range tests {
		if got := refused(tt.err); got != tt.refused {
			t.Errorf("%s: refused = %v, want %v", tt.name, got, tt.refused)
		}
		if got := retriable(tt.err); got != tt.retriable {
			t.Errorf("%s: retriable = %v, want %v", tt.name, got, tt.retriable)
		}
		if got := lasting(tt.err); got != tt.lasting {
			t.Errorf("%s: lasting = %v, want %v", tt.name, got, tt.lasting)
		}
	}
}
