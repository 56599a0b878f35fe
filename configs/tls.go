package configs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	keystore "github.com/pavlo-v-chernykh/keystore-go/v4"
	"github.com/youmark/pkcs8"
	"software.sslmate.com/src/go-pkcs12"
)

// tlsSettings builds the client TLS configuration of one cluster from its
// ssl.* keys as Kafka's Java client (DefaultSslEngineFactory) reads them,
// reading the stores they name. Problems are reported with b.fail under the
// key as written; it then returns nil.
func (b *builder) tlsSettings(get lookupFunc) *tls.Config {
	roots, certs, storesOK := b.tlsStores(get)
	minV, maxV, suites, protoOK := b.tlsProtocols(get)
	javaOK := b.tlsJavaOnly(get)
	verifyHost, identOK := b.tlsEndpointIdentification(get)
	if !storesOK || !protoOK || !javaOK || !identOK {
		return nil
	}
	cfg := &tls.Config{RootCAs: roots, Certificates: certs, MinVersion: minV, MaxVersion: maxV, CipherSuites: suites}
	if !verifyHost {
		// ssl.endpoint.identification.algorithm="": verify the chain, not
		// the host name, as Java clients do.
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
	return cfg
}

// tlsStores reads the trust store and the key store that the ssl.* keys
// resolved by get name, as Kafka's Java client does: ssl.truststore.type and
// ssl.keystore.type JKS (the default), PKCS12 or PEM, each in the file at
// .location (with .password, and ssl.key.password for the key), or, for
// PEM, inline in ssl.truststore.certificates, ssl.keystore.certificate.chain
// and ssl.keystore.key. A JKS or PKCS12 file is read whichever of the two it
// really is, as Java's keystore.type.compat does.
//
// roots is nil when no trust store is set (the system's roots then apply);
// certs is nil when no key store is set. ok is false when a problem was
// reported with b.fail, under the key as written; errors name the file and
// never a password. It reads only the values and the files they name, so it
// serves any listener's or client's keys: pass a get that maps "ssl.x" to
// the key to read.
func (b *builder) tlsStores(get lookupFunc) (roots *x509.CertPool, certs []tls.Certificate, ok bool) {
	ok = true
	fail := func(key, format string, args ...any) {
		ok = false
		b.fail(key, format, args...)
	}

	typ, typWhere := get(KeySSLTruststoreType)
	loc, locWhere := get(KeySSLTruststoreLoc)
	pass, passWhere := get(KeySSLTruststorePassword)
	inline, inlineWhere := get(KeySSLTruststoreCerts)
	isPEM := strings.EqualFold(typ, "PEM")
	switch {
	case inline != "" && !isPEM:
		fail(inlineWhere, "inline certificates need %s = PEM, not %s", typWhere, typ)
	case inline != "" && loc != "":
		fail(inlineWhere, "%s is set too: give the trusted certificates one way", locWhere)
	case (inline != "" || loc != "") && isPEM && pass != "":
		fail(passWhere, "a PEM trust store has no password: unset it")
	case loc == "" && pass != "":
		fail(passWhere, "set but %s is not", locWhere)
	case inline != "":
		list, err := pemCertificates(inline)
		if err != nil {
			fail(inlineWhere, "%v", err)
			break
		}
		roots = certPool(list)
	case loc != "":
		data, err := os.ReadFile(loc)
		if err != nil {
			fail(locWhere, "read the trust store: %v", err)
			break
		}
		var list []*x509.Certificate
		if isPEM {
			list, err = pemCertificates(string(data))
		} else {
			list, err = readTrustStore(data, pass)
		}
		switch {
		case errors.Is(err, errStorePassword) && pass == "":
			fail(passWhere, "missing: the trust store %s (%s) needs its password", loc, locWhere)
		case errors.Is(err, errStorePassword):
			fail(passWhere, "wrong password for the trust store %s (%s), or the file was altered", loc, locWhere)
		case err != nil:
			fail(locWhere, "trust store %s: %v", loc, err)
		default:
			roots = certPool(list)
		}
	}

	typ, typWhere = get(KeySSLKeystoreType)
	loc, locWhere = get(KeySSLKeystoreLoc)
	pass, passWhere = get(KeySSLKeystorePassword)
	key, keyWhere := get(KeySSLKeystoreKey)
	chain, chainWhere := get(KeySSLKeystoreChain)
	keyPass, keyPassWhere := get(KeySSLKeyPassword)
	isPEM = strings.EqualFold(typ, "PEM")
	switch {
	case key != "" && !isPEM:
		fail(keyWhere, "an inline key needs %s = PEM, not %s", typWhere, typ)
	case key != "" && chain == "":
		fail(chainWhere, "missing: %s is set, give its certificate chain too", keyWhere)
	case key != "" && loc != "":
		fail(keyWhere, "%s is set too: give the key one way", locWhere)
	case (key != "" || loc != "") && isPEM && pass != "":
		fail(passWhere, "a PEM key store has no password: unset it (an encrypted key's password is %s)", keyPassWhere)
	case key == "" && chain != "":
		fail(keyWhere, "missing: %s is set, give its private key too", chainWhere)
	case loc == "" && pass != "":
		fail(passWhere, "set but %s is not", locWhere)
	case key != "":
		cert, err := pemKeyPair(chain, key, keyPass)
		switch {
		case errors.Is(err, errKeyPassword):
			fail(keyPassWhere, "key in %s: %v", keyWhere, err)
		case errors.Is(err, errNoKeyPassword):
			fail(keyPassWhere, "missing: the key in %s is encrypted", keyWhere)
		case err != nil:
			fail(keyWhere, "%v", err)
		default:
			certs = []tls.Certificate{cert}
		}
	case loc != "":
		data, err := os.ReadFile(loc)
		if err != nil {
			fail(locWhere, "read the key store: %v", err)
			break
		}
		if isPEM {
			var cert tls.Certificate
			if cert, err = pemKeyPair(string(data), string(data), keyPass); err == nil {
				certs = []tls.Certificate{cert}
			}
		} else {
			if keyPass == "" {
				keyPass = pass // Kafka: the key's password defaults to the store's
			}
			certs, err = readKeyStore(data, pass, keyPass)
		}
		switch {
		case errors.Is(err, errStorePassword) && pass == "":
			// Java reads a store made with an empty password when the key
			// is set but empty: only a store that needs one fails here.
			fail(passWhere, "missing: the key store %s (%s) needs its password", loc, locWhere)
		case errors.Is(err, errStorePassword):
			fail(passWhere, "wrong password for the key store %s (%s), or the file was altered", loc, locWhere)
		case errors.Is(err, errKeyPassword):
			fail(keyPassWhere, "key in %s (%s): %v", loc, locWhere, err)
		case errors.Is(err, errNoKeyPassword):
			fail(keyPassWhere, "missing: the key in %s (%s) is encrypted", loc, locWhere)
		case err != nil:
			fail(locWhere, "key store %s: %v", loc, err)
		}
	}
	return roots, certs, ok
}

// tlsProtocols reads ssl.protocol, ssl.enabled.protocols and
// ssl.cipher.suites as Go's TLS versions and cipher suites. As in Java, a
// suite list without TLS 1.3 suites turns TLS 1.3 off. ok is false when a
// problem was reported with b.fail.
func (b *builder) tlsProtocols(get lookupFunc) (minV, maxV uint16, suites []uint16, ok bool) {
	ok = true
	fail := func(key, format string, args ...any) {
		ok = false
		b.fail(key, format, args...)
	}
	top := uint16(tls.VersionTLS13)
	proto, protoWhere := get(KeySSLProtocol)
	if v, found := tlsVersion(proto); found {
		top = v
	} else if !strings.EqualFold(proto, "TLS") && !strings.EqualFold(proto, "SSL") {
		fail(protoWhere, "%q is not a protocol Go implements: use TLSv1.3 (the default), TLSv1.2, TLSv1.1, TLSv1 or TLS", proto)
	}
	enabled, enabledWhere := get(KeySSLEnabledProtocols)
	names := splitList(enabled)
	if len(names) == 0 {
		names = splitList(clientKeys[KeySSLEnabledProtocols].def)
	}
	var versions []uint16
	for _, n := range names {
		v, found := tlsVersion(n)
		if !found {
			fail(enabledWhere, "%q is not a protocol Go implements: list some of TLSv1.2, TLSv1.3, TLSv1.1, TLSv1", n)
			continue
		}
		versions = append(versions, v)
	}
	if !ok {
		return 0, 0, nil, false
	}
	slices.Sort(versions)
	versions = slices.Compact(versions)
	for i := 1; i < len(versions); i++ {
		if versions[i] != versions[i-1]+1 {
			fail(enabledWhere, "%q leaves a gap: Go enables a range of versions, list them without one", enabled)
		}
	}
	minV, maxV = versions[0], min(versions[len(versions)-1], top)

	if list, where := get(KeySSLCipherSuites); len(splitList(list)) > 0 {
		byName := map[string]uint16{}
		var known []string
		for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
			if !slices.Contains(s.SupportedVersions, tls.VersionTLS13) {
				byName[s.Name] = s.ID
				known = append(known, s.Name)
			}
		}
		var tls13 []string
		for _, n := range splitList(list) {
			name := n
			if rest, found := strings.CutPrefix(name, "SSL_"); found {
				name = "TLS_" + rest // Java's older names for the same suites
			}
			switch {
			case slices.Contains(tls13Suites, name):
				tls13 = append(tls13, name)
			case name == "TLS_EMPTY_RENEGOTIATION_INFO_SCSV":
				// Java's marker for secure renegotiation, which Go always signals.
			case byName[name] != 0:
				suites = append(suites, byName[name])
			default:
				fail(where, "%q is not a cipher suite Go has; it has %s", n, strings.Join(known, ", "))
			}
		}
		if !ok {
			return 0, 0, nil, false
		}
		switch {
		case len(tls13) > 0 && len(tls13) < len(tls13Suites):
			fail(where, "Go's TLS 1.3 suites cannot be chosen: it offers all of %s; list all of them or none (none turns TLS 1.3 off, as in Java)", strings.Join(tls13Suites, ", "))
		case len(tls13) == 0:
			maxV = min(maxV, tls.VersionTLS12) // as in Java: no TLS 1.3 suite, no TLS 1.3
		}
		if len(suites) == 0 && minV <= tls.VersionTLS12 {
			if len(tls13) == 0 {
				fail(where, "no cipher suite Go can use")
			}
			minV = tls.VersionTLS13
		}
	}
	if minV > maxV {
		fail(enabledWhere, "no protocol left: %q with %s = %s and the cipher suites set", enabled, protoWhere, proto)
	}
	return minV, maxV, suites, ok
}

