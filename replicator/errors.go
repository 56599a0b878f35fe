package replicator

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrClosed is returned by Worker.Run when the worker was already run.
var ErrClosed = errors.New("worker already ran")

// PartitionError is a failure of one source partition's replication,
// naming the flow, the source topic, the partition and the upstream offset.
type PartitionError struct {
	Flow      string
	Topic     string
	Partition int32
	Offset    int64
	Err       error
}

func (e *PartitionError) Error() string {
	return fmt.Sprintf("replicate %s %s/%d offset %d: %v", e.Flow, e.Topic, e.Partition, e.Offset, e.Err)
}

func (e *PartitionError) Unwrap() error { return e.Err }

// DataLossError says that records of a source partition were deleted
// (retention, DeleteRecords, truncation) before Strait copied them: the
// offsets From to To, inclusive, are gone.
type DataLossError struct {
	Flow      string
	Topic     string
	Partition int32
	From, To  int64
}

// Lost is the number of records lost.
func (e *DataLossError) Lost() int64 { return e.To - e.From + 1 }

func (e *DataLossError) Error() string {
	return fmt.Sprintf("data loss on %s %s/%d: offsets %d to %d (%d records) were deleted on the source before they were copied; set data.loss.policy = skip to resume at the log start",
		e.Flow, e.Topic, e.Partition, e.From, e.To, e.Lost())
}

// ClusterError is a problem with a whole cluster: unreachable, refusing
// requests, or too small for a configured replication factor.
type ClusterError struct {
	Alias   string
	Servers []string
	Err     error
}

func (e *ClusterError) Error() string {
	return fmt.Sprintf("cluster %s (%v): %v", e.Alias, e.Servers, e.Err)
}

func (e *ClusterError) Unwrap() error { return e.Err }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
