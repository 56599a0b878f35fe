// Command strait-bench measures Strait against a bare franz-go
// consume->produce pipe, with each cluster, the pipe and Strait in a process
// of its own; BENCHMARKS.md has how and the figures.
//
//	go run ./cmd/strait-bench                    the default run
//	go run ./cmd/strait-bench --json             the same, for machines
//	go run ./cmd/strait-bench --strait ./strait  measure that binary
//
// Without --strait it builds ./cmd/strait with the go command. The clusters
// and the pipe are this binary's hidden subcommands kfake-serve and
// bench-pipe, which it starts of itself: the product binary holds none of
// this.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

// Exit codes, as strait's.
const (
	exitOK     = 0
	exitFailed = 1 // a run failed
	exitConfig = 2 // bad command line
)

// straitPackage is the command measured, built when --strait is not given.
const straitPackage = "github.com/strait-replicator/strait/cmd/strait"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "kfake-serve": // a cluster in its own process
			return runKfakeServe(args[1:], stdout, stderr)
		case "bench-pipe": // the reference pipe
			return runBenchPipe(args[1:], stdout, stderr)
		case "bench-consume": // the reference of --verify
			return runBenchConsume(args[1:], stdout, stderr)
		case "bench-read", "bench-write": // the client's floor, --floor
			if args[0] == "bench-read" {
				return runBenchRead(args[1:], stdout, stderr)
			}
			return runBenchWrite(args[1:], stdout, stderr)
		}
	}
	return runBench(args, stdout, stderr)
}

// usage prints the command's usage and the flags of fs.
func usage(fs *flag.FlagSet) {
	fmt.Fprint(fs.Output(), `usage: strait-bench [flags]

Measures Strait (strait run, a separate process) against a bare franz-go
consume->produce pipe, on clusters run as separate kfake processes: the
throughput cases and their latency by default, or one of --memory, --skew,
--scale-topics, --verify. See BENCHMARKS.md.

flags:
`)
	fs.PrintDefaults()
}
