package configs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-multierror"
)

// The passwords of the fixtures made by testdata/tls/make.sh.
const (
	trustPass  = "trust-pass-1"
	clientPass = "client-pass-2"
	keyPass    = "key-pass-3"
	pemKeyPass = "pem-key-pass-4"
)

var fixturePasswords = []string{trustPass, clientPass, keyPass, pemKeyPass, "not-the-password"}

func fixture(name string) string { return filepath.Join("testdata", "tls", name) }

// inline folds a fixture into one .properties value as operators write it:
// each line ends with " \".
func inline(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(fixture(name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(strings.TrimSpace(string(data)), "\n", " \\\n  ")
}

// parseTLS parses a configuration whose cluster A uses TLS with the given
// extra lines and returns A's TLS configuration.
func parseTLS(lines ...string) (*tls.Config, []string, error) {
	props := "clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\nA.security.protocol = SSL\n" +
		strings.Join(lines, "\n") + "\n"
	cfg, warnings, err := Parse([]byte(props), Properties, nil)
	if err != nil {
		return nil, warnings, err
	}
	a, _ := cfg.Cluster("A")
	return a.Security.TLSConfig, warnings, nil
}

// handshake connects client to a TLS server that holds the fixtures' broker
// certificate (127.0.0.1, localhost) and requires a client certificate
// signed by the fixtures' CA, as the e2e cluster does.
func handshake(t *testing.T, client *tls.Config, serverName string) error {
	t.Helper()
	srvCert, err := tls.LoadX509KeyPair(fixture("server-chain.pem"), fixture("server.key"))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(fixture("ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	cas := x509.NewCertPool()
	cas.AppendCertsFromPEM(caPEM)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srvErr := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		s := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: cas})
		err = s.Handshake()
		if err == nil {
			_, err = s.Write([]byte("ok")) // the client reads it only if the server accepted its certificate
		}
		srvErr <- err
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	cfg := client.Clone()
	cfg.ServerName = serverName
	c := tls.Client(raw, cfg)
	err = c.Handshake()
	if err == nil {
		_, err = c.Read(make([]byte, 2))
	}
	raw.Close()
	return errors.Join(err, <-srvErr)
}

func TestTLSStores(t *testing.T) {
	trustJKS := []string{"A.ssl.truststore.location = " + fixture("truststore.jks"), "A.ssl.truststore.password = " + trustPass}
	tests := []struct {
		name  string
		lines []string
		certs int // key pairs wanted
	}{
		{"jks truststore, pkcs12 keystore", append(trustJKS, "A.ssl.keystore.type = PKCS12", "A.ssl.keystore.location = "+fixture("client.p12"), "A.ssl.keystore.password = "+clientPass), 1},
		{"pkcs12 keystore typed JKS (Java reads both)", append(trustJKS, "A.ssl.keystore.location = "+fixture("client.p12"), "A.ssl.keystore.password = "+clientPass), 1},
		{"jks keystore with its own key password", append(trustJKS, "A.ssl.keystore.type = JKS", "A.ssl.keystore.location = "+fixture("client.jks"), "A.ssl.keystore.password = "+clientPass, "A.ssl.key.password = "+keyPass), 1},
		{"jks truststore without password", []string{"A.ssl.truststore.location = " + fixture("truststore.jks"), "A.ssl.keystore.type = PKCS12", "A.ssl.keystore.location = " + fixture("client.p12"), "A.ssl.keystore.password = " + clientPass}, 1},
		{"pkcs12 truststore", []string{"A.ssl.truststore.type = PKCS12", "A.ssl.truststore.location = " + fixture("truststore.p12"), "A.ssl.truststore.password = " + trustPass, "A.ssl.keystore.type = PEM", "A.ssl.keystore.location = " + fixture("client.pem")}, 1},
		{"pem files, encrypted key", []string{"A.ssl.truststore.type = PEM", "A.ssl.truststore.location = " + fixture("ca.pem"), "A.ssl.keystore.type = PEM", "A.ssl.keystore.location = " + fixture("client-enc.pem"), "A.ssl.key.password = " + pemKeyPass}, 1},
		{"top-level keys for every cluster", []string{"ssl.truststore.location = " + fixture("truststore.jks"), "ssl.truststore.password = " + trustPass, "ssl.keystore.type = PKCS12", "ssl.keystore.location = " + fixture("client.p12"), "ssl.keystore.password = " + clientPass}, 1},
		{"cluster keys over top-level ones", []string{"ssl.truststore.password = wrong", "A.ssl.truststore.location = " + fixture("truststore.jks"), "A.ssl.truststore.password = " + trustPass, "ssl.keystore.type = JKS", "A.ssl.keystore.type = PKCS12", "A.ssl.keystore.location = " + fixture("client.p12"), "A.ssl.keystore.password = " + clientPass}, 1},
		{"java defaults spelled out", append(trustJKS, "A.ssl.keystore.type = PKCS12", "A.ssl.keystore.location = "+fixture("client.p12"), "A.ssl.keystore.password = "+clientPass,
			"A.ssl.keymanager.algorithm = SunX509", "A.ssl.trustmanager.algorithm = PKIX", "A.ssl.provider = ", "A.ssl.engine.factory.class = org.apache.kafka.common.security.ssl.DefaultSslEngineFactory"), 1},
		{"no keystore", trustJKS, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, warnings, err := parseTLS(tt.lines...)
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) > 0 {
				t.Errorf("warnings: %v", warnings)
			}
			if cfg.RootCAs == nil || len(cfg.Certificates) != tt.certs {
				t.Fatalf("roots %v, %d key pairs; want %d", cfg.RootCAs != nil, len(cfg.Certificates), tt.certs)
			}
			for _, c := range cfg.Certificates {
				if c.Leaf.Subject.CommonName != "client" || len(c.Certificate) != 2 {
					t.Errorf("key pair of %q with %d certificates, want client's with its CA", c.Leaf.Subject.CommonName, len(c.Certificate))
				}
			}
			err = handshake(t, cfg, "localhost")
			if tt.certs == 0 {
				if err == nil {
					t.Error("a server that requires a client certificate accepted none")
				}
				return
			}
			if err != nil {
				t.Errorf("handshake: %v", err)
			}
			if err := handshake(t, cfg, "elsewhere.example"); err == nil || !strings.Contains(err.Error(), "elsewhere.example") {
				t.Errorf("host name not verified: %v", err)
			}
		})
	}
}

