// Package heartbeat will hold MM2's heartbeat records and the heartbeat
// task that emits them; the heartbeat flow is not built yet.
package heartbeat
