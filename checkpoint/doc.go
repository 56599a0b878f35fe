// Package checkpoint holds MM2's offset-sync records and the rules by which
// a source task emits them. Offset syncs map an upstream offset to the
// downstream offset the target assigned; the checkpoint flow (a later
// addition to this package) reads them to translate consumer-group offsets.
//
// Everything in this package so far is pure: records encode and decode to
// MM2's exact bytes (../shared/MM2.md §2.3), and SyncState decides when a
// partition's sync is due, given offsets as values.
package checkpoint
