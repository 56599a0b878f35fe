// Package e2e holds Strait's black-box tests: kfake clusters in-process,
// Strait in-process (replicator.Worker) or as a process (the strait
// binary, for signals and crashes), and kcat as an independent client.
package e2e
