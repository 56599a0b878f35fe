package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/internal/kafkatest"
)

// tlsFixture is the absolute path of a file made by
// configs/testdata/tls/make.sh.
func tlsFixture(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "configs", "testdata", "tls", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newMutualTLSCluster starts a kfake cluster that speaks only TLS with the
// fixtures' broker certificate (127.0.0.1, localhost) and requires client
// certificates signed by the fixtures' CA. It returns the cluster and a TLS
// configuration for Go clients that holds the fixtures' client key.
func newMutualTLSCluster(t *testing.T, alias string, brokers int) (*cluster, *tls.Config) {
	t.Helper()
	server, err := tls.LoadX509KeyPair(tlsFixture(t, "server-chain.pem"), tlsFixture(t, "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	client, err := tls.LoadX509KeyPair(tlsFixture(t, "client-chain.pem"), tlsFixture(t, "client.key"))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(tlsFixture(t, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	cas := x509.NewCertPool()
	if !cas.AppendCertsFromPEM(caPEM) {
		t.Fatal("no CA in ca.pem")
	}
	// Short group sessions as newCluster's.
	c, err := kafkatest.NewCluster(alias, brokers, kfake.GroupMinSessionTimeout(500*time.Millisecond), kfake.TLS(&tls.Config{
		Certificates: []tls.Certificate{server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: cas}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &cluster{alias, c}, &tls.Config{RootCAs: cas, Certificates: []tls.Certificate{client}}
}

// TestTLSStores replicates A->B where A requires TLS with client
// certificates and Strait reaches it as a Java client would: a JKS trust
// store and a PKCS12 key store. A wrong key store password makes
// `strait run` exit 2 naming the key, without showing the password.
func TestTLSStores(t *testing.T) {
	a, clientTLS := newMutualTLSCluster(t, "A", 3)
	b := newCluster(t, "B", 3)

	// Without a client certificate the cluster refuses us.
	anon, err := kgo.NewClient(kgo.SeedBrokers(a.ListenAddrs()...), kgo.DialTLSConfig(&tls.Config{RootCAs: clientTLS.RootCAs}))
	if err != nil {
		t.Fatal(err)
	}
	actx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	_, err = kadm.NewClient(anon).ListTopics(actx)
	cancel()
	anon.Close()
	if err == nil {
		t.Fatal("the TLS cluster accepted a client without a certificate")
	}

	producer := a.client(t, kgo.DialTLSConfig(clientTLS), kgo.DefaultProduceTopic("orders"))
	if _, err := kadm.NewClient(producer).CreateTopic(t.Context(), 3, 3, nil, "orders"); err != nil {
		t.Fatalf("create a topic on the TLS cluster: %v", err)
	}
	const n = 60
	for i := range n {
		if err := producer.ProduceSync(t.Context(), &kgo.Record{Value: fmt.Appendf(nil, "tls-%d", i)}).FirstErr(); err != nil {
			t.Fatalf("produce to the TLS cluster: %v", err)
		}
	}

	const clientPass = "client-pass-2"
	stores := func(keystorePass string) []string {
		return []string{
			"A->B.enabled = true",
			"A.security.protocol = SSL",
			"A.ssl.truststore.location = " + tlsFixture(t, "truststore.jks"),
			"A.ssl.truststore.password = trust-pass-1",
			"A.ssl.keystore.type = PKCS12",
			"A.ssl.keystore.location = " + tlsFixture(t, "client.p12"),
			"A.ssl.keystore.password = " + keystorePass,
		}
	}
	startWorker(t, props([]*cluster{a, b}, stores(clientPass)...))
	waitCopied(t, b, "A.orders", n, 60*time.Second)

	// A wrong key store password: exit 2 naming the key and the file.
	bad := writeFile(t, "wrong.properties", props([]*cluster{a, b}, stores("not-the-password")...))
	p := startProcess(t, "run", "-c", bad)
	if code := p.wait(t, 30*time.Second); code != 2 {
		t.Fatalf("exit code with a wrong key store password = %d, want 2; output:\n%s", code, p.output)
	}
	out := p.output.String()
	t.Logf("wrong key store password: %s", lastLine(out))
	if !containsAll(out, []string{"A.ssl.keystore.password", "client.p12"}) {
		t.Errorf("the error does not name A.ssl.keystore.password and the file:\n%s", out)
	}
	if strings.Contains(out, "not-the-password") || strings.Contains(out, clientPass) {
		t.Errorf("a password appears in the output:\n%s", out)
	}
}
