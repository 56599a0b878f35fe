package rest

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/replicator"
)

// Config is what the REST API says about the worker.
type Config struct {
	Version string
	// WorkerID is the advertised host:port of the listener.
	WorkerID string
	// Metrics serves /metrics (Prometheus); nil leaves it out.
	Metrics http.Handler
	// Auth, when not nil, is the basic authentication every request must
	// pass (401 otherwise).
	Auth *configs.RESTAuth
	// ForwardScheme is how requests forwarded to other workers go: "http"
	// (default) or "https", the advertised scheme, as a group's workers
	// are configured alike. ForwardTLS checks the other worker's
	// certificate for https (nil: the system's roots).
	ForwardScheme string
	ForwardTLS    *tls.Config
	// Log receives failed authentications at debug level; nil discards.
	Log *slog.Logger
}

// NewHandler serves Kafka Connect's REST API for w's connectors (the shapes
// of ../shared/CONNECT-REST.md), plus /metrics, /healthz, /readyz and the
// status page at /ui/ (with its data at /ui/progress).
func NewHandler(w *replicator.Worker, cfg Config) http.Handler {
	if cfg.ForwardScheme == "" {
		cfg.ForwardScheme = "http"
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	h := &restHandler{w: w, cfg: cfg, client: newForwardClient(cfg.ForwardTLS)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.serverInfo)
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) {
		writeJSON(rw, http.StatusOK, map[string]string{"status": "healthy"})
	})
	mux.HandleFunc("GET /readyz", h.readyz)
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", cfg.Metrics)
	}
	mux.Handle("GET /ui/", uiHandler())
	mux.HandleFunc("GET /ui", func(rw http.ResponseWriter, r *http.Request) { http.Redirect(rw, r, "/ui/", http.StatusFound) })
	mux.HandleFunc("GET /ui/progress", h.progress)
	// The connectors are known once the worker runs its flows.
	connectors := map[string]http.HandlerFunc{
		"GET /connectors":                              h.list,
		"GET /connectors/{$}":                          h.list,
		"GET /connectors/{name}":                       h.info,
		"GET /connectors/{name}/config":                h.config,
		"GET /connectors/{name}/status":                h.status,
		"GET /connectors/{name}/tasks":                 h.tasks,
		"GET /connectors/{name}/tasks/{task}/status":   h.taskStatus,
		"PUT /connectors/{name}/pause":                 h.pause,
		"PUT /connectors/{name}/resume":                h.resume,
		"POST /connectors/{name}/restart":              h.restart,
		"POST /connectors/{name}/tasks/{task}/restart": h.restartTask,
		"PUT /connectors/{name}/config":                h.putConfig,
		"DELETE /connectors/{name}":                    h.delete,
		"POST /connectors":                             h.create,
	}
	for pattern, handle := range connectors {
		mux.Handle(pattern, h.whileRunning(handle))
	}
	mux.HandleFunc("GET /connector-plugins", h.plugins)
	mux.HandleFunc("GET /connector-plugins/{$}", h.plugins)
	mux.HandleFunc("GET /connector-plugins/{plugin}/config", h.pluginConfig)
	mux.HandleFunc("PUT /connector-plugins/{plugin}/config/validate", h.validate)
	mux.HandleFunc("/", func(rw http.ResponseWriter, _ *http.Request) {
		writeError(rw, http.StatusNotFound, "HTTP 404 Not Found")
	})
	handler := limitBodies(mux)
	if cfg.Auth != nil {
		return requireBasicAuth(cfg.Auth, handler, cfg.Log)
	}
	return handler
}

type restHandler struct {
	w      *replicator.Worker
	cfg    Config
	client *http.Client // forwards requests to other workers
}

