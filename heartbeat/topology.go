package heartbeat

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/strait-replicator/strait/policy"
)

// Path is one route by which heartbeats reach a cluster.
type Path struct {
	// Clusters from the heartbeat's source to the cluster it was read on.
	Clusters []string
	// Newest is the timestamp of the newest heartbeat seen on the path.
	Newest time.Time
}

// Hops is the number of replication hops of the path.
func (p Path) Hops() int { return len(p.Clusters) - 1 }

// String is the path as "A -> B -> C".
func (p Path) String() string { return strings.Join(p.Clusters, " -> ") }

// Observed is a heartbeat read from topic on cluster.
type Observed struct {
	Cluster string
	Topic   string
	Heartbeat
}

// Paths turns heartbeats read on clusters into the paths they travelled,
// newest heartbeat per path. A heartbeat of A->B read on C from topic
// "B.heartbeats" travelled A -> B -> C; from "D.B.heartbeats", A -> B -> D
// -> C: the aliases that prefix the topic, innermost first, are the hops
// after the heartbeat's target.
func Paths(p policy.Policy, seen []Observed) []Path {
	newest := map[string]*Path{}
	for _, o := range seen {
		if !policy.IsHeartbeatsTopic(p, o.Topic) {
			continue
		}
		var hops []string // outermost first
		for t := o.Topic; ; {
			src, ok := p.TopicSource(t)
			up, ok2 := p.UpstreamTopic(t)
			if !ok || !ok2 || up == t {
				break
			}
			hops = append(hops, src)
			t = up
		}
		route := []string{o.Source, o.Target}
		for i := len(hops) - 1; i >= 0; i-- {
			if hops[i] != route[len(route)-1] {
				route = append(route, hops[i])
			}
		}
		if route[len(route)-1] != o.Cluster {
			route = append(route, o.Cluster)
		}
		key := strings.Join(route, "\x00")
		ts := time.UnixMilli(o.Timestamp)
		if cur, ok := newest[key]; !ok || ts.After(cur.Newest) {
			newest[key] = &Path{Clusters: route, Newest: ts}
		}
	}
	out := make([]Path, 0, len(newest))
	for _, p := range newest {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b Path) int {
		return cmp.Or(cmp.Compare(a.Clusters[len(a.Clusters)-1], b.Clusters[len(b.Clusters)-1]),
			cmp.Compare(a.Hops(), b.Hops()), cmp.Compare(a.String(), b.String()))
	})
	return out
}
