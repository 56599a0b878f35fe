package kclient

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/jcmturner/gokrb5/v8/client"
	krbconfig "github.com/jcmturner/gokrb5/v8/config"
	krbcreds "github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/twmb/franz-go/pkg/sasl"
	saslaws "github.com/twmb/franz-go/pkg/sasl/aws"
	"github.com/twmb/franz-go/pkg/sasl/kerberos"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/strait-replicator/strait/configs"
)

// saslMechanism is the franz-go mechanism for a cluster's SASL settings.
// It does no I/O: tokens, AWS credentials and Kerberos tickets are
// obtained when a connection authenticates (kgo calls the mechanism with
// the client's context), so a broken identity provider shows up as an
// authentication error of that connection, retried by kgo.
func saslMechanism(s configs.SASL, log *slog.Logger) (sasl.Mechanism, error) {
	switch s.Mechanism {
	case "PLAIN":
		return plain.Auth{User: s.Username, Pass: string(s.Password)}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: s.Username, Pass: string(s.Password)}.AsSha256Mechanism(), nil
	case "SCRAM-SHA-512":
		return scram.Auth{User: s.Username, Pass: string(s.Password)}.AsSha512Mechanism(), nil
	case "OAUTHBEARER":
		switch {
		case s.OAuth != nil:
			ts := newTokenSource(*s.OAuth, log)
			return oauth.Oauth(ts.auth), nil
		case s.AWS != nil && s.AWS.OAuth:
			a := newAWSCredentials(*s.AWS, log)
			return oauth.Oauth(a.oauthToken), nil
		}
	case "AWS_MSK_IAM":
		if s.AWS != nil {
			a := newAWSCredentials(*s.AWS, log)
			return saslaws.ManagedStreamingIAM(a.mskAuth), nil
		}
	case "GSSAPI":
		if s.Kerberos != nil {
			cl, err := kerberosClient(*s.Kerberos)
			if err != nil {
				return nil, err
			}
			return newKerberosMechanism(*s.Kerberos, cl), nil
		}
	}
	return nil, fmt.Errorf("SASL mechanism %q is not supported or not configured", s.Mechanism)
}

// tokenSource is Kafka's OAuthBearerLoginCallbackHandler: it fetches an
// access token with the client-credentials grant and keeps it until the
// refresh time Kafka's ExpiringCredentialRefreshingLogin would pick. It
// refreshes when a connection authenticates past that time (not on a
// timer): the result is the same for connections (each authentication
// uses a token that is not near its end) without a goroutine to own.
type tokenSource struct {
	cfg  configs.OAuthBearer
	log  *slog.Logger
	http *http.Client

	mu        sync.Mutex // guards the fields below; held during a fetch so that one fetch serves all waiting connections
	token     string
	expiry    time.Time
	refreshAt time.Time
}

func newTokenSource(cfg configs.OAuthBearer, log *slog.Logger) *tokenSource {
	return &tokenSource{cfg: cfg, log: log, http: tokenHTTPClient(cfg.ConnectTimeout, cfg.ReadTimeout)}
}

// auth returns the current token, fetching a new one when none is held or
// the refresh time passed. When a refresh fails but the held token has not
// expired, the held token is used and the failure logged.
func (ts *tokenSource) auth(ctx context.Context) (oauth.Auth, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	now := time.Now()
	if ts.token == "" || !now.Before(ts.refreshAt) {
		tok, err := ts.fetch(ctx)
		switch {
		case err == nil:
			ts.token, ts.expiry = tok.value, tok.expiry
			ts.refreshAt = refreshTime(now, tok.issued, tok.expiry, ts.cfg.Refresh, rand.Float64())
			ts.log.Debug("OAuth token fetched", "principal", tok.subject, "expires", tok.expiry, "refresh_at", ts.refreshAt)
		case ts.token != "" && now.Before(ts.expiry):
			ts.log.Warn("OAuth token refresh failed; using the current token until it expires", "expires", ts.expiry, "err", err)
		default:
			return oauth.Auth{}, err
		}
	}
	return oauth.Auth{Token: ts.token, Extensions: ts.cfg.Extensions}, nil
}

// newAWSCredentials is what aws-msk-iam-auth's MSKCredentialProvider
// does: a chain of the named profile, the assumed role and the default
// chain (environment, shared files, web identity, container, instance
// metadata), the first that gives credentials winning, with retries.
type awsCredentials struct {
	cfg configs.AWSIAM
	log *slog.Logger

	once      sync.Once // loads the providers on first use
	providers []aws.CredentialsProvider
	region    string // the default chain's region, for MSK's OAUTHBEARER tokens
	loadErr   error
	debugOnce sync.Once
}

