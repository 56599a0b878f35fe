package configs

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-multierror"
)

const restBase = "clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\n"

// restFixture is the path of a store made by testdata/tls/make.sh.
func restFixture(name string) string { return filepath.Join("testdata", "tls", name) }

// restServerStore sets an https listener's key store (127.0.0.1 and localhost)
// with the given key prefix ("listeners.https." or "").
func restServerStore(prefix string) string {
	return prefix + "ssl.keystore.location = " + restFixture("server.p12") + "\n" +
		prefix + "ssl.keystore.type = PKCS12\n" + prefix + "ssl.keystore.password = server-pass-5\n"
}

func restTrustStore(prefix string) string {
	return prefix + "ssl.truststore.location = " + restFixture("truststore.jks") + "\n" + prefix + "ssl.truststore.password = trust-pass-1\n"
}

func TestRESTListeners(t *testing.T) {
	tests := []struct {
		name      string
		extra     string
		want      []string // Listener.URL, in order
		wantTLS   []bool
		advertise string // scheme://host:port with hostname "me"
	}{
		{"none", "", nil, nil, ""},
		{"http", "listeners = http://127.0.0.1:8083", []string{"http://127.0.0.1:8083"}, []bool{false}, "http://127.0.0.1:8083"},
		{"every interface", "listeners = http://:8083", []string{"http://:8083"}, []bool{false}, "http://me:8083"},
		{"wildcard", "listeners = http://0.0.0.0:8083", []string{"http://0.0.0.0:8083"}, []bool{false}, "http://me:8083"},
		{"https, scheme in any case", "listeners = HTTPS://localhost:8443\n" + restServerStore("listeners.https."),
			[]string{"https://localhost:8443"}, []bool{true}, "https://localhost:8443"},
		{"IPv6", "listeners = http://[::1]:8083", []string{"http://[::1]:8083"}, []bool{false}, "http://[::1]:8083"},
		{"mixed: http is advertised", "listeners = https://:8443, http://127.0.0.1:8083\n" + restServerStore(""),
			[]string{"https://:8443", "http://127.0.0.1:8083"}, []bool{true, false}, "http://127.0.0.1:8083"},
		{"mixed, https advertised", "listeners = http://127.0.0.1:8083,https://10.0.0.1:8443\nrest.advertised.listener = HTTPS\n" + restServerStore(""),
			[]string{"http://127.0.0.1:8083", "https://10.0.0.1:8443"}, []bool{false, true}, "https://10.0.0.1:8443"},
		{"advertised host and port", "listeners = http://:8083\nrest.advertised.host.name = w1.example\nrest.advertised.port = 18083",
			[]string{"http://:8083"}, []bool{false}, "http://w1.example:18083"},
		{"advertised https behind a proxy", "listeners = http://:8083\nrest.advertised.listener = https\nrest.advertised.host.name = proxy\nrest.advertised.port = 443",
			[]string{"http://:8083"}, []bool{false}, "https://proxy:443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, warnings, err := Parse([]byte(restBase+tt.extra), Properties, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) > 0 {
				t.Errorf("warnings: %v", warnings)
			}
			var got []string
			var gotTLS []bool
			for _, l := range cfg.Listeners {
				got = append(got, l.URL())
				gotTLS = append(gotTLS, l.TLS != nil)
			}
			if !slices.Equal(got, tt.want) || !slices.Equal(gotTLS, tt.wantTLS) {
				t.Errorf("listeners %v (TLS %v), want %v (%v)", got, gotTLS, tt.want, tt.wantTLS)
			}
			scheme, addr, ok := cfg.Advertised("me")
			if adv := scheme + "://" + addr; ok != (tt.advertise != "") || ok && adv != tt.advertise {
				t.Errorf("advertised %q (%v), want %q", adv, ok, tt.advertise)
			}
			if (cfg.REST.ForwardTLS != nil) != strings.HasPrefix(tt.advertise, "https") {
				t.Errorf("ForwardTLS = %v for advertised %s", cfg.REST.ForwardTLS, tt.advertise)
			}
		})
	}
}

