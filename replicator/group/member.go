package group

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/replicator/task"
)

// Config is what a Member needs: its group, the timeouts it joins with,
// a client of the target cluster, and the flow's side of the membership.
type Config struct {
	Group    string // group.id on the flow's target
	WorkerID string // this worker's id, as the others see it
	Cluster  string // the target's alias, for errors
	// SessionTimeout (session.timeout.ms), HeartbeatInterval
	// (heartbeat.interval.ms) and RebalanceTimeout (rebalance.timeout.ms)
	// are Connect's worker group settings.
	SessionTimeout    time.Duration
	HeartbeatInterval time.Duration
	RebalanceTimeout  time.Duration
	// Client talks to the target cluster's group coordinator; the Member
	// owns it from NewMember on (Close closes it).
	Client *kgo.Client
	Log    *slog.Logger // the flow's; the member adds the group to each line

	// Owned returns the tasks this worker runs or is still stopping, and
	// the Seq of the last assignment the flow applied. Called from the
	// member's goroutine.
	Owned func() Owned
	// Wanted returns the tasks the flow wants run and the number of source
	// tasks, as the leader assigns them. Called from the member's
	// goroutine when this worker leads.
	Wanted func() ([]Spec, int)
	// Loads returns this worker's measured load per partition, in bytes/s
	// (nil: load-aware assignment is off); GotLoads takes, on the leader,
	// every member's.
	Loads    func() map[task.TopicPartition]float64
	GotLoads func(map[task.TopicPartition]float64)
	// Urgent, if set, is called (from the member's goroutine) when an
	// assignment handed to the flow is to be applied at once: one that
	// stops every task (this worker may be out of the group: the others
	// may start them soon), or the first to give tasks back after that.
	// The flow cuts short what keeps it from taking the assignment (a
	// request to a cluster that does not answer).
	Urgent func()
}

// Owned is what a flow runs or is still stopping: task id -> config digest
// (Spec.Digest), as of the assignment it applied last (Assignment.Seq).
type Owned struct {
	Tasks map[task.ID]string
	Seq   int
}

// Member keeps a worker in its flow's group and hands the flow each
// assignment. Its run loop is the goroutine Start starts (Leave waits for
// it), plus one per request to the coordinator, which the run loop waits
// for (await). A worker that may have dropped out of the group (no answer
// from the coordinator for nearly a session timeout, or an answer that it
// is no member) stops its tasks first and rejoins after: the group may
// give them to others by then. A Member runs at most once.
type Member struct {
	group    string
	workerID string
	cluster  string // the target's alias, for errors
	session  time.Duration
	interval time.Duration
	timeout  time.Duration // rebalance
	cl       *kgo.Client
	log      *slog.Logger

	// The flow's side: see Config.
	owned    func() Owned
	wanted   func() ([]Spec, int)
	loads    func() map[task.TopicPartition]float64
	gotLoads func(map[task.TopicPartition]float64)
	urgent   func()

	assignments chan Assignment // capacity 1: the newest replaces one not yet taken
	rejoin      chan struct{}   // capacity 1
	leader      atomic.Bool     // whether this worker led the last rebalance
	members     atomic.Int32    // the group's size at the last rebalance this worker led

	done chan struct{}      // closed when run returned
	err  error              // run's error; read after done
	stop context.CancelFunc // set by Start; nil before

	// handed are the assignments handed to the flow and not known applied
	// yet (the newest is kept); the run loop only.
	handed []Assignment
	seq    int
	// joinClaim is the claim the last JoinGroup sent; the run loop only.
	joinClaim map[task.ID]string
	// lastHeard is when the coordinator last showed it counted this worker
	// a member (the send time of a heartbeat or SyncGroup it answered, the
	// arrival of a JoinGroup answer): the session may end a session
	// timeout after it. lost is whether the tasks were stopped since (an
	// empty assignment handed) and no assignment came yet. The run loop
	// only.
	lastHeard time.Time
	lost      bool
}

// NewMember returns a member of cfg.Group, not yet joined (Start joins).
// It takes ownership of cfg.Client.
func NewMember(cfg Config) *Member {
	return &Member{
		group: cfg.Group, workerID: cfg.WorkerID, cluster: cfg.Cluster,
		session: cfg.SessionTimeout, interval: cfg.HeartbeatInterval, timeout: cfg.RebalanceTimeout,
		cl: cfg.Client, log: cfg.Log,
		owned: cfg.Owned, wanted: cfg.Wanted, loads: cfg.Loads, gotLoads: cfg.GotLoads, urgent: cfg.Urgent,
		assignments: make(chan Assignment, 1),
		rejoin:      make(chan struct{}, 1),
		done:        make(chan struct{}),
	}
}

// Error is a problem with a flow's worker group that retrying will not
// fix: the group is used by other clients, or access is denied. A Member
// that meets one stops: Done is closed and Err returns it.
type Error struct {
	Group   string // group.id
	Cluster string // the target's alias
	Err     error  // what the coordinator answered, and what to do about it
}

// Error names the group and the cluster.
func (e *Error) Error() string {
	return fmt.Sprintf("worker group %s on cluster %s: %v", e.Group, e.Cluster, e.Err)
}

// Unwrap returns Err, whose chain holds the coordinator's kerr.Error.
func (e *Error) Unwrap() error { return e.Err }

// Start joins the group and stays in it, in a goroutine of its own, until
// Leave is called: not until ctx is done, so that the worker stays in the
// group while its tasks stop. It does not block. Call it once; Start and
// Leave are called from one goroutine.
func (m *Member) Start(ctx context.Context) {
	mctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.stop = cancel
	go func() { // waited for by Leave
		defer close(m.done)
		m.err = m.run(mctx)
	}()
}

