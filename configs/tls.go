package configs

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
)

// tlsSettings builds the client TLS configuration of one cluster from its
// ssl.* keys, reading the stores they name; problems are reported with
// b.fail under the key as written.
func (b *builder) tlsSettings(get lookupFunc) *tls.Config {
	for _, pair := range [][2]string{{KeySSLTruststoreLoc, KeySSLTruststoreType}, {KeySSLKeystoreLoc, KeySSLKeystoreType}} {
		loc, _ := get(pair[0])
		typ, where := get(pair[1])
		if loc != "" && !strings.EqualFold(typ, "PEM") {
			b.fail(where, "%q stores are not supported: convert %s to PEM and set %s = PEM", typ, loc, where)
			return nil
		}
	}
	caFile, _ := get(KeySSLTruststoreLoc)
	keystore, _ := get(KeySSLKeystoreLoc)
	ident, _ := get(KeySSLEndpointIdent)
	cfg, err := pemTLSConfig(caFile, keystore, ident != "")
	if err != nil {
		b.fail(KeySSLTruststoreLoc, "%v", err)
	}
	return cfg
}

func pemTLSConfig(caFile, keystoreFile string, verifyHostname bool) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read ssl.truststore.location: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ssl.truststore.location %s: no PEM certificate in it", caFile)
		}
	}
	if keystoreFile != "" {
		pem, err := os.ReadFile(keystoreFile)
		if err != nil {
			return nil, fmt.Errorf("read ssl.keystore.location: %w", err)
		}
		cert, err := tls.X509KeyPair(pem, pem)
		if err != nil {
			return nil, fmt.Errorf("ssl.keystore.location %s: %w", keystoreFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if !verifyHostname {
		// ssl.endpoint.identification.algorithm="": verify the chain, not
		// the host name, as Java clients do.
		roots := cfg.RootCAs
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("no server certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			return err
		}
	}
	return cfg, nil
}