// tls13Suites are the TLS 1.3 cipher suites Go implements, all always on.
var tls13Suites = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}

// tlsVersion maps Java's protocol names to Go's versions.
func tlsVersion(name string) (uint16, bool) {
	switch strings.ToUpper(strings.TrimSpace(name)) {
	case "TLSV1":
		return tls.VersionTLS10, true
	case "TLSV1.1":
		return tls.VersionTLS11, true
	case "TLSV1.2":
		return tls.VersionTLS12, true
	case "TLSV1.3":
		return tls.VersionTLS13, true
	}
	return 0, false
}

// tlsJavaOnly refuses the ssl.* keys that choose Java machinery Go does not
// have, unless they hold Java's default (Kafka's own engine factory
// included). ok is false when a problem was reported with b.fail.
func (b *builder) tlsJavaOnly(get lookupFunc) (ok bool) {
	ok = true
	for _, k := range []struct {
		key  string
		defs []string
	}{
		{KeySSLProvider, []string{""}},
		{KeySSLSecureRandom, []string{""}},
		{KeySSLKeyManagerAlg, []string{"SunX509"}},
		{KeySSLTrustManagerAlg, []string{"PKIX"}},
		{KeySSLEngineFactory, []string{"", "org.apache.kafka.common.security.ssl.DefaultSslEngineFactory"}},
	} {
		v, where := get(k.key)
		if !slices.ContainsFunc(k.defs, func(d string) bool { return strings.EqualFold(d, strings.TrimSpace(v)) }) {
			ok = false
			b.fail(where, "%q cannot be honoured: Strait uses Go's TLS, not Java's; unset it", v)
		}
	}
	return ok
}

