package configs

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SASL is how a client authenticates: the mechanism and its settings, read
// from sasl.mechanism, sasl.jaas.config and the other sasl.* keys of the
// cluster as Kafka's Java client reads them. Exactly one of the
// mechanism-specific fields is set, as Mechanism says.
type SASL struct {
	// Mechanism is sasl.mechanism (default GSSAPI, as Kafka): PLAIN,
	// SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER, AWS_MSK_IAM or GSSAPI.
	Mechanism string
	// Username and Password come from sasl.jaas.config for PLAIN and
	// SCRAM-*.
	Username string
	Password Secret
	// OAuth is set for OAUTHBEARER with Kafka's client-credentials login
	// callback handler (KIP-768).
	OAuth *OAuthBearer
	// AWS is set for AWS_MSK_IAM, and for OAUTHBEARER with
	// aws-msk-iam-auth's IAMOAuthBearerLoginCallbackHandler (AWS.OAuth).
	AWS *AWSIAM
	// Kerberos is set for GSSAPI.
	Kerberos *Kerberos
}

// OAuthBearer is Kafka's OAuthBearerLoginCallbackHandler: a JWT access
// token fetched from an OAuth 2 token endpoint with the client-credentials
// grant, refreshed before it expires.
type OAuthBearer struct {
	// TokenEndpoint is sasl.oauthbearer.token.endpoint.url: an http(s)
	// token endpoint, or a file: URL of a file holding the token (re-read
	// at each refresh).
	TokenEndpoint string
	// ClientID, ClientSecret and Scope are the JAAS options clientId,
	// clientSecret and scope (or Kafka 4.1's
	// sasl.oauthbearer.client.credentials.client.id, .client.secret and
	// sasl.oauthbearer.scope when the option is absent). Scope may be
	// empty.
	ClientID     string
	ClientSecret Secret
	Scope        string
	// Extensions are the JAAS options extension_<name>=<value>, sent with
	// the token (KIP-342), keyed by <name>.
	Extensions map[string]string
	// ScopeClaim and SubClaim are sasl.oauthbearer.scope.claim.name
	// (default scope) and sasl.oauthbearer.sub.claim.name (default sub):
	// the claims the fetched token is checked for.
	ScopeClaim, SubClaim string
	// HeaderURLEncode is sasl.oauthbearer.header.urlencode (default
	// false): URL-encode client id and secret in the Basic header.
	HeaderURLEncode bool
	// ConnectTimeout and ReadTimeout are sasl.login.connect.timeout.ms and
	// sasl.login.read.timeout.ms; 0 (unset): Java waits for ever, Strait
	// 10 s to connect and 30 s to read.
	ConnectTimeout, ReadTimeout time.Duration
	// RetryBackoff and RetryBackoffMax are sasl.login.retry.backoff.ms
	// (default 100 ms) and sasl.login.retry.backoff.max.ms (default 10 s):
	// a failed fetch is retried with doubling waits until RetryBackoffMax
	// has passed since the first attempt.
	RetryBackoff, RetryBackoffMax time.Duration
	// Refresh says when a token is replaced.
	Refresh TokenRefresh
}

// TokenRefresh is when an expiring credential is replaced, as Kafka's
// ExpiringCredentialRefreshingLogin computes it.
type TokenRefresh struct {
	// WindowFactor is sasl.login.refresh.window.factor (0.5 to 1.0,
	// default 0.8) and WindowJitter sasl.login.refresh.window.jitter (0 to
	// 0.25, default 0.05): refresh after this fraction of the lifetime.
	WindowFactor, WindowJitter float64
	// MinPeriod is sasl.login.refresh.min.period.seconds (0 to 900,
	// default 60 s) and Buffer sasl.login.refresh.buffer.seconds (0 to
	// 3600, default 300 s); both are dropped for tokens whose lifetime is
	// shorter than their sum.
	MinPeriod, Buffer time.Duration
}

