package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The client's floor (--floor): what reading the records and writing them
// cost franz-go alone, each in a process of its own, in the same rounds as
// the pipe and Strait. A replicator does both; the sum of their CPU per GB
// is the least any replicator built on the client can spend.

// floorSystems are the two halves of the floor: bench-read reads the
// source topic, bench-write writes the same records to a fresh target.
func floorSystems() []string { return []string{"read", "write"} }

// measureFloor runs one half of the floor to its end: reading c's records
// from the source, or writing them into a fresh target cluster.
func (b *bench) measureFloor(ctx context.Context, c benchCase, srcAddr, system string) (benchResult, error) {
	var r verifySystemR
	var out []byte
	var err error
	switch system {
	case "read":
		r, out, err = timeProcess(b.self, "bench-read", "--from", srcAddr, "--topic", "bench")
		if err == nil && strings.TrimSpace(string(out)) != strconv.Itoa(c.Records) {
			err = fmt.Errorf("read %s records, want %d", strings.TrimSpace(string(out)), c.Records)
		}
	case "write":
		tgt, terr := b.startCluster("--cluster-id", "B")
		if terr != nil {
			return benchResult{}, terr
		}
		defer tgt.stop()
		if err := createBenchTopic(ctx, tgt.addr, "A.bench", b.partitions); err != nil {
			return benchResult{}, err
		}
		r, out, err = timeProcess(b.self, "bench-write", "--to", tgt.addr, "--topic", "A.bench", "--records", strconv.Itoa(c.Records),
			"--size", strconv.Itoa(c.Size), "--partitions", strconv.Itoa(b.partitions), "--compression", b.compression)
	default:
		return benchResult{}, fmt.Errorf("unknown floor system %q", system)
	}
	if err != nil {
		return benchResult{}, fmt.Errorf("%s: %w\n%s", system, err, out)
	}
	bytes := float64(c.Records) * float64(c.Size)
	return benchResult{Case: caseName(c), System: system, Records: c.Records, Seconds: r.Seconds,
		RecordsPerSec: float64(c.Records) / r.Seconds, MBPerSec: bytes / r.Seconds / 1e6,
		CPUSeconds: r.CPUSeconds, CPUPerGB: r.CPUSeconds / (bytes / 1e9), PeakRSS: r.PeakRSS}, nil
}

// runBenchRead is a hidden command for --floor: a bare franz-go consumer,
// as the pipe's (read_committed, from the start), reading a topic to the
// end offsets it had at start, records counted and dropped. It prints how
// many it read.
func runBenchRead(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("strait-bench bench-read", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "seed brokers")
	topic := fs.String("topic", "", "topic")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	n, err := consumeToEnd(context.Background(), *from, *topic)
	if err != nil {
		fmt.Fprintln(stderr, "bench-read:", err)
		return exitFailed
	}
	fmt.Fprintln(stdout, n)
	return exitOK
}

// runBenchWrite is a hidden command for --floor: a bare franz-go producer,
// as the pipe's (idempotent, acks=all, partition given), writing the
// records the bench loads into the source (same keys, values and
// partitions), then waiting for all of them.
func runBenchWrite(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("strait-bench bench-write", flag.ContinueOnError)
	fs.SetOutput(stderr)
	to := fs.String("to", "", "seed brokers")
	topic := fs.String("topic", "", "topic")
	records := fs.Int("records", 0, "records")
	size := fs.Int("size", 0, "value size, bytes")
	partitions := fs.Int("partitions", 8, "partitions")
	compression := fs.String("compression", "none", "producer compression: none, snappy, lz4, zstd, gzip")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	codec, err := benchCodec(*compression)
	if err != nil {
		fmt.Fprintln(stderr, "bench-write:", err)
		return exitConfig
	}
	producer, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(*to, ",")...), kgo.DefaultProduceTopic(*topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(codec))
	if err != nil {
		fmt.Fprintln(stderr, "bench-write:", err)
		return exitFailed
	}
	defer producer.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	values := benchValues(*size)
	var failed error
	promise := func(_ *kgo.Record, err error) {
		if err != nil && !errors.Is(err, context.Canceled) {
			failed = err
		}
	}
	// Keys as load writes them ("%08d"), cut from a slab: what the pipe
	// produces are the fetched records' slices, allocated by the consumer.
	var slab []byte
	for i := range *records {
		if len(slab) < 8 {
			slab = make([]byte, 8*4096)
		}
		key := slab[:8:8]
		slab = slab[8:]
		for j, v := 7, i; j >= 0; j, v = j-1, v/10 {
			key[j] = byte('0' + v%10)
		}
		producer.Produce(ctx, &kgo.Record{Topic: *topic, Partition: int32(i % *partitions), Key: key, Value: values[i%len(values)]}, promise)
	}
	if err := producer.Flush(ctx); err != nil {
		failed = err
	}
	if failed != nil {
		fmt.Fprintln(stderr, "bench-write:", failed)
		return exitFailed
	}
	return exitOK
}

// benchValues are the values load writes: 256 of size random bytes, the
// same for every run of a size.
func benchValues(size int) [][]byte {
	rnd := rand.New(rand.NewPCG(7, uint64(size)))
	values := make([][]byte, 256)
	for i := range values {
		values[i] = make([]byte, size)
		for j := range values[i] {
			values[i][j] = byte(rnd.Uint32())
		}
	}
	return values
}

// printFloor prints, per case measured with --floor, Strait's CPU per GB
// against the sum of the bare read's and the bare write's.
func printFloor(w io.Writer, results []benchResult) {
	byCase := map[string]map[string]benchResult{}
	var cases []string
	for _, r := range results {
		if byCase[r.Case] == nil {
			byCase[r.Case] = map[string]benchResult{}
			cases = append(cases, r.Case)
		}
		byCase[r.Case][r.System] = r
	}
	for _, c := range cases {
		rs := byCase[c]
		read, okR := rs["read"]
		write, okW := rs["write"]
		if !okR || !okW {
			continue
		}
		floor := read.CPUPerGB + write.CPUPerGB
		fmt.Fprintf(w, "floor %s: read %.2f + write %.2f = %.2f CPU s/GB; pipe %.2f = %.2fx the floor", c, read.CPUPerGB, write.CPUPerGB, floor, rs["pipe"].CPUPerGB, rs["pipe"].CPUPerGB/floor)
		for _, s := range []string{"strait", "baseline"} {
			if r, ok := rs[s]; ok {
				fmt.Fprintf(w, "; %s %.2f = %.2fx", s, r.CPUPerGB, r.CPUPerGB/floor)
			}
		}
		fmt.Fprintln(w)
	}
}
