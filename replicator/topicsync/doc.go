// Package topicsync keeps a flow's remote topics in line with its source
// cluster, as MirrorMaker 2's source connector does: it lists the source's
// topics through the flow's topic filter and replication policy, creates
// the missing remote topics with the source's partition count,
// replication.factor and the source's copyable configs, raises the
// partition count of remote topics that have fewer, copies topic config
// changes (config.properties.exclude, use.defaults.from), notices source
// topics deleted and created again by their topic id, and copies topic ACLs
// by MM2's rules (literal patterns only, ALLOW WRITE dropped, ALLOW ALL
// downgraded to ALLOW READ; additive only). EnsureInternal creates the
// compacted internal topics Strait keeps its state in.
//
// A Syncer runs no goroutine: the flow's run loop calls it, and a source
// task only asks it about topic ids (IDChanged) or for a full listing
// (ListAll). It never stops or starts tasks nor rewrites positions: the
// flow does that with what Topics and Recreated return. The pure rules
// (createConfigs, configChanges, remoteACLs) are in config.go and acl.go.
//
// A refresh starts with one metadata request of every source topic, sent as
// it is (listing.go) to the broker that answered the last one (each broker
// for at most brokerTry), and keeps each topic's name, id and partition
// count only: at tens of thousands of partitions kadm's listing costs
// several times the decoding. An unchanged source gives the last refresh's
// partitions back, the same slice, which the flow takes as "nothing to
// reassign".
package topicsync