// whileRunning answers 503 to a request about connectors while the worker
// is not running its flows (starting up, or stopping), as Connect answers
// requests before its worker has started. The Worker's methods refuse
// them then too (replicator.ErrNotRunning), which keeps flow state safe;
// this gives the answer.
func (h *restHandler) whileRunning(next http.HandlerFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		if err := h.w.WaitRunning(); err != nil {
			writeNotRunning(rw)
			return
		}
		next(rw, r)
	}
}

// writeNotRunning answers a request that needs the worker's flows running.
func writeNotRunning(rw http.ResponseWriter) {
	writeError(rw, http.StatusServiceUnavailable, "Request cannot be completed: "+replicator.ErrNotRunning.Error())
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(v) // the client went away if this fails
}

func writeError(rw http.ResponseWriter, status int, message string) {
	writeJSON(rw, status, map[string]any{"error_code": status, "message": message})
}

func (h *restHandler) serverInfo(rw http.ResponseWriter, _ *http.Request) {
	writeJSON(rw, http.StatusOK, map[string]string{"version": h.cfg.Version, "commit": "", "kafka_cluster_id": h.w.ClusterID()})
}

// readyz answers 200 once the worker runs its flows, unless a cluster they
// use has been unreachable for longer than readiness.unreachable.timeout.ms;
// a not-ready answer names the clusters unreachable that long.
func (h *restHandler) readyz(rw http.ResponseWriter, _ *http.Request) {
	unreachable := []string{}
	for _, c := range h.w.Reachability() {
		if c.NotReady {
			unreachable = append(unreachable, c.Alias)
		}
	}
	switch {
	case !h.w.Ready():
		writeJSON(rw, http.StatusServiceUnavailable, map[string]any{"status": "starting", "unreachable": unreachable})
	case len(unreachable) > 0:
		writeJSON(rw, http.StatusServiceUnavailable, map[string]any{"status": "unreachable", "unreachable": unreachable})
	default:
		writeJSON(rw, http.StatusOK, map[string]string{"status": "ready"})
	}
}

type taskID struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

type connectorInfo struct {
	Name   string            `json:"name"`
	Config map[string]string `json:"config"`
	Tasks  []taskID          `json:"tasks"`
	Type   string            `json:"type"`
}

type stateInfo struct {
	ID       *int   `json:"id,omitempty"`
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
	// StraitState tells what Connect's state does not: a task that
	// cannot reach its source or target cluster (UNREACHABLE_SOURCE,
	// UNREACHABLE_TARGET, UNREACHABLE_SOURCE_AND_TARGET); omitted when
	// it can.
	StraitState string `json:"strait_state,omitempty"`
	// FailedPartitions are a running task's partitions that stopped
	// copying (a record the target refuses or that cannot be copied
	// exactly), each at the first offset not copied; omitted when none.
	FailedPartitions []partitionFailureInfo `json:"failed_partitions,omitempty"`
}

// partitionFailureInfo is one failed partition of a task.
type partitionFailureInfo struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Error     string `json:"error"`
}

type connectorStateInfo struct {
	Name      string      `json:"name"`
	Connector stateInfo   `json:"connector"`
	Tasks     []stateInfo `json:"tasks"`
	Type      string      `json:"type"`
}

func (h *restHandler) toInfo(c replicator.ConnectorStatus) connectorInfo {
	ci := connectorInfo{Name: c.Name, Config: c.Config, Tasks: []taskID{}, Type: "source"}
	for i := range c.Tasks {
		ci.Tasks = append(ci.Tasks, taskID{c.Name, i})
	}
	return ci
}

func (h *restHandler) taskState(i int, t replicator.TaskStatus) stateInfo {
	id := i
	s := stateInfo{ID: &id, State: t.State, WorkerID: h.cfg.WorkerID}
	if t.WorkerID != "" {
		s.WorkerID = t.WorkerID
	}
	if t.Err != nil {
		s.Trace = t.Err.Error()
	}
	for _, pf := range t.FailedPartitions {
		s.FailedPartitions = append(s.FailedPartitions, partitionFailureInfo{Topic: pf.Topic, Partition: pf.Partition, Offset: pf.Offset, Error: pf.Err.Error()})
		if s.Trace != "" {
			s.Trace += "\n"
		}
		s.Trace += pf.Err.Error()
	}
	return s
}