// tlsEndpointIdentification reads ssl.endpoint.identification.algorithm:
// https (the default) verifies the server's host name, empty only its chain.
func (b *builder) tlsEndpointIdentification(get lookupFunc) (verifyHost, ok bool) {
	v, where := get(KeySSLEndpointIdent)
	switch {
	case strings.EqualFold(strings.TrimSpace(v), "https"):
		return true, true
	case strings.TrimSpace(v) == "":
		return false, true
	}
	b.fail(where, "%q is not supported: use https (the default) or an empty value", v)
	return false, false
}

// Store problems that are reported under a password key.
var (
	errStorePassword = errors.New("wrong store password")
	errKeyPassword   = errors.New("wrong key password")
	errNoKeyPassword = errors.New("encrypted key without a password")
)

// jksMagic starts every JKS file.
const jksMagic = "\xfe\xed\xfe\xed"

// readTrustStore returns the trusted certificates of a JKS or PKCS12 store:
// its certificate entries and, as Java's trust managers do, the first
// certificate of each key entry. Without a password, a JKS store's integrity
// is not checked, as in Java.
func readTrustStore(data []byte, pass string) ([]*x509.Certificate, error) {
	if !bytes.HasPrefix(data, []byte(jksMagic)) {
		certs, err := pkcs12.DecodeTrustStore(data, pass)
		if err != nil {
			if errors.Is(err, pkcs12.ErrIncorrectPassword) {
				return nil, errStorePassword
			}
			// A key store used as a trust store: trust its key's certificate.
			if _, leaf, _, err2 := pkcs12.DecodeChain(data, pass); err2 == nil {
				return []*x509.Certificate{leaf}, nil
			}
			return nil, fmt.Errorf("not a PKCS12 or JKS trust store Go can read: %w", err)
		}
		if len(certs) == 0 {
			return nil, errors.New("no trusted certificate in it")
		}
		return certs, nil
	}
	ks := keystore.New()
	if err := ks.Load(bytes.NewReader(data), []byte(pass)); err != nil {
		// keystore-go checks the digest after reading every entry, and
		// reports a mismatch only as this text.
		if !strings.Contains(err.Error(), "invalid digest") {
			return nil, fmt.Errorf("not a JKS store Go can read: %w", err)
		}
		if pass != "" {
			return nil, errStorePassword
		}
	}
	var out []*x509.Certificate
	for _, alias := range ks.Aliases() {
		var der []byte
		switch {
		case ks.IsTrustedCertificateEntry(alias):
			e, err := ks.GetTrustedCertificateEntry(alias)
			if err != nil {
				return nil, fmt.Errorf("entry %q: %w", alias, err)
			}
			der = e.Certificate.Content
		case ks.IsPrivateKeyEntry(alias):
			chain, err := ks.GetPrivateKeyEntryCertificateChain(alias)
			if err != nil || len(chain) == 0 {
				continue
			}
			der = chain[0].Content
		default:
			continue
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("entry %q: %w", alias, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no trusted certificate in it")
	}
	return out, nil
}

// readKeyStore returns the keys of a JKS or PKCS12 store with their
// certificate chains. Every key must open with keyPass, as with Java's
// SunX509 key manager. A PKCS12 store has one password for all.
func readKeyStore(data []byte, storePass, keyPass string) ([]tls.Certificate, error) {
	if !bytes.HasPrefix(data, []byte(jksMagic)) {
		key, leaf, others, err := pkcs12.DecodeChain(data, storePass)
		if errors.Is(err, pkcs12.ErrIncorrectPassword) {
			return nil, errStorePassword
		}
		if err != nil {
			return nil, fmt.Errorf("not a PKCS12 or JKS key store Go can read: %w", err)
		}
		if keyPass != storePass {
			return nil, fmt.Errorf("%w: a PKCS12 store's key has the store's password (keytool ignores -keypass for PKCS12)", errKeyPassword)
		}
		cert, err := keyPair(key, append([]*x509.Certificate{leaf}, others...))
		if err != nil {
			return nil, err
		}
		return []tls.Certificate{cert}, nil
	}
	ks := keystore.New()
	if err := ks.Load(bytes.NewReader(data), []byte(storePass)); err != nil {
		if strings.Contains(err.Error(), "invalid digest") {
			return nil, errStorePassword
		}
		return nil, fmt.Errorf("not a JKS store Go can read: %w", err)
	}
	var out []tls.Certificate
	for _, alias := range ks.Aliases() {
		if !ks.IsPrivateKeyEntry(alias) {
			continue
		}
		e, err := ks.GetPrivateKeyEntry(alias, []byte(keyPass))
		if err != nil {
			return nil, fmt.Errorf("%w (entry %q)", errKeyPassword, alias)
		}
		key, err := x509.ParsePKCS8PrivateKey(e.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("entry %q: %w", alias, err)
		}
		var chain []*x509.Certificate
		for _, c := range e.CertificateChain {
			x, err := x509.ParseCertificate(c.Content)
			if err != nil {
				return nil, fmt.Errorf("entry %q: %w", alias, err)
			}
			chain = append(chain, x)
		}
		cert, err := keyPair(key, chain)
		if err != nil {
			return nil, fmt.Errorf("entry %q: %w", alias, err)
		}
		out = append(out, cert)
	}
	if len(out) == 0 {
		return nil, errors.New("no private key entry in it")
	}
	return out, nil
}

// keyPair makes a TLS certificate of a key and certificates: the one that
// holds the key's public key first, then its issuers found among the others.
func keyPair(key any, certs []*x509.Certificate) (tls.Certificate, error) {
	signer, ok := key.(crypto.Signer)
	switch key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
	default:
		ok = false
	}
	if !ok {
		return tls.Certificate{}, fmt.Errorf("a %T key: Kafka reads RSA, DSA and EC keys, Go's TLS RSA and EC", key)
	}
	pub, _ := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	var leaf *x509.Certificate
	for _, c := range certs {
		if pub != nil && pub.Equal(c.PublicKey) {
			leaf = c
			break
		}
	}
	if leaf == nil {
		return tls.Certificate{}, errors.New("no certificate matches the private key")
	}
	out := tls.Certificate{PrivateKey: key, Leaf: leaf, Certificate: [][]byte{leaf.Raw}}
	for cur := leaf; !bytes.Equal(cur.RawIssuer, cur.RawSubject); {
		i := slices.IndexFunc(certs, func(c *x509.Certificate) bool {
			return bytes.Equal(c.RawSubject, cur.RawIssuer) && !slices.ContainsFunc(out.Certificate, func(d []byte) bool { return bytes.Equal(d, c.Raw) })
		})
		if i < 0 {
			break
		}
		cur = certs[i]
		out.Certificate = append(out.Certificate, cur.Raw)
	}
	return out, nil
}

// pemKeyPair reads a PEM certificate chain and a PKCS#8 private key, as
// Kafka's PemStore does: with keyPass set the key must be encrypted
// ("ENCRYPTED PRIVATE KEY"), else it must not be.
func pemKeyPair(chainPEM, keyPEM, keyPass string) (tls.Certificate, error) {
	chain, err := pemCertificates(chainPEM)
	if err != nil {
		return tls.Certificate{}, err
	}
	blocks := pemEntries(keyPEM, pemPrivateKeyRE)
	if len(blocks) != 1 {
		return tls.Certificate{}, fmt.Errorf("want one PEM private key, found %d", len(blocks))
	}
	if blocks[0].err != nil {
		return tls.Certificate{}, fmt.Errorf("private key: %w", blocks[0].err)
	}
	encrypted := strings.Contains(blocks[0].label, "ENCRYPTED")
	var key any
	switch {
	case encrypted && keyPass == "":
		return tls.Certificate{}, errNoKeyPassword
	case !encrypted && keyPass != "":
		return tls.Certificate{}, fmt.Errorf("%w: the key is not encrypted (BEGIN %s), unset the key password", errKeyPassword, blocks[0].label)
	case encrypted:
		key, err = pkcs8.ParsePKCS8PrivateKey(blocks[0].der, []byte(keyPass))
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("%w (or an encryption Go cannot read: %v)", errKeyPassword, err)
		}
	default:
		key, err = x509.ParsePKCS8PrivateKey(blocks[0].der)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("BEGIN %s: Kafka reads PKCS#8 keys only (BEGIN PRIVATE KEY or BEGIN ENCRYPTED PRIVATE KEY; convert with openssl pkcs8 -topk8): %v", blocks[0].label, err)
		}
	}
	return keyPair(key, chain)
}