func newAWSCredentials(cfg configs.AWSIAM, log *slog.Logger) *awsCredentials {
	return &awsCredentials{cfg: cfg, log: log}
}

func (a *awsCredentials) load(ctx context.Context) error {
	a.once.Do(func() {
		def, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			a.loadErr = fmt.Errorf("load AWS configuration: %w", err)
			return
		}
		a.region = def.Region
		if a.cfg.Profile != "" {
			pc, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithSharedConfigProfile(a.cfg.Profile))
			if err != nil {
				a.loadErr = fmt.Errorf("load AWS profile %s: %w", a.cfg.Profile, err)
				return
			}
			a.providers = append(a.providers, pc.Credentials)
		}
		if a.cfg.RoleARN != "" {
			stsCfg := def.Copy()
			stsCfg.Region = a.cfg.STSRegion
			if stsCfg.Region == "aws-global" {
				// STS's global endpoint (sts.amazonaws.com) signs as us-east-1.
				stsCfg.Region = "us-east-1"
			}
			if a.cfg.RoleAccessKeyID != "" {
				stsCfg.Credentials = credentials.NewStaticCredentialsProvider(a.cfg.RoleAccessKeyID, string(a.cfg.RoleSecretAccessKey), string(a.cfg.RoleSessionToken))
			}
			role := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(stsCfg), a.cfg.RoleARN, func(o *stscreds.AssumeRoleOptions) {
				o.RoleSessionName = a.cfg.RoleSessionName
				if a.cfg.RoleExternalID != "" {
					o.ExternalID = aws.String(a.cfg.RoleExternalID)
				}
			})
			a.providers = append(a.providers, aws.NewCredentialsCache(role))
		}
		if a.cfg.AddDefaultProviders && def.Credentials != nil {
			a.providers = append(a.providers, def.Credentials)
		}
		if len(a.providers) == 0 {
			a.loadErr = errors.New("no AWS credential provider: set awsProfileName or awsRoleArn, or awsAddDefaultProviders=true")
		}
	})
	return a.loadErr
}

// retrieve returns credentials from the first provider that has them,
// retrying the whole chain MaxRetries times with full-jitter backoff.
func (a *awsCredentials) retrieve(ctx context.Context) (aws.Credentials, error) {
	if err := a.load(ctx); err != nil {
		return aws.Credentials{}, err
	}
	var errs []error
	for attempt := 0; ; attempt++ {
		for _, p := range a.providers {
			c, err := p.Retrieve(ctx)
			if err == nil && c.HasKeys() {
				a.debugIdentity(ctx, c)
				return c, nil
			}
			if err != nil {
				errs = append(errs, err)
			}
		}
		if attempt >= a.cfg.MaxRetries {
			return aws.Credentials{}, fmt.Errorf("get AWS credentials: %w", errors.Join(errs...))
		}
		wait := min(500*time.Millisecond<<attempt, a.cfg.MaxBackoff)
		if err := sleepCtx(ctx, time.Duration(rand.Int64N(int64(wait)+1))); err != nil {
			return aws.Credentials{}, err
		}
	}
}

// debugIdentity logs who the credentials are, once, for awsDebugCreds.
func (a *awsCredentials) debugIdentity(ctx context.Context, c aws.Credentials) {
	if !a.cfg.DebugCreds || !a.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	a.debugOnce.Do(func() {
		region := a.cfg.STSRegion
		if region == "aws-global" {
			region = "us-east-1"
		}
		out, err := sts.New(sts.Options{Region: region, Credentials: credentials.StaticCredentialsProvider{Value: c}}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			a.log.Warn("awsDebugCreds: cannot identify the AWS credentials", "err", err)
			return
		}
		a.log.Debug("awsDebugCreds: AWS credentials identity", "arn", aws.ToString(out.Arn), "account", aws.ToString(out.Account), "source", c.Source)
	})
}

func (a *awsCredentials) mskAuth(ctx context.Context) (saslaws.Auth, error) {
	c, err := a.retrieve(ctx)
	if err != nil {
		return saslaws.Auth{}, err
	}
	return saslaws.Auth{AccessKey: c.AccessKeyID, SecretKey: c.SecretAccessKey, SessionToken: c.SessionToken, UserAgent: "strait"}, nil
}