func (h *restHandler) toState(c replicator.ConnectorStatus) connectorStateInfo {
	cs := connectorStateInfo{Name: c.Name, Connector: stateInfo{State: c.State, WorkerID: h.cfg.WorkerID}, Tasks: []stateInfo{}, Type: "source"}
	reach, trace := h.w.ConnectorReachability(c)
	withReach(&cs.Connector, reach, trace)
	for i, t := range c.Tasks {
		s := h.taskState(i, t)
		if !t.Elsewhere { // another worker's view of the clusters is its own
			withReach(&s, reach, trace)
		}
		cs.Tasks = append(cs.Tasks, s)
	}
	return cs
}

// withReach adds a connector's unreachable clusters to a state: the
// Strait state, and the reason first in Connect's trace.
func withReach(s *stateInfo, reach, trace string) {
	if reach == "" {
		return
	}
	s.StraitState = reach
	if s.Trace != "" {
		trace += "\n" + s.Trace
	}
	s.Trace = trace
}

func (h *restHandler) list(rw http.ResponseWriter, r *http.Request) {
	conns, err := h.w.Connectors()
	if err != nil {
		writeNotRunning(rw)
		return
	}
	expand, ok := r.URL.Query()["expand"]
	if !ok {
		names := []string{}
		for _, c := range conns {
			names = append(names, c.Name)
		}
		writeJSON(rw, http.StatusOK, names)
		return
	}
	out := map[string]map[string]any{}
	for _, c := range conns {
		m := map[string]any{}
		for _, e := range expand {
			switch e {
			case "status":
				m["status"] = h.toState(c)
			case "info":
				m["info"] = h.toInfo(c)
			}
		}
		out[c.Name] = m
	}
	writeJSON(rw, http.StatusOK, out)
}

// lookup finds the connector of the request or answers 404 with message
// (Connect's wording differs by endpoint).
func (h *restHandler) lookup(rw http.ResponseWriter, r *http.Request, message string) (replicator.ConnectorStatus, bool) {
	name := r.PathValue("name")
	c, err := h.w.Connector(name)
	if err != nil {
		writeError(rw, http.StatusNotFound, fmt.Sprintf(message, name))
		return replicator.ConnectorStatus{}, false
	}
	return c, true
}

func (h *restHandler) info(rw http.ResponseWriter, r *http.Request) {
	if c, ok := h.lookup(rw, r, "Connector %s not found"); ok {
		writeJSON(rw, http.StatusOK, h.toInfo(c))
	}
}

func (h *restHandler) config(rw http.ResponseWriter, r *http.Request) {
	if c, ok := h.lookup(rw, r, "Connector %s not found"); ok {
		writeJSON(rw, http.StatusOK, c.Config)
	}
}

func (h *restHandler) status(rw http.ResponseWriter, r *http.Request) {
	if c, ok := h.lookup(rw, r, "No status found for connector %s"); ok {
		writeJSON(rw, http.StatusOK, h.toState(c))
	}
}

func (h *restHandler) tasks(rw http.ResponseWriter, r *http.Request) {
	c, ok := h.lookup(rw, r, "Connector %s not found")
	if !ok {
		return
	}
	type taskInfo struct {
		ID     taskID            `json:"id"`
		Config map[string]string `json:"config"`
	}
	out := []taskInfo{}
	taskClass := strings.TrimSuffix(c.Class, "Connector") + "Task" // the class has its package
	for i, t := range c.Tasks {
		cfg := map[string]string{"task.class": taskClass, "task.index": strconv.Itoa(i)}
		for k, v := range c.Config {
			cfg[k] = v
		}
		if len(t.Assigned) > 0 {
			cfg["task.assigned.partitions"] = strings.Join(t.Assigned, ",")
		}
		out = append(out, taskInfo{ID: taskID{c.Name, i}, Config: cfg})
	}
	writeJSON(rw, http.StatusOK, out)
}

