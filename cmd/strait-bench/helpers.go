package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// runKfakeServe is a hidden command for the bench: a kfake cluster in its
// own process, so its CPU is not counted in what is measured. It prints
// "LISTEN <addrs>" and serves until SIGTERM.
func runKfakeServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("strait-bench kfake-serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	brokers := fs.Int("brokers", 1, "brokers")
	id := fs.String("cluster-id", "bench", "cluster id")
	mbps := fs.Float64("produce-mbps", 0, "throttle produce requests to this many MB/s (0: no throttle)")
	gcPercent := fs.Int("gc-percent", 100, "the process's GOGC (-1: no garbage collection)")
	segmentBytes := fs.Int("segment-bytes", 0, "log.segment.bytes (0: kfake's default)")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	debug.SetGCPercent(*gcPercent)
	opts := []kfake.Opt{kfake.NumBrokers(*brokers), kfake.ClusterID(*id)}
	if *segmentBytes > 0 {
		opts = append(opts, kfake.BrokerConfigs(map[string]string{"log.segment.bytes": strconv.Itoa(*segmentBytes)}))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(stderr, "kfake:", err)
		return exitFailed
	}
	defer c.Close()
	if *mbps > 0 {
		// Every produce request sleeps for as long as its bytes take at
		// the given rate, then is handled as usual.
		c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
			c.KeepControl()
			size := 0
			for _, t := range req.(*kmsg.ProduceRequest).Topics {
				for _, p := range t.Partitions {
					size += len(p.Records)
				}
			}
			c.SleepControl(func() { time.Sleep(time.Duration(float64(size) / (*mbps * 1e6) * float64(time.Second))) })
			return nil, nil, false
		})
	}
	fmt.Fprintf(stdout, "LISTEN %s\n", strings.Join(c.ListenAddrs(), ","))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	<-ctx.Done()
	return exitOK
}

// runBenchPipe is a hidden command for the bench: the reference a
// replicator is measured against, a bare franz-go consume->produce pipe
// with the same guarantees as Strait's at-least-once mode (idempotent
// producer, acks=all, same partition, key/value/headers/timestamp kept).
func runBenchPipe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("strait-bench bench-pipe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "source seed brokers")
	to := fs.String("to", "", "target seed brokers")
	topic := fs.String("topic", "", "source topic")
	dest := fs.String("dest", "", "target topic")
	compression := fs.String("compression", "none", "producer compression: none, snappy, lz4, zstd, gzip")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	codec, err := benchCodec(*compression)
	if err != nil {
		fmt.Fprintln(stderr, "bench-pipe:", err)
		return exitConfig
	}
	consumer, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(*from, ",")...), kgo.ConsumeTopics(*topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		fmt.Fprintln(stderr, "bench-pipe:", err)
		return exitFailed
	}
	defer consumer.Close()
	producer, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(*to, ",")...), kgo.DefaultProduceTopic(*dest),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(codec))
	if err != nil {
		fmt.Fprintln(stderr, "bench-pipe:", err)
		return exitFailed
	}
	defer producer.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var failed error
	for ctx.Err() == nil && failed == nil {
		fetches := consumer.PollRecords(ctx, 10000)
		fetches.EachRecord(func(r *kgo.Record) {
			producer.Produce(ctx, &kgo.Record{Topic: *dest, Partition: r.Partition, Key: r.Key, Value: r.Value, Headers: r.Headers, Timestamp: r.Timestamp},
				func(_ *kgo.Record, err error) {
					if err != nil && !errors.Is(err, context.Canceled) {
						failed = err
					}
				})
		})
	}
	if failed != nil {
		fmt.Fprintln(stderr, "bench-pipe:", failed)
		return exitFailed
	}
	return exitOK
}

func benchCodec(name string) (kgo.CompressionCodec, error) {
	switch name {
	case "none":
		return kgo.NoCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("unknown compression %q", name)
}

// procStats reads a process's CPU seconds (user+system) and peak RSS from
// /proc.
func procStats(pid int) (cpuSeconds float64, peakRSS int64, err error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// Fields after the command name, which is in parentheses.
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	var utime, stime float64
	fmt.Sscan(fields[11], &utime)
	fmt.Sscan(fields[12], &stime)
	const clockTicks = 100 // USER_HZ on Linux
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
			peakRSS = kb * 1024
		}
	}
	return (utime + stime) / clockTicks, peakRSS, nil
}
