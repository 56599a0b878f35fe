package configs

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"fmt"
	"maps"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// The REST API's settings: Connect's listeners, listeners.https.* and
// rest.* keys (RestServerConfig), top level only, as one Strait process
// serves one REST API for all its flows.

// Listener is one entry of listeners: where the REST API listens.
type Listener struct {
	// Scheme is "http" or "https".
	Scheme string
	// Addr is host:port; an empty host listens on every interface.
	Addr string
	// TLS is the server side of an https listener, built from the
	// listeners.https.ssl.* keys or, when none is set, the top-level ssl.*
	// keys (Connect's rule), with the stores already read; nil for http.
	// Clone it before use.
	TLS *tls.Config
}

// URL is the listener as written in listeners, lower-cased scheme.
func (l Listener) URL() string { return l.Scheme + "://" + l.Addr }

// REST is the REST API's settings besides its listeners.
type REST struct {
	// AdvertisedScheme is rest.advertised.listener: the scheme other
	// workers use to reach this one. Unset, "http" when a listener is
	// http, else "https", as Connect picks.
	AdvertisedScheme string
	// AdvertisedHost is rest.advertised.host.name; empty: the advertised
	// listener's host.
	AdvertisedHost string
	// AdvertisedPort is rest.advertised.port; 0: the advertised
	// listener's port.
	AdvertisedPort int
	// ForwardTLS is the client side of the same ssl keys: how this worker
	// checks another worker's https listener when it forwards a request
	// there (truststore, ssl.endpoint.identification.algorithm), and the
	// certificate it shows if that listener asks for one (keystore). Nil
	// unless the advertised scheme is https. Clone it before use.
	ForwardTLS *tls.Config
	// Auth is the HTTP basic authentication every request must pass; nil
	// unless rest.extension.classes names BasicAuthSecurityRestExtension.
	Auth *RESTAuth
}

// Advertised returns how other workers reach this one, Connect's
// advertised URL: its scheme, and the host:port that is also the worker's
// worker_id. rest.advertised.host.name and rest.advertised.port win over
// the first listener of the advertised scheme (else the first listener);
// an empty or wildcard host is hostname, this machine's name. ok is false
// when there is no listener.
func (c *Config) Advertised(hostname string) (scheme, addr string, ok bool) {
	if len(c.Listeners) == 0 {
		return "", "", false
	}
	l := c.Listeners[0]
	for _, x := range c.Listeners {
		if x.Scheme == c.REST.AdvertisedScheme {
			l = x
			break
		}
	}
	host, port, _ := net.SplitHostPort(l.Addr) // checked when parsed
	if ip := net.ParseIP(host); (host == "" || ip != nil && ip.IsUnspecified()) && hostname != "" {
		host = hostname
	}
	if c.REST.AdvertisedHost != "" {
		host = c.REST.AdvertisedHost
	}
	if c.REST.AdvertisedPort != 0 {
		port = strconv.Itoa(c.REST.AdvertisedPort)
	}
	return c.REST.AdvertisedScheme, net.JoinHostPort(host, port), true
}

// RESTAuth is HTTP basic authentication of the REST API as Connect's
// BasicAuthSecurityRestExtension does it with PropertyFileLoginModule: the
// KafkaConnect entry of a JAAS file lists login modules, each a users
// file.
type RESTAuth struct {
	// JAASFile is the JAAS file read, and From where its path was given
	// (the key, or KAFKA_OPTS).
	JAASFile, From string
	// Modules are the KafkaConnect entry's login modules, in order.
	Modules []UsersFile
}

// UsersFile is one PropertyFileLoginModule: a properties file of
// user=password lines (java.util.Properties syntax, so "user: password"
// too), read once at start as Connect caches it.
type UsersFile struct {
	// Flag is the JAAS control flag, lower case: required, requisite,
	// sufficient or optional.
	Flag string
	// Path is the module's file option.
	Path string
	// Users maps each user name to its password.
	Users map[string]Secret
}

