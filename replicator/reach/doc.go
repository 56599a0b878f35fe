// Package reach tells whether each Kafka cluster a worker uses answers,
// so that an outage shows (in status, metrics, readiness and the log)
// instead of looking like a healthy, idle replicator.
//
// Tracker is the pure part: it folds the results of probes (sent, done,
// error) into a cluster's state (UNKNOWN before the first result,
// REACHABLE, UNREACHABLE) and says when an outage starts and when it ends,
// with its duration. It takes no client and no clock.
//
// Monitor is the I/O part. Its Run owns one small franz-go client per
// cluster and one goroutine per cluster (an errgroup), which sends a
// metadata request for no topics every Interval, bounded by Timeout and
// retried a few times 100 ms apart, and feeds the cluster's Tracker: a
// cluster whose brokers refuse connections shows as down about a second
// after it went down, one that drops packets within Interval + Timeout.
// Run returns after every goroutine stopped and every client closed. It
// logs one WARN when an outage starts and one INFO with the outage's
// duration when it ends. Status reads the trackers under a mutex and
// never waits for a probe, so it answers at once during any outage.
//
// The probes are separate from the replication clients on purpose: an
// idle producer makes no requests, so hooks on the flows' clients would
// not see a target go down until a record is copied.
package reach
