// Package deploy holds what operators plug into their monitoring next to
// Strait: a Grafana dashboard (grafana/strait-dashboard.json) and
// Prometheus alert rules with their unit tests (prometheus/). It has no
// code; its tests check the files: promtool check rules and test rules,
// the dashboard's shape, and that every metric name the files use is one
// the replicator exports (its metric* constants).
package deploy
