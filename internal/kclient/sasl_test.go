package kclient

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/internal/saslfront"
)

func TestRefreshTime(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	def := configs.TokenRefresh{WindowFactor: 0.8, WindowJitter: 0.05, MinPeriod: time.Minute, Buffer: 5 * time.Minute}
	tests := []struct {
		name              string
		now, start, until time.Time
		r                 configs.TokenRefresh
		rnd               float64
		want              time.Time
	}{
		{"an hour: 80%", t0, t0, t0.Add(time.Hour), def, 0, t0.Add(48 * time.Minute)},
		{"an hour: 80% + full jitter", t0, t0, t0.Add(time.Hour), def, 1, t0.Add(51 * time.Minute)},
		{"unknown start is now", t0, time.Time{}, t0.Add(time.Hour), def, 0, t0.Add(48 * time.Minute)},
		{"short life ignores the buffers", t0, t0, t0.Add(6 * time.Second), def, 0, t0.Add(4800 * time.Millisecond)},
		{"end buffer", t0, t0, t0.Add(20 * time.Minute), configs.TokenRefresh{WindowFactor: 0.9, MinPeriod: time.Minute, Buffer: 5 * time.Minute}, 0, t0.Add(15 * time.Minute)},
		{"min period", t0.Add(50 * time.Minute), t0, t0.Add(2 * time.Hour), def, 0, t0.Add(96 * time.Minute)},
		{"min period wins over an early proposal", t0.Add(95 * time.Minute), t0, t0.Add(2 * time.Hour), configs.TokenRefresh{WindowFactor: 0.8, MinPeriod: 10 * time.Minute, Buffer: time.Minute}, 0, t0.Add(105 * time.Minute)},
		{"expired: now", t0.Add(2 * time.Hour), t0, t0.Add(time.Hour), def, 0, t0.Add(2 * time.Hour)},
	}
	for _, tt := range tests {
		if got := refreshTime(tt.now, tt.start, tt.until, tt.r, tt.rnd); !got.Equal(tt.want) {
			t.Errorf("%s: refresh at %s, want %s", tt.name, got.Sub(t0), tt.want.Sub(t0))
		}
	}
}

func jwt(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	s, err := saslfront.SignJWT(key, claims)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseAccessToken(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Unix()
	tests := []struct {
		name   string
		token  string
		sub    string
		errHas string
	}{
		{"valid", jwt(t, key, map[string]any{"sub": "mm2", "exp": exp, "iat": exp - 3600, "scope": "a b"}), "sub", ""},
		{"scope list", jwt(t, key, map[string]any{"sub": "mm2", "exp": exp, "scope": []string{"a", "b"}}), "sub", ""},
		{"custom subject claim", jwt(t, key, map[string]any{"client_id": "mm2", "exp": exp}), "client_id", ""},
		{"no exp", jwt(t, key, map[string]any{"sub": "mm2"}), "sub", "exp"},
		{"no subject", jwt(t, key, map[string]any{"exp": exp}), "sub", `"sub"`},
		{"bad scope", jwt(t, key, map[string]any{"sub": "mm2", "exp": exp, "scope": 3}), "sub", `"scope"`},
		{"bad iat", jwt(t, key, map[string]any{"sub": "mm2", "exp": exp, "iat": "yesterday"}), "sub", "iat"},
		{"opaque", "opaque-token-value", "sub", "not a JWT"},
	}
	for _, tt := range tests {
		tok, err := parseAccessToken(tt.token, tt.sub, "scope")
		switch {
		case tt.errHas == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.errHas == "" && (tok.subject != "mm2" || tok.expiry.Unix() != exp):
			t.Errorf("%s: %+v", tt.name, tok)
		case tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)):
			t.Errorf("%s: err %v, want one naming %s", tt.name, err, tt.errHas)
		case err != nil && strings.Contains(err.Error(), tt.token):
			t.Errorf("%s: the error shows the token", tt.name)
		}
	}
}

// tokenServer answers client-credentials requests with the given statuses
// in turn (then 200 for good), recording what it was asked.
type tokenServer struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	requests []*http.Request
	bodies   []string
	next     string
}

