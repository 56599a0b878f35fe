package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// chaosCycles is how many kill -9 cycles TestChaos runs: 20, 5 with
// -short (CI), or STRAIT_CHAOS_CYCLES.
func chaosCycles(t *testing.T) int {
	if v := os.Getenv("STRAIT_CHAOS_CYCLES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("STRAIT_CHAOS_CYCLES=%q: want a positive number", v)
		}
		return n
	}
	if testing.Short() {
		return 5
	}
	return 20
}

// chaosFault is one broker fault the chaos loop injects.
type chaosFault struct {
	name   string
	inject func(t *testing.T, a, b *cluster, rnd *rand.Rand)
}

var chaosFaults = []chaosFault{
	{"target answers produce NOT_LEADER_FOR_PARTITION", func(t *testing.T, a, b *cluster, rnd *rand.Rand) {
		b.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "A.orders", Err: kerr.NotLeaderForPartition, Count: 3})
	}},
	{"target answers produce REQUEST_TIMED_OUT after writing", func(t *testing.T, a, b *cluster, rnd *rand.Rand) {
		b.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "A.orders", Err: kerr.RequestTimedOut, Count: 3})
	}},
	{"source answers fetch NOT_LEADER_FOR_PARTITION", func(t *testing.T, a, b *cluster, rnd *rand.Rand) {
		a.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Fetch}, Topic: "orders", Err: kerr.NotLeaderForPartition, Count: 3})
	}},
	{"target drops a produce connection", func(t *testing.T, a, b *cluster, rnd *rand.Rand) {
		b.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
			return nil, errors.New("chaos: connection dropped"), true
		})
	}},
	{"source drops a fetch connection", func(t *testing.T, a, b *cluster, rnd *rand.Rand) {
		a.ControlKey(int16(kmsg.Fetch), func(kmsg.Request) (kmsg.Response, error, bool) {
			return nil, errors.New("chaos: connection dropped"), true
		})
	}},
	{"leader of a source partition moves", func(t *testing.T, a, b *cluster, rnd *rand.Rand) {
		if err := a.MoveTopicPartition("orders", rnd.Int32N(8), rnd.Int32N(3)); err != nil {
			t.Fatal(err)
		}
	}},
	{"leader of a target partition moves", func(t *testing.T, a, b *cluster, rnd *rand.Rand) {
		if err := b.MoveTopicPartition("A.orders", rnd.Int32N(8), rnd.Int32N(3)); err != nil {
			t.Fatal(err)
		}
	}},
	{"target's group and transaction coordinators move", func(t *testing.T, a, b *cluster, rnd *rand.Rand) {
		b.RehashCoordinators()
	}},
}

// TestChaos runs three workers as processes under continuous production
// and, cycle after cycle, kills one with -9 and restarts it while the
// brokers fail requests, drop connections and move leaders and
// coordinators. At the end every source record is on the target, in order
// per partition; at-least-once reports its duplicates, exactly-once has
// none for a read_committed reader. The long run:
// go test -race -count=1 -run TestChaos ./e2e (20 cycles; STRAIT_CHAOS_CYCLES=N;
// STRAIT_CHAOS_SEED replays a run's choices; STRAIT_CHAOS_FAULTS=text keeps
// the faults whose name has text).
func TestChaos(t *testing.T) {
	for _, mode := range []struct {
		name  string
		extra string
	}{
		{"at-least-once", ""},
		{"exactly-once", "B.exactly.once.source.support = enabled"},
	} {
		t.Run(mode.name, func(t *testing.T) {
			cycles := chaosCycles(t)
			seed := uint64(time.Now().UnixNano())
			if v := os.Getenv("STRAIT_CHAOS_SEED"); v != "" { // to replay a run
				seed, _ = strconv.ParseUint(v, 10, 64)
			}
			t.Logf("seed %d, %d cycles", seed, cycles)
			rnd := rand.New(rand.NewPCG(seed, 1))
			only := os.Getenv("STRAIT_CHAOS_FAULTS") // only the faults whose name has it
			var faults []chaosFault
			for _, f := range chaosFaults {
				if strings.Contains(f.name, only) {
					faults = append(faults, f)
				}
			}
			if len(faults) == 0 {
				t.Fatalf("STRAIT_CHAOS_FAULTS=%q names no fault", only)
			}
			a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
			a.createTopic(t, "orders", 8, nil)
			bg := produceInBackground(t, a, "orders", 8, 5, 20*time.Millisecond) // 2,000 records/s
			cfg := writeFile(t, "mm2.properties", props([]*cluster{a, b}, "A->B.enabled = true", "tasks.max = 4", mode.extra))
			workers := make([]*process, 3)
			var all []*process
			t.Cleanup(func() {
				if t.Failed() {
					for _, p := range all {
						select {
						case <-p.exited:
						default: // alive: have it print its goroutines
							p.cmd.Process.Signal(syscall.SIGQUIT)
							<-p.exited
						}
					}
					for i, p := range all {
						out := p.output.String()
						t.Logf("worker process %d output (last 6000 bytes):\n%s", i, out[max(0, len(out)-6000):])
					}
				}
			})
			start := func(i int) {
				workers[i] = startProcess(t, "run", "-c", cfg, "--log-level", "info")
				all = append(all, workers[i])
			}
			for i := range workers {
				start(i)
			}
			progress := func(timeout time.Duration) {
				t.Helper()
				from := b.endOffsets(t, "A.orders")
				waitFor(t, timeout, func() (bool, string) {
					got := b.endOffsets(t, "A.orders")
					return got >= from+500, fmt.Sprintf("A.orders at %d offsets, want %d", got, from+500)
				})
			}
			progress(60 * time.Second)
			for c := range cycles {
				// kfake keeps forever a member killed while its JoinGroup
				// was pending (the answer to a dead connection never starts
				// its session timer; Kafka expires it): kill between
				// rebalances.
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				_, err := b.WaitGroupStable(ctx, "A-mm2", len(workers))
				cancel()
				if err != nil {
					t.Fatalf("worker group not stable with %d members: %v", len(workers), err)
				}
				w := rnd.IntN(len(workers))
				if err := workers[w].cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				workers[w].wait(t, 10*time.Second)
				f := faults[rnd.IntN(len(faults))]
				f.inject(t, a, b, rnd)
				start(w)
				t.Logf("cycle %d: killed worker %d, %s", c+1, w, f.name)
				progress(60 * time.Second)
			}
			bg.stop(t)
			an := waitAllCopied(t, a, "orders", b, "A.orders", 90*time.Second)
			t.Logf("%s after %d cycles: %d records, 0 lost, order kept, %d duplicates seen by a read_committed reader", mode.name, cycles, an.copied, an.dups)
			if mode.extra != "" && an.dups != 0 {
				t.Errorf("exactly-once: %d duplicates, want 0", an.dups)
			}
			for _, p := range workers {
				p.cmd.Process.Kill()
			}
		})
	}
}
