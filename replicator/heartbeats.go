package replicator

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/heartbeat"
	"github.com/strait-replicator/strait/internal/kclient"
	"github.com/strait-replicator/strait/policy"
	"github.com/strait-replicator/strait/replicator/group"
	"github.com/strait-replicator/strait/replicator/task"
	"github.com/strait-replicator/strait/replicator/topicsync"
)

// heartbeatsTopic is the heartbeats topic of a flow's target, compacted
// with one partition as MM2 creates it.
func heartbeatsTopic(cfg configs.Flow) topicsync.InternalTopic {
	return topicsync.InternalTopic{Name: policy.HeartbeatsTopic, Partitions: 1, RF: cfg.HeartbeatsTopicRF, RFKey: configs.KeyHeartbeatsTopicRF}
}

func newHeartbeatTask(cfg configs.Flow, tgtOpts []kgo.Opt, log *slog.Logger, ms *metrics) *heartbeat.Task {
	return &heartbeat.Task{Source: cfg.Source, Target: cfg.Target, Topic: policy.HeartbeatsTopic,
		Interval: cfg.EmitHeartbeatsInterval, TargetOpts: tgtOpts, Log: log.With("task", "heartbeat"), WriteErrors: ms.writeErrors}
}

// heartbeatFlow is a pair that only emits heartbeats (its replication is
// not enabled), as MM2 runs a heartbeat connector for every pair. Its one
// task runs through the same runner and reconcile step as a flow's.
type heartbeatFlow struct {
	metrics  *metrics
	workerID string
	cfg      configs.Flow
	tgt      configs.Cluster
	log      *slog.Logger
	opts     []kgo.Opt
	ctl      *control
	tasks    task.Set

	// member shares the heartbeat task among the workers of the pair's
	// group (group.id on the pair's target), as a flow shares its tasks:
	// one worker emits the pair's heartbeats. Set by prepare.
	member   *group.Member
	assigned group.Assignment // the run loop only
	owned    atomic.Pointer[group.Owned]
}

// prepare creates the target's heartbeats topic. On error it leaves
// nothing open.
func (h *heartbeatFlow) prepare(ctx context.Context) error {
	var err error
	if h.opts, err = kclient.ClusterOpts(h.tgt, h.cfg.Name()+"|heartbeats"); err != nil {
		return err
	}
	adm, brokers, err := openAdmin(ctx, h.tgt, h.opts)
	if err != nil {
		return err
	}
	defer adm.Close()
	t := heartbeatsTopic(h.cfg)
	if int(t.RF) > brokers {
		return fmt.Errorf("cluster %s has %d broker(s), fewer than %s = %d (%s): lower %s", h.tgt.Alias, brokers, t.RFKey, t.RF, t.Name, t.RFKey)
	}
	if err := topicsync.EnsureInternal(ctx, adm, h.tgt.Alias, t); err != nil {
		return err
	}
	cl, err := kgo.NewClient(h.opts...)
	if err != nil {
		return err
	}
	h.owned.Store(&group.Owned{})
	h.member = group.NewMember(group.Config{
		Group: h.cfg.GroupID, WorkerID: h.workerID, Cluster: h.tgt.Alias,
		SessionTimeout: h.cfg.SessionTimeout, HeartbeatInterval: h.cfg.HeartbeatInterval, RebalanceTimeout: h.cfg.RebalanceTimeout,
		Client: cl, Log: h.log,
		Owned:  func() group.Owned { return *h.owned.Load() },
		Wanted: func() ([]group.Spec, int) { return []group.Spec{{ID: singleTaskID(heartbeatConnector)}}, 0 },
	})
	return nil
}

// run emits heartbeats, when the group gives this worker the pair's
// heartbeat task, until ctx is done, applying pause, resume and restart
// requests.
func (h *heartbeatFlow) run(ctx context.Context) error {
	defer h.member.Close()
	h.member.Start(ctx)
	defer h.member.Leave()
	defer h.tasks.StopAll() // before the group is left
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.member.Done():
			return h.member.Err()
		case a := <-h.member.Assignments():
			h.assigned = a
		case <-h.ctl.wake:
		}
		_, restarts := h.ctl.take()
		var wanted []task.Wanted
		id := singleTaskID(heartbeatConnector)
		if slices.ContainsFunc(h.assigned.Tasks, func(t group.Spec) bool { return t.ID == id }) {
			wanted = []task.Wanted{{ID: id, Paused: h.ctl.isPaused(heartbeatConnector)}}
		}
		h.tasks.Apply(ctx, task.Plan(wanted, h.tasks.States(), restartsOf(restarts)), h.newRunner)
		h.owned.Store(&group.Owned{Tasks: ownedOf(h.tasks.Snapshot()), Seq: h.assigned.Seq})
	}
}

// newRunner makes the runner of the pair's heartbeat task.
func (h *heartbeatFlow) newRunner(w task.Wanted) *task.Runner {
	return &task.Runner{ID: w.ID, Status: task.NewStatus(StateUnassigned), Log: h.log.With("task", "heartbeat"), Classify: classify,
		Task: newHeartbeatTask(h.cfg, h.opts, h.log, h.metrics)}
}

// taskStatus reports the pair's heartbeat task as this worker sees it.
func (h *heartbeatFlow) taskStatus() TaskStatus {
	id := singleTaskID(heartbeatConnector)
	ts := TaskStatus{ID: taskName(h.cfg.Name(), id), Flow: h.cfg.Name(), State: StateUnassigned}
	if r := h.tasks.Get(id); r != nil {
		ts.State, ts.Err = r.Status.Get()
	}
	return ts
}
