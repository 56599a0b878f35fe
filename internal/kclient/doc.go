// Package kclient builds franz-go client options from typed configs
// settings: ClusterOpts for what every client of a cluster shares
// (bootstrap servers, client id, TLS, SASL) and Opts for the Java client
// keys of one role (consumer, producer, admin), with Java's exponential
// retry backoff (its defaults, 100 ms to 1 s, when unset). Strait has no
// options layer of its own: callers append these kgo.Opt values to their
// own and build the clients themselves. ProduceWait is ProduceSync bounded
// by its context.
//
// It owns the SASL mechanisms: PLAIN, SCRAM-SHA-256/512, OAUTHBEARER
// (Kafka's client-credentials login callback, or MSK's IAM token), MSK's
// AWS_MSK_IAM and GSSAPI (Kerberos). A mechanism obtains its token,
// credentials or ticket when a connection authenticates, under kgo's
// context; an OAuth token is kept until its refresh time, and a Kerberos
// login is shared by the clients built from the same options and ended
// when kgo closes the mechanism.
//
// Goroutines: none of its own (gokrb5 renews a keytab login's ticket in
// the background until the mechanism is closed). The mechanisms are safe
// for concurrent connections: each guards its cached credential with a
// mutex.
//
// Imports: configs, franz-go and the AWS and Kerberos client libraries,
// nothing of the worker; the worker (replicator) and the command call it.
package kclient