// TestRESTSSLAllOrNothing checks Connect's rule: the https listeners read
// listeners.https.ssl.* when any listeners.https. key is set, and then
// only those; else the top-level ssl.* keys.
func TestRESTSSLAllOrNothing(t *testing.T) {
	// Top level only: used.
	cfg, _, err := Parse([]byte(restBase+"listeners = https://127.0.0.1:8443\n"+restServerStore("")+restTrustStore("")), Properties, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l := cfg.Listeners[0]; l.TLS == nil || len(l.TLS.Certificates) != 1 {
		t.Fatalf("top-level key store not used: %+v", l)
	}
	if cfg.REST.ForwardTLS == nil || cfg.REST.ForwardTLS.RootCAs == nil || len(cfg.REST.ForwardTLS.Certificates) != 1 {
		t.Errorf("forwarding client: %+v", cfg.REST.ForwardTLS)
	}
	// One listeners.https. key: the top-level key store is not read.
	_, _, err = Parse([]byte(restBase+"listeners = https://127.0.0.1:8443\n"+restServerStore("")+restTrustStore("listeners.https.")), Properties, nil)
	restWantKeyErrors(t, err, KeyListeners)
	if err == nil || !strings.Contains(err.Error(), "listeners.https.ssl.keystore.location") {
		t.Errorf("error does not name the prefixed key store key: %v", err)
	}
	// The prefixed keys win; a broken top-level store does not matter.
	cfg, _, err = Parse([]byte(restBase+"listeners = https://127.0.0.1:8443\nssl.keystore.location = /nope.p12\nssl.keystore.password = x\n"+
		restServerStore("listeners.https.")+"listeners.https.ssl.client.auth = required\n"), Properties, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l := cfg.Listeners[0]; l.TLS == nil || l.TLS.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Errorf("listener TLS: %+v", l.TLS)
	}
}

func TestRESTErrors(t *testing.T) {
	dir := t.TempDir()
	users := restWrite(t, dir, "users.properties", "alice: secret\nbob=builder\n")
	empty := restWrite(t, dir, "empty.properties", "# nobody\n")
	jaas := func(name, body string) string { return restWrite(t, dir, name, body) }
	good := jaas("good.jaas", `KafkaConnect { org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required file="`+users+`"; };`)
	other := jaas("other.jaas", `KafkaServer { org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required file="`+users+`"; };`)
	ldap := jaas("ldap.jaas", `KafkaConnect { com.example.LdapLoginModule required url="ldap://x"; };`)
	noFile := jaas("nofile.jaas", `KafkaConnect { org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required; };`)
	emptyUsers := jaas("empty.jaas", `KafkaConnect { org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required file="`+empty+`"; };`)
	broken := jaas("broken.jaas", `KafkaConnect { org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required file="`+users+`"`)
	const basic = "listeners = http://127.0.0.1:8083\nrest.extension.classes = " + BasicAuthExtensionClass + "\n"

	tests := []struct {
		name  string
		extra string
		keys  []string // each must be named by one error
	}{
		{"ftp", "listeners = ftp://127.0.0.1:21", []string{KeyListeners}},
		{"no port", "listeners = http://127.0.0.1", []string{KeyListeners}},
		{"port 0", "listeners = http://127.0.0.1:0", []string{KeyListeners}},
		{"path", "listeners = http://127.0.0.1:8083/api", []string{KeyListeners}},
		{"no scheme", "listeners = 127.0.0.1:8083", []string{KeyListeners}},
		{"https without key store", "listeners = https://127.0.0.1:8443", []string{KeyListeners}},
		{"wrong store password", "listeners = https://127.0.0.1:8443\n" + strings.Replace(restServerStore("listeners.https."), "server-pass-5", "nope", 1),
			[]string{"listeners.https.ssl.keystore.password"}},
		{"bad client auth", "listeners = https://127.0.0.1:8443\n" + restServerStore("listeners.https.") + "listeners.https.ssl.client.auth = always",
			[]string{"listeners.https.ssl.client.auth"}},
		{"bad top-level client auth", "listeners = http://127.0.0.1:8083\nssl.client.auth = maybe", []string{KeySSLClientAuth}},
		{"bad protocols", "listeners = https://127.0.0.1:8443\n" + restServerStore("listeners.https.") + "listeners.https.ssl.enabled.protocols = SSLv3",
			[]string{"listeners.https.ssl.enabled.protocols"}},
		{"bad cipher suite", "listeners = https://127.0.0.1:8443\n" + restServerStore("listeners.https.") + "listeners.https.ssl.cipher.suites = TLS_NOPE, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
			[]string{"listeners.https.ssl.cipher.suites"}},
		{"bad advertised listener", "listeners = http://127.0.0.1:8083\nrest.advertised.listener = ftp", []string{KeyRESTAdvertisedListener}},
		{"bad advertised port", "listeners = http://127.0.0.1:8083\nrest.advertised.port = 70000", []string{KeyRESTAdvertisedPort}},
		{"other extension", "listeners = http://127.0.0.1:8083\nrest.extension.classes = com.example.MyExtension", []string{KeyRESTExtensionClasses}},
		{"basic auth, no JAAS file", basic, []string{KeyRESTExtensionClasses}},
		{"JAAS file without extension", "listeners = http://127.0.0.1:8083\nrest.basic.auth.jaas.config.file = " + good, []string{KeyRESTBasicAuthJAASFile}},
		{"JAAS file missing", basic + "rest.basic.auth.jaas.config.file = " + filepath.Join(dir, "nope.jaas"), []string{KeyRESTBasicAuthJAASFile}},
		{"no KafkaConnect entry", basic + "rest.basic.auth.jaas.config.file = " + other, []string{KeyRESTBasicAuthJAASFile}},
		{"other login module", basic + "rest.basic.auth.jaas.config.file = " + ldap, []string{KeyRESTBasicAuthJAASFile}},
		{"no file option", basic + "rest.basic.auth.jaas.config.file = " + noFile, []string{KeyRESTBasicAuthJAASFile}},
		{"empty users file", basic + "rest.basic.auth.jaas.config.file = " + emptyUsers, []string{KeyRESTBasicAuthJAASFile}},
		{"JAAS syntax", basic + "rest.basic.auth.jaas.config.file = " + broken, []string{KeyRESTBasicAuthJAASFile}},
		{"auth without listeners", "rest.extension.classes = " + BasicAuthExtensionClass + "\nrest.basic.auth.jaas.config.file = " + good, []string{KeyRESTExtensionClasses}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse([]byte(restBase+tt.extra), Properties, nil)
			restWantKeyErrors(t, err, tt.keys...)
		})
	}
}