// oauthToken is aws-msk-iam-auth's IAMOAuthBearerLoginCallbackHandler:
// the token is the unpadded base64url text of a SigV4 presigned URL
// https://kafka.<region>.amazonaws.com/?Action=kafka-cluster:Connect
// valid for 900 s, with User-Agent appended after signing. The region is
// the default chain's (AWS_REGION, the profile's region).
func (a *awsCredentials) oauthToken(ctx context.Context) (oauth.Auth, error) {
	c, err := a.retrieve(ctx)
	if err != nil {
		return oauth.Auth{}, err
	}
	if a.region == "" {
		return oauth.Auth{}, errors.New("MSK IAM OAUTHBEARER: no AWS region: set AWS_REGION or the profile's region")
	}
	url, err := presignMSK(ctx, c, a.region, time.Now())
	if err != nil {
		return oauth.Auth{}, err
	}
	return oauth.Auth{Token: url}, nil
}

// presignMSK builds MSK's IAM OAUTHBEARER token for region at now.
func presignMSK(ctx context.Context, c aws.Credentials, region string, now time.Time) (string, error) {
	host := "kafka." + region + ".amazonaws.com"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+host+"/?Action=kafka-cluster%3AConnect&X-Amz-Expires=900", nil)
	if err != nil {
		return "", err
	}
	empty := sha256.Sum256(nil)
	signed, _, err := v4.NewSigner().PresignHTTP(ctx, c, req, hex.EncodeToString(empty[:]), "kafka-cluster", region, now.UTC())
	if err != nil {
		return "", fmt.Errorf("presign MSK IAM token: %w", err)
	}
	signed += "&User-Agent=strait"
	return base64URL(signed), nil
}

// kerberosMechanism is GSSAPI with one Kerberos login (TGT, renewed by
// gokrb5 for keytab logins) shared by the connections of the kgo clients
// built from the same options. kgo closes a mechanism when one of those
// clients closes; the login is then dropped and made again by the next
// authentication, so options can outlive a client.
type kerberosMechanism struct {
	cfg   configs.Kerberos
	inner sasl.Mechanism

	// inUse is held for reading while an authentication uses the login
	// and for writing by Close: kgo may close a client while one of its
	// connections still authenticates, and gokrb5's Destroy rewrites the
	// credentials that authentication reads.
	inUse sync.RWMutex
	mu    sync.Mutex // guards cl
	cl    *client.Client
}

func newKerberosMechanism(cfg configs.Kerberos, cl *client.Client) *kerberosMechanism {
	m := &kerberosMechanism{cfg: cfg, cl: cl}
	m.inner = kerberos.Kerberos(func(context.Context) (kerberos.Auth, error) {
		cl, err := m.client()
		return kerberos.Auth{Client: cl, Service: cfg.ServiceName, PersistAfterAuth: true}, err
	})
	return m
}

func (m *kerberosMechanism) client() (*client.Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cl == nil {
		cl, err := kerberosClient(m.cfg)
		if err != nil {
			return nil, err
		}
		m.cl = cl
	}
	return m.cl, nil
}

// Name implements sasl.Mechanism.
func (m *kerberosMechanism) Name() string { return "GSSAPI" }

// Authenticate implements sasl.Mechanism.
func (m *kerberosMechanism) Authenticate(ctx context.Context, host string) (sasl.Session, []byte, error) {
	m.inUse.RLock()
	defer m.inUse.RUnlock()
	return m.inner.Authenticate(ctx, host)
}

// Close implements sasl.ClosingMechanism: it ends the login.
func (m *kerberosMechanism) Close() {
	m.inUse.Lock()
	defer m.inUse.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cl != nil {
		m.cl.Destroy()
		m.cl = nil
	}
}

