package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"
)

// verifyResult is the --verify run: `strait verify` against a bare
// consume of both clusters, in the same rounds.
type verifyResult struct {
	Case   string        `json:"case"`
	Rounds int           `json:"rounds"`
	Verify verifySystemR `json:"verify"`
	Bare   verifySystemR `json:"bare_consume"`
	// Speed is the bare consume's time over verify's (median rounds):
	// verify's speed as a share of a bare consume's.
	Speed float64 `json:"speed_vs_bare_consume"`
}

type verifySystemR struct {
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_second"` // both clusters' records
	CPUSeconds    float64 `json:"cpu_seconds"`
	PeakRSS       int64   `json:"peak_rss_bytes"`
}

// verifyBench loads c into a source cluster, copies it with Strait, then
// times `strait verify` and a bare consume of both clusters (this
// command's hidden bench-consume: one franz-go consumer per cluster, both
// at once, records counted and dropped), each a process of its own, in
// alternating rounds.
func (b *bench) verifyBench(c benchCase) (verifyResult, error) {
	ctx := context.Background()
	res := verifyResult{Case: caseName(c), Rounds: b.rounds}
	src, err := b.loadedSource(ctx, c)
	if err != nil {
		return res, err
	}
	defer src.stop()
	tgt, err := b.startCluster("--cluster-id", "B")
	if err != nil {
		return res, err
	}
	defer tgt.stop()
	cfg, err := b.straitConfig(src.addr, tgt.addr, "bench")
	if err != nil {
		return res, err
	}
	proc, err := b.startStrait(io.Discard, "-c", cfg, "--log-level", "error", "--progress-interval", "0")
	if err != nil {
		return res, err
	}
	cl, adm, err := admin(tgt.addr)
	if err != nil {
		proc.stop()
		return res, err
	}
	for started := time.Now(); ; time.Sleep(100 * time.Millisecond) { // progress polling interval
		n := endTotal(ctx, adm, "A.bench")
		b.progress("verify: copying %s with strait: %d/%d", caseName(c), n, c.Records)
		if n >= int64(c.Records) {
			break
		}
		if time.Since(started) > 5*time.Minute {
			cl.Close()
			proc.stop()
			return res, fmt.Errorf("copy not done after 5 minutes: %d of %d records", n, c.Records)
		}
	}
	cl.Close()
	proc.stop() // a clean stop writes the positions and the last offset syncs
	runs := map[string][]verifySystemR{}
	systems := []string{"bare", "verify"}
	for round := range b.rounds {
		for i := range systems {
			system := systems[(i+round)%len(systems)]
			var args []string
			exe := b.self
			if system == "verify" {
				exe, args = b.strait, []string{"verify", "-c", cfg, "--topics", "bench", "--json"}
			} else {
				args = []string{"bench-consume", "--a", src.addr, "--a-topic", "bench", "--b", tgt.addr, "--b-topic", "A.bench"}
			}
			b.progress("verify: round %d: %s", round+1, system)
			r, out, err := timeProcess(exe, args...)
			if err != nil {
				return res, fmt.Errorf("%s: %w\n%s", system, err, out)
			}
			if system == "verify" {
				if err := checkVerified(out, int64(c.Records)); err != nil {
					return res, err
				}
			}
			r.RecordsPerSec = 2 * float64(c.Records) / r.Seconds
			runs[system] = append(runs[system], r)
		}
	}
	med := func(rs []verifySystemR) verifySystemR {
		s := slices.Clone(rs)
		slices.SortFunc(s, func(a, b verifySystemR) int { return cmp.Compare(a.Seconds, b.Seconds) })
		return s[len(s)/2]
	}
	res.Verify, res.Bare = med(runs["verify"]), med(runs["bare"])
	res.Speed = res.Bare.Seconds / res.Verify.Seconds
	return res, nil
}

