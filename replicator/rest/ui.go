package rest

import (
	"context"
	"embed"
	"io/fs"
	"net/http"
	"time"
)

//go:embed ui/index.html
var uiFiles embed.FS

// uiHandler serves the status page: one HTML file that polls /ui/progress
// and the REST API, keeps its own history and draws its charts as SVG.
func uiHandler() http.Handler {
	sub, _ := fs.Sub(uiFiles, "ui") // the embedded tree has ui/
	return http.StripPrefix("/ui/", http.FileServer(http.FS(sub)))
}

// viewTimeout bounds the source requests of one /ui/progress answer (the
// log offsets of each flow's topics): a source that does not answer shows
// as an error on the page rather than holding its poll.
const viewTimeout = 3 * time.Second

// uiJSON is the status page's data (GET /ui/progress).
type uiJSON struct {
	TimeMs int64      `json:"time_ms"` // the worker's clock: the page takes rates over it
	Ready  bool       `json:"ready"`   // the worker runs its flows (else it starts or stops)
	Flows  []flowJSON `json:"flows"`
	// Clusters are the clusters the worker's flows use, as its probes
	// see them.
	Clusters []clusterJSON `json:"clusters"`
	// HeartbeatPaths are the paths heartbeats travelled to the clusters
	// this worker's flows write to; read only when asked (?heartbeats,
	// which the page asks every few polls), else absent. HeartbeatError
	// names the clusters that could not be read.
	HeartbeatPaths *[]heartbeatPathJSON `json:"heartbeat_paths,omitempty"`
	HeartbeatError string               `json:"heartbeat_error,omitempty"`
	// Groups are the consumer groups of the checkpoint tasks this worker
	// runs (absent when it runs none: the page leaves the section out).
	Groups []groupJSON `json:"groups,omitempty"`
}

type flowJSON struct {
	Flow      string `json:"flow"`
	Source    string `json:"source,omitempty"`
	Target    string `json:"target,omitempty"`
	Connector string `json:"connector,omitempty"`
	Paused    bool   `json:"paused"`
	// Copied and Remaining are the worker's Progress (records acknowledged
	// by its running tasks since they started, and the lag they know of).
	Copied      int64           `json:"copied"`
	Remaining   int64           `json:"remaining"`
	LatencyMs   int64           `json:"latency_ms"`
	SourceError string          `json:"source_error,omitempty"`
	Partitions  []partitionJSON `json:"partitions"`
	// RateLimit is the flow's replication.bytes.per.second and what this
	// worker's tasks used of it in the last second; absent without one.
	RateLimit *rateLimitJSON `json:"rate_limit,omitempty"`
}

type rateLimitJSON struct {
	BytesPerSecond     int64   `json:"bytes_per_second"`
	UsedBytesPerSecond int64   `json:"used_bytes_per_second"`
	UsedRatio          float64 `json:"used_ratio"`
}

type partitionJSON struct {
	Topic       string `json:"topic"`
	Remote      string `json:"remote"`
	Partition   int32  `json:"partition"`
	Task        string `json:"task,omitempty"`
	Here        bool   `json:"here"`
	WorkerID    string `json:"worker_id,omitempty"`
	State       string `json:"state"`
	Error       string `json:"error,omitempty"`
	ErrorOffset int64  `json:"error_offset"`
	Start       int64  `json:"start"`
	End         int64  `json:"end"`
	Next        int64  `json:"next"`
	Lag         int64  `json:"lag"`
	LatencyMs   int64  `json:"latency_ms"`
	CopiedBytes int64  `json:"copied_bytes"`
}

type clusterJSON struct {
	Alias string `json:"alias"`
	// State is REACHABLE, UNREACHABLE or UNKNOWN (before the first probe
	// ended); SinceMs is when it began (the worker's clock, ms; 0 for
	// none).
	State   string `json:"state"`
	SinceMs int64  `json:"since_ms"`
	Error   string `json:"error,omitempty"`
	// NotReady says the outage outlasted readiness.unreachable.timeout.ms:
	// the worker answers /readyz with 503.
	NotReady bool `json:"not_ready"`
}

type heartbeatPathJSON struct {
	Cluster  string   `json:"cluster"`   // where the heartbeats were read
	Path     []string `json:"path"`      // from the heartbeat's source to Cluster
	NewestMs int64    `json:"newest_ms"` // the newest heartbeat's timestamp
}

