package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/replicator/verify"
)

// verifyFlags are the flags of strait verify besides -c.
type verifyFlags struct {
	flow, topics, fromTime string
	json                   bool
	parallel               int
}

// runVerify compares every replicated partition of each flow (or the one
// --flow names) with its remote partition, record by record: exit 0 when
// all are identical, 1 when something differs, 2 when the comparison
// cannot be made (bad file, flow or flags, a cluster unreachable).
func runVerify(args []string, stdout, stderr io.Writer) int {
	var vf verifyFlags
	cfg, code := configCommand("verify", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&vf.flow, "flow", "", "only this flow, as SOURCE->TARGET (default: every enabled flow)")
		fs.StringVar(&vf.topics, "topics", "", "only the source topics this regular expression matches whole")
		fs.StringVar(&vf.fromTime, "from-time", "", "only records from this time on: RFC 3339 (2026-11-24T10:00:00Z), a date (2026-11-24), epoch milliseconds, or a duration ago (90m)")
		fs.BoolVar(&vf.json, "json", false, "print JSON instead of a table")
		fs.IntVar(&vf.parallel, "parallel", verify.DefaultParallel, "partitions read at once (each from both clusters)")
	})
	if cfg == nil {
		return code
	}
	flows, err := selectFlows(cfg, vf.flow)
	if err != nil {
		fmt.Fprintln(stderr, "strait verify:", err)
		return exitConfig
	}
	var topics *regexp.Regexp
	if vf.topics != "" {
		if topics, err = regexp.Compile(vf.topics); err != nil {
			fmt.Fprintf(stderr, "strait verify: --topics %q: %v\n", vf.topics, err)
			return exitConfig
		}
	}
	var from time.Time
	if vf.fromTime != "" {
		if from, err = parseFromTime(vf.fromTime, time.Now()); err != nil {
			fmt.Fprintf(stderr, "strait verify: --from-time %q: %v\n", vf.fromTime, err)
			return exitConfig
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var reports []*verify.Report
	for _, f := range flows {
		src, _ := cfg.Cluster(f.Source)
		tgt, _ := cfg.Cluster(f.Target)
		progress := &verify.Progress{}
		stopProgress := showProgress(stderr, f.Name(), progress)
		rep, err := verify.Run(ctx, verify.Options{Flow: f, Source: src, Target: tgt, Topics: topics, FromTime: from,
			Parallel: vf.parallel, Progress: progress, Log: log})
		stopProgress()
		if err != nil {
			fmt.Fprintf(stderr, "strait verify: flow %s: %v\n", f.Name(), err)
			return exitConfig
		}
		reports = append(reports, rep)
	}
	differs := false
	for _, r := range reports {
		differs = differs || r.Differs()
	}
	if vf.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(struct {
			Identical bool             `json:"identical"`
			Flows     []*verify.Report `json:"flows"`
		}{!differs, reports})
	} else {
		for _, r := range reports {
			printVerify(stdout, r)
		}
	}
	if differs {
		return exitFailed
	}
	return exitOK
}

// selectFlows is the flow named SOURCE->TARGET, or every enabled flow.
func selectFlows(cfg *configs.Config, name string) ([]configs.Flow, error) {
	var names []string
	for _, f := range cfg.Flows {
		names = append(names, f.Name())
	}
	if name == "" {
		if len(cfg.Flows) == 0 {
			return nil, fmt.Errorf("no enabled flow in the configuration (set SOURCE->TARGET.enabled = true)")
		}
		return cfg.Flows, nil
	}
	src, tgt, ok := strings.Cut(name, "->")
	if f, found := cfg.Flow(strings.TrimSpace(src), strings.TrimSpace(tgt)); ok && found {
		return []configs.Flow{f}, nil
	}
	return nil, fmt.Errorf("--flow %q: no such enabled flow (enabled: %s)", name, strings.Join(names, ", "))
}

// parseFromTime reads --from-time: RFC 3339, a date (UTC), epoch
// milliseconds, or a duration before now.
func parseFromTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms >= 0 {
		return time.UnixMilli(ms), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("not RFC 3339, a date, epoch milliseconds or a positive duration")
}

