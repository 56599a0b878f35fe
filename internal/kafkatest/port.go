package kafkatest

import (
	"fmt"
	"net"
	"testing"
	"time"
)

// LowPort returns a port below 32768, out of Linux's ephemeral range (so
// no client's local port takes it while its cluster is down), that is free
// now for TCP and UDP: a cluster can be started, stopped and started again
// on it, and a KDC can serve both protocols there.
func LowPort(t testing.TB) int {
	t.Helper()
	seed := time.Now().UnixNano()
	for i := range 200 {
		port := 20000 + int((seed+int64(i)*7919)%12000)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		return port
	}
	t.Fatal("no free port below 32768")
	return 0
}