func TestTLSInlinePEM(t *testing.T) {
	for _, tt := range []struct {
		name  string
		key   string
		extra []string
	}{
		{"plain key", "client.key", nil},
		{"encrypted key", "client-enc.key", []string{"A.ssl.key.password = " + pemKeyPass}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := parseTLS(append([]string{
				"A.ssl.truststore.type = PEM",
				"A.ssl.truststore.certificates = " + inline(t, "ca.pem"),
				"A.ssl.keystore.type = PEM",
				"A.ssl.keystore.certificate.chain = " + inline(t, "client-chain.pem"),
				"A.ssl.keystore.key = " + inline(t, tt.key),
			}, tt.extra...)...)
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Certificates) != 1 || len(cfg.Certificates[0].Certificate) != 2 {
				t.Fatalf("key pairs: %v", cfg.Certificates)
			}
			if err := handshake(t, cfg, "127.0.0.1"); err != nil {
				t.Errorf("handshake: %v", err)
			}
		})
	}
}

func TestTLSEndpointIdentification(t *testing.T) {
	base := []string{"A.ssl.truststore.location = " + fixture("truststore.jks"), "A.ssl.keystore.type = PKCS12", "A.ssl.keystore.location = " + fixture("client.p12"), "A.ssl.keystore.password = " + clientPass}
	cfg, _, err := parseTLS(append(base, "A.ssl.endpoint.identification.algorithm =")...)
	if err != nil {
		t.Fatal(err)
	}
	if err := handshake(t, cfg, "elsewhere.example"); err != nil {
		t.Errorf("empty algorithm: the chain alone should do: %v", err)
	}
	// Without the CA, the chain fails even without host name verification.
	cfg, _, err = parseTLS("A.ssl.endpoint.identification.algorithm =", "A.ssl.keystore.type = PKCS12", "A.ssl.keystore.location = "+fixture("client.p12"), "A.ssl.keystore.password = "+clientPass)
	if err != nil {
		t.Fatal(err)
	}
	if err := handshake(t, cfg, "localhost"); err == nil {
		t.Error("a server signed by an unknown CA was accepted")
	}
	cfg, _, err = parseTLS(append(base, "A.ssl.endpoint.identification.algorithm = HTTPS")...)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.InsecureSkipVerify || cfg.VerifyConnection != nil {
		t.Error("HTTPS should verify host names the standard way")
	}
}

