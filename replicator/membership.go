package replicator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Strait's group protocol: workers of a flow join group.id on the target
// cluster with this protocol type, so the group is not mistaken for a
// consumer group (nor for MM2's "connect" workers, whose group a Strait
// worker refuses to join).
const (
	groupProtocolType = "strait"
	groupProtocol     = "strait-v1"
)

// taskSpec is a task as the leader assigns it: its id ("source-3",
// "checkpoint-0", "heartbeat-0") and, for a source task, its partitions.
type taskSpec struct {
	ID         TaskID           `json:"id"`
	Partitions []topicPartition `json:"partitions,omitempty"`
}

// digest identifies the task's config: a task whose partitions change is
// stopped everywhere before it runs with the new ones.
func (s taskSpec) digest() string {
	var b strings.Builder
	for _, tp := range s.Partitions {
		b.WriteString(tp.String())
		b.WriteByte(',')
	}
	return b.String()
}

// memberMetadata is what a worker tells the group when it joins.
type memberMetadata struct {
	Worker string            `json:"worker"`
	Owned  map[TaskID]string `json:"owned"` // task id -> digest
	// Loads are the bytes/s the worker copies per partition, for the
	// leader's load-aware assignment (tasks.assignment = load).
	Loads []partitionLoad `json:"loads,omitempty"`
}

// partitionLoad is one partition's measured load.
type partitionLoad struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Rate      float64 `json:"bytes_per_second"`
}

// groupAssignment is what the leader gives a worker.
type groupAssignment struct {
	// seq numbers the assignments a membership hands its flow (not sent).
	seq         int
	Generation  int32      `json:"generation"`
	Leader      string     `json:"leader"` // the leader's worker id
	SourceTasks int        `json:"source_tasks"`
	Tasks       []taskSpec `json:"tasks"`
}

// membership keeps a worker in its flow's group and hands the flow each
// assignment. Its run loop is the goroutine it starts (the flow owns and
// waits for it), plus one per request to the coordinator, which the run
// loop waits for (await). A worker that may have dropped out of the group
// (no answer from the coordinator for nearly a session timeout, or an
// answer that it is no member) stops its tasks first and rejoins after:
// the group may give them to others by then.
type membership struct {
	group    string
	workerID string
	cluster  string // the target's alias, for errors
	session  time.Duration
	interval time.Duration
	timeout  time.Duration // rebalance
	cl       *kgo.Client
	log      *slog.Logger

	// owned returns the tasks this worker runs or is still stopping, and
	// the seq of the last assignment the flow applied.
	owned func() ownedTasks
	// wanted returns the tasks the flow wants run and the number of source
	// tasks, as the leader assigns them.
	wanted func() ([]taskSpec, int)
	// loads returns this worker's measured loads (nil: load-aware
	// assignment is off); gotLoads takes, on the leader, every member's.
	loads    func() map[topicPartition]float64
	gotLoads func(map[topicPartition]float64)

	assignments chan groupAssignment // capacity 1: the newest replaces one not yet taken
	rejoin      chan struct{}        // capacity 1
	leader      atomic.Bool          // whether this worker led the last rebalance
	members     atomic.Int32         // the group's size at the last rebalance this worker led

	// handed are the assignments handed to the flow and not known applied
	// yet (the newest is kept); the run loop only.
	handed []groupAssignment
	seq    int
	// joinClaim is the claim the last JoinGroup sent; the run loop only.
	joinClaim map[TaskID]string
	// lastHeard is when the coordinator last showed it counted this worker
	// a member (the send time of a heartbeat or SyncGroup it answered, the
	// arrival of a JoinGroup answer): the session may end a session
	// timeout after it. lost is whether the tasks were stopped since (an
	// empty assignment handed) and no assignment came yet. The run loop
	// only.
	lastHeard time.Time
	lost      bool
}

// ownedTasks is what a flow runs: task id -> digest, as of the assignment
// it applied last.
type ownedTasks struct {
	tasks map[TaskID]string
	seq   int
}

