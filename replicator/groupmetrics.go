package replicator

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// metricCheckpointAge is the gauge of each consumer group's checkpoint
// age (checkpoint_age_seconds in Prometheus).
const metricCheckpointAge = "checkpoint-age-seconds"

// registerGroupMetrics registers the checkpoint-age gauge: per flow and
// consumer group whose checkpoints the flow's checkpoint task on this
// worker writes, the age of the group's oldest checkpoint. The task
// rewrites an idle group's checkpoints every minute, so an age well past
// that says the checkpoint flow (or the replication it translates
// through) stopped, and strait failover refuses the group once it passes
// checkpoint.DefaultMaxAge.
func registerGroupMetrics(mp metric.MeterProvider, w *Worker) error {
	m := mp.Meter("github.com/strait-replicator/strait/replicator")
	age, err := m.Float64ObservableGauge(metricCheckpointAge, metric.WithUnit("s"), metric.WithDescription(
		"seconds since the oldest checkpoint of the group was written, for the groups of the checkpoint tasks this worker runs; "+
			"an idle group's checkpoints are rewritten every minute, and strait failover refuses a group whose checkpoints are older than 5 minutes"))
	if err != nil {
		return err
	}
	_, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		now := time.Now()
		for _, g := range w.Groups(now) {
			o.ObserveFloat64(age, now.Sub(g.Oldest).Seconds(), metric.WithAttributes(attribute.String("flow", g.Flow), attribute.String("group", g.Group)))
		}
		return nil
	}, age)
	return err
}
