package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/heartbeat"
	"github.com/strait-replicator/strait/policy"
	"github.com/strait-replicator/strait/replicator"
)

// runTopology prints, from the heartbeats topics of every cluster, the
// paths by which each cluster is reached, their hops and the age of their
// newest heartbeat (end-to-end latency plus at most one heartbeat
// interval).
func runTopology(args []string, stdout, stderr io.Writer) int {
	cfg, code := configCommand("topology", args, stderr, nil)
	if cfg == nil {
		return code
	}
	var p policy.Policy = policy.Default{}
	if len(cfg.Flows) > 0 {
		p = cfg.Flows[0].Policy
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var seen []heartbeat.Observed
	failed := false
	for _, c := range cfg.Clusters {
		obs, err := readHeartbeats(ctx, c, p)
		if err != nil {
			fmt.Fprintf(stderr, "strait topology: cluster %s: %v\n", c.Alias, err)
			failed = true
			continue
		}
		seen = append(seen, obs...)
	}
	now := time.Now()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tPATH\tHOPS\tLATENCY")
	for _, path := range heartbeat.Paths(p, seen) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", path.Clusters[len(path.Clusters)-1], path, path.Hops(), now.Sub(path.Newest).Round(time.Millisecond))
	}
	tw.Flush()
	if failed {
		return exitFailed
	}
	return exitOK
}

// readHeartbeats reads every heartbeats topic of cluster c, whole.
func readHeartbeats(ctx context.Context, c configs.Cluster, p policy.Policy) ([]heartbeat.Observed, error) {
	opts, adm, err := adminFor(c)
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	return replicator.ReadHeartbeats(ctx, adm, opts, c.Alias, p, 0)
}
