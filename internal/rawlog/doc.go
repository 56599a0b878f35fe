// Package rawlog reads a partition's record batches as a broker stores
// them, and their records' timestamps as stored: franz-go's consumer
// (through v1.22.3) converts timestamps through nanoseconds and cannot
// tell some stored ones apart. The source task checks ambiguous fetched
// timestamps against these, and tests check what reached a cluster.
package rawlog