// AWSIAM is aws-msk-iam-auth's IAMLoginModule (or, with OAuth, its
// IAMOAuthBearerLoginCallbackHandler): requests signed with AWS
// credentials from the default chain, a named profile or an assumed role.
type AWSIAM struct {
	// OAuth is true for sasl.mechanism=OAUTHBEARER with
	// IAMOAuthBearerLoginCallbackHandler: the token is a presigned URL.
	OAuth bool
	// Profile is the JAAS option awsProfileName: a profile of the shared
	// AWS config and credentials files.
	Profile string
	// RoleARN, RoleSessionName (default aws-msk-iam-auth),
	// RoleExternalID and STSRegion (default aws-global) are awsRoleArn,
	// awsRoleSessionName, awsRoleExternalId and awsStsRegion: a role
	// assumed with STS.
	RoleARN, RoleSessionName, RoleExternalID, STSRegion string
	// RoleAccessKeyID, RoleSecretAccessKey and RoleSessionToken are
	// awsRoleAccessKeyId, awsRoleSecretAccessKey and awsRoleSessionToken:
	// the credentials that assume the role instead of the default chain.
	RoleAccessKeyID     string
	RoleSecretAccessKey Secret
	RoleSessionToken    Secret
	// AddDefaultProviders is awsAddDefaultProviders (default true): fall
	// back to the default credential chain when the profile and role give
	// none.
	AddDefaultProviders bool
	// DebugCreds is awsDebugCreds: log the credentials' identity (STS
	// GetCallerIdentity) at debug level.
	DebugCreds bool
	// MaxRetries (awsMaxRetries, default 3) and MaxBackoff
	// (awsMaxBackOffTimeMs, default 5 s) bound the retries of loading
	// credentials.
	MaxRetries int
	MaxBackoff time.Duration
}

// Kerberos is Java's Krb5LoginModule for GSSAPI.
type Kerberos struct {
	// ServiceName is sasl.kerberos.service.name (or the JAAS option
	// serviceName): the broker principal's first part (kafka in
	// kafka/broker1.example.com@REALM). Required.
	ServiceName string
	// Principal is the JAAS option principal (user@REALM or user; the
	// realm defaults to krb5.conf's default_realm).
	Principal string
	// UseKeyTab and KeyTab are useKeyTab and keyTab: log in with the keys
	// of a keytab file.
	UseKeyTab bool
	KeyTab    string
	// UseTicketCache and TicketCache are useTicketCache and ticketCache:
	// use the ticket cache (kinit's) instead, or first when both are set,
	// as Java does. TicketCache empty: KRB5CCNAME, else
	// /tmp/krb5cc_<uid>.
	UseTicketCache bool
	TicketCache    string
}

// Login callback handler and login module classes Strait recognises.
const (
	oauthLoginHandlerSecured = "org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerLoginCallbackHandler"
	oauthLoginHandler        = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler"
	mskOAuthLoginHandler     = "software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler"
	mskClientHandler         = "software.amazon.msk.auth.iam.IAMClientCallbackHandler"
	oauthLoginModule         = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
	mskLoginModule           = "software.amazon.msk.auth.iam.IAMLoginModule"
	krb5LoginModule          = "com.sun.security.auth.module.Krb5LoginModule"
)

// saslSettings reads the sasl.* keys of one cluster that authenticates
// with SASL. Problems are reported with b.fail under the key as written;
// messages never contain a secret.
func (b *builder) saslSettings(get lookupFunc) SASL {
	var s SASL
	mech, mechWhere := get(KeySASLMechanism)
	s.Mechanism = strings.ToUpper(strings.TrimSpace(mech))
	b.saslIgnored(get)
	switch s.Mechanism {
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		b.saslNoHandlers(get, "", "")
		jaas, where := get(KeySASLJAASConfig)
		user, pass, err := ParseJAAS(jaas)
		if err != nil {
			b.fail(where, "%v", err)
		}
		s.Username, s.Password = user, Secret(pass)
	case "OAUTHBEARER":
		handler, hWhere := get(KeySASLLoginCallbackHandler)
		handler = strings.TrimSpace(handler) // saslNoHandlers compares the value, trimmed, with it
		switch handler {
		case oauthLoginHandler, oauthLoginHandlerSecured:
			b.saslNoHandlers(get, handler, "")
			s.OAuth = b.oauthSettings(get, mechWhere)
		case mskOAuthLoginHandler:
			// The library's README sets it as the client callback
			// handler too.
			b.saslNoHandlers(get, handler, mskOAuthLoginHandler)
			s.AWS = b.awsSettings(get, mechWhere, oauthLoginModule)
			if s.AWS != nil {
				s.AWS.OAuth = true
			}
		case "":
			b.fail(hWhere, "missing for sasl.mechanism=OAUTHBEARER: Kafka's default is its unsecured test tokens, which Strait does not support; set %s = %s (client credentials, KIP-768) or %s (Amazon MSK IAM)", KeySASLLoginCallbackHandler, oauthLoginHandler, mskOAuthLoginHandler)
		default:
			b.fail(hWhere, "%q is Java code Strait cannot run: use %s (client credentials, KIP-768) or %s (Amazon MSK IAM)", handler, oauthLoginHandler, mskOAuthLoginHandler)
		}
	case "AWS_MSK_IAM":
		b.saslNoHandlers(get, "", mskClientHandler)
		s.AWS = b.awsSettings(get, mechWhere, mskLoginModule)
	case "GSSAPI":
		b.saslNoHandlers(get, "", "")
		s.Kerberos = b.kerberosSettings(get, mechWhere)
	default:
		// Not in the sasl.mechanism enum of clientKeys: checkValues
		// reported it already.
	}
	return s
}