// claimed is what this worker tells the group it owns: the tasks it runs
// or is stopping, and those of assignments handed to the flow that it may
// not have started yet. A task is free for another worker only once it is
// in neither. applied reports whether the flow applied the newest
// assignment.
func (m *membership) claimed() (claim map[TaskID]string, applied bool) {
	st := m.owned()
	claim = maps.Clone(st.tasks)
	if claim == nil {
		claim = map[TaskID]string{}
	}
	kept := m.handed[:0]
	for i, a := range m.handed {
		if a.seq <= st.seq && i < len(m.handed)-1 {
			continue // applied or superseded, and not the newest
		}
		kept = append(kept, a)
		if a.seq > st.seq {
			for _, t := range a.Tasks {
				if _, ok := claim[t.ID]; !ok {
					claim[t.ID] = t.digest()
				}
			}
		}
	}
	m.handed = kept
	return claim, len(m.handed) == 0 || m.handed[len(m.handed)-1].seq <= st.seq
}

// GroupError is a problem with a flow's worker group that retrying will
// not fix: the group is used by other clients, or access is denied.
type GroupError struct {
	Group   string
	Cluster string
	Err     error
}

func (e *GroupError) Error() string {
	return fmt.Sprintf("worker group %s on cluster %s: %v", e.Group, e.Cluster, e.Err)
}

func (e *GroupError) Unwrap() error { return e.Err }

// membershipRun is a membership running in its own goroutine.
type membershipRun struct {
	done chan struct{} // closed when run returned
	err  error         // run's error; read after done
	stop context.CancelFunc
}

// start runs m until leave is called: not with ctx, so that the worker
// stays in the group while its tasks stop.
func (m *membership) start(ctx context.Context) *membershipRun {
	mctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r := &membershipRun{done: make(chan struct{}), stop: cancel}
	go func() { // waited for by leave
		defer close(r.done)
		r.err = m.run(mctx)
	}()
	return r
}

// leave leaves the group and waits for the membership to end.
func (r *membershipRun) leave() {
	r.stop()
	<-r.done
}

// requestRejoin asks for a rebalance (the leader's task configs changed).
func (m *membership) requestRejoin() {
	select {
	case m.rejoin <- struct{}{}:
	default:
	}
}

// hand numbers an assignment, remembers it until the flow applied it, and
// delivers it.
func (m *membership) hand(a groupAssignment) {
	m.lost = a.Generation < 0
	m.seq++
	a.seq = m.seq
	m.handed = append(m.handed, a)
	m.deliver(a)
}