// kerberosClient logs in as Java's Krb5LoginModule would: from the ticket
// cache when useTicketCache=true and it has a ticket, else (or when only
// useKeyTab=true) with the keytab. krb5.conf is what the JVM reads by
// default on Linux when java.security.krb5.conf is unset: $KRB5_CONFIG
// (its first readable file), else /etc/krb5.conf.
func kerberosClient(k configs.Kerberos) (*client.Client, error) {
	path := krb5ConfPath(os.Getenv("KRB5_CONFIG"))
	cfg, err := krbconfig.Load(path)
	if err != nil {
		return nil, fmt.Errorf("read krb5.conf %s: %w", path, err)
	}
	user, realm := k.Principal, cfg.LibDefaults.DefaultRealm
	if i := strings.LastIndexByte(user, '@'); i >= 0 {
		user, realm = user[:i], user[i+1:]
	}
	var errs []error
	if k.UseTicketCache {
		cc := k.TicketCache
		if cc == "" {
			cc = os.Getenv("KRB5CCNAME")
		}
		cc = strings.TrimPrefix(cc, "FILE:")
		if cc == "" {
			cc = fmt.Sprintf("/tmp/krb5cc_%d", os.Getuid())
		}
		ccache, err := krbcreds.LoadCCache(cc)
		if err == nil {
			cl, err := client.NewFromCCache(ccache, cfg, client.DisablePAFXFAST(true))
			if err == nil {
				return cl, nil
			}
			errs = append(errs, fmt.Errorf("ticket cache %s: %w", cc, err))
		} else {
			errs = append(errs, fmt.Errorf("read ticket cache %s: %w", cc, err))
		}
	}
	if k.UseKeyTab {
		kt, err := keytab.Load(k.KeyTab)
		if err != nil {
			return nil, fmt.Errorf("read keytab %s: %w", k.KeyTab, err)
		}
		if realm == "" {
			return nil, fmt.Errorf("principal %s has no realm and %s has no default_realm", k.Principal, path)
		}
		return client.NewWithKeytab(user, realm, kt, cfg, client.DisablePAFXFAST(true)), nil
	}
	return nil, fmt.Errorf("no Kerberos credentials: %w", errors.Join(errs...))
}

