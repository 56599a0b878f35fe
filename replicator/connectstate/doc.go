// Package connectstate keeps a flow's Kafka Connect state topics on its
// target cluster, in the formats Connect writes them (JSON, schemas
// disabled), so that MM2 and Strait read each other's state:
//
//   - the offsets topic: each partition's last copied upstream offset
//     (Offsets), the source tasks' positions, with those a stopped task
//     could not write kept in memory for its next run on this worker
//     (Keep, Resume);
//   - the configs topic: connector configs set through the REST API,
//     connector target states (paused, stopped, started) and restart
//     requests (KIP-745) (ConfigsRecord and its encoders);
//   - the status topic: connector and task states (StatusWriter, StatusView).
//
// Each topic is read through a topicread.Follower. Which worker applies a
// record, and how, is the worker's business (package replicator); this
// package knows the records, their keys and the topics.
package connectstate
