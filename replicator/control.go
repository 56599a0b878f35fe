package replicator

import (
	"errors"
	"fmt"
	"sync"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/replicator/task"
)

// connClasses are the connector kinds' classes.
var connClasses = [connKinds]string{"MirrorSourceConnector", "MirrorCheckpointConnector", "MirrorHeartbeatConnector"}

// Task and connector states, as Kafka Connect names them.
const (
	StatePaused     = task.Paused
	StateRestarting = "RESTARTING"
)

// Errors of the control API; the REST layer maps them to 404.
var (
	ErrUnknownConnector = errors.New("unknown connector")
	ErrUnknownTask      = errors.New("unknown task")
)

// NotAssignedError is returned for a request about a task that another
// worker of the group runs: Worker names it (its worker_id, the host:port
// of its REST listener), to which the REST API forwards the request, as
// Connect does.
type NotAssignedError struct {
	Task   string // "<connector>-<id>"
	Worker string
}

func (e *NotAssignedError) Error() string {
	return fmt.Sprintf("task %s is not run by this worker but by %s", e.Task, e.Worker)
}

// restartRequest is a pending restart of a connector's tasks.
type restartRequest struct {
	all        bool  // every task (includeTasks=true)
	onlyFailed bool  // only tasks that failed
	tasks      []int // these tasks (task restart endpoint)
}

// control holds what the REST API asked of a flow's connectors; the flow's
// run loop applies it. Safe for concurrent use.
type control struct {
	mu       sync.Mutex
	paused   [connKinds]bool           // guarded by mu
	deleted  [connKinds]bool           // guarded by mu; a deleted connector is also paused
	restarts [connKinds]restartRequest // guarded by mu
	config   *configs.Flow             // guarded by mu; a new flow config to apply
	wake     chan struct{}
}

// ErrConflict is returned for a configuration change while the previous
// one is still being applied.
var ErrConflict = errors.New("cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)")

// configPending reports whether a config is queued that the run loop has
// not taken yet: a new one would conflict with it.
func (c *control) configPending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.config != nil
}

// replaceConfig queues cfg for the run loop, replacing a config queued and
// not taken yet: cfg was written to the configs topic after it, so it is
// the one every worker ends with.
func (c *control) replaceConfig(cfg configs.Flow) {
	c.mu.Lock()
	c.config = &cfg
	c.mu.Unlock()
	c.signal()
}

// takeConfig returns the config queued for the run loop, if any, and
// clears it.
func (c *control) takeConfig() *configs.Flow {
	c.mu.Lock()
	defer c.mu.Unlock()
	cfg := c.config
	c.config = nil
	return cfg
}

func (c *control) setDeleted(k connKind, deleted bool) {
	c.mu.Lock()
	c.deleted[k] = deleted
	c.paused[k] = deleted || c.paused[k]
	c.mu.Unlock()
	c.signal()
}

func (c *control) isDeleted(k connKind) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deleted[k]
}

func newControl() *control { return &control{wake: make(chan struct{}, 1)} }

func (c *control) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *control) setPaused(k connKind, paused bool) {
	c.mu.Lock()
	c.paused[k] = paused
	c.mu.Unlock()
	c.signal()
}

func (c *control) isPaused(k connKind) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.paused[k]
}

func (c *control) requestRestart(k connKind, r restartRequest) {
	c.mu.Lock()
	cur := &c.restarts[k]
	cur.all = cur.all || r.all
	cur.onlyFailed = cur.onlyFailed || r.onlyFailed
	cur.tasks = append(cur.tasks, r.tasks...)
	c.mu.Unlock()
	c.signal()
}

// take returns the target states and the pending restarts, clearing them.
func (c *control) take() ([connKinds]bool, [connKinds]restartRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.restarts
	c.restarts = [connKinds]restartRequest{}
	return c.paused, r
}

// wants reports whether a restart request covers task i in state.
func (r restartRequest) wants(i int, state string) bool {
	for _, t := range r.tasks {
		if t == i {
			return true
		}
	}
	return r.all && (!r.onlyFailed || state == StateFailed)
}