// Leave leaves the group and waits for the member's goroutine to return;
// it returns at once if Start was not called.
func (m *Member) Leave() {
	if m.stop == nil {
		return
	}
	m.stop()
	<-m.done
}

// Done is closed when the member stopped on its own (Err says why) or
// was left.
func (m *Member) Done() <-chan struct{} { return m.done }

// Err is why the member stopped: a *Error when the group cannot be used
// at all, nil when it was left. Read it after Done is closed.
func (m *Member) Err() error { return m.err }

// Close closes the member's client; call it after Leave (or instead of
// Start).
func (m *Member) Close() { m.cl.Close() }

// Assignments delivers each assignment the flow is to apply, the newest
// replacing one not yet taken. After the flow applied one, its Owned
// reports the assignment's Seq.
func (m *Member) Assignments() <-chan Assignment { return m.assignments }

// Leader reports whether this worker led the group's last rebalance (and
// so syncs topic configs and ACLs, and watches the flow's task configs).
func (m *Member) Leader() bool { return m.leader.Load() }

// Members is the group's size at the last rebalance this worker led.
func (m *Member) Members() int { return int(m.members.Load()) }

// RequestRejoin asks for a rebalance (the leader's task configs changed,
// or a task was fenced); it does not block.
func (m *Member) RequestRejoin() {
	select {
	case m.rejoin <- struct{}{}:
	default:
	}
}

// claimed is what this worker tells the group it owns: the tasks it runs
// or is stopping, and those of assignments handed to the flow that it may
// not have started yet. A task is free for another worker only once it is
// in neither. applied reports whether the flow applied the newest
// assignment.
func (m *Member) claimed() (claim map[task.ID]string, applied bool) {
	st := m.owned()
	claim = maps.Clone(st.Tasks)
	if claim == nil {
		claim = map[task.ID]string{}
	}
	kept := m.handed[:0]
	for i, a := range m.handed {
		if a.Seq <= st.Seq && i < len(m.handed)-1 {
			continue // applied or superseded, and not the newest
		}
		kept = append(kept, a)
		if a.Seq > st.Seq {
			for _, t := range a.Tasks {
				if _, ok := claim[t.ID]; !ok {
					claim[t.ID] = t.Digest()
				}
			}
		}
	}
	m.handed = kept
	return claim, len(m.handed) == 0 || m.handed[len(m.handed)-1].Seq <= st.Seq
}

// hand numbers an assignment, remembers it until the flow applied it, and
// delivers it.
func (m *Member) hand(a Assignment) {
	wasLost := m.lost
	m.lost = a.Generation < 0
	m.seq++
	a.Seq = m.seq
	m.handed = append(m.handed, a)
	m.deliver(a)
	if m.urgent != nil && (m.lost || wasLost && len(a.Tasks) > 0) {
		m.urgent()
	}
}

// deliver hands an assignment to the flow, replacing one not yet taken.
func (m *Member) deliver(a Assignment) {
	for {
		select {
		case m.assignments <- a:
			return
		default:
		}
		select {
		case <-m.assignments:
		default:
		}
	}
}

// lose stops this worker's tasks: the group no longer counts it a member,
// or may not (its session may have expired), so the others may run them
// already. The flow gets an empty assignment (generation -1); a worker
// keeps no task it cannot prove is still its own (Connect does the same
// since KAFKA-9184). A later assignment starts them again.
func (m *Member) lose(why string, err error) {
	if m.lost {
		return
	}
	m.log.Warn("out of the worker group; stopping this worker's tasks", "group", m.group, "why", why, "err", err)
	m.hand(Assignment{Generation: -1})
}

// stopBy is when this worker stops its tasks if the coordinator stays
// silent: a heartbeat interval (at most a third of the session) before
// its session may end, so that they have stopped and flushed their
// positions when the group may give them to others.
func (m *Member) stopBy() time.Time {
	return m.lastHeard.Add(m.session - min(m.interval, m.session/3))
}

// await runs req (a request to the coordinator) in a goroutine and waits
// for it to return; if the session may expire meanwhile, it stops the
// tasks at that moment rather than when req returns: a JoinGroup can
// wait up to the rebalance timeout (and on kfake, once the member was
// expired, until the client's request timeout), and a request to an
// unreachable coordinator until its timeout, while the group gives this
// worker's tasks to the others.
func (m *Member) await(req func() error) error {
	done := make(chan error, 1)
	go func() { done <- req() }() // waited for below
	timer := time.NewTimer(time.Until(m.stopBy()))
	defer timer.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-timer.C:
			m.lose("no answer from the group coordinator for nearly a session timeout", nil)
		}
	}
}

// pause waits d, or until ctx is done (it then reports false), stopping
// the tasks if the session may expire meanwhile.
func (m *Member) pause(ctx context.Context, d time.Duration) bool {
	wait := time.NewTimer(d)
	defer wait.Stop()
	expiry := time.NewTimer(time.Until(m.stopBy()))
	defer expiry.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-wait.C:
			return true
		case <-expiry.C:
			m.lose("no answer from the group coordinator for nearly a session timeout", nil)
		}
	}
}

// awaitStopped waits, after lose, until the flow stopped every task (and
// flushed their positions), up to the rebalance timeout: a worker rejoins
// claiming only what it still runs, so that the leader does not hold back
// or hand it tasks the others run now.
func (m *Member) awaitStopped(ctx context.Context) {
	deadline := time.Now().Add(m.timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		claim, applied := m.claimed()
		if applied && len(claim) == 0 {
			return
		}
		if time.Now().After(deadline) {
			m.log.Warn("tasks still stopping after the rebalance timeout; rejoining the worker group claiming them", "group", m.group, "tasks", slices.SortedFunc(maps.Keys(claim), task.ID.Compare))
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