// saslNoHandlers fails on callback handler and login classes other than
// the ones a mechanism uses (empty: none accepted but Kafka's default).
func (b *builder) saslNoHandlers(get lookupFunc, login, client string) {
	if v, where := get(KeySASLLoginCallbackHandler); v != "" && strings.TrimSpace(v) != login {
		b.fail(where, "%q is Java code Strait cannot run: remove it (it is only used with sasl.mechanism=OAUTHBEARER)", v)
	}
	if v, where := get(KeySASLClientCallbackHandler); v != "" && strings.TrimSpace(v) != client {
		hint := "remove it"
		if client != "" {
			hint = "use " + client + " or remove it"
		}
		b.fail(where, "%q is Java code Strait cannot run: %s", v, hint)
	}
	if v, where := get(KeySASLLoginClass); v != "" {
		switch strings.TrimSpace(v) {
		case "org.apache.kafka.common.security.authenticator.DefaultLogin",
			"org.apache.kafka.common.security.oauthbearer.internals.OAuthBearerRefreshingLogin",
			"org.apache.kafka.common.security.kerberos.KerberosLogin":
		default:
			b.fail(where, "%q is Java code Strait cannot run: remove it", v)
		}
	}
}

// saslBrokerKeys are sasl.* keys of brokers (listed in clientKeys so that
// they are not "unknown"); saslIgnored warns that clients ignore them.
var saslBrokerKeys = []string{
	"sasl.enabled.mechanisms", "sasl.mechanism.inter.broker.protocol", "sasl.server.callback.handler.class",
	"sasl.server.max.receive.size", "sasl.kerberos.principal.to.local.rules", "sasl.oauthbearer.jwks.endpoint.url",
	"sasl.oauthbearer.jwks.endpoint.refresh.ms", "sasl.oauthbearer.jwks.endpoint.retry.backoff.ms",
	"sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms", "sasl.oauthbearer.clock.skew.seconds",
	"sasl.oauthbearer.expected.audience", "sasl.oauthbearer.expected.issuer",
}

// saslWarn adds a warning once: a top-level key is read for every cluster.
func (b *builder) saslWarn(format string, args ...any) {
	w := fmt.Sprintf(format, args...)
	if !slices.Contains(b.warnings, w) {
		b.warnings = append(b.warnings, w)
	}
}

// saslIgnored warns about sasl.* keys that configure brokers, not
// clients: Strait accepts them (MM2 files are often shared with brokers)
// and says it ignores them.
func (b *builder) saslIgnored(get lookupFunc) {
	for _, k := range saslBrokerKeys {
		if v, where := get(k); v != "" {
			b.saslWarn("%s is a broker setting; Strait's clients ignore it", where)
		}
	}
	if v, where := get(KeySASLKerberosKinitCmd); v != "" && v != "/usr/bin/kinit" {
		b.saslWarn("%s is ignored: Strait renews Kerberos tickets itself (keytab) or reads the ticket cache as kinit leaves it", where)
	}
}