type groupJSON struct {
	Flow       string `json:"flow"`
	Group      string `json:"group"`
	Partitions int    `json:"partitions"` // partitions checkpointed
	// CheckpointMs is when its newest checkpoint was written.
	CheckpointMs int64 `json:"checkpoint_ms"`
	// Ready says the group can fail over to the target now; Reason says
	// why not.
	Ready  bool   `json:"ready"`
	Reason string `json:"reason,omitempty"`
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// progress answers the status page's poll: every flow with its partitions,
// the clusters as the worker's probes see them and, with ?heartbeats, the
// heartbeat paths.
func (h *restHandler) progress(rw http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), viewTimeout)
	defer cancel()
	progress := map[string]int{}
	out := uiJSON{Flows: []flowJSON{}, Clusters: []clusterJSON{}}
	for _, p := range h.w.Progress() {
		progress[p.Flow] = len(out.Flows)
		out.Flows = append(out.Flows, flowJSON{Flow: p.Flow, Copied: p.Copied, Remaining: p.Remaining, LatencyMs: p.LatencyMs, Partitions: []partitionJSON{}})
	}
	views := h.w.FlowViews(ctx)
	now := time.Now().UnixMilli()
	out.TimeMs, out.Ready = now, h.w.Ready()
	for _, v := range views {
		i, ok := progress[v.Flow]
		if !ok {
			i = len(out.Flows)
			out.Flows = append(out.Flows, flowJSON{Flow: v.Flow, LatencyMs: -1})
		}
		f := &out.Flows[i]
		f.Source, f.Target, f.Connector, f.Paused, f.SourceError = v.Source, v.Target, v.Connector, v.Paused, errText(v.SourceErr)
		f.Partitions = make([]partitionJSON, 0, len(v.Partitions))
		for _, p := range v.Partitions {
			f.Partitions = append(f.Partitions, partitionJSON{Topic: p.Topic, Remote: p.Remote, Partition: p.Partition, Task: p.Task,
				Here: p.Here, WorkerID: p.WorkerID, State: p.State, Error: errText(p.Err), ErrorOffset: p.ErrOffset,
				Start: p.Start, End: p.End, Next: p.Next, Lag: p.Lag, LatencyMs: p.LatencyMs, CopiedBytes: p.CopiedBytes})
		}
	}
	for _, c := range h.w.Reachability() {
		cj := clusterJSON{Alias: c.Alias, State: c.State, Error: errText(c.Err), NotReady: c.NotReady}
		if !c.Since.IsZero() {
			cj.SinceMs = c.Since.UnixMilli()
		}
		out.Clusters = append(out.Clusters, cj)
	}
	if r.URL.Query().Has("heartbeats") {
		hctx, hcancel := context.WithTimeout(r.Context(), viewTimeout)
		defer hcancel()
		paths, err := h.w.HeartbeatPaths(hctx)
		list := make([]heartbeatPathJSON, 0, len(paths))
		for _, p := range paths {
			list = append(list, heartbeatPathJSON{Cluster: p.Clusters[len(p.Clusters)-1], Path: p.Clusters, NewestMs: p.Newest.UnixMilli()})
		}
		out.HeartbeatPaths, out.HeartbeatError = &list, errText(err)
	}
	limits := map[string]*rateLimitJSON{}
	for _, l := range h.w.RateLimits() {
		limits[l.Flow] = &rateLimitJSON{BytesPerSecond: l.BytesPerSec, UsedBytesPerSecond: l.UsedPerSecond, UsedRatio: float64(l.UsedPerSecond) / float64(l.BytesPerSec)}
	}
	for i := range out.Flows {
		out.Flows[i].RateLimit = limits[out.Flows[i].Flow]
	}
	for _, g := range h.w.Groups(time.UnixMilli(now)) {
		out.Groups = append(out.Groups, groupJSON{Flow: g.Flow, Group: g.Group, Partitions: g.Partitions,
			CheckpointMs: g.Newest.UnixMilli(), Ready: g.Ready, Reason: g.Reason})
	}
	// Flows without a view (a heartbeat-only pair) copy nothing: left out.
	kept := out.Flows[:0]
	for _, f := range out.Flows {
		if f.Source != "" {
			kept = append(kept, f)
		}
	}
	out.Flows = kept
	writeJSON(rw, http.StatusOK, out)
}
