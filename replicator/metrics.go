package replicator

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metric names, after MM2's MirrorSourceConnector metrics.
const (
	metricRecordCount = "record-count"
	metricByteCount   = "byte-count"
	metricLostRecords = "lost-record-count"
)

// metrics are the source flow's instruments. Attribute sets are built once
// per partition (partMetrics), so recording costs no allocation.
type metrics struct {
	records metric.Int64Counter
	bytes   metric.Int64Counter
	lost    metric.Int64Counter
}

func newMetrics(mp metric.MeterProvider) (*metrics, error) {
	m := mp.Meter("github.com/strait-replicator/strait/replicator")
	var ms metrics
	var err error
	if ms.records, err = m.Int64Counter(metricRecordCount, metric.WithDescription("records replicated and acknowledged by the target")); err != nil {
		return nil, err
	}
	if ms.bytes, err = m.Int64Counter(metricByteCount, metric.WithDescription("value bytes replicated"), metric.WithUnit("By")); err != nil {
		return nil, err
	}
	if ms.lost, err = m.Int64Counter(metricLostRecords, metric.WithDescription("records deleted on the source before they were copied")); err != nil {
		return nil, err
	}
	return &ms, nil
}

// partMetrics records one partition's measurements with its attributes:
// source and target alias, remote topic, partition.
type partMetrics struct {
	m    *metrics
	opts []metric.AddOption
}

func (ms *metrics) forPartition(source, target, remote string, partition int32) partMetrics {
	set := attribute.NewSet(
		attribute.String("source", source),
		attribute.String("target", target),
		attribute.String("topic", remote),
		attribute.Int("partition", int(partition)),
	)
	return partMetrics{m: ms, opts: []metric.AddOption{metric.WithAttributeSet(set)}}
}