// restWantKeyErrors checks err lists exactly one error per key.
func restWantKeyErrors(t *testing.T, err error, keys ...string) {
	t.Helper()
	var merr *multierror.Error
	if !errors.As(err, &merr) {
		t.Fatalf("err = %v, want a multierror naming %v", err, keys)
	}
	if len(merr.Errors) != len(keys) {
		t.Errorf("%d errors, want %d: %v", len(merr.Errors), len(keys), err)
	}
	for _, k := range keys {
		if !slices.ContainsFunc(merr.Errors, func(e error) bool {
			var ke *KeyError
			return errors.As(e, &ke) && ke.Key == k
		}) {
			t.Errorf("no error names %q: %v", k, err)
		}
	}
}

func restWrite(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRESTUnknownKeysWarn(t *testing.T) {
	extra := "listeners = http://127.0.0.1:8083\nrest.port = 8083\nlisteners.https.foo = 1\nlisteners.https.ssl.nope = 2\n"
	_, warnings, err := Parse([]byte(restBase+extra), Properties, nil, AllowUnknownKeys())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"rest.port", "listeners.https.foo", "listeners.https.ssl.nope"} {
		if !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, `"`+k+`"`) }) {
			t.Errorf("no warning for %s: %v", k, warnings)
		}
	}
	if len(warnings) != 3 {
		t.Errorf("warnings: %v", warnings)
	}
}

