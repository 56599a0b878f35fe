// Command strait replicates Kafka topics between clusters, as MirrorMaker 2
// does, from an MM2 properties file or the same settings in YAML.
//
//	strait run -c mm2.properties   run a worker
//	strait demo                    replicate between two in-process clusters
//	strait translate / failover    move a consumer group to the other cluster
//	strait verify                  compare the copies record by record
//	strait version                 print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/replicator"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the worker could not run (unreachable cluster, ...)
	exitConfig = 2 // bad command line or configuration
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: strait <command> [flags]

commands:
  run -c FILE     run a worker for an MM2 properties file (or .yaml/.yml)
                  (--allow-unknown-keys: warn about keys Strait does not know, on every command with -c)
  demo            replicate between two in-process clusters and check the copies
  translate -c FILE --group G --from A --to B
                  print the group's translated offsets on B, from the checkpoints
  failover -c FILE (--group G | --all-groups) --from A --to B [--dry-run] [--force]
                  commit them to the group on B (it must have no active member)
  topology -c FILE
                  print the replication paths that reach each cluster, from heartbeats
  lag -c FILE [--group G]
                  how far each flow's target is behind its source (and a group, both sides)
  verify -c FILE [--flow A->B] [--topics REGEX] [--from-time T] [--json]
                  compare every replicated partition with its remote one, record by record
                  (exit 0 identical, 1 different, 2 bad input)
  version         print the version

Run 'strait <command> -h' for the flags of a command.
`)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitConfig
	}
	switch args[0] {
	case "run":
		return runWorker(args[1:], stdout, stderr)
	case "demo":
		return runDemo(args[1:], stdout, stderr)
	case "translate":
		return runTranslate(args[1:], stdout, stderr)
	case "failover":
		return runFailover(args[1:], stdout, stderr)
	case "topology":
		return runTopology(args[1:], stdout, stderr)
	case "lag":
		return runLag(args[1:], stdout, stderr)
	case "verify":
		return runVerify(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "strait", buildVersion())
		return exitOK
	case "help", "-h", "--help":
		usage(stdout)
		return exitOK
	default:
		fmt.Fprintf(stderr, "strait: unknown command %q\n", args[0])
		usage(stderr)
		return exitConfig
	}
}

// flagAllowUnknownKeys is the flag of every command that reads the
// configuration file that makes a key Strait does not know a warning
// (configs.AllowUnknownKeys) rather than exit 2.
const (
	flagAllowUnknownKeys  = "allow-unknown-keys"
	allowUnknownKeysUsage = "accept keys Strait does not know with a warning, for a file shared with other tools (default: exit 2 naming the key)"
)

// loadOptions are the options of configs.Load that --allow-unknown-keys
// asks for.
func loadOptions(allowUnknownKeys bool) []configs.Option {
	if allowUnknownKeys {
		return []configs.Option{configs.AllowUnknownKeys()}
	}
	return nil
}

// logProgress logs each flow's progress every interval while it has a
// backlog: records copied, remaining, rate and ETA.
func logProgress(ctx context.Context, w *replicator.Worker, every time.Duration, log *slog.Logger) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	p := progressLog{every: every, log: log, last: map[string]int64{}}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		p.tick(w.Progress())
	}
}

// progressLog logs the progress of flows with a backlog, at each tick.
type progressLog struct {
	every time.Duration
	log   *slog.Logger
	last  map[string]int64 // each flow's Copied at the previous tick
}

// tick logs the flows of progress that have records left to copy; a flow
// caught up, or whose lag is unknown (the source cannot be asked), logs
// nothing. The rate is what was copied since the previous tick.
func (p *progressLog) tick(progress []replicator.FlowProgress) {
	for _, f := range progress {
		delta := max(f.Copied-p.last[f.Flow], 0)
		p.last[f.Flow] = f.Copied
		if !f.LagKnown || f.Remaining <= 0 {
			continue
		}
		rate := float64(delta) / p.every.Seconds()
		eta := "unknown"
		if rate > 0 {
			eta = (time.Duration(float64(f.Remaining)/rate) * time.Second).Round(time.Second).String()
		}
		p.log.Info("progress", "flow", f.Flow, "copied", f.Copied, "remaining", f.Remaining, "records_per_second", int64(rate), "eta", eta)
	}
}

func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

// newLogger builds the process logger: text or JSON on stderr.
func newLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}

func runWorker(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("strait run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("c", "", "configuration file: MM2 properties, or YAML by its .yaml/.yml extension")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	progressEvery := fs.Duration("progress-interval", 10*time.Second, "how often to log each flow's progress while it has a backlog (0: never)")
	allowUnknown := fs.Bool(flagAllowUnknownKeys, false, allowUnknownKeysUsage)
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	log, err := newLogger(*logFormat, *logLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "strait:", err)
		return exitConfig
	}
	if *file == "" {
		fmt.Fprintln(stderr, "strait run: -c FILE is required")
		return exitConfig
	}
	cfg, warnings, err := configs.Load(*file, os.Environ(), loadOptions(*allowUnknown)...)
	for _, w := range warnings {
		log.Warn(w, "file", *file)
	}
	if err != nil {
		fmt.Fprintf(stderr, "strait: %s: %v\n", *file, err)
		return exitConfig
	}
	// The Go runtime's soft limit: memory.max.bytes less the binary's
	// resident code, which the runtime does not count; the collector runs
	// more often rather than let the heap pass it.
	debug.SetMemoryLimit(cfg.Memory().GoLimit)
	mp, metrics, err := newMetrics()
	if err != nil {
		fmt.Fprintln(stderr, "strait:", err)
		return exitFailed
	}
	defer mp.Shutdown(context.Background())
	workerID := "strait"
	if _, addr, ok := cfg.Advertised(hostname()); ok {
		workerID = addr
	}
	w, warnings, err := replicator.New(cfg, log, replicator.WithMeterProvider(mp), replicator.WithWorkerID(workerID))
	for _, wn := range warnings {
		log.Warn(wn, "file", *file)
	}
	if err != nil {
		fmt.Fprintf(stderr, "strait: %s: %v\n", *file, err)
		return exitConfig
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var g errgroup.Group
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if len(cfg.Listeners) > 0 {
		serve, err := serveREST(cfg, workerID, w, metrics, log)
		if err != nil {
			fmt.Fprintln(stderr, "strait:", err)
			return exitFailed
		}
		g.Go(func() error { return serve(gctx) })
	}
	for _, f := range cfg.Flows {
		log.Info("starting flow", "flow", f.Name(), "tasks_max", f.TasksMax, "offsets_topic", f.OffsetsTopic)
	}
	if *progressEvery > 0 {
		g.Go(func() error { logProgress(gctx, w, *progressEvery, log); return nil })
	}
	werr := w.Run(ctx)
	cancel() // the worker has stopped: stop serving too
	if err := g.Wait(); err != nil {
		log.Error("REST API", "err", err)
	}
	if werr != nil && !errors.Is(werr, context.Canceled) {
		log.Error("worker stopped", "err", werr)
		fmt.Fprintln(stderr, "strait:", werr)
		return exitFailed
	}
	log.Info("stopped")
	return exitOK
}
