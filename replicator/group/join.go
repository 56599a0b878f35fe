package group

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-replicator/strait/replicator/task"
)

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

// Backoff between failed joins: Java clients' retry.backoff.ms and
// retry.backoff.max.ms defaults. A join fails at once while the
// coordinator's cluster is down (connection refused), so the attempts are
// cheap, and the cap bounds how long after the cluster's return the worker
// waits before it joins again and its tasks start.
const (
	joinBackoffMin = 100 * time.Millisecond
	joinBackoffMax = time.Second
)

// run joins the group and stays in it until ctx is done, then leaves it
// (so the others take its tasks at once). It returns a *Error when
// the group cannot be used at all.
func (m *Member) run(ctx context.Context) error {
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
	backoff := joinBackoffMin
	anew := false // whether the last failed join is being retried at once as a new member
	m.lastHeard = time.Now()
	m.lost = true // nothing runs yet: nothing to stop
	for ctx.Err() == nil {
		a, gen, err := m.join(ctx, &memberID)
		if err != nil {
			var ge *Error
			if errors.As(err, &ge) {
				return err
			}
			if ctx.Err() != nil {
				return nil
			}
			if lost, unknownID := memberLost(err); lost {
				m.lose("the group coordinator no longer counts this worker a member", err)
				if unknownID && memberID != "" && !anew {
					// The coordinator answers and has forgotten this
					// member (its session expired): join at once as a
					// new one (once in a row, not in a loop).
					memberID, anew = "", true
					m.log.Info("rejoining the worker group as a new member", "group", m.group, "err", err)
					continue
				}
				if unknownID {
					memberID = ""
				}
			}
			anew = false
			m.log.Warn("joining the worker group failed; retrying", "group", m.group, "in", backoff, "err", err)
			if !m.pause(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, joinBackoffMax)
			continue
		}
		backoff, anew = joinBackoffMin, false
		ids := make([]task.ID, len(a.Tasks))
		for i, t := range a.Tasks {
			ids[i] = t.ID
		}
		// Revoked: what this worker claimed when it joined (what the
		// leader saw) or claims now, that it was not given. A task that
		// stopped between the join and the assignment counts: the leader
		// held it back, and only a rejoin frees it.
		var revoked []task.ID
		claim, _ := m.claimed()
		for _, c := range []map[task.ID]string{m.joinClaim, claim} {
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
func (m *Member) join(ctx context.Context, memberID *string) (Assignment, int32, error) {
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
			return Assignment{}, 0, err
		}
		req := kmsg.NewPtrJoinGroupRequest()
		req.Group, req.MemberID, req.ProtocolType = m.group, *memberID, protocolType
		req.SessionTimeoutMillis = int32(m.session.Milliseconds())
		req.RebalanceTimeoutMillis = int32(m.timeout.Milliseconds())
		p := kmsg.NewJoinGroupRequestProtocol()
		p.Name, p.Metadata = protocol, meta
		req.Protocols = append(req.Protocols, p)
		err = m.await(func() (err error) {
			resp, err = req.RequestWith(ctx, m.cl)
			return err
		})
		if err != nil {
			return Assignment{}, 0, fmt.Errorf("join group %s: %w", m.group, err)
		}
		err = kerr.ErrorForCode(resp.ErrorCode)
		switch {
		case errors.Is(err, kerr.MemberIDRequired):
			*memberID = resp.MemberID
			continue
		case errors.Is(err, kerr.UnknownMemberID) && *memberID != "":
			// Expelled (its session expired): the others may run its
			// tasks already. run stops them and joins anew.
			return Assignment{}, 0, fmt.Errorf("join group %s: %w", m.group, err)
		case errors.Is(err, kerr.InconsistentGroupProtocol):
			return Assignment{}, 0, &Error{Group: m.group, Cluster: m.cluster, Err: fmt.Errorf("used by clients of another kind: if an MM2 or Connect worker of this flow runs, stop it first (both would copy the same records); if they are consumers of your own, give Strait its own group.id: %w", err)}
		case errors.Is(err, kerr.InvalidSessionTimeout):
			return Assignment{}, 0, &Error{Group: m.group, Cluster: m.cluster, Err: fmt.Errorf("session.timeout.ms = %d is outside what the brokers allow (group.min.session.timeout.ms, group.max.session.timeout.ms; 6000 to 1800000 by default): %w", m.session.Milliseconds(), err)}
		case errors.Is(err, kerr.GroupAuthorizationFailed):
			return Assignment{}, 0, &Error{Group: m.group, Cluster: m.cluster, Err: fmt.Errorf("not allowed to join (grant READ on the group): %w", err)}
		case err != nil:
			return Assignment{}, 0, fmt.Errorf("join group %s: %w", m.group, err)
		}
		break
	}
	m.lastHeard = time.Now() // Kafka restarts the session timers as a join completes
	*memberID = resp.MemberID
	m.leader.Store(resp.LeaderID == resp.MemberID)
	sreq := kmsg.NewPtrSyncGroupRequest()
	sreq.Group, sreq.Generation, sreq.MemberID = m.group, resp.Generation, resp.MemberID
	sreq.ProtocolType, sreq.Protocol = kmsg.StringPtr(protocolType), kmsg.StringPtr(protocol)
	if resp.LeaderID == resp.MemberID {
		assignments, err := m.lead(resp)
		if err != nil {
			return Assignment{}, 0, err
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
		return Assignment{}, 0, fmt.Errorf("sync group %s: %w", m.group, err)
	}
	m.lastHeard = sent // kfake restarts the session timer as it answers
	var a Assignment
	if err := json.Unmarshal(sresp.MemberAssignment, &a); err != nil {
		return Assignment{}, 0, fmt.Errorf("sync group %s: bad assignment from the leader: %w", m.group, err)
	}
	return a, resp.Generation, nil
}

// lead assigns the wanted tasks over the members of a join answer and
// encodes each member's assignment.
func (m *Member) lead(resp *kmsg.JoinGroupResponse) (map[string][]byte, error) {
	m.members.Store(int32(len(resp.Members)))
	if m.gotLoads != nil {
		// A partition that moved between workers since they measured is
		// in two reports: the larger is the one of the worker copying it.
		loads := map[task.TopicPartition]float64{}
		for _, gm := range resp.Members {
			var meta memberMetadata
			if json.Unmarshal(gm.ProtocolMetadata, &meta) != nil {
				continue // reported below
			}
			for _, l := range meta.Loads {
				tp := task.TopicPartition{Topic: l.Topic, Partition: l.Partition}
				loads[tp] = max(loads[tp], l.Rate)
			}
		}
		m.gotLoads(loads)
	}
	specs, sourceTasks := m.wanted()
	byID := map[task.ID]Spec{}
	configs := make([]taskConfig, len(specs))
	for i, s := range specs {
		byID[s.ID] = s
		configs[i] = taskConfig{ID: s.ID, Digest: s.Digest()}
	}
	members := make([]memberTasks, 0, len(resp.Members))
	for _, gm := range resp.Members {
		var meta memberMetadata
		if err := json.Unmarshal(gm.ProtocolMetadata, &meta); err != nil {
			m.log.Warn("worker group member sent unreadable metadata; assuming it runs nothing", "member", gm.MemberID, "err", err)
		}
		members = append(members, memberTasks{ID: gm.MemberID, Owned: meta.Owned})
	}
	assigned, revoked := assign(members, configs)
	m.log.Info("assigned the worker group's tasks", "group", m.group, "generation", resp.Generation, "members", len(members), "tasks", len(specs), "revoked", revoked)
	out := map[string][]byte{}
	for id, tasks := range assigned {
		a := Assignment{Generation: resp.Generation, Leader: m.workerID, SourceTasks: sourceTasks, Tasks: []Spec{}}
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
func (m *Member) heartbeat(ctx context.Context, memberID *string, gen int32, revoked []task.ID) {
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
			if applied && !slices.ContainsFunc(revoked, func(id task.ID) bool { _, ok := claim[id]; return ok }) {
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