func (h *restHandler) taskIndex(rw http.ResponseWriter, r *http.Request, c replicator.ConnectorStatus, message string) (int, bool) {
	raw := r.PathValue("task")
	i, err := strconv.Atoi(raw)
	if err != nil {
		writeError(rw, http.StatusNotFound, "HTTP 404 Not Found")
		return 0, false
	}
	if i < 0 || i >= len(c.Tasks) {
		writeError(rw, http.StatusNotFound, fmt.Sprintf(message, c.Name, i))
		return 0, false
	}
	return i, true
}

func (h *restHandler) taskStatus(rw http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	c, err := h.w.Connector(name)
	if err != nil {
		writeError(rw, http.StatusNotFound, fmt.Sprintf("No status found for task %s-%s", name, r.PathValue("task")))
		return
	}
	if i, ok := h.taskIndex(rw, r, c, "No status found for task %s-%d"); ok {
		writeJSON(rw, http.StatusOK, h.toState(c).Tasks[i])
	}
}

func (h *restHandler) pause(rw http.ResponseWriter, r *http.Request) {
	h.setPaused(rw, r, true)
}

func (h *restHandler) resume(rw http.ResponseWriter, r *http.Request) {
	h.setPaused(rw, r, false)
}

func (h *restHandler) setPaused(rw http.ResponseWriter, r *http.Request, paused bool) {
	name := r.PathValue("name")
	var err error
	if paused {
		err = h.w.Pause(r.Context(), name)
	} else {
		err = h.w.Resume(r.Context(), name)
	}
	switch {
	case errors.Is(err, replicator.ErrUnknownConnector):
		writeError(rw, http.StatusNotFound, "Unknown connector "+name)
	case err != nil:
		writeError(rw, http.StatusInternalServerError, err.Error())
	default:
		rw.WriteHeader(http.StatusAccepted)
	}
}

// boolParam parses as Java's Boolean.parseBoolean: "true" in any case is
// true, anything else false.
func boolParam(r *http.Request, name string) bool {
	return strings.EqualFold(r.URL.Query().Get(name), "true")
}

func (h *restHandler) restart(rw http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	includeTasks, onlyFailed := boolParam(r, "includeTasks"), boolParam(r, "onlyFailed")
	plan, err := h.w.Restart(r.Context(), name, includeTasks, onlyFailed)
	switch {
	case errors.Is(err, replicator.ErrUnknownConnector):
		writeError(rw, http.StatusNotFound, "Unknown connector: "+name)
	case err != nil:
		writeError(rw, http.StatusInternalServerError, err.Error())
	case !includeTasks && !onlyFailed:
		rw.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(rw, http.StatusAccepted, h.toState(plan))
	}
}

func (h *restHandler) restartTask(rw http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	c, err := h.w.Connector(name)
	if err != nil {
		writeError(rw, http.StatusNotFound, "Unknown connector: "+name)
		return
	}
	i, ok := h.taskIndex(rw, r, c, "Unknown task: %s-%d")
	if !ok {
		return
	}
	err = h.w.RestartTask(name, i)
	var na *replicator.NotAssignedError
	switch {
	case errors.As(err, &na) && r.URL.Query().Get("forward") != "false":
		h.forward(rw, r, na.Worker)
	case na != nil || errors.Is(err, replicator.ErrConflict):
		// Forwarded here and this worker does not run it either, or its
		// worker is not known yet: the group is rebalancing.
		writeError(rw, http.StatusConflict, "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)")
	case err != nil:
		writeError(rw, http.StatusInternalServerError, err.Error())
	default:
		rw.WriteHeader(http.StatusNoContent)
	}
}