// Check reports whether user and pass log in, by JAAS's rules for the
// control flags of the modules (a required or requisite module must
// accept; a sufficient one that accepts ends the login; with neither
// required nor requisite modules, one must accept). Passwords are compared
// in constant time.
func (a *RESTAuth) Check(user, pass string) bool {
	if a == nil || user == "" {
		return false
	}
	failed, accepted, mandatory := false, false, false
	for _, m := range a.Modules {
		ok := m.check(user, pass)
		switch m.Flag {
		case "required":
			mandatory = true
			failed = failed || !ok
		case "requisite":
			mandatory = true
			if !ok {
				return false
			}
		case "sufficient":
			if ok && !failed {
				return true
			}
		}
		accepted = accepted || ok
	}
	if failed {
		return false
	}
	return mandatory || accepted
}

func (m UsersFile) check(user, pass string) bool {
	want, known := m.Users[user]
	// Hashing both sides gives equal lengths, so the comparison takes the
	// same time whatever the password's length; an unknown user costs the
	// same as a wrong password.
	h := sha256.Sum256([]byte(pass))
	w := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(h[:], w[:]) == 1 && known
}

// Values of rest.extension.classes and of the JAAS login module Strait
// implements.
const (
	BasicAuthExtensionClass     = "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension"
	PropertyFileLoginModuleName = "org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule"
	// JAASSystemProperty is the JVM property naming Connect's JAAS file;
	// Strait reads it from -D options in KAFKA_OPTS.
	JAASSystemProperty = "java.security.auth.login.config"
	// jaasConnectEntry is the JAAS entry Connect's extension logs in with.
	jaasConnectEntry = "KafkaConnect"
)

// isRESTKey reports whether a top-level key is one of the REST API's,
// which rest() validates.
func isRESTKey(k string) bool {
	switch k {
	case KeyListeners, KeyRESTAdvertisedHost, KeyRESTAdvertisedPort, KeyRESTAdvertisedListener,
		KeyRESTExtensionClasses, KeyRESTBasicAuthJAASFile, KeySSLClientAuth:
		return true
	}
	return strings.HasPrefix(k, PrefixListenersHTTPS)
}

// connectListener is Connect's RestServer.LISTENER_PATTERN.
var connectListener = regexp.MustCompile(`^(.*)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)$`)

// rest builds the listeners and the REST settings from the top-level keys
// and, for the JAAS file, KAFKA_OPTS in environ.
func (b *builder) rest(environ []string) ([]Listener, REST) {
	top := b.sc.top
	var ls []Listener
	for _, l := range splitList(top[KeyListeners]) {
		var scheme string
		var port int
		m := connectListener.FindStringSubmatch(l)
		if m != nil {
			scheme = strings.ToLower(m[1])
			port, _ = strconv.Atoi(m[3])
		}
		if scheme != "http" && scheme != "https" || port < 1 || port > 65535 {
			b.fail(KeyListeners, "%q is not http://host:port or https://host:port", l)
			continue
		}
		ls = append(ls, Listener{Scheme: scheme, Addr: net.JoinHostPort(m[2], m[3])})
	}
	var r REST
	if v, ok := top[KeyRESTAdvertisedListener]; ok {
		r.AdvertisedScheme = strings.ToLower(strings.TrimSpace(v))
		if r.AdvertisedScheme != "http" && r.AdvertisedScheme != "https" {
			b.fail(KeyRESTAdvertisedListener, "%q is not http or https", v)
		}
	} else {
		// Connect: http if any listener is http, else https.
		r.AdvertisedScheme = "http"
		if len(ls) > 0 && !strings.Contains(strings.ToLower(top[KeyListeners]), "http://") {
			r.AdvertisedScheme = "https"
		}
	}
	r.AdvertisedHost = strings.TrimSpace(top[KeyRESTAdvertisedHost])
	if v, ok := top[KeyRESTAdvertisedPort]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 65535 {
			b.fail(KeyRESTAdvertisedPort, "%q is not a port (1 to 65535)", v)
		}
		r.AdvertisedPort = n
	}

	b.checkRESTSSLKeys()
	https := false
	for _, l := range ls {
		https = https || l.Scheme == "https"
	}
	if https || r.AdvertisedScheme == "https" && len(ls) > 0 {
		srv, cli := b.restTLS(https, r.AdvertisedScheme == "https")
		for i := range ls {
			if ls[i].Scheme == "https" {
				ls[i].TLS = srv
			}
		}
		r.ForwardTLS = cli
	}
	r.Auth = b.restAuth(environ)
	if r.Auth != nil && len(ls) == 0 {
		b.fail(KeyRESTExtensionClasses, "basic authentication needs a REST API: set listeners")
	}
	return ls, r
}

