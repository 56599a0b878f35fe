// Package configs turns an MM2 dedicated-mode properties file, or the same
// settings as YAML, into Strait's typed configuration, with MM2's defaults
// and a validation that names every bad key before anything connects.
//
// Keys keep MM2's names and scopes: top-level keys apply to every flow,
// "A.<key>" to cluster A (its clients), "A->B.<key>" to the flow from A to B
// and win over the top level. Environment variables named STRAIT_ followed
// by the key in upper case, with every run of other characters as "_"
// (STRAIT_A_BOOTSTRAP_SERVERS, STRAIT_A_B_TOPICS for A->B.topics), override
// the file.
//
// Everything here is pure: Parse takes the file's bytes and the environment
// as values; Load is the one function that reads a file.
package configs