// krb5ConfPath picks the krb5.conf to read from KRB5_CONFIG (a
// colon-separated list, as MIT Kerberos reads it).
func krb5ConfPath(env string) string {
	first := ""
	for _, p := range strings.Split(env, ":") {
		if p == "" {
			continue
		}
		if first == "" {
			first = p
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if first != "" {
		return first // not readable: the error names it
	}
	return "/etc/krb5.conf"
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// accessToken is a fetched token and the claims Kafka's
// LoginAccessTokenValidator reads from it (the signature is the broker's
// business).
type accessToken struct {
	value          string
	subject        string
	issued, expiry time.Time
}

// fetch gets a token from the endpoint (or file), retrying as Kafka's
// HttpAccessTokenRetriever does: doubling waits from RetryBackoff until
// RetryBackoffMax has passed since the first attempt; 4xx answers that
// cannot change are not retried.
func (ts *tokenSource) fetch(ctx context.Context) (accessToken, error) {
	cfg := ts.cfg
	if path, ok := strings.CutPrefix(cfg.TokenEndpoint, "file:"); ok {
		path = strings.TrimPrefix(path, "//")
		b, err := os.ReadFile(path)
		if err != nil {
			return accessToken{}, fmt.Errorf("read OAuth token file: %w", err)
		}
		return parseAccessToken(strings.TrimSpace(string(b)), cfg.SubClaim, cfg.ScopeClaim)
	}
	end := time.Now().Add(cfg.RetryBackoffMax)
	var first error
	for attempt := 0; ; attempt++ {
		raw, retry, err := ts.post(ctx)
		if err == nil {
			return parseAccessToken(raw, cfg.SubClaim, cfg.ScopeClaim)
		}
		if first == nil {
			first = err
		}
		wait := min(cfg.RetryBackoff<<attempt, time.Until(end))
		if !retry || wait <= 0 || cfg.RetryBackoff <= 0 {
			return accessToken{}, first
		}
		ts.log.Warn("OAuth token request failed; retrying", "attempt", attempt+1, "wait", wait, "err", err)
		if err := sleepCtx(ctx, wait); err != nil {
			return accessToken{}, first
		}
	}
}

// post makes one client-credentials request; retry says whether a failure
// may pass.
func (ts *tokenSource) post(ctx context.Context) (token string, retry bool, err error) {
	cfg := ts.cfg
	id, secret := cfg.ClientID, string(cfg.ClientSecret)
	if cfg.HeaderURLEncode {
		id, secret = url.QueryEscape(id), url.QueryEscape(secret)
	}
	body := "grant_type=client_credentials"
	if sc := strings.TrimSpace(cfg.Scope); sc != "" {
		body += "&scope=" + url.QueryEscape(sc)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.TokenEndpoint, strings.NewReader(body))
	if err != nil {
		return "", false, fmt.Errorf("OAuth token request: %w", err)
	}
	// Java's header: Basic base64(id:secret), not URL-encoded unless
	// sasl.oauthbearer.header.urlencode=true (KAFKA-14496 kept it so).
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+secret)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := ts.http.Do(req)
	if err != nil {
		return "", true, fmt.Errorf("OAuth token request to %s: %w", redactURL(cfg.TokenEndpoint), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", true, fmt.Errorf("read OAuth token response from %s: %w", redactURL(cfg.TokenEndpoint), err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		// RFC 6749 5.2: the error body carries no secret.
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(b, &e)
		err := fmt.Errorf("OAuth token endpoint %s answered %s (%s %s)", redactURL(cfg.TokenEndpoint), resp.Status, e.Error, e.Description)
		return "", !unretryableStatus(resp.StatusCode), err
	}
	var ok struct {
		AccessToken *string `json:"access_token"`
	}
	if err := json.Unmarshal(b, &ok); err != nil || ok.AccessToken == nil || strings.TrimSpace(*ok.AccessToken) == "" {
		return "", true, fmt.Errorf("OAuth token endpoint %s: the response has no access_token", redactURL(cfg.TokenEndpoint))
	}
	return strings.TrimSpace(*ok.AccessToken), false, nil
}

// unretryableStatus is Kafka's UNRETRYABLE_HTTP_CODES.
func unretryableStatus(code int) bool {
	switch code {
	case 400, 401, 402, 403, 404, 405, 406, 407, 409, 410, 411, 412, 413, 414, 415, 501, 505:
		return true
	}
	return false
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(token endpoint)"
	}
	return u.Redacted()
}

// tokenHTTPClient is the token endpoint's client. Java waits for ever
// when sasl.login.connect.timeout.ms or sasl.login.read.timeout.ms is
// unset; Strait bounds an unset one (10 s to connect, 30 s to read), since
// a hung endpoint would hold every connection's authentication.
func tokenHTTPClient(connect, read time.Duration) *http.Client {
	if connect <= 0 {
		connect = 10 * time.Second
	}
	if read <= 0 {
		read = 30 * time.Second
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = connect
	t.ResponseHeaderTimeout = read
	return &http.Client{Transport: t, Timeout: connect + read}
}

// parseAccessToken reads the claims Kafka's LoginAccessTokenValidator
// requires: a JWS whose payload has a numeric exp, a non-empty subject
// claim (subClaim) and, when present, a numeric iat and a string or list
// scope claim. Errors name claims, never the token.
func parseAccessToken(token, subClaim, scopeClaim string) (accessToken, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return accessToken{}, fmt.Errorf("OAuth access token is not a JWT (%d parts, want 3)", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return accessToken{}, errors.New("OAuth access token payload is not base64url")
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return accessToken{}, errors.New("OAuth access token payload is not a JSON object")
	}
	exp, ok := claims["exp"].(float64)
	if !ok {
		return accessToken{}, errors.New("OAuth access token has no numeric exp claim")
	}
	sub, _ := claims[subClaim].(string)
	if strings.TrimSpace(sub) == "" {
		return accessToken{}, fmt.Errorf("OAuth access token has no %q claim (sasl.oauthbearer.sub.claim.name)", subClaim)
	}
	switch sc := claims[scopeClaim].(type) {
	case nil, string:
	case []any:
		for _, v := range sc {
			if _, ok := v.(string); !ok {
				return accessToken{}, fmt.Errorf("OAuth access token claim %q is not a list of strings", scopeClaim)
			}
		}
	default:
		return accessToken{}, fmt.Errorf("OAuth access token claim %q is not a string or list", scopeClaim)
	}
	t := accessToken{value: token, subject: sub, expiry: time.Unix(int64(exp), 0)} // Java truncates to whole seconds
	if iat, ok := claims["iat"].(float64); ok {
		t.issued = time.Unix(int64(iat), 0)
	} else if _, has := claims["iat"]; has {
		return accessToken{}, errors.New("OAuth access token iat claim is not a number")
	}
	return t, nil
}

// refreshTime is when a credential valid from start (zero: unknown) to
// expire, obtained at now, is refreshed: Kafka's
// ExpiringCredentialRefreshingLogin.refreshMs with rnd in [0, 1) for its
// jitter.
func refreshTime(now, start, expire time.Time, r configs.TokenRefresh, rnd float64) time.Time {
	if !now.Before(expire) {
		return now
	}
	if start.IsZero() {
		start = now
	}
	pct := r.WindowFactor + r.WindowJitter*rnd
	if now.Add(r.MinPeriod + r.Buffer).After(expire) {
		// Too short a lifetime for the buffers: ignore them.
		return now.Add(time.Duration(float64(expire.Sub(now)) * pct))
	}
	proposed := start.Add(time.Duration(float64(expire.Sub(start)) * pct))
	if endBuffer := expire.Add(-r.Buffer); proposed.After(endBuffer) {
		return endBuffer
	}
	if minEnd := now.Add(r.MinPeriod); proposed.Before(minEnd) {
		return minEnd
	}
	return proposed
}

func base64URL(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