func TestRESTBasicAuth(t *testing.T) {
	dir := t.TempDir()
	users := restWrite(t, dir, "users.properties", "# Jetty-style\nalice: secret\nbob=builder\ncarol pa:ss\n")
	jaas := restWrite(t, dir, "connect.jaas", "/* Connect's */\nKafkaConnect {\n  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required\n  file=\""+users+"\";\n};\n")
	props := restBase + "listeners = http://127.0.0.1:8083\nrest.extension.classes = " + BasicAuthExtensionClass + "\n"

	// From KAFKA_OPTS, as Connect's JVM takes it.
	env := []string{"KAFKA_OPTS=-Xmx1g -Djava.security.auth.login.config=" + jaas + " -Dother=1"}
	cfg, warnings, err := Parse([]byte(props), Properties, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}
	a := cfg.REST.Auth
	if a == nil || a.JAASFile != jaas || !strings.HasPrefix(a.From, "KAFKA_OPTS") {
		t.Fatalf("auth: %+v", a)
	}
	for _, c := range []struct {
		user, pass string
		ok         bool
	}{
		{"alice", "secret", true},
		{"bob", "builder", true},
		{"carol", "pa:ss", true},
		{"alice", "Secret", false},
		{"alice", "secret ", false},
		{"alice", "", false},
		{"dave", "secret", false},
		{"", "secret", false},
	} {
		if got := a.Check(c.user, c.pass); got != c.ok {
			t.Errorf("Check(%q, %q) = %v, want %v", c.user, c.pass, got, c.ok)
		}
	}
	if s := fmtAll(cfg.REST) + fmtAll(*a); strings.Contains(s, "secret") || strings.Contains(s, "builder") {
		t.Errorf("a password is printed: %s", s)
	}

	// Java's "==" form; the key wins over KAFKA_OPTS.
	cfg, _, err = Parse([]byte(props), Properties, []string{"KAFKA_OPTS=-Djava.security.auth.login.config==" + jaas})
	if err != nil || cfg.REST.Auth == nil || cfg.REST.Auth.JAASFile != jaas {
		t.Fatalf("== form: %v %+v", err, cfg)
	}
	cfg, _, err = Parse([]byte(props+"rest.basic.auth.jaas.config.file = "+jaas+"\n"), Properties, []string{"KAFKA_OPTS=-Djava.security.auth.login.config=/nope"})
	if err != nil || cfg.REST.Auth.From != KeyRESTBasicAuthJAASFile {
		t.Fatalf("key over KAFKA_OPTS: %v %+v", err, cfg)
	}
	// A flow's new settings keep the authentication (the environment is
	// kept for them).
	cfg, _, _ = Parse([]byte(props), Properties, env)
	next, err := cfg.WithFlowSettings("A", "B", map[string]string{"tasks.max": "2"})
	if err != nil || next.REST.Auth == nil {
		t.Errorf("WithFlowSettings: %v", err)
	}
}