// pemCertificates reads every PEM certificate in s; there must be one.
func pemCertificates(s string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, b := range pemEntries(s, pemCertificateRE) {
		if b.err != nil {
			return nil, fmt.Errorf("certificate: %w", b.err)
		}
		c, err := x509.ParseCertificate(b.der)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate (BEGIN CERTIFICATE) in it")
	}
	return out, nil
}

func certPool(certs []*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

type pemEntry struct {
	label string
	der   []byte
	err   error
}

// Kafka's PemParser patterns (DefaultSslEngineFactory): they also find
// entries in a value whose line breaks were folded into spaces, as a
// .properties line continued with "\" gives. The label is matched lazily so
// that a one-line chain yields every certificate.
var (
	pemCertificateRE = pemRegexp("CERTIFICATE")
	pemPrivateKeyRE  = pemRegexp("PRIVATE KEY")
)

func pemRegexp(name string) *regexp.Regexp {
	n := strings.ReplaceAll(name, " ", `\s+`)
	return regexp.MustCompile(`-+BEGIN\s*(.*?` + n + `)[^-]*-+\s+` +
		`(?:\s*[^\r\n]*:[^\r\n]*[\r\n]+)*` +
		`([a-zA-Z0-9/+=\s]*)` +
		`-+END\s*.*?` + n + `[^-]*-+\s+`)
}

// pemEntries finds the PEM entries that re matches.
func pemEntries(s string, re *regexp.Regexp) []pemEntry {
	var out []pemEntry
	for _, m := range re.FindAllStringSubmatch(s+"\n", -1) {
		e := pemEntry{label: strings.Join(strings.Fields(m[1]), " ")}
		e.der, e.err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(m[2]), ""))
		out = append(out, e)
	}
	return out
}