func TestTLSProtocols(t *testing.T) {
	const (
		v12 = tls.VersionTLS12
		v13 = tls.VersionTLS13
	)
	tests := []struct {
		name     string
		lines    []string
		min, max uint16
		suites   []uint16
	}{
		{"java defaults", nil, v12, v13, nil},
		{"only 1.3", []string{"A.ssl.enabled.protocols = TLSv1.3"}, v13, v13, nil},
		{"only 1.2", []string{"A.ssl.enabled.protocols = TLSv1.2"}, v12, v12, nil},
		{"ssl.protocol caps", []string{"A.ssl.protocol = TLSv1.2"}, v12, v12, nil},
		{"ssl.protocol TLS", []string{"A.ssl.protocol = TLS"}, v12, v13, nil},
		{"older versions", []string{"A.ssl.enabled.protocols = TLSv1, TLSv1.1, TLSv1.2"}, tls.VersionTLS10, v12, nil},
		{"1.2 suites turn 1.3 off, as in Java", []string{"A.ssl.cipher.suites = TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, SSL_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}, v12, v12,
			[]uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}},
		{"with every 1.3 suite", []string{"A.ssl.cipher.suites = TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_EMPTY_RENEGOTIATION_INFO_SCSV"}, v12, v13,
			[]uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}},
		{"only 1.3 suites", []string{"A.ssl.cipher.suites = TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256"}, v13, v13, nil},
	}
	for _, tt := range tests {
		cfg, _, err := parseTLS(tt.lines...)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if cfg.MinVersion != tt.min || cfg.MaxVersion != tt.max || !slices.Equal(cfg.CipherSuites, tt.suites) {
			t.Errorf("%s: versions %x-%x suites %v, want %x-%x %v", tt.name, cfg.MinVersion, cfg.MaxVersion, cfg.CipherSuites, tt.min, tt.max, tt.suites)
		}
	}
	// TLS 1.2 with the chosen suite only, against the fixtures' server.
	cfg, _, err := parseTLS("A.ssl.truststore.location = "+fixture("truststore.jks"), "A.ssl.keystore.type = PKCS12", "A.ssl.keystore.location = "+fixture("client.p12"), "A.ssl.keystore.password = "+clientPass,
		"A.ssl.cipher.suites = TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
	if err != nil {
		t.Fatal(err)
	}
	if err := handshake(t, cfg, "localhost"); err != nil {
		t.Errorf("TLS 1.2 handshake: %v", err)
	}
}