// showProgress shows the share of offsets read and the rate on w: a bar
// redrawn four times a second on a terminal, else a line every five
// seconds. The returned function stops it (and clears the bar).
func showProgress(w io.Writer, flow string, p *verify.Progress) (stop func()) {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	every := 5 * time.Second
	if tty {
		every = 250 * time.Millisecond
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	started := time.Now()
	wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				if tty {
					fmt.Fprint(w, "\r\033[K")
				}
				return
			case <-tick.C:
			}
			total, read := p.Total(), p.Done()
			if total == 0 {
				continue // still listing topics and offsets
			}
			secs := time.Since(started).Seconds()
			rate := float64(read) / secs
			eta := "?"
			if rate > 0 {
				eta = (time.Duration(float64(total-read)/rate) * time.Second).Round(time.Second).String()
			}
			share := float64(read) / float64(total)
			line := fmt.Sprintf("verify %s: %3.0f%% %s of %s offsets, %s/s, ETA %s", flow, 100*share, count(read), count(total), count(int64(rate)), eta)
			if tty {
				const width = 30
				bar := strings.Repeat("=", int(share*width)) + strings.Repeat(" ", width-int(share*width))
				fmt.Fprintf(w, "\r[%s] %s\033[K", bar, line)
			} else {
				fmt.Fprintln(w, line)
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// count prints n with k, M, G suffixes.
func count(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1fG", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.0fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// printVerify prints a flow's report: a table per topic, what is not a
// difference but was seen, and the verdict.
func printVerify(w io.Writer, r *verify.Report) {
	rate := 0.0
	if r.Seconds > 0 {
		rate = float64(r.Read) / r.Seconds
	}
	fmt.Fprintf(w, "flow %s: %d topics, %d offsets read in %.1f s (%s/s)\n", r.Flow, len(r.Topics), r.Read, r.Seconds, count(int64(rate)))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tREMOTE\tCOMPARED\tMISSING\tEXTRA\tDIFFERENT\tFIRST DIFFERENCE")
	for _, t := range r.Topics {
		first := "-"
		if t.First != nil {
			first = describe(t.First)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\n", t.Topic, t.Remote, t.Compared, t.Missing, t.Extra, t.Different, first)
	}
	tw.Flush()
	for _, t := range r.Topics {
		var notes []string
		if t.Note != "" {
			notes = append(notes, t.Note)
		}
		if t.Pending > 0 {
			notes = append(notes, fmt.Sprintf("%d not copied yet (at or past the flow's stored position)", t.Pending))
		}
		if t.Gone > 0 {
			notes = append(notes, fmt.Sprintf("%d on the target whose source records are gone (retention, compaction)", t.Gone))
		}
		if t.Outside > 0 {
			notes = append(notes, fmt.Sprintf("%d on the target outside the compared range (held before replication began, before --from-time, or copied since the start)", t.Outside))
		}
		for _, p := range t.Partitions {
			if p.Note != "" {
				notes = append(notes, fmt.Sprintf("partition %d: %s", p.Partition, p.Note))
			}
		}
		for _, n := range notes {
			fmt.Fprintf(w, "  %s: %s\n", t.Topic, n)
		}
	}
	if r.Differs() {
		fmt.Fprintf(w, "flow %s: DIFFERENT: %d missing on the target, %d extra on the target, %d different\n", r.Flow, r.Total.Missing, r.Total.Extra, r.Total.Different)
	} else {
		fmt.Fprintf(w, "flow %s: identical (%d records compared)\n", r.Flow, r.Total.Compared)
	}
}

// describe prints a difference with its partition.
func describe(d *verify.PartitionDifference) string {
	switch d.Kind {
	case verify.Missing:
		return fmt.Sprintf("partition %d offset %d: missing", d.Partition, d.SourceOffset)
	case verify.Extra:
		return fmt.Sprintf("partition %d target offset %d: extra", d.Partition, d.TargetOffset)
	}
	what := "different"
	switch len(d.Fields) {
	case 0:
	case 1:
		what = d.Fields[0] + " differs"
	default:
		what = strings.Join(d.Fields, ", ") + " differ"
	}
	return fmt.Sprintf("partition %d offset %d (target %d): %s", d.Partition, d.SourceOffset, d.TargetOffset, what)
}
