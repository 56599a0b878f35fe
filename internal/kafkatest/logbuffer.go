package kafkatest

import (
	"strings"
	"sync"
)

// LogBuffer collects log text written by several goroutines (a worker's
// or a member's logger) for a test to read while they run.
type LogBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p; safe for concurrent use.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
