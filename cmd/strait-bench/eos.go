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

// eosSystems are the systems of an --exactly-once run.
var eosSystems = []string{"pipe", "strait", systemEOS}

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
// least once: rate and CPU per GB.
func printEOSRatios(w io.Writer, results []benchResult) {
	alos := map[string]benchResult{}
	for _, r := range results {
		if r.System == "strait" {
			alos[r.Case] = r
		}
	}
	for _, r := range results {
		a, ok := alos[r.Case]
		if r.System != systemEOS || !ok || a.RecordsPerSec <= 0 || a.CPUPerGB <= 0 {
			continue
		}
		fmt.Fprintf(w, "%s: strait-eos vs strait (exactly-once / at-least-once): rate %.2f, CPU/GB %.2f\n", r.Case, r.RecordsPerSec/a.RecordsPerSec, r.CPUPerGB/a.CPUPerGB)
	}
}
