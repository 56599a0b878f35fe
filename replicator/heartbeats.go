package replicator

import (
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/heartbeat"
	"github.com/strait-replicator/strait/policy"
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