// deliver hands an assignment to the flow, replacing one not yet taken.
func (m *membership) deliver(a groupAssignment) {
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
func (m *membership) lose(why string, err error) {
	if m.lost {
		return
	}
	m.log.Warn("out of the worker group; stopping this worker's tasks", "group", m.group, "why", why, "err", err)
	m.hand(groupAssignment{Generation: -1})
}

// stopBy is when this worker stops its tasks if the coordinator stays
// silent: a heartbeat interval (at most a third of the session) before
// its session may end, so that they have stopped and flushed their
// positions when the group may give them to others.
func (m *membership) stopBy() time.Time {
	return m.lastHeard.Add(m.session - min(m.interval, m.session/3))
}

// await runs req (a request to the coordinator) in a goroutine and waits
// for it to return; if the session may expire meanwhile, it stops the
// tasks at that moment rather than when req returns: a JoinGroup can
// wait up to the rebalance timeout (and on kfake, once the member was
// expired, until the client's request timeout), and a request to an
// unreachable coordinator until its timeout, while the group gives this
// worker's tasks to the others.
func (m *membership) await(req func() error) error {
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
func (m *membership) pause(ctx context.Context, d time.Duration) bool {
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
func (m *membership) awaitStopped(ctx context.Context) {
	deadline := time.Now().Add(m.timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		claim, applied := m.claimed()
		if applied && len(claim) == 0 {
			return
		}
		if time.Now().After(deadline) {
			m.log.Warn("tasks still stopping after the rebalance timeout; rejoining the worker group claiming them", "group", m.group, "tasks", slices.SortedFunc(maps.Keys(claim), TaskID.Compare))
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// memberLost reports whether err says the coordinator no longer counts
// this worker a member of the generation it holds, and whether its member
// id is unknown too.
func memberLost(err error) (lost, unknownID bool) {
	switch {
	case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.FencedInstanceID):
		return true, true
	case errors.Is(err, kerr.IllegalGeneration):
		return true, false
	}
	return false, false
}

// run joins the group and stays in it until ctx is done, then leaves it
// (so the others take its tasks at once). It returns a *GroupError when
// the group cannot be used at all.
func (m *membership) run(ctx context.Context) error {
	memberID := ""
	defer func() {
		if memberID == "" {
			return
		}
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		req := kmsg.NewPtrLeaveGroupRequest()
		req.Group, req.MemberID = m.group, memberID
		member := kmsg.NewLeaveGroupRequestMember()
		member.MemberID = memberID
		req.Members = append(req.Members, member)
		if _, err := req.RequestWith(lctx, m.cl); err != nil {
			m.log.Warn("leaving the worker group failed; the others take its tasks after the session timeout", "group", m.group, "err", err)
		}
	}()
	backoff := 100 * time.Millisecond
	m.lastHeard = time.Now()
	m.lost = true // nothing runs yet: nothing to stop
	for ctx.Err() == nil {
		a, gen, err := m.join(ctx, &memberID)
		if err != nil {
			var ge *GroupError
			if errors.As(err, &ge) {
				return err
			}
			if ctx.Err() != nil {
				return nil
			}
			if lost, unknownID := memberLost(err); lost {
				if unknownID {
					memberID = ""
				}
				m.lose("the group coordinator no longer counts this worker a member", err)
			}
			m.log.Warn("joining the worker group failed; retrying", "group", m.group, "in", backoff, "err", err)
			if !m.pause(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		ids := make([]TaskID, len(a.Tasks))
		for i, t := range a.Tasks {
			ids[i] = t.ID
		}
		// Revoked: what this worker claimed when it joined (what the
		// leader saw) or claims now, that it was not given. A task that
		// stopped between the join and the assignment counts: the leader
		// held it back, and only a rejoin frees it.
		var revoked []TaskID
		claim, _ := m.claimed()
		for _, c := range []map[TaskID]string{m.joinClaim, claim} {
			for id := range c {
				if !slices.Contains(ids, id) && !slices.Contains(revoked, id) {
					revoked = append(revoked, id)
				}
			}
		}
		m.log.Info("worker group assignment", "group", m.group, "generation", gen, "leader", a.Leader, "tasks", ids, "revoked", revoked)
		m.hand(a)
		m.heartbeat(ctx, &memberID, gen, revoked)
	}
	return nil
}

// join joins the group and syncs; the leader assigns. A worker whose
// tasks were stopped (lose) first waits until they are, so that it claims
// none of them. A round takes at most the rebalance timeout plus a
// session timeout: a member still waiting then is no member any more.
func (m *membership) join(ctx context.Context, memberID *string) (groupAssignment, int32, error) {
	if m.lost {
		// The round starts once the tasks stopped.
		m.awaitStopped(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, m.timeout+m.session)
	defer cancel()
	var resp *kmsg.JoinGroupResponse
	for {
		claim, _ := m.claimed()
		m.joinClaim = claim
		md := memberMetadata{Worker: m.workerID, Owned: claim}
		if m.loads != nil {
			for tp, rate := range m.loads() {
				md.Loads = append(md.Loads, partitionLoad{Topic: tp.Topic, Partition: tp.Partition, Rate: rate})
			}
		}
		meta, err := json.Marshal(md)
		if err != nil {
			return groupAssignment{}, 0, err
		}
		req := kmsg.NewPtrJoinGroupRequest()
		req.Group, req.MemberID, req.ProtocolType = m.group, *memberID, groupProtocolType
		req.SessionTimeoutMillis = int32(m.session.Milliseconds())
		req.RebalanceTimeoutMillis = int32(m.timeout.Milliseconds())
		p := kmsg.NewJoinGroupRequestProtocol()
		p.Name, p.Metadata = groupProtocol, meta
		req.Protocols = append(req.Protocols, p)
		err = m.await(func() (err error) {
			resp, err = req.RequestWith(ctx, m.cl)
			return err
		})
		if err != nil {
			return groupAssignment{}, 0, fmt.Errorf("join group %s: %w", m.group, err)
		}
		err = kerr.ErrorForCode(resp.ErrorCode)
		switch {
		case errors.Is(err, kerr.MemberIDRequired):
			*memberID = resp.MemberID
			continue
		case errors.Is(err, kerr.UnknownMemberID) && *memberID != "":
			// Expelled (its session expired): the others may run its
			// tasks already. run stops them and joins anew.
			return groupAssignment{}, 0, fmt.Errorf("join group %s: %w", m.group, err)
		case errors.Is(err, kerr.InconsistentGroupProtocol):
			return groupAssignment{}, 0, &GroupError{m.group, m.cluster, fmt.Errorf("used by clients of another kind (an MM2 or Connect worker, or consumers): give Strait its own group.id: %w", err)}
		case errors.Is(err, kerr.InvalidSessionTimeout):
			return groupAssignment{}, 0, &GroupError{m.group, m.cluster, fmt.Errorf("session.timeout.ms = %d is outside what the brokers allow (group.min.session.timeout.ms, group.max.session.timeout.ms; 6000 to 1800000 by default): %w", m.session.Milliseconds(), err)}
		case errors.Is(err, kerr.GroupAuthorizationFailed):
			return groupAssignment{}, 0, &GroupError{m.group, m.cluster, fmt.Errorf("not allowed to join (grant READ on the group): %w", err)}
		case err != nil:
			return groupAssignment{}, 0, fmt.Errorf("join group %s: %w", m.group, err)
		}
		break
	}
	m.lastHeard = time.Now() // Kafka restarts the session timers as a join completes
	*memberID = resp.MemberID
	m.leader.Store(resp.LeaderID == resp.MemberID)
	sreq := kmsg.NewPtrSyncGroupRequest()
	sreq.Group, sreq.Generation, sreq.MemberID = m.group, resp.Generation, resp.MemberID
	sreq.ProtocolType, sreq.Protocol = kmsg.StringPtr(groupProtocolType), kmsg.StringPtr(groupProtocol)
	if resp.LeaderID == resp.MemberID {
		assignments, err := m.lead(resp)
		if err != nil {
			return groupAssignment{}, 0, err
		}
		for _, id := range slices.Sorted(maps.Keys(assignments)) {
			ga := kmsg.NewSyncGroupRequestGroupAssignment()
			ga.MemberID, ga.MemberAssignment = id, assignments[id]
			sreq.GroupAssignment = append(sreq.GroupAssignment, ga)
		}
	}
	var sresp *kmsg.SyncGroupResponse
	sent := time.Now()
	err := m.await(func() (err error) {
		sresp, err = sreq.RequestWith(ctx, m.cl)
		return err
	})
	if err == nil {
		err = kerr.ErrorForCode(sresp.ErrorCode)
	}
	if err != nil {
		return groupAssignment{}, 0, fmt.Errorf("sync group %s: %w", m.group, err)
	}
	m.lastHeard = sent // kfake restarts the session timer as it answers
	var a groupAssignment
	if err := json.Unmarshal(sresp.MemberAssignment, &a); err != nil {
		return groupAssignment{}, 0, fmt.Errorf("sync group %s: bad assignment from the leader: %w", m.group, err)
	}
	return a, resp.Generation, nil
}

// lead assigns the wanted tasks over the members of a join answer and
// encodes each member's assignment.
func (m *membership) lead(resp *kmsg.JoinGroupResponse) (map[string][]byte, error) {
	m.members.Store(int32(len(resp.Members)))
	if m.gotLoads != nil {
		// A partition that moved between workers since they measured is
		// in two reports: the larger is the one of the worker copying it.
		loads := map[topicPartition]float64{}
		for _, gm := range resp.Members {
			var meta memberMetadata
			if json.Unmarshal(gm.ProtocolMetadata, &meta) != nil {
				continue // reported below
			}
			for _, l := range meta.Loads {
				tp := topicPartition{Topic: l.Topic, Partition: l.Partition}
				loads[tp] = max(loads[tp], l.Rate)
			}
		}
		m.gotLoads(loads)
	}
	specs, sourceTasks := m.wanted()
	byID := map[TaskID]taskSpec{}
	configs := make([]taskConfig, len(specs))
	for i, s := range specs {
		byID[s.ID] = s
		configs[i] = taskConfig{ID: s.ID, Digest: s.digest()}
	}
	members := make([]groupMember, 0, len(resp.Members))
	for _, gm := range resp.Members {
		var meta memberMetadata
		if err := json.Unmarshal(gm.ProtocolMetadata, &meta); err != nil {
			m.log.Warn("worker group member sent unreadable metadata; assuming it runs nothing", "member", gm.MemberID, "err", err)
		}
		members = append(members, groupMember{ID: gm.MemberID, Owned: meta.Owned})
	}
	assigned, revoked := assignGroup(members, configs)
	m.log.Info("assigned the worker group's tasks", "group", m.group, "generation", resp.Generation, "members", len(members), "tasks", len(specs), "revoked", revoked)
	out := map[string][]byte{}
	for id, tasks := range assigned {
		a := groupAssignment{Generation: resp.Generation, Leader: m.workerID, SourceTasks: sourceTasks, Tasks: []taskSpec{}}
		for _, t := range tasks {
			a.Tasks = append(a.Tasks, byID[t])
		}
		b, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		out[id] = b
	}
	return out, nil
}

// heartbeat keeps the membership alive until a rebalance is due: the
// coordinator starts one, the flow asks for one, or the tasks revoked
// from this worker have stopped (so the leader can give them to others).
// Once the coordinator no longer counts this worker a member, or has not
// answered for nearly a session timeout, it stops the tasks and returns.
func (m *membership) heartbeat(ctx context.Context, memberID *string, gen int32, revoked []TaskID) {
	tick := time.NewTicker(m.interval)
	defer tick.Stop()
	var check <-chan time.Time
	if len(revoked) > 0 {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		check = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.rejoin:
			return
		case <-check:
			// Rejoin once the flow applied the assignment and stopped
			// every revoked task.
			claim, applied := m.claimed()
			if applied && !slices.ContainsFunc(revoked, func(id TaskID) bool { _, ok := claim[id]; return ok }) {
				return
			}
		case <-tick.C:
			req := kmsg.NewPtrHeartbeatRequest()
			req.Group, req.Generation, req.MemberID = m.group, gen, *memberID
			sent := time.Now()
			var resp *kmsg.HeartbeatResponse
			err := m.await(func() (err error) {
				resp, err = req.RequestWith(ctx, m.cl)
				return err
			})
			if err == nil {
				err = kerr.ErrorForCode(resp.ErrorCode)
			}
			if lost, unknownID := memberLost(err); lost {
				if unknownID {
					*memberID = ""
				}
				m.lose("the group coordinator no longer counts this worker a member", err)
				return
			}
			switch {
			case err == nil:
				m.lastHeard = sent
			case errors.Is(err, kerr.RebalanceInProgress):
				m.lastHeard = sent // still a member: rejoin
				return
			default:
				if ctx.Err() != nil {
					return
				}
				m.log.Warn("worker group heartbeat failed", "group", m.group, "err", err)
				if !time.Now().Before(m.stopBy()) {
					// Expelled by now, or about to be: the others may
					// run the tasks.
					m.lose("no answer from the group coordinator for nearly a session timeout", err)
				}
			}
			if m.lost {
				// Stopped while the coordinator was silent: rejoin (as
				// the same member, if the coordinator still knows it),
				// so that the group assigns the tasks again.
				return
			}
		}
	}
}