// jaasEntry parses sasl.jaas.config and checks its login module is module;
// a wrong module is reported under sasl.mechanism, since it is the pair
// that does not fit (often sasl.mechanism was left at its GSSAPI default).
func (b *builder) jaasEntry(get lookupFunc, mechWhere, mech, module string) (JAASEntry, bool) {
	v, where := get(KeySASLJAASConfig)
	if strings.TrimSpace(v) == "" {
		b.fail(where, "missing: sasl.mechanism=%s needs `%s required ...;`", mech, module)
		return JAASEntry{}, false
	}
	e, err := ParseJAASConfig(v)
	if err != nil {
		b.fail(where, "%v", err)
		return JAASEntry{}, false
	}
	if e.LoginModule != module {
		b.fail(mechWhere, "%s needs the login module %s, but %s names %s: set both for the same mechanism", mech, module, where, e.LoginModule)
		return JAASEntry{}, false
	}
	return e, true
}

// checkJAASOptions warns about JAAS options a login module does not read.
func (b *builder) checkJAASOptions(get lookupFunc, e JAASEntry, known map[string]bool, prefix string) {
	_, where := get(KeySASLJAASConfig)
	for _, o := range e.Options {
		if known[o.Key] || (prefix != "" && strings.HasPrefix(o.Key, prefix)) {
			continue
		}
		b.saslWarn("%s: option %q of %s is not known to Strait and is ignored", where, o.Key, e.LoginModule)
	}
}

// Kafka's OAuthBearerClientInitialResponse patterns for extension names
// and values; "auth" is reserved.
var (
	saslExtensionKey   = regexp.MustCompile(`^[A-Za-z]+$`)
	saslExtensionValue = regexp.MustCompile(`^[\x21-\x7E \t\r\n]+$`)
)

func (b *builder) oauthSettings(get lookupFunc, mechWhere string) *OAuthBearer {
	e, ok := b.jaasEntry(get, mechWhere, "OAUTHBEARER", oauthLoginModule)
	if !ok {
		return nil
	}
	_, jaasWhere := get(KeySASLJAASConfig)
	o := &OAuthBearer{Extensions: map[string]string{}}
	b.checkJAASOptions(get, e, map[string]bool{"clientId": true, "clientSecret": true, "scope": true}, "extension_")

	endpoint, epWhere := get(KeySASLOAuthTokenEndpoint)
	o.TokenEndpoint = strings.TrimSpace(endpoint)
	u, err := url.Parse(o.TokenEndpoint)
	switch {
	case o.TokenEndpoint == "":
		b.fail(epWhere, "missing: the OAuth token endpoint (https://.../token) the client-credentials login handler fetches tokens from")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "file"):
		b.fail(epWhere, "%q is not an http, https or file URL", o.TokenEndpoint)
	}
	fromJAASOrKey := func(opt, key string) (string, bool) {
		if v, ok := e.Option(opt); ok {
			return v, true
		}
		v, _ := get(key)
		return v, v != ""
	}
	o.ClientID, _ = fromJAASOrKey("clientId", KeySASLOAuthClientID)
	secret, _ := fromJAASOrKey("clientSecret", KeySASLOAuthClientSecret)
	o.ClientSecret = Secret(secret)
	o.Scope, _ = fromJAASOrKey("scope", KeySASLOAuthScope)
	if u != nil && u.Scheme != "file" {
		if strings.TrimSpace(o.ClientID) == "" {
			b.fail(jaasWhere, "option clientId is missing or empty: the OAuth client id (or set %s)", KeySASLOAuthClientID)
		}
		if strings.TrimSpace(secret) == "" {
			b.fail(jaasWhere, "option clientSecret is missing or empty: the OAuth client secret (or set %s)", KeySASLOAuthClientSecret)
		}
	}
	for _, opt := range e.Options {
		name, ok := strings.CutPrefix(opt.Key, "extension_")
		if !ok {
			continue
		}
		switch {
		case name == "auth" || !saslExtensionKey.MatchString(name):
			b.fail(jaasWhere, "option %s: an extension name is letters only and not \"auth\"", opt.Key)
		case !saslExtensionValue.MatchString(opt.Value):
			b.fail(jaasWhere, "option %s: an extension value is printable ASCII, space, tab or line breaks", opt.Key)
		default:
			o.Extensions[name] = opt.Value
		}
	}
	o.ScopeClaim, _ = get(KeySASLOAuthScopeClaim)
	o.SubClaim, _ = get(KeySASLOAuthSubClaim)
	o.HeaderURLEncode = b.saslBool(get, KeySASLOAuthHeaderURLEncode)
	o.ConnectTimeout = b.saslMillis(get, KeySASLLoginConnectTimeout)
	o.ReadTimeout = b.saslMillis(get, KeySASLLoginReadTimeout)
	o.RetryBackoff = b.saslMillis(get, KeySASLLoginRetryBackoff)
	o.RetryBackoffMax = b.saslMillis(get, KeySASLLoginRetryBackoffMax)
	o.Refresh = TokenRefresh{
		WindowFactor: b.saslFloat(get, KeySASLLoginRefreshWindowFactor, 0.5, 1),
		WindowJitter: b.saslFloat(get, KeySASLLoginRefreshWindowJitter, 0, 0.25),
		MinPeriod:    time.Duration(b.saslFloat(get, KeySASLLoginRefreshMinPeriod, 0, 900)) * time.Second,
		Buffer:       time.Duration(b.saslFloat(get, KeySASLLoginRefreshBuffer, 0, 3600)) * time.Second,
	}
	return o
}

