// Package saslfront is a test-only SASL front for kfake brokers: it answers
// the SASL exchange of a mechanism kfake does not implement (OAUTHBEARER
// with signed JWTs, AWS_MSK_IAM, GSSAPI), verifies the credentials as the
// real server would, and passes every other request to a kfake broker.
//
// How it sits in front of kfake: Front.Listen is given to kfake as its
// ListenFn. It opens the real TCP listener and returns to kfake a listener
// whose Addr is that TCP address, so the brokers kfake advertises in
// Metadata and FindCoordinator responses are the front's addresses and no
// response needs rewriting. Each client connection is paired with one end
// of an in-memory pipe that kfake accepts; the front reads the client's
// requests frame by frame, answers SaslHandshake and SaslAuthenticate
// itself (also re-authentications, KIP-368), refuses any other request
// before authentication or after the session expired (closing the
// connection, as Kafka does), and forwards the rest, ApiVersions included,
// to kfake. kfake's responses are copied back unchanged.
//
// Goroutines: one accept loop per listener, and per connection one reader
// of the client and one copier of kfake's responses. Close (or kfake
// closing its listener) stops them; Front.Close waits for all of them.
package saslfront
