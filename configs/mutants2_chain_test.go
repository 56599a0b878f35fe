package configs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pavlo-v-chernykh/keystore-go/v4"
)

// chainCert is a certificate made for a test, with its key.
type chainCert struct {
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
}

// chainIssue makes a certificate for cn signed by parent (self-signed when
// parent is nil); a CA when ca is set, else a server certificate for
// 127.0.0.1.
func chainIssue(t *testing.T, cn string, ca bool, parent *chainCert) chainCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	if ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
	} else {
		tmpl.KeyUsage, tmpl.ExtKeyUsage = x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return chainCert{cert: cert, der: der, key: key}
}

// chainHandshake connects client to a TLS server that sends chain (leaf
// first, with leafKey) and returns the client's handshake error.
func chainHandshake(t *testing.T, client *tls.Config, leafKey *ecdsa.PrivateKey, chain ...[]byte) error {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		s := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{{Certificate: chain, PrivateKey: leafKey}}})
		_ = s.Handshake() // the client's error is the one tested
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	cfg := client.Clone()
	cfg.ServerName = "elsewhere.example" // not the certificate's: only the chain is verified
	err = tls.Client(raw, cfg).Handshake()
	raw.Close()
	<-done
	return err
}

// With ssl.endpoint.identification.algorithm empty the client verifies the
// server's chain without its host name: the leaf must chain to the trust
// store, through the intermediates the server sends; a leaf alone is
// enough when the trust store signed it, and a trusted certificate sent
// after an untrusted leaf does not make the leaf trusted.
func TestTLSChainWithoutHostVerification(t *testing.T) {
	root := chainIssue(t, "test root", true, nil)
	inter := chainIssue(t, "test intermediate", true, &root)
	leaf := chainIssue(t, "server", false, &inter)
	direct := chainIssue(t, "server signed by the root", false, &root)
	stranger := chainIssue(t, "self-signed server", false, nil)

	rootPEM := strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.der})))
	client, _, err := parseTLS("A.ssl.endpoint.identification.algorithm =", "A.ssl.truststore.type = PEM",
		"A.ssl.truststore.certificates = "+strings.ReplaceAll(rootPEM, "\n", " \\\n  "))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		key   *ecdsa.PrivateKey
		chain [][]byte
		ok    bool
	}{
		{"leaf and intermediate", leaf.key, [][]byte{leaf.der, inter.der}, true},
		{"leaf without its intermediate", leaf.key, [][]byte{leaf.der}, false},
		{"leaf signed by the root, alone", direct.key, [][]byte{direct.der}, true},
		{"untrusted leaf before a trusted intermediate", stranger.key, [][]byte{stranger.der, inter.der}, false},
	} {
		err := chainHandshake(t, client, tc.key, tc.chain...)
		var uae x509.UnknownAuthorityError
		if tc.ok && err != nil || !tc.ok && (err == nil || !errors.As(err, &uae)) {
			t.Errorf("%s: handshake error %v, want success %v", tc.name, err, tc.ok)
		}
	}
}

// A JKS trust store trusts its certificate entries and the first
// certificate (the key's own) of each key entry, not the rest of that
// chain; a JKS store with no certificate at all is refused.
func TestTLSJKSTrustStoreEntries(t *testing.T) {
	root := chainIssue(t, "test root", true, nil)
	leaf := chainIssue(t, "client", false, &root)
	pkcs8Key, err := x509.MarshalPKCS8PrivateKey(leaf.key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	store := func(name string, ks keystore.KeyStore) string {
		var buf bytes.Buffer
		if err := ks.Store(&buf, []byte("store-pass")); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	withKey := keystore.New()
	if err := withKey.SetPrivateKeyEntry("client", keystore.PrivateKeyEntry{
		CreationTime: time.Now(), PrivateKey: pkcs8Key,
		CertificateChain: []keystore.Certificate{{Type: "X509", Content: leaf.der}, {Type: "X509", Content: root.der}},
	}, []byte("key-pass")); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := parseTLS("A.ssl.truststore.location = "+store("key.jks", withKey), "A.ssl.truststore.password = store-pass")
	if err != nil {
		t.Fatal(err)
	}
	verify := func(c *x509.Certificate) error {
		_, err := c.Verify(x509.VerifyOptions{Roots: cfg.RootCAs, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		return err
	}
	if err := verify(leaf.cert); err != nil {
		t.Errorf("the key entry's certificate is not trusted: %v", err)
	}
	if err := verify(root.cert); err == nil {
		t.Errorf("the rest of the key entry's chain is trusted")
	}

	// A key entry whose chain is its certificate alone.
	alone := keystore.New()
	if err := alone.SetPrivateKeyEntry("client", keystore.PrivateKeyEntry{
		CreationTime: time.Now(), PrivateKey: pkcs8Key, CertificateChain: []keystore.Certificate{{Type: "X509", Content: leaf.der}},
	}, []byte("key-pass")); err != nil {
		t.Fatal(err)
	}
	if cfg, _, err = parseTLS("A.ssl.truststore.location = "+store("alone.jks", alone), "A.ssl.truststore.password = store-pass"); err != nil {
		t.Fatal(err)
	}
	if err := verify(leaf.cert); err != nil {
		t.Errorf("the certificate of a key entry without a chain is not trusted: %v", err)
	}

	// A key entry without any certificate is skipped (keytool cannot
	// write one; keystore-go can); the trusted entry beside it counts.
	noChain := keystore.New()
	if err := noChain.SetPrivateKeyEntry("bare", keystore.PrivateKeyEntry{CreationTime: time.Now(), PrivateKey: pkcs8Key}, []byte("key-pass")); err != nil {
		t.Fatal(err)
	}
	if err := noChain.SetTrustedCertificateEntry("root", keystore.TrustedCertificateEntry{
		CreationTime: time.Now(), Certificate: keystore.Certificate{Type: "X509", Content: root.der},
	}); err != nil {
		t.Fatal(err)
	}
	if cfg, _, err = parseTLS("A.ssl.truststore.location = "+store("nochain.jks", noChain), "A.ssl.truststore.password = store-pass"); err != nil {
		t.Fatal(err)
	}
	if err := verify(root.cert); err != nil {
		t.Errorf("the trusted entry beside a key without a chain is not trusted: %v", err)
	}

	_, _, err = parseTLS("A.ssl.truststore.location = "+store("empty.jks", keystore.New()), "A.ssl.truststore.password = store-pass")
	if p, ok := mutantsProblem(err, "A.ssl.truststore.location"); !ok || !strings.Contains(p, "no trusted certificate in it") {
		t.Errorf("an empty JKS trust store: %v", err)
	}
}

// An Ed25519 key (Java's PEM key stores read RSA, DSA and EC keys) is
// refused under the key, naming its type.
func TestTLSEd25519KeyRefused(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ed25519 client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	fold := func(b *pem.Block) string {
		return strings.ReplaceAll(strings.TrimSpace(string(pem.EncodeToMemory(b))), "\n", " \\\n  ")
	}
	_, _, err = parseTLS("A.ssl.keystore.type = PEM",
		"A.ssl.keystore.certificate.chain = "+fold(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"A.ssl.keystore.key = "+fold(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	if p, ok := mutantsProblem(err, "A.ssl.keystore.key"); !ok || !strings.Contains(p, "a ed25519.PrivateKey key: Kafka reads RSA, DSA and EC keys, Go's TLS RSA and EC") {
		t.Errorf("an Ed25519 key: %v", err)
	}
}