func newTokenServer(t *testing.T, token string, statuses ...int) *tokenServer {
	ts := &tokenServer{statuses: statuses, next: token}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ts.mu.Lock()
		defer ts.mu.Unlock()
		ts.requests = append(ts.requests, r)
		ts.bodies = append(ts.bodies, string(b))
		if len(ts.statuses) > 0 {
			code := ts.statuses[0]
			ts.statuses = ts.statuses[1:]
			w.WriteHeader(code)
			fmt.Fprint(w, `{"error":"temporarily_unavailable","error_description":"try later"}`)
			return
		}
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer"}`, ts.next)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) count() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return len(ts.requests)
}

func testOAuth(url string) configs.OAuthBearer {
	return configs.OAuthBearer{
		TokenEndpoint: url, ClientID: "mm2:id", ClientSecret: "se cr+et", Scope: " kafka write ",
		Extensions: map[string]string{"traceId": "t1"}, ScopeClaim: "scope", SubClaim: "sub",
		RetryBackoff: time.Millisecond, RetryBackoffMax: 5 * time.Second,
		Refresh: configs.TokenRefresh{WindowFactor: 0.8, WindowJitter: 0.05, MinPeriod: time.Minute, Buffer: 5 * time.Minute},
	}
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestTokenSourceClientCredentials(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	first := jwt(t, key, map[string]any{"sub": "mm2", "exp": time.Now().Add(time.Hour).Unix()})
	srv := newTokenServer(t, first, 503, 500)
	ts := newTokenSource(testOAuth(srv.URL+"/token"), discard())
	ctx := context.Background()

	got, err := ts.auth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Token != first || got.Extensions["traceId"] != "t1" {
		t.Errorf("auth: %+v", got)
	}
	if srv.count() != 3 {
		t.Errorf("%d requests, want 3 (two retried 5xx)", srv.count())
	}
	r := srv.requests[2]
	// Java's header: base64("id:secret") without URL-encoding.
	if want := "Basic " + base64.StdEncoding.EncodeToString([]byte("mm2:id:se cr+et")); r.Header.Get("Authorization") != want {
		t.Errorf("Authorization %q, want %q", r.Header.Get("Authorization"), want)
	}
	if srv.bodies[2] != "grant_type=client_credentials&scope=kafka+write" || r.Method != http.MethodPost ||
		r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("request %s %q %q", r.Method, srv.bodies[2], r.Header.Get("Content-Type"))
	}

	// Held until its refresh time.
	if _, err := ts.auth(ctx); err != nil || srv.count() != 3 {
		t.Errorf("second auth fetched again (%d requests, %v)", srv.count(), err)
	}
	// Past it: a new token.
	second := jwt(t, key, map[string]any{"sub": "mm2", "exp": time.Now().Add(2 * time.Hour).Unix()})
	srv.mu.Lock()
	srv.next = second
	srv.mu.Unlock()
	ts.mu.Lock()
	ts.refreshAt = time.Now().Add(-time.Second)
	ts.mu.Unlock()
	if got, err := ts.auth(ctx); err != nil || got.Token != second {
		t.Errorf("refresh: %v, token changed %v", err, got.Token == second)
	}
	// A refresh refused while the held token is valid: keep using it.
	srv.mu.Lock()
	srv.statuses = []int{401}
	srv.mu.Unlock()
	ts.mu.Lock()
	ts.refreshAt = time.Now().Add(-time.Second)
	ts.mu.Unlock()
	n := srv.count()
	if got, err := ts.auth(ctx); err != nil || got.Token != second || srv.count() != n+1 {
		t.Errorf("failed refresh: %v, requests %d (want %d: 401 is not retried)", err, srv.count(), n+1)
	}

	// No token held and the endpoint refuses: the error names the
	// status, never the secret.
	bad := newTokenServer(t, "", 401)
	_, err = newTokenSource(testOAuth(bad.URL), discard()).auth(ctx)
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "se cr+et") || bad.count() != 1 {
		t.Errorf("refused: %v after %d requests", err, bad.count())
	}

	// header.urlencode=true encodes both.
	enc := newTokenServer(t, first)
	cfg := testOAuth(enc.URL)
	cfg.HeaderURLEncode = true
	if _, err := newTokenSource(cfg, discard()).auth(ctx); err != nil {
		t.Fatal(err)
	}
	if want := "Basic " + base64.StdEncoding.EncodeToString([]byte("mm2%3Aid:se+cr%2Bet")); enc.requests[0].Header.Get("Authorization") != want {
		t.Errorf("urlencoded Authorization %q, want %q", enc.requests[0].Header.Get("Authorization"), want)
	}

	// file: endpoints are read at each fetch.
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(first+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := newTokenSource(testOAuth("file://"+file), discard()).auth(ctx); err != nil || got.Token != first {
		t.Errorf("file token: %v", err)
	}
}

