// Package policy holds MirrorMaker 2's replication policies and filters as
// pure functions on names: how a topic is renamed on the target cluster
// (DefaultReplicationPolicy, IdentityReplicationPolicy), which topics are
// internal, which are cycles in an active/active topology, and the
// include/exclude filters for topics, groups and topic-config properties.
//
// Nothing here does I/O or keeps mutable state; every type is safe for
// concurrent use once built. The rules follow MM2 exactly, quirks included
// (see ../shared/MM2.md §3): callers that compare Strait with MM2 rely on
// the same names coming out for the same inputs.
package policy
