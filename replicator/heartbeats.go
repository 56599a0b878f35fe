package replicator

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/heartbeat"
	"github.com/strait-replicator/strait/policy"
)

// heartbeatsTopic is the heartbeats topic of a flow's target, compacted
// with one partition as MM2 creates it.
func heartbeatsTopic(cfg configs.Flow) internalTopic {
	return internalTopic{policy.HeartbeatsTopic, 1, cfg.HeartbeatsTopicRF, configs.KeyHeartbeatsTopicRF}
}

func newHeartbeatTask(cfg configs.Flow, tgtOpts []kgo.Opt, log *slog.Logger, ms *metrics) *heartbeat.Task {
	return &heartbeat.Task{Source: cfg.Source, Target: cfg.Target, Topic: policy.HeartbeatsTopic,
		Interval: cfg.EmitHeartbeatsInterval, TargetOpts: tgtOpts, Log: log.With("task", "heartbeat"), WriteErrors: ms.writeErrors}
}

// heartbeatFlow is a pair that only emits heartbeats (its replication is
// not enabled), as MM2 runs a heartbeat connector for every pair.
type heartbeatFlow struct {
	metrics *metrics
	cfg     configs.Flow
	tgt     configs.Cluster
	log     *slog.Logger
	opts    []kgo.Opt
	ctl     *control
	task    *single // set by run
	wg      sync.WaitGroup
}

// prepare creates the target's heartbeats topic.
func (h *heartbeatFlow) prepare(ctx context.Context) error {
	var err error
	if h.opts, err = ClientOpts(h.tgt, h.cfg.Name()+"|heartbeats"); err != nil {
		return err
	}
	adm, brokers, err := openAdmin(ctx, h.tgt, h.opts)
	if err != nil {
		return err
	}
	defer adm.Close()
	t := heartbeatsTopic(h.cfg)
	if int(t.rf) > brokers {
		return fmt.Errorf("cluster %s has %d broker(s), fewer than %s = %d (%s): lower %s", h.tgt.Alias, brokers, t.rfKey, t.rf, t.name, t.rfKey)
	}
	return ensureInternalTopics(ctx, adm, h.tgt.Alias, t)
}

// run emits heartbeats until ctx is done, applying pause, resume and
// restart requests.
func (h *heartbeatFlow) run(ctx context.Context) error {
	defer h.wg.Wait()
	paused, _ := h.ctl.take()
	h.task.apply(ctx, &h.wg, paused[heartbeatConnector], restartRequest{})
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.ctl.wake:
			paused, restarts := h.ctl.take()
			h.task.apply(ctx, &h.wg, paused[heartbeatConnector], restarts[heartbeatConnector])
		}
	}
}
