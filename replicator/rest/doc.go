// Package rest serves a worker's Kafka-Connect-compatible REST API (the
// shapes of ../shared/CONNECT-REST.md: connectors, their status, tasks,
// config, pause, resume, restart, delete; MM2's three connector plugins
// and their config validation), the health and readiness probes,
// /metrics when given a handler, and the status page at /ui/ (one embedded
// HTML file that polls /ui/progress and the API).
//
// It is built on the exported methods of *replicator.Worker only: the
// worker owns the connectors' state and its rules, this package maps them to
// Connect's URLs, JSON bodies, status codes and error messages.
//
// Goroutines: none of its own; net/http runs each request. A task restart
// that another worker of the group must serve is forwarded to it (with
// forward=false and the caller's credentials) through one client per
// handler, bounded by a timeout, and its answer is relayed.
//
// Invariants: no request body is read past 1 MiB (413); a connector
// config is one JSON object, numbers kept as written. With basic
// authentication configured, every request passes it
// before anything else runs; a request about connectors is answered 503
// while the worker is not running its flows (after waiting for it to start,
// as Connect waits for its herder), and reaches the worker only once it runs.
package rest
