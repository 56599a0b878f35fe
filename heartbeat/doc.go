// Package heartbeat holds MM2's heartbeat records, the heartbeat task that
// emits them, and the topology they reveal.
//
// A heartbeat task of flow A->B writes a heartbeat (key: A, B; value: the
// time) to the topic "heartbeats" on B every emit.heartbeats.interval
// seconds. Heartbeats topics replicate like any topic (B's "heartbeats"
// becomes "B.heartbeats" on C), so each cluster sees every path that
// reaches it: Paths reads them back (pure, in topology.go).
//
// heartbeat.go and topology.go are pure; task.go does I/O: Task.Run owns
// one producer and returns when its context is done.
package heartbeat