// timeProcess runs exe to its end and measures it: wall time from start
// to exit, CPU (user+system) and peak RSS from its rusage. It returns its
// stdout.
func timeProcess(exe string, args ...string) (verifySystemR, []byte, error) {
	cmd := exec.Command(exe, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	secs := time.Since(start).Seconds()
	if err != nil {
		return verifySystemR{}, append(out.Bytes(), errOut.Bytes()...), err
	}
	r := verifySystemR{Seconds: secs, CPUSeconds: (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.PeakRSS = ru.Maxrss * 1024 // kB on Linux
	}
	return r, out.Bytes(), nil
}

// checkVerified checks that `strait verify --json` found the copy
// identical, every record compared.
func checkVerified(out []byte, records int64) error {
	var v struct {
		Identical bool `json:"identical"`
		Flows     []struct {
			Total struct {
				Compared int64 `json:"compared"`
			} `json:"total"`
		} `json:"flows"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return fmt.Errorf("strait verify --json: %w", err)
	}
	if !v.Identical || len(v.Flows) != 1 || v.Flows[0].Total.Compared != records {
		return fmt.Errorf("strait verify: identical %v, %+v; want %d records compared", v.Identical, v.Flows, records)
	}
	return nil
}

func printVerifyBench(w io.Writer, res verifyResult) {
	fmt.Fprintf(w, "verify: %s on each cluster, median of %d rounds\n", res.Case, res.Rounds)
	for _, s := range []struct {
		name string
		r    verifySystemR
	}{{"bare consume", res.Bare}, {"strait verify", res.Verify}} {
		fmt.Fprintf(w, "  %-13s %6.2f s  %9.0f records/s (both clusters)  CPU %5.2f s  peak RSS %4.0f MiB\n", s.name, s.r.Seconds, s.r.RecordsPerSec, s.r.CPUSeconds, float64(s.r.PeakRSS)/(1<<20))
	}
	fmt.Fprintf(w, "  verify's speed: %.2fx a bare consume of both clusters\n", res.Speed)
}

// runBenchConsume is a hidden command for the --verify run: the reference
// `strait verify` is measured against, a bare read of a topic on each of
// two clusters, both at once, up to the end offsets they had at start
// (read_committed, as verify reads), records counted and dropped.
func runBenchConsume(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("strait-bench bench-consume", flag.ContinueOnError)
	fs.SetOutput(stderr)
	aSeeds := fs.String("a", "", "first cluster's seed brokers")
	aTopic := fs.String("a-topic", "", "topic on the first cluster")
	bSeeds := fs.String("b", "", "second cluster's seed brokers")
	bTopic := fs.String("b-topic", "", "topic on the second cluster")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	ctx := context.Background()
	var g errgroup.Group
	var counts [2]int64
	for i, side := range [][2]string{{*aSeeds, *aTopic}, {*bSeeds, *bTopic}} {
		g.Go(func() error {
			n, err := consumeToEnd(ctx, side[0], side[1])
			counts[i] = n
			return err
		})
	}
	if err := g.Wait(); err != nil {
		fmt.Fprintln(stderr, "bench-consume:", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "%d %d\n", counts[0], counts[1])
	return exitOK
}

// consumeToEnd reads topic up to its end offsets as of the call and
// returns how many records it read.
func consumeToEnd(ctx context.Context, seeds, topic string) (int64, error) {
	cl, adm, err := admin(seeds)
	if err != nil {
		return 0, err
	}
	ends, err := adm.ListCommittedOffsets(ctx, topic)
	cl.Close()
	if err != nil {
		return 0, err
	}
	want := map[int32]int64{}
	for _, o := range ends[topic] {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	}
	consumer, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(seeds, ",")...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		return 0, err
	}
	defer consumer.Close()
	var n int64
	for len(want) > 0 {
		fs := consumer.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			return n, err
		}
		fs.EachRecord(func(r *kgo.Record) {
			if end, ok := want[r.Partition]; ok && r.Offset < end {
				n++
				if r.Offset+1 >= end {
					delete(want, r.Partition)
				}
			}
		})
	}
	return n, nil
}