var awsJAASOptions = map[string]bool{
	"awsProfileName": true, "awsRoleArn": true, "awsRoleSessionName": true, "awsRoleExternalId": true,
	"awsStsRegion": true, "awsRoleAccessKeyId": true, "awsRoleSecretAccessKey": true, "awsRoleSessionToken": true,
	"awsAddDefaultProviders": true, "awsDebugCreds": true, "awsMaxRetries": true, "awsMaxBackOffTimeMs": true,
	"awsShouldUseFips": true,
}

func (b *builder) awsSettings(get lookupFunc, mechWhere, module string) *AWSIAM {
	mech := "AWS_MSK_IAM"
	if module == oauthLoginModule {
		mech = "OAUTHBEARER with " + mskOAuthLoginHandler
	}
	e, ok := b.jaasEntry(get, mechWhere, mech, module)
	if !ok {
		return nil
	}
	_, where := get(KeySASLJAASConfig)
	b.checkJAASOptions(get, e, awsJAASOptions, "")
	opt := func(k string) string { v, _ := e.Option(k); return v }
	a := &AWSIAM{
		Profile:             opt("awsProfileName"),
		RoleARN:             opt("awsRoleArn"),
		RoleSessionName:     opt("awsRoleSessionName"),
		RoleExternalID:      opt("awsRoleExternalId"),
		STSRegion:           opt("awsStsRegion"),
		RoleAccessKeyID:     opt("awsRoleAccessKeyId"),
		RoleSecretAccessKey: Secret(opt("awsRoleSecretAccessKey")),
		RoleSessionToken:    Secret(opt("awsRoleSessionToken")),
		// The library compares with "true" exactly.
		AddDefaultProviders: opt("awsAddDefaultProviders") == "" || opt("awsAddDefaultProviders") == "true",
		DebugCreds:          opt("awsDebugCreds") == "true",
		MaxRetries:          3,
		MaxBackoff:          5 * time.Second,
	}
	if a.RoleSessionName == "" {
		a.RoleSessionName = "aws-msk-iam-auth"
	}
	if a.STSRegion == "" {
		a.STSRegion = "aws-global"
	}
	if v, ok := e.Option("awsMaxRetries"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			b.fail(where, "option awsMaxRetries is not a non-negative integer")
		}
		a.MaxRetries = n
	}
	if v, ok := e.Option("awsMaxBackOffTimeMs"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			b.fail(where, "option awsMaxBackOffTimeMs is not a non-negative number of milliseconds")
		}
		a.MaxBackoff = time.Duration(n) * time.Millisecond
	}
	if opt("awsShouldUseFips") == "true" {
		b.fail(where, "option awsShouldUseFips=true is not supported: remove it or set the FIPS endpoint with AWS_USE_FIPS_ENDPOINT=true")
	}
	if (a.RoleAccessKeyID == "") != (a.RoleSecretAccessKey == "") {
		b.fail(where, "options awsRoleAccessKeyId and awsRoleSecretAccessKey go together")
	}
	if a.RoleAccessKeyID != "" && a.RoleARN == "" {
		b.fail(where, "options awsRoleAccessKeyId and awsRoleSecretAccessKey need awsRoleArn: they are the credentials that assume it")
	}
	if a.RoleARN != "" && !strings.HasPrefix(a.RoleARN, "arn:") {
		b.fail(where, "option awsRoleArn %q is not an ARN (arn:aws:iam::<account>:role/<name>)", a.RoleARN)
	}
	return a
}