func TestTLSErrors(t *testing.T) {
	dir := t.TempDir()
	corrupt := func(name string, keep int) string {
		data, err := os.ReadFile(fixture(name))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "corrupt-"+name)
		if err := os.WriteFile(p, data[:keep], 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := func(name string) string { // one byte of the content changed
		data, err := os.ReadFile(fixture(name))
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)/2] ^= 0xff
		p := filepath.Join(dir, "flipped-"+name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p12 := func(pass string) []string {
		return []string{"A.ssl.keystore.type = PKCS12", "A.ssl.keystore.location = " + fixture("client.p12"), "A.ssl.keystore.password = " + pass}
	}
	tests := []struct {
		name  string
		lines []string
		key   string   // the key the one error names
		texts []string // what its text must also contain
	}{
		{"jks truststore, wrong password", []string{"A.ssl.truststore.location = " + fixture("truststore.jks"), "A.ssl.truststore.password = not-the-password"},
			"A.ssl.truststore.password", []string{"truststore.jks", "wrong password"}},
		{"pkcs12 truststore, wrong password", []string{"A.ssl.truststore.type = PKCS12", "A.ssl.truststore.location = " + fixture("truststore.p12"), "A.ssl.truststore.password = not-the-password"},
			"A.ssl.truststore.password", []string{"truststore.p12", "wrong password"}},
		{"top-level truststore, wrong password", []string{"ssl.truststore.location = " + fixture("truststore.jks"), "ssl.truststore.password = not-the-password"},
			"ssl.truststore.password", []string{"truststore.jks"}},
		{"pkcs12 keystore, wrong password", p12("not-the-password"), "A.ssl.keystore.password", []string{"client.p12", "wrong password"}},
		{"pkcs12 keystore, other key password", append(p12(clientPass), "A.ssl.key.password = "+keyPass), "A.ssl.key.password", []string{"client.p12", "PKCS12"}},
		{"jks keystore, wrong store password", []string{"A.ssl.keystore.location = " + fixture("client.jks"), "A.ssl.keystore.password = not-the-password", "A.ssl.key.password = " + keyPass},
			"A.ssl.keystore.password", []string{"client.jks"}},
		{"jks keystore, wrong key password", []string{"A.ssl.keystore.location = " + fixture("client.jks"), "A.ssl.keystore.password = " + clientPass, "A.ssl.key.password = not-the-password"},
			"A.ssl.key.password", []string{"client.jks", "wrong key password"}},
		{"jks keystore, key password unset", []string{"A.ssl.keystore.location = " + fixture("client.jks"), "A.ssl.keystore.password = " + clientPass},
			"A.ssl.key.password", []string{"client.jks"}},
		{"keystore without password", []string{"A.ssl.keystore.location = " + fixture("client.jks")}, "A.ssl.keystore.password", []string{"client.jks", "missing"}},
		{"keystore password without keystore", []string{"A.ssl.keystore.password = " + clientPass}, "A.ssl.keystore.password", []string{"A.ssl.keystore.location"}},
		{"pkcs12 truststore needs its password", []string{"A.ssl.truststore.type = PKCS12", "A.ssl.truststore.location = " + fixture("truststore.p12")}, "A.ssl.truststore.password", []string{"truststore.p12"}},
		{"encrypted pem key, wrong password", []string{"A.ssl.keystore.type = PEM", "A.ssl.keystore.location = " + fixture("client-enc.pem"), "A.ssl.key.password = not-the-password"},
			"A.ssl.key.password", []string{"client-enc.pem"}},
		{"encrypted pem key, no password", []string{"A.ssl.keystore.type = PEM", "A.ssl.keystore.location = " + fixture("client-enc.pem")}, "A.ssl.key.password", []string{"client-enc.pem", "encrypted"}},
		{"plain pem key with a password", []string{"A.ssl.keystore.type = PEM", "A.ssl.keystore.location = " + fixture("client.pem"), "A.ssl.key.password = " + pemKeyPass}, "A.ssl.key.password", []string{"not encrypted"}},
		{"pem keystore with a store password", []string{"A.ssl.keystore.type = PEM", "A.ssl.keystore.location = " + fixture("client.pem"), "A.ssl.keystore.password = " + clientPass}, "A.ssl.keystore.password", []string{"PEM"}},
		{"pem truststore with a password", []string{"A.ssl.truststore.type = PEM", "A.ssl.truststore.location = " + fixture("ca.pem"), "A.ssl.truststore.password = " + trustPass}, "A.ssl.truststore.password", []string{"PEM"}},
		{"missing truststore", []string{"A.ssl.truststore.location = /nonexistent/ts.jks"}, "A.ssl.truststore.location", []string{"/nonexistent/ts.jks"}},
		{"missing keystore", []string{"A.ssl.keystore.location = /nonexistent/ks.p12", "A.ssl.keystore.password = " + clientPass}, "A.ssl.keystore.location", []string{"/nonexistent/ks.p12"}},
		{"truncated jks truststore", []string{"A.ssl.truststore.location = " + corrupt("truststore.jks", 100), "A.ssl.truststore.password = " + trustPass}, "A.ssl.truststore.location", []string{"corrupt-truststore.jks"}},
		{"altered jks truststore", []string{"A.ssl.truststore.location = " + flipped("truststore.jks"), "A.ssl.truststore.password = " + trustPass}, "", []string{"flipped-truststore.jks"}},
		{"truncated pkcs12 keystore", []string{"A.ssl.keystore.location = " + corrupt("client.p12", 500), "A.ssl.keystore.password = " + clientPass}, "A.ssl.keystore.location", []string{"corrupt-client.p12"}},
		{"not a store", []string{"A.ssl.keystore.location = " + fixture("ca.pem"), "A.ssl.keystore.password = " + clientPass}, "A.ssl.keystore.location", []string{"ca.pem"}},
		{"pem truststore without certificates", []string{"A.ssl.truststore.type = PEM", "A.ssl.truststore.location = " + fixture("client.key")}, "A.ssl.truststore.location", []string{"no PEM certificate"}},
		{"pkcs1 key refused as in Kafka", []string{"A.ssl.keystore.type = PEM", "A.ssl.keystore.certificate.chain = " + inline(t, "client-chain.pem"), "A.ssl.keystore.key = " + inline(t, "client-pkcs1.key")},
			"A.ssl.keystore.key", []string{"PKCS#8"}},
		{"inline certificates need PEM", []string{"A.ssl.truststore.certificates = x"}, "A.ssl.truststore.certificates", []string{"PEM"}},
		{"inline key without chain", []string{"A.ssl.keystore.type = PEM", "A.ssl.keystore.key = x"}, "A.ssl.keystore.certificate.chain", nil},
		{"chain without key", []string{"A.ssl.keystore.type = PEM", "A.ssl.keystore.certificate.chain = x"}, "A.ssl.keystore.key", nil},
		{"location and inline certificates", []string{"A.ssl.truststore.type = PEM", "A.ssl.truststore.location = " + fixture("ca.pem"), "A.ssl.truststore.certificates = x"}, "A.ssl.truststore.certificates", nil},
		{"store type", []string{"A.ssl.truststore.type = JCEKS"}, "A.ssl.truststore.type", nil},
		{"protocol Go lacks", []string{"A.ssl.enabled.protocols = SSLv3, TLSv1.2"}, "A.ssl.enabled.protocols", []string{"SSLv3"}},
		{"ssl.protocol Go lacks", []string{"A.ssl.protocol = SSLv3"}, "A.ssl.protocol", []string{"SSLv3"}},
		{"protocols with a gap", []string{"A.ssl.enabled.protocols = TLSv1.1, TLSv1.3"}, "A.ssl.enabled.protocols", []string{"gap"}},
		{"ssl.protocol below every enabled one", []string{"A.ssl.protocol = TLSv1.2", "A.ssl.enabled.protocols = TLSv1.3"}, "A.ssl.enabled.protocols", []string{"no protocol left"}},
		{"cipher suite Go lacks", []string{"A.ssl.cipher.suites = TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"}, "A.ssl.cipher.suites", []string{"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}},
		{"some 1.3 suites", []string{"A.ssl.cipher.suites = TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}, "A.ssl.cipher.suites", []string{"TLS 1.3", "TLS_CHACHA20_POLY1305_SHA256"}},
		{"1.2 suites with 1.3 only", []string{"A.ssl.cipher.suites = TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "A.ssl.enabled.protocols = TLSv1.3"}, "A.ssl.enabled.protocols", nil},
		{"provider", []string{"A.ssl.provider = BC"}, "A.ssl.provider", []string{"BC"}},
		{"secure random", []string{"ssl.secure.random.implementation = SHA1PRNG"}, "ssl.secure.random.implementation", nil},
		{"key manager", []string{"A.ssl.keymanager.algorithm = PKIX"}, "A.ssl.keymanager.algorithm", nil},
		{"trust manager", []string{"A.ssl.trustmanager.algorithm = SunX509"}, "A.ssl.trustmanager.algorithm", nil},
		{"engine factory", []string{"A.ssl.engine.factory.class = com.example.Factory"}, "A.ssl.engine.factory.class", nil},
		{"endpoint identification", []string{"A.ssl.endpoint.identification.algorithm = LDAPS"}, "A.ssl.endpoint.identification.algorithm", nil},
	}
	for _, tt := range tests {
		_, _, err := parseTLS(tt.lines...)
		var merr *multierror.Error
		if !errors.As(err, &merr) || len(merr.Errors) != 1 {
			t.Errorf("%s: want one error, got %v", tt.name, err)
			continue
		}
		var ke *KeyError
		if !errors.As(merr.Errors[0], &ke) || (tt.key != "" && ke.Key != tt.key) {
			t.Errorf("%s: error %q, want it under %s", tt.name, err, tt.key)
		}
		for _, s := range tt.texts {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: error %q does not say %q", tt.name, err, s)
			}
		}
		for _, p := range fixturePasswords {
			if strings.Contains(err.Error(), p) {
				t.Errorf("%s: error %q shows a password", tt.name, err)
			}
		}
	}
}

// TestTLSUnknownKeys: an ssl.* key Strait does not know is not ignored
// silently any more; ssl keys are read only when the cluster uses TLS.
func TestTLSUnknownKeys(t *testing.T) {
	_, warnings, err := Parse([]byte("clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\nA.security.protocol = SSL\n"+
		"A.ssl.truststore.location = "+fixture("truststore.jks")+"\nA.ssl.keystore.alias = x\nssl.foo = 1\n"), Properties, nil, AllowUnknownKeys())
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 2 || !strings.Contains(strings.Join(warnings, "\n"), "A.ssl.keystore.alias") || !strings.Contains(strings.Join(warnings, "\n"), "ssl.foo") {
		t.Errorf("warnings: %v", warnings)
	}
	props := "clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\nB.ssl.keystore.location = /nonexistent\n"
	if _, _, err := Parse([]byte(props), Properties, nil); err != nil {
		t.Errorf("ssl keys of a PLAINTEXT cluster were read: %v", err)
	}
}

// FuzzPEMEntries: Kafka's PEM patterns never panic, and what they find in
// a fixture folded onto one line is what encoding/pem finds in the file.
func FuzzPEMEntries(f *testing.F) {
	for _, name := range []string{"ca.pem", "client.pem", "client-enc.pem", "client-pkcs1.key"} {
		data, err := os.ReadFile(fixture(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
		f.Add(strings.ReplaceAll(string(data), "\n", " "))
	}
	f.Add("-----BEGIN CERTIFICATE----- -----END CERTIFICATE-----")
	f.Fuzz(func(t *testing.T, s string) {
		for _, re := range []*regexp.Regexp{pemCertificateRE, pemPrivateKeyRE} {
			for _, e := range pemEntries(s, re) {
				if e.err == nil && e.der == nil {
					t.Errorf("entry %q without bytes or error", e.label)
				}
			}
		}
		if !strings.Contains(s, "\n") {
			return
		}
		var want [][]byte
		for rest := []byte(s); ; {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				break
			}
			if b.Type == "CERTIFICATE" && len(b.Headers) == 0 {
				want = append(want, b.Bytes)
			}
		}
		if len(want) == 0 || strings.Count(s, "-----BEGIN") != len(want) {
			return // only files that hold nothing but certificates
		}
		var got [][]byte
		for _, e := range pemEntries(strings.ReplaceAll(s, "\n", " "), pemCertificateRE) {
			got = append(got, e.der)
		}
		if !slices.EqualFunc(got, want, bytes.Equal) {
			t.Errorf("folded onto one line: %d certificates, want %d", len(got), len(want))
		}
	})
}
