package replicator

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A task's failures are sorted here: passing ones (a broker, a connection,
// an aborted transaction) make it run again from its stored positions;
// lasting ones (fenced, refused, data lost) fail it.

// refused reports whether err says the target refuses the records
// themselves or Strait's access: running again would fail the same way.
func refused(err error) bool {
	for _, e := range []error{kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.InvalidRecord, kerr.CorruptMessage,
		kerr.TopicAuthorizationFailed, kerr.ClusterAuthorizationFailed, kerr.GroupAuthorizationFailed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// retriable reports whether a task that failed with err may run again: the
// failure was passing (a broker, a connection, a transaction aborted for
// such a reason), not about the data, permissions or ownership.
func retriable(err error) bool {
	if err == nil || lasting(err) || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, ErrTransactionAborted) {
		// Whatever went wrong with the transaction (a coordinator that
		// moved or lost its state, a timeout), a new run starts from the
		// committed positions with a new producer: nothing is lost or
		// written twice.
		return true
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Retriable || errors.Is(err, kerr.TransactionAbortable) || errors.Is(err, kerr.UnknownProducerID) ||
			errors.Is(err, kerr.InvalidProducerIDMapping) || errors.Is(err, kerr.OperationNotAttempted)
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, kgo.ErrRecordTimeout)
}

// lasting reports whether running the task again cannot help: it was
// fenced, the target refuses its records or Strait's access, or source
// data was lost.
func lasting(err error) bool {
	var loss *DataLossError
	return fenced(err) || refused(err) || errors.As(err, &loss)
}