var krb5JAASOptions = map[string]bool{
	"useKeyTab": true, "keyTab": true, "principal": true, "storeKey": true, "useTicketCache": true,
	"ticketCache": true, "serviceName": true, "doNotPrompt": true, "renewTGT": true, "refreshKrb5Config": true,
	"isInitiator": true, "debug": true,
}

func (b *builder) kerberosSettings(get lookupFunc, mechWhere string) *Kerberos {
	e, ok := b.jaasEntry(get, mechWhere, "GSSAPI", krb5LoginModule)
	if !ok {
		return nil
	}
	_, where := get(KeySASLJAASConfig)
	b.checkJAASOptions(get, e, krb5JAASOptions, "")
	flag := func(k string) bool {
		v, _ := e.Option(k)
		return strings.EqualFold(v, "true")
	}
	k := &Kerberos{UseKeyTab: flag("useKeyTab"), UseTicketCache: flag("useTicketCache")}
	k.KeyTab, _ = e.Option("keyTab")
	k.Principal, _ = e.Option("principal")
	k.TicketCache, _ = e.Option("ticketCache")
	svc, svcWhere := get(KeySASLKerberosServiceName)
	if svc == "" {
		svc, _ = e.Option("serviceName")
	}
	k.ServiceName = strings.TrimSpace(svc)
	if k.ServiceName == "" {
		b.fail(svcWhere, "missing: the Kerberos name the brokers run as (kafka for kafka/host@REALM), as Kafka requires")
	}
	switch {
	case !k.UseKeyTab && !k.UseTicketCache:
		b.fail(where, "Krb5LoginModule needs useKeyTab=true with keyTab and principal, or useTicketCache=true: Strait cannot prompt for a password")
	case k.UseKeyTab && k.KeyTab == "":
		b.fail(where, "option keyTab is missing: the keytab file useKeyTab=true reads")
	case k.UseKeyTab && k.Principal == "":
		b.fail(where, "option principal is missing: the client principal (user@REALM) in the keytab")
	case k.UseKeyTab:
		if _, err := os.Stat(k.KeyTab); err != nil {
			b.fail(where, "option keyTab: %v", err)
		}
	}
	for _, key := range []string{KeySASLKerberosRenewWindowFactor, KeySASLKerberosRenewJitter} {
		b.saslFloat(get, key, 0, 1)
	}
	for _, key := range []string{KeySASLKerberosRenewWindowFactor, KeySASLKerberosRenewJitter, KeySASLKerberosMinTimeBeforeRelogin} {
		if v, where := get(key); v != clientKeys[key].def {
			b.saslWarn("%s has no effect: Strait's Kerberos client (gokrb5) renews keytab logins on its own schedule", where)
		}
	}
	return k
}

func (b *builder) saslFloat(get lookupFunc, key string, lo, hi float64) float64 {
	v, where := get(key)
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < lo || f > hi {
		b.fail(where, "%q is not a number from %g to %g", v, lo, hi)
		d, _ := strconv.ParseFloat(clientKeys[key].def, 64)
		return d
	}
	return f
}

// saslMillis reads an optional number of milliseconds; unset is 0.
func (b *builder) saslMillis(get lookupFunc, key string) time.Duration {
	v, where := get(key)
	if strings.TrimSpace(v) == "" {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		b.fail(where, "%q is not a non-negative number of milliseconds", v)
		return 0
	}
	return time.Duration(n) * time.Millisecond
}

func (b *builder) saslBool(get lookupFunc, key string) bool {
	v, _ := get(key)
	return strings.EqualFold(strings.TrimSpace(v), "true")
}
