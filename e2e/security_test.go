package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/strait-replicator/strait/internal/kafkatest"
)

// testCA is a certificate authority and a server certificate it signed for
// 127.0.0.1 and localhost.
type testCA struct {
	caPEM  []byte
	server tls.Certificate
}

func newTestCA(t *testing.T) testCA {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "strait test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kfake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{
		caPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		server: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
	}
}

// TestSecureClusters replicates from a cluster that requires TLS and
// SASL/SCRAM-SHA-512 to one that requires SASL/SCRAM-SHA-256 and SASL/PLAIN,
// with Strait as a process configured by MM2's keys; the passwords appear
// neither in its output nor in its REST API. A wrong password fails the
// start, naming the cluster and the mechanism.
func TestSecureClusters(t *testing.T) {
	ca := newTestCA(t)
	const srcPass, tgtPass = "src-Secret-1", "tgt-Secret-2"
	newSecure := func(alias string, opts ...kfake.Opt) *cluster {
		c, err := kafkatest.NewCluster(alias, 3, append([]kfake.Opt{kfake.EnableSASL()}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return &cluster{alias, c}
	}
	a := newSecure("A", kfake.Superuser("SCRAM-SHA-512", "strait", srcPass),
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{ca.server}}))
	b := newSecure("B", kfake.Superuser("SCRAM-SHA-256", "strait", tgtPass), kfake.Superuser("PLAIN", "plain", tgtPass))
	caFile := writeFile(t, "ca.pem", string(ca.caPEM))

	// Set up the source topic as a client of the secure cluster.
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.caPEM)
	srcOpts := []kgo.Opt{kgo.SeedBrokers(a.ListenAddrs()...), kgo.DialTLSConfig(&tls.Config{RootCAs: roots}),
		kgo.SASL(scram.Auth{User: "strait", Pass: srcPass}.AsSha512Mechanism())}
	producer, err := kgo.NewClient(append(srcOpts, kgo.DefaultProduceTopic("orders"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	ctx := t.Context()
	created, err := kadm.NewClient(producer).CreateTopic(ctx, 3, 3, nil, "orders")
	if err == nil {
		err = created.Err
	}
	if err != nil {
		t.Fatalf("create a topic on the secure source: %v", err)
	}
	for i := range 100 {
		if err := producer.ProduceSync(ctx, &kgo.Record{Value: fmt.Appendf(nil, "secure-%d", i)}).FirstErr(); err != nil {
			t.Fatalf("produce to the secure source: %v", err)
		}
	}

	jaas := func(module, user, pass string) string {
		return fmt.Sprintf(`org.apache.kafka.common.security.%s required username="%s" password="%s";`, module, user, pass)
	}
	conf := func(tgtMechanism, tgtUser, tgtPassword string, extra ...string) string {
		lines := []string{
			"clusters = A, B",
			"A.bootstrap.servers = " + a.seeds(),
			"B.bootstrap.servers = " + b.seeds(),
			"A.security.protocol = SASL_SSL",
			"A.sasl.mechanism = SCRAM-SHA-512",
			"A.sasl.jaas.config = " + jaas("scram.ScramLoginModule", "strait", srcPass),
			"A.ssl.truststore.type = PEM",
			"A.ssl.truststore.location = " + caFile,
			"B.security.protocol = SASL_PLAINTEXT",
			"B.sasl.mechanism = " + tgtMechanism,
			"B.sasl.jaas.config = " + jaas(map[string]string{"PLAIN": "plain.PlainLoginModule"}[tgtMechanism]+map[bool]string{true: "scram.ScramLoginModule"}[tgtMechanism != "PLAIN"], tgtUser, tgtPassword),
			"A->B.enabled = true",
			"replication.factor = 3",
			"refresh.topics.interval.seconds = 1",
			"offset.flush.interval.ms = 500",
		}
		return strings.Join(append(lines, extra...), "\n") + "\n"
	}

	addr := freeAddr(t)
	cfg := writeFile(t, "secure.properties", conf("SCRAM-SHA-256", "strait", tgtPass, "listeners = http://"+addr))
	p := startProcess(t, "run", "-c", cfg, "--log-level", "debug")
	tgt, err := kgo.NewClient(kgo.SeedBrokers(b.ListenAddrs()...), kgo.SASL(scram.Auth{User: "strait", Pass: tgtPass}.AsSha256Mechanism()),
		kgo.ConsumeTopics("A.orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	got, seen := 0, map[string]bool{}
	deadline := time.Now().Add(60 * time.Second)
	for got < 100 && time.Now().Before(deadline) {
		fctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := tgt.PollFetches(fctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			if !strings.HasPrefix(string(r.Value), "secure-") || seen[string(r.Value)] {
				t.Fatalf("unexpected record on the target: %q", r.Value)
			}
			seen[string(r.Value)] = true
			got++
		})
	}
	if got != 100 {
		t.Fatalf("%d of 100 records copied between the secure clusters; output:\n%s", got, p.output)
	}
	for _, path := range []string{"/connectors/A.B.MirrorSourceConnector/config", "/connectors/A.B.MirrorSourceConnector", "/connectors?expand=info"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		if strings.Contains(string(body), srcPass) || strings.Contains(string(body), tgtPass) {
			t.Errorf("GET %s shows a password: %s", path, body)
		}
	}
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d; output:\n%s", code, p.output)
	}
	if out := p.output.String(); strings.Contains(out, srcPass) || strings.Contains(out, tgtPass) {
		t.Errorf("a password appears in the debug log")
	}

	// A wrong password: exit 1, naming the cluster and the mechanism.
	bad := writeFile(t, "wrong.properties", conf("PLAIN", "plain", "not-the-password"))
	wrong := startProcess(t, "run", "-c", bad)
	if code := wrong.wait(t, 60*time.Second); code != 1 {
		t.Fatalf("exit code with a wrong password = %d, want 1; output:\n%s", code, wrong.output)
	}
	out := wrong.output.String()
	t.Logf("wrong password: %s", lastLine(out))
	if !containsAll(out, []string{"cluster B", "SASL PLAIN", `"plain"`}) {
		t.Errorf("the error does not name cluster B, the mechanism and the user:\n%s", out)
	}
	if strings.Contains(out, "not-the-password") {
		t.Errorf("the wrong password appears in the output")
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
