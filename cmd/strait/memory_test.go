package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunRefusesMemoryBelowMinimum: a memory.max.bytes too small for the
// configured flows and tasks stops `strait run` at start, before it
// connects, with exit code 2 and a message naming the minimum.
func TestRunRefusesMemoryBelowMinimum(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mm2.properties")
	// Nothing listens on port 1: had the worker started, it would fail to
	// connect (exit 1), not refuse its configuration.
	text := "clusters = A, B, C\nA.bootstrap.servers = 127.0.0.1:1\nB.bootstrap.servers = 127.0.0.1:1\nC.bootstrap.servers = 127.0.0.1:1\n" +
		"A->B.enabled = true\nB->C.enabled = true\nC->A.enabled = true\ntasks.max = 4\nmemory.max.bytes = 33554432\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"run", "-c", path}, &stdout, &stderr)
	if code != exitConfig {
		t.Errorf("exit code %d, want %d (stderr: %s)", code, exitConfig, stderr.String())
	}
	const want = "memory.max.bytes: 33554432 is below the minimum 94371840 for 3 flows with 4 tasks each"
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q, want it to contain %q", stderr.String(), want)
	}
}
