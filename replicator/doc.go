// Package replicator is Strait's worker runtime: it runs each enabled flow's
// source connector, which keeps the remote topics in line with the source
// (creation, partition increases, config sync) and runs the source tasks
// that copy records to the same partitions of the remote topics.
//
// Goroutines: Worker.Run runs one goroutine per flow in an errgroup; each
// flow runs one goroutine per task and stops and waits for all of them
// before it returns. A task owns its source consumer and target producer.
//
// Invariants: a partition's position in the offsets topic (Connect's
// format, so MM2 and Strait can take over from each other) only covers
// records the target acknowledged in an unbroken run; offset syncs are sent
// after the record they describe is acknowledged, with MM2's rules; records
// deleted on the source before they were copied fail the partition's task
// unless data.loss.policy=skip, and are never passed over silently.
package replicator