// TestRESTAuthFlags checks JAAS's control flags over several users files.
func TestRESTAuthFlags(t *testing.T) {
	alice := UsersFile{Users: map[string]Secret{"alice": "a"}}
	bob := UsersFile{Users: map[string]Secret{"bob": "b"}}
	with := func(f UsersFile, flag string) UsersFile { f.Flag = flag; return f }
	tests := []struct {
		name    string
		modules []UsersFile
		user    string
		ok      bool
	}{
		{"required", []UsersFile{with(alice, "required")}, "alice", true},
		{"required fails", []UsersFile{with(alice, "required")}, "bob", false},
		{"two required: both must pass", []UsersFile{with(alice, "required"), with(bob, "required")}, "alice", false},
		{"sufficient", []UsersFile{with(alice, "sufficient"), with(bob, "sufficient")}, "bob", true},
		{"sufficient, none passes", []UsersFile{with(alice, "sufficient"), with(bob, "sufficient")}, "carol", false},
		{"optional alone", []UsersFile{with(alice, "optional")}, "alice", true},
		{"optional fails alone", []UsersFile{with(alice, "optional")}, "bob", false},
		{"required passes, optional fails", []UsersFile{with(alice, "required"), with(bob, "optional")}, "alice", true},
		{"requisite fails first", []UsersFile{with(bob, "requisite"), with(alice, "sufficient")}, "alice", false},
		{"sufficient after a failed required", []UsersFile{with(bob, "required"), with(alice, "sufficient")}, "alice", false},
		{"none", nil, "alice", false},
	}
	pass := map[string]string{"alice": "a", "bob": "b", "carol": "c"}
	for _, tt := range tests {
		a := &RESTAuth{Modules: tt.modules}
		if got := a.Check(tt.user, pass[tt.user]); got != tt.ok {
			t.Errorf("%s: Check(%s) = %v, want %v", tt.name, tt.user, got, tt.ok)
		}
	}
	var none *RESTAuth
	if none.Check("alice", "a") {
		t.Error("nil auth accepts")
	}
}

// TestRESTTLSHandshake runs the built server and forwarding configurations
// against each other: the client checks the server's certificate with the
// trust store and shows the key store's when client certificates are
// required; a client without one is refused.
func TestRESTTLSHandshake(t *testing.T) {
	for _, auth := range []string{"none", "requested", "required"} {
		t.Run(auth, func(t *testing.T) {
			props := restBase + "listeners = https://127.0.0.1:8443\n" + restServerStore("listeners.https.") + restTrustStore("listeners.https.") +
				"listeners.https.ssl.client.auth = " + auth + "\nlisteners.https.ssl.enabled.protocols = TLSv1.3\n"
			cfg, _, err := Parse([]byte(props), Properties, nil)
			if err != nil {
				t.Fatal(err)
			}
			srv := cfg.Listeners[0].TLS
			if srv.MinVersion != tls.VersionTLS13 {
				t.Errorf("MinVersion %x", srv.MinVersion)
			}
			if err := restHandshake(t, srv, cfg.REST.ForwardTLS, "127.0.0.1"); err != nil {
				t.Errorf("forwarding client: %v", err)
			}
			bare := cfg.REST.ForwardTLS.Clone()
			bare.Certificates = nil
			if err := restHandshake(t, srv, bare, "127.0.0.1"); (err != nil) != (auth == "required") {
				t.Errorf("client without a certificate: %v", err)
			}
			// The certificate is for 127.0.0.1 and localhost only.
			if err := restHandshake(t, srv, cfg.REST.ForwardTLS, "other.example"); err == nil {
				t.Error("host name not verified")
			}
		})
	}
}

// restHandshake runs a TLS handshake over a pipe and returns the client's
// error, or the server's.
func restHandshake(t *testing.T, srv, cli *tls.Config, serverName string) error {
	t.Helper()
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	cli = cli.Clone()
	cli.ServerName = serverName
	errc := make(chan error, 1)
	go func() { // joined through errc
		s := tls.Server(c2, srv)
		err := s.Handshake()
		if err == nil {
			// Read the client's first (empty) exchange so a refused
			// client certificate reaches the client (TLS 1.3 checks it
			// after the client's handshake returns).
			_, _ = s.Write([]byte("x"))
		}
		c2.Close()
		errc <- err
	}()
	c := tls.Client(c1, cli)
	err := c.Handshake()
	if err == nil {
		_, err = io.ReadFull(c, make([]byte, 1))
	}
	c1.Close()
	if serr := <-errc; err == nil {
		err = serr
	}
	return err
}