func TestTokenSourceRetryGivesUp(t *testing.T) {
	srv := newTokenServer(t, "", 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503)
	cfg := testOAuth(srv.URL)
	cfg.RetryBackoff, cfg.RetryBackoffMax = time.Millisecond, 20*time.Millisecond
	_, err := newTokenSource(cfg, discard()).auth(context.Background())
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("err %v", err)
	}
	if n := srv.count(); n < 2 || n > 7 {
		t.Errorf("%d attempts within 20 ms of doubling 1 ms waits", n)
	}
}

// TestPresignMSKVerifies checks Strait's MSK IAM OAUTHBEARER token
// against the test front's independent verifier.
func TestPresignMSKVerifies(t *testing.T) {
	tok, err := presignMSK(context.Background(), aws.Credentials{AccessKeyID: "AKIAX", SecretAccessKey: "s/e+c", SessionToken: "tok=en"}, "eu-central-2", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	m := saslfront.MSKIAMOAuth{MSKIAM: saslfront.MSKIAM{Region: "eu-central-2", Secrets: map[string]string{"AKIAX": "s/e+c"}, SessionTokens: map[string]string{"AKIAX": "tok=en"}}}
	_, res, err := m.Begin(&net.TCPAddr{}).Step([]byte("n,,\x01auth=Bearer " + tok + "\x01\x01"))
	if err != nil || res == nil || res.Principal != "AKIAX" || res.Lifetime < 14*time.Minute {
		t.Fatalf("verify: %v %+v", err, res)
	}
	bad := saslfront.MSKIAMOAuth{MSKIAM: saslfront.MSKIAM{Region: "eu-central-2", Secrets: map[string]string{"AKIAX": "other"}}}
	if _, _, err := bad.Begin(&net.TCPAddr{}).Step([]byte("n,,\x01auth=Bearer " + tok + "\x01\x01")); err == nil {
		t.Error("a wrong secret verified")
	}
}

func TestKrb5ConfPath(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "krb5.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for env, want := range map[string]string{
		"":   "/etc/krb5.conf",
		conf: conf,
		filepath.Join(dir, "missing") + ":" + conf: conf,
		filepath.Join(dir, "missing"):              filepath.Join(dir, "missing"),
	} {
		if got := krb5ConfPath(env); got != want {
			t.Errorf("KRB5_CONFIG=%q: %s, want %s", env, got, want)
		}
	}
}

func TestSASLMechanismNames(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "krb5.conf")
	os.WriteFile(conf, []byte("[libdefaults]\n default_realm = EXAMPLE.COM\n"), 0o600)
	t.Setenv("KRB5_CONFIG", conf)
	kt := filepath.Join(dir, "mm2.keytab")
	k := keytab.New()
	if err := k.AddEntry("mm2", "EXAMPLE.COM", "password", time.Now(), 1, 18); err != nil {
		t.Fatal(err)
	}
	b, err := k.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(kt, b, 0o600)
	for _, s := range []configs.SASL{
		{Mechanism: "PLAIN", Username: "u", Password: "p"},
		{Mechanism: "SCRAM-SHA-512", Username: "u", Password: "p"},
		{Mechanism: "OAUTHBEARER", OAuth: &configs.OAuthBearer{TokenEndpoint: "https://idp/token"}},
		{Mechanism: "OAUTHBEARER", AWS: &configs.AWSIAM{OAuth: true}},
		{Mechanism: "AWS_MSK_IAM", AWS: &configs.AWSIAM{}},
		{Mechanism: "GSSAPI", Kerberos: &configs.Kerberos{ServiceName: "kafka", Principal: "mm2", UseKeyTab: true, KeyTab: kt}},
	} {
		m, err := saslMechanism(s, discard())
		if err != nil || m.Name() != s.Mechanism {
			t.Errorf("%s: %v", s.Mechanism, err)
		}
	}
	if _, err := saslMechanism(configs.SASL{Mechanism: "GSSAPI"}, discard()); err == nil {
		t.Error("GSSAPI without settings built")
	}
}
