package replicator

import "time"

// The test helpers that external tests (package replicator_test, which
// may import packages that import replicator, such as replicator/rest)
// share with this package's tests.
var (
	NewTestCluster = newTestCluster
	NewABWorker    = newABWorker
	RunWorker      = runWorker
	WaitUntil      = waitUntil
)

// SetStartWait sets how long requests about connectors wait for w to
// start; call it before Run.
func (w *Worker) SetStartWait(d time.Duration) { w.startWait = d }

// ReadTopic returns the records of a topic, to its current end.
var ReadTopic = readTopic