// restSSL resolves an ssl.* key of the REST API's https listeners as
// Connect does (AbstractConfig.valuesWithPrefixAllOrNothing): from
// listeners.https.<key> when any listeners.https. key is set, else from
// the top-level <key>; then Java's default.
func (b *builder) restSSL() lookupFunc {
	prefixed := false
	for k := range b.sc.top {
		prefixed = prefixed || strings.HasPrefix(k, PrefixListenersHTTPS)
	}
	return func(k string) (string, string) {
		where := k
		if prefixed {
			where = PrefixListenersHTTPS + k
		}
		if v, ok := b.sc.top[where]; ok {
			return v, where
		}
		if k == KeySSLClientAuth {
			return "none", where
		}
		return clientKeys[k].def, where
	}
}

// checkRESTSSLKeys validates listeners.https.* keys and the top-level
// ssl.client.auth, and reports listeners.https.* keys Strait does not
// know.
func (b *builder) checkRESTSSLKeys() {
	for k, v := range b.sc.top {
		sub, ok := strings.CutPrefix(k, PrefixListenersHTTPS)
		switch {
		case k == KeySSLClientAuth, ok && sub == KeySSLClientAuth:
			b.checkKind(k, strings.ToLower(v), keySpec{kind: kindEnum, enums: []string{"none", "requested", "required"}})
		case ok && strings.HasPrefix(sub, "ssl."):
			if spec, known := clientKeys[sub]; known {
				b.checkKind(k, v, spec)
			} else {
				b.unknown(k, withPrefix(PrefixListenersHTTPS, Nearest(sub, sortedUnion(maps.Keys(clientKeys)))))
			}
		case ok:
			b.unknown(k, withPrefix(PrefixListenersHTTPS, Nearest(sub, sortedUnion(maps.Keys(clientKeys)))))
		}
	}
}

// restTLS builds the https listeners' server configuration (when server)
// and the forwarding client's (when client) from the same ssl keys, as
// Connect's SSLUtils does: the key store is the server's certificate and
// the client's, the trust store checks the other side (client
// certificates per ssl.client.auth; other workers' certificates, with
// their host name unless ssl.endpoint.identification.algorithm is empty).
func (b *builder) restTLS(server, client bool) (srv, cli *tls.Config) {
	get := b.restSSL()
	if client {
		cli = b.tlsSettings(get)
	}
	if !server {
		return nil, cli
	}
	roots, certs, storesOK := b.tlsStores(get)
	minV, maxV, suites, protoOK := b.tlsProtocols(get)
	javaOK := b.tlsJavaOnly(get)
	if storesOK && len(certs) == 0 {
		_, where := get(KeySSLKeystoreLoc)
		if where == KeySSLKeystoreLoc {
			where = PrefixListenersHTTPS + where + " (or " + where + ", read when no " + PrefixListenersHTTPS + " key is set)"
		}
		b.fail(KeyListeners, "an https listener needs a key store with its certificate: set %s", where)
		return nil, cli
	}
	if !storesOK || !protoOK || !javaOK {
		return nil, cli
	}
	srv = &tls.Config{Certificates: certs, MinVersion: minV, MaxVersion: maxV, CipherSuites: suites}
	auth, _ := get(KeySSLClientAuth)
	switch strings.ToLower(strings.TrimSpace(auth)) {
	case "requested":
		srv.ClientAuth, srv.ClientCAs = tls.VerifyClientCertIfGiven, roots
	case "required":
		srv.ClientAuth, srv.ClientCAs = tls.RequireAndVerifyClientCert, roots
	}
	return srv, cli
}