// forward sends r to the worker at worker (host:port) with forward=false,
// as Connect forwards a request to the worker that must serve it, with
// the caller's Authorization header, and relays its answer.
func (h *restHandler) forward(rw http.ResponseWriter, r *http.Request, worker string) {
	u := *r.URL
	u.Scheme, u.Host = h.cfg.ForwardScheme, worker
	q := u.Query()
	q.Set("forward", "false")
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(r.Context(), forwardTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), r.Body)
	if err != nil {
		writeError(rw, http.StatusInternalServerError, err.Error())
		return
	}
	req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
	if a := r.Header.Get("Authorization"); a != "" {
		req.Header.Set("Authorization", a)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		writeError(rw, http.StatusConflict, fmt.Sprintf("Cannot forward the request to worker %s, which runs the task: %v", worker, err))
		return
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		rw.Header().Set("Content-Type", ct)
	}
	rw.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(rw, resp.Body) // the client went away if this fails
}

// forwardTimeout bounds a request forwarded to another worker.
const forwardTimeout = 30 * time.Second

func (h *restHandler) putConfig(rw http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	cfg, err := readConfig(r)
	if err != nil {
		writeBodyError(rw, err)
		return
	}
	if n, ok := cfg["name"]; ok && n != name {
		writeError(rw, http.StatusBadRequest, fmt.Sprintf("Connector name configuration (%s) doesn't match connector name in the URL (%s)", n, name))
		return
	}
	created, err := h.w.Configure(r.Context(), name, cfg)
	var ce *replicator.ConfigError
	switch {
	case errors.Is(err, replicator.ErrUnknownConnector):
		writeError(rw, http.StatusBadRequest, fmt.Sprintf("Strait cannot create connector %s: its connectors are the flows of its configuration file, named <source>.<target>.<Class>", name))
		return
	case errors.As(err, &ce):
		writeError(rw, http.StatusBadRequest, ce.Error()+"\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`")
		return
	case errors.Is(err, replicator.ErrNotConfigurable):
		writeError(rw, http.StatusBadRequest, fmt.Sprintf("connector %s: %v", name, err))
		return
	case errors.Is(err, replicator.ErrConflict):
		writeError(rw, http.StatusConflict, "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)")
		return
	case err != nil:
		writeError(rw, http.StatusInternalServerError, err.Error())
		return
	}
	c, err := h.w.ConnectorIncludingDeleted(name)
	if err != nil {
		writeError(rw, http.StatusInternalServerError, err.Error())
		return
	}
	info := h.toInfo(c)
	info.Config = cfg
	info.Config["name"] = name
	if created {
		rw.Header().Set("Location", "/connectors/"+name)
		writeJSON(rw, http.StatusCreated, info)
		return
	}
	writeJSON(rw, http.StatusOK, info)
}

func (h *restHandler) delete(rw http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	err := h.w.Delete(r.Context(), name)
	switch {
	case errors.Is(err, replicator.ErrUnknownConnector):
		writeError(rw, http.StatusNotFound, "Connector "+name+" not found")
	case errors.Is(err, replicator.ErrNotConfigurable):
		writeError(rw, http.StatusBadRequest, fmt.Sprintf("connector %s: %v", name, err))
	case err != nil:
		writeError(rw, http.StatusInternalServerError, err.Error())
	default:
		rw.WriteHeader(http.StatusNoContent)
	}
}

// create answers POST /connectors: Strait's connectors exist with their
// flows, so an existing name conflicts and any other cannot be created.
func (h *restHandler) create(rw http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeBodyError(rw, err)
		return
	}
	name := strings.TrimSpace(req.Name)
	if _, err := h.w.Connector(name); err == nil {
		writeError(rw, http.StatusConflict, "Connector "+name+" already exists")
		return
	}
	writeError(rw, http.StatusBadRequest, fmt.Sprintf("Strait cannot create connector %q: its connectors are the flows of its configuration file; PUT /connectors/{name}/config changes one", name))
}
