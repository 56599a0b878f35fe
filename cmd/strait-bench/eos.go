package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// systemEOS is Strait in exactly-once mode, measured by --exactly-once in
// the same rounds as the pipe and Strait at least once ("strait"), from
// the same source data into fresh targets: the ratio of the two Strait
// figures is what exactly-once costs, on one machine in one run.
const systemEOS = "strait-eos"

// baselineEOS is the --baseline binary in exactly-once mode, measured by
// --exactly-once --baseline in the same rounds: strait-eos against it is
// the exactly-once path before and after a change, in one run.
const baselineEOS = "baseline-eos"

// eosSystems are the systems of an --exactly-once run; with a baseline
// binary, it is measured in exactly-once mode (only: its at-least-once
// rate is what --baseline alone measures).
func eosSystems(baseline bool) []string {
	if baseline {
		return []string{"pipe", "strait", systemEOS, baselineEOS}
	}
	return []string{"pipe", "strait", systemEOS}
}

// exactlyOnceSystem reports whether system runs Strait in exactly-once
// mode.
func exactlyOnceSystem(system string) bool {
	return system == systemEOS || system == baselineEOS
}

// enableExactlyOnce adds exactly-once support on the target to the
// properties file at path, with every other setting at its default
// (transaction.boundary = poll).
func enableExactlyOnce(path string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f, "B.exactly.once.source.support = enabled")
	return errors.Join(err, f.Close())
}

// printEOSRatios prints, per case, Strait exactly-once against Strait at
// least once, and against the baseline binary exactly-once when there is
// one: rate and CPU per GB.
func printEOSRatios(w io.Writer, results []benchResult) {
	type key struct{ c, system string }
	by := map[key]benchResult{}
	for _, r := range results {
		by[key{r.Case, r.System}] = r
	}
	ratio := func(c, of, to, what string) {
		a, ok1 := by[key{c, of}]
		b, ok2 := by[key{c, to}]
		if ok1 && ok2 && b.RecordsPerSec > 0 && b.CPUPerGB > 0 {
			fmt.Fprintf(w, "%s: %s vs %s (%s): rate %.2f, CPU/GB %.2f\n", c, of, to, what, a.RecordsPerSec/b.RecordsPerSec, a.CPUPerGB/b.CPUPerGB)
		}
	}
	for _, r := range results {
		switch r.System {
		case systemEOS:
			ratio(r.Case, systemEOS, "strait", "exactly-once / at-least-once")
			ratio(r.Case, systemEOS, baselineEOS, "exactly-once, this build / the baseline")
		case baselineEOS:
			ratio(r.Case, baselineEOS, "strait", "the baseline exactly-once / this build at-least-once")
		}
	}
}