// restAuth reads rest.extension.classes and, for basic authentication, the
// JAAS file and the users files it names.
func (b *builder) restAuth(environ []string) *RESTAuth {
	basic := false
	for _, c := range splitList(b.sc.top[KeyRESTExtensionClasses]) {
		if c != BasicAuthExtensionClass {
			b.fail(KeyRESTExtensionClasses, "%s is not supported: Strait implements only %s", c, BasicAuthExtensionClass)
			continue
		}
		basic = true
	}
	path, from := jaasPath(b.sc.top, environ)
	if !basic {
		if v, ok := b.sc.top[KeyRESTBasicAuthJAASFile]; ok && v != "" {
			b.fail(KeyRESTBasicAuthJAASFile, "set without %s = %s", KeyRESTExtensionClasses, BasicAuthExtensionClass)
		}
		return nil
	}
	if path == "" {
		b.fail(KeyRESTExtensionClasses, "basic authentication needs the JAAS file with the %s entry: set %s, or -D%s=<file> in KAFKA_OPTS as for Connect",
			jaasConnectEntry, KeyRESTBasicAuthJAASFile, JAASSystemProperty)
		return nil
	}
	return b.readRESTJAAS(path, from)
}

// jaasPath returns the JAAS file of basic authentication and where it was
// named: rest.basic.auth.jaas.config.file, else the last
// -Djava.security.auth.login.config= in KAFKA_OPTS (Java's "==" form, which
// only drops the JVM's other JAAS files, reads the same).
func jaasPath(top map[string]string, environ []string) (path, from string) {
	if v := strings.TrimSpace(top[KeyRESTBasicAuthJAASFile]); v != "" {
		return v, KeyRESTBasicAuthJAASFile
	}
	opt := "-D" + JAASSystemProperty + "="
	for _, kv := range environ {
		v, ok := strings.CutPrefix(kv, "KAFKA_OPTS=")
		if !ok {
			continue
		}
		for _, f := range strings.Fields(v) {
			if p, ok := strings.CutPrefix(f, opt); ok {
				path = strings.Trim(strings.TrimPrefix(p, "="), `"'`)
				from = fmt.Sprintf("KAFKA_OPTS (%s)", opt+p)
			}
		}
	}
	return path, from
}

// readRESTJAAS reads the JAAS file and the users files of its KafkaConnect
// entry, whose login modules must all be PropertyFileLoginModule.
func (b *builder) readRESTJAAS(path, from string) *RESTAuth {
	data, err := os.ReadFile(path)
	if err != nil {
		b.fail(from, "read the JAAS file: %v", err)
		return nil
	}
	apps, err := ParseJAASFile(string(data))
	if err != nil {
		b.fail(from, "JAAS file %s: %v", path, err)
		return nil
	}
	entries := apps[jaasConnectEntry]
	if len(entries) == 0 {
		b.fail(from, "JAAS file %s has no %s entry, which Connect's basic authentication logs in with: add %s { %s required file=\"<users file>\"; };",
			path, jaasConnectEntry, jaasConnectEntry, PropertyFileLoginModuleName)
		return nil
	}
	a := &RESTAuth{JAASFile: path, From: from}
	for _, e := range entries {
		if e.LoginModule != PropertyFileLoginModuleName {
			b.fail(from, "JAAS file %s: login module %s is not supported: Strait implements only %s", path, e.LoginModule, PropertyFileLoginModuleName)
			continue
		}
		file, _ := e.Option("file")
		if strings.TrimSpace(file) == "" {
			b.fail(from, "JAAS file %s: %s needs file=\"<users file>\"", path, PropertyFileLoginModuleName)
			continue
		}
		users, err := readUsersFile(file)
		if err != nil {
			b.fail(from, "JAAS file %s: %v", path, err)
			continue
		}
		a.Modules = append(a.Modules, UsersFile{Flag: strings.ToLower(e.Flag), Path: file, Users: users})
	}
	if len(a.Modules) != len(entries) {
		return nil
	}
	return a
}

// readUsersFile reads a PropertyFileLoginModule users file: properties,
// user name = password. Connect lets every request in when the file is
// empty; Strait refuses to start instead, as that is never what
// configuring authentication means.
func readUsersFile(path string) (map[string]Secret, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the users file: %w", err)
	}
	props, err := ParseProperties(data)
	if err != nil {
		return nil, fmt.Errorf("users file %s: %w", path, err)
	}
	if len(props) == 0 {
		return nil, fmt.Errorf("users file %s has no user (Connect would then let every request in): add user: password lines", path)
	}
	users := make(map[string]Secret, len(props))
	for u, p := range props {
		users[u] = Secret(p)
	}
	return users, nil
}
