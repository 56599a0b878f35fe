package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/client"
	krbconfig "github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	saslaws "github.com/twmb/franz-go/pkg/sasl/aws"
	"github.com/twmb/franz-go/pkg/sasl/kerberos"
	"github.com/twmb/franz-go/pkg/sasl/oauth"

	"github.com/strait-replicator/strait/internal/kafkatest"
	"github.com/strait-replicator/strait/internal/saslfront"
)

// These tests put a saslfront in front of the source cluster A, so that
// Strait's every client of A (consumer, admin, offset syncs) authenticates
// with the mechanism under test, and check records reach the plain
// target B.

// frontedCluster starts a three-broker kfake cluster reachable only through
// front (kfake listens through front.Listen, so it advertises the front).
func frontedCluster(t *testing.T, alias string, front *saslfront.Front) *cluster {
	t.Helper()
	c, err := kafkatest.NewCluster(alias, 3, kfake.ListenFn(front.Listen), kfake.GroupMinSessionTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(front.Close) // after c.Close (cleanups run last first)
	t.Cleanup(c.Close)
	return &cluster{alias, c}
}

// produceAuthed creates topic on c and writes n records to each of its
// partitions, authenticating with m.
func produceAuthed(t *testing.T, c *cluster, m sasl.Mechanism, topic string, partitions int32, from, n int) {
	t.Helper()
	cl := c.client(t, kgo.SASL(m), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic(topic))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if from == 0 {
		resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			t.Fatalf("create %s on %s: %v", topic, c.alias, err)
		}
	}
	var recs []*kgo.Record
	for p := range partitions {
		for i := from; i < from+n; i++ {
			recs = append(recs, record("sasl", p, i))
		}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s on %s: %v", topic, c.alias, err)
	}
}

// saslProps is the MM2 configuration replicating A->B, A authenticating
// with the given sasl lines.
func saslProps(a, b *cluster, lines ...string) string {
	extra := append([]string{"A->B.enabled = true", "A->B.topics = orders", "A.security.protocol = SASL_PLAINTEXT"}, lines...)
	return props([]*cluster{a, b}, extra...)
}

// tokenEndpoint is an OAuth 2 token endpoint for the client-credentials
// grant issuing RS256 JWTs that live for life.
type tokenEndpoint struct {
	*httptest.Server
	key *rsa.PrivateKey

	mu     sync.Mutex // guards issued
	issued int
}

func newTokenEndpoint(t *testing.T, clientID, secret string, life time.Duration) *tokenEndpoint {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	te := &tokenEndpoint{key: key}
	te.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, pass, ok := r.BasicAuth()
		if r.Method != http.MethodPost || !ok || id != clientID || pass != secret {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client"}`)
			return
		}
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("scope") != "kafka" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_request"}`)
			return
		}
		now := time.Now()
		tok, err := saslfront.SignJWT(key, map[string]any{"sub": "strait-" + id, "iat": now.Unix(), "exp": now.Add(life).Unix(), "scope": "kafka"})
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		te.mu.Lock()
		te.issued++
		te.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(life.Seconds())})
	}))
	t.Cleanup(te.Close)
	return te
}

func (te *tokenEndpoint) count() int {
	te.mu.Lock()
	defer te.mu.Unlock()
	return te.issued
}

// TestOAuthBearerClientCredentialsRefresh: Strait fetches JWTs from a
// token endpoint with the client-credentials grant (KIP-768), the broker
// verifies signature and expiry and limits each session to the token's
// remaining lifetime, so connections must re-authenticate with refreshed
// tokens while records keep flowing.
func TestOAuthBearerClientCredentialsRefresh(t *testing.T) {
	const life = 6 * time.Second
	te := newTokenEndpoint(t, "mm2", "s3cr;et", life)
	front := saslfront.New(saslfront.OAuthBearer{Key: &te.key.PublicKey})
	a := frontedCluster(t, "A", front)
	b := newCluster(t, "B", 3)

	tester, err := saslfront.SignJWT(te.key, map[string]any{"sub": "tester", "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	testerMech := oauth.Auth{Token: tester}.AsMechanism()
	produceAuthed(t, a, testerMech, "orders", 2, 0, 50)

	text := saslProps(a, b,
		"A.sasl.mechanism = OAUTHBEARER",
		"A.sasl.login.callback.handler.class = org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerLoginCallbackHandler",
		"A.sasl.oauthbearer.token.endpoint.url = "+te.URL+"/oauth2/token",
		`A.sasl.jaas.config = org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="mm2" clientSecret="s3cr;et" scope="kafka" extension_traceId="abc";`,
	)
	startWorker(t, text)
	waitCopied(t, b, "A.orders", 100, 60*time.Second)

	// Wait for a connection of Strait to re-authenticate with a token
	// fetched at least half a lifetime after the first one: a refresh.
	straitAuths := func() (all []saslfront.Auth, first time.Time) {
		for _, au := range front.Auths() {
			if au.Principal == "strait-mm2" {
				all = append(all, au)
				if first.IsZero() || au.Expiry.Before(first) {
					first = au.Expiry
				}
			}
		}
		return all, first
	}
	waitFor(t, 4*life, func() (bool, string) {
		all, first := straitAuths()
		for _, au := range all {
			if au.Reauth && !au.Expiry.Before(first.Add(life/2)) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("no re-authentication with a refreshed token: %d authentications, front failures %v", len(all), front.Failures())
	})
	// Records written after the first token expired are still copied.
	_, firstExpiry := straitAuths()
	waitFor(t, 2*life, func() (bool, string) {
		return time.Now().After(firstExpiry), "the first token to expire"
	})
	produceAuthed(t, a, testerMech, "orders", 2, 50, 50)
	waitCopied(t, b, "A.orders", 200, 60*time.Second)

	all, first := straitAuths()
	reauths, last := 0, first
	for _, au := range all {
		if au.Reauth {
			reauths++
		}
		if au.Expiry.After(last) {
			last = au.Expiry
		}
		if au.Extensions["traceId"] != "abc" {
			t.Errorf("extensions sent: %v, want traceId=abc", au.Extensions)
		}
	}
	t.Logf("token endpoint issued %d tokens; %d authentications of Strait, %d re-authentications; token expiries from %s to %s",
		te.count(), len(all), reauths, first.Format(time.TimeOnly), last.Format(time.TimeOnly))
	if te.count() < 2 {
		t.Errorf("token endpoint issued %d tokens, want at least 2 (a refresh)", te.count())
	}
	if n := front.Expired(); n > 0 {
		t.Errorf("%d connections sent requests on an expired session", n)
	}
	for _, f := range front.Failures() {
		if strings.Contains(f, "authentication failed") {
			t.Errorf("front rejected a client: %s", f)
		}
	}
}

// awsEnv isolates the AWS SDK from the machine: no shared files, no
// instance metadata, and the given variables.
func awsEnv(t *testing.T, kv ...string) {
	t.Helper()
	dir := t.TempDir()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_DEFAULT_REGION",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none-credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for i := 0; i+1 < len(kv); i += 2 {
		t.Setenv(kv[i], kv[i+1])
	}
}

// TestAWSMSKIAM: Strait signs AWS_MSK_IAM payloads with credentials from
// the environment, from a named profile, and from a role it assumes with
// STS; the front verifies each SigV4 signature with the secret key.
func TestAWSMSKIAM(t *testing.T) {
	const region = "eu-west-3"
	tests := []struct {
		name   string
		env    func(t *testing.T, stsURL string) // sets the environment
		jaas   string
		wantAK string
	}{
		{
			name: "environment",
			env: func(t *testing.T, _ string) {
				awsEnv(t, "AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT", "AWS_SECRET_ACCESS_KEY", "env/secret+key", "AWS_SESSION_TOKEN", "env-session")
			},
			jaas:   `software.amazon.msk.auth.iam.IAMLoginModule required;`,
			wantAK: "AKIAENVIRONMENT",
		},
		{
			name: "profile",
			env: func(t *testing.T, _ string) {
				awsEnv(t)
				creds := writeFile(t, "credentials", "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = nope\n\n[mm2]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = profile-secret\n")
				t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
			},
			jaas:   `software.amazon.msk.auth.iam.IAMLoginModule required awsProfileName="mm2";`,
			wantAK: "AKIAPROFILE",
		},
		{
			name: "assumed role",
			env: func(t *testing.T, stsURL string) {
				awsEnv(t, "AWS_ACCESS_KEY_ID", "AKIABASE", "AWS_SECRET_ACCESS_KEY", "base-secret", "AWS_ENDPOINT_URL_STS", stsURL)
			},
			jaas:   `software.amazon.msk.auth.iam.IAMLoginModule required awsRoleArn="arn:aws:iam::123456789012:role/mm2" awsRoleSessionName="strait-e2e" awsStsRegion="` + region + `";`,
			wantAK: "ASIAROLE",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stsCalls int
			var stsMu sync.Mutex
			stsSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.ParseForm()
				if r.Form.Get("Action") != "AssumeRole" || r.Form.Get("RoleArn") != "arn:aws:iam::123456789012:role/mm2" || r.Form.Get("RoleSessionName") != "strait-e2e" ||
					!strings.Contains(r.Header.Get("Authorization"), "Credential=AKIABASE/") {
					w.WriteHeader(http.StatusForbidden)
					return
				}
				stsMu.Lock()
				stsCalls++
				stsMu.Unlock()
				w.Header().Set("Content-Type", "text/xml")
				fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIAROLE</AccessKeyId><SecretAccessKey>role-secret</SecretAccessKey><SessionToken>role-session</SessionToken><Expiration>%s</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/mm2/strait-e2e</Arn><AssumedRoleId>AROA:strait-e2e</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>`,
					time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
			}))
			defer stsSrv.Close()
			tt.env(t, stsSrv.URL)
			t.Setenv("AWS_REGION", region) // the broker host (127.0.0.1) names no region

			front := saslfront.New(saslfront.MSKIAM{
				Region:        region,
				Secrets:       map[string]string{"AKIAENVIRONMENT": "env/secret+key", "AKIAPROFILE": "profile-secret", "ASIAROLE": "role-secret", "AKIATESTER": "tester"},
				SessionTokens: map[string]string{"AKIAENVIRONMENT": "env-session", "ASIAROLE": "role-session"},
			})
			front.MaxSession = 3 * time.Second // re-sign every few seconds
			a := frontedCluster(t, "A", front)
			b := newCluster(t, "B", 3)
			tester := saslaws.Auth{AccessKey: "AKIATESTER", SecretKey: "tester"}.AsManagedStreamingIAMMechanism()
			produceAuthed(t, a, tester, "orders", 2, 0, 30)

			startWorker(t, saslProps(a, b,
				"A.sasl.mechanism = AWS_MSK_IAM",
				"A.sasl.client.callback.handler.class = software.amazon.msk.auth.iam.IAMClientCallbackHandler",
				"A.sasl.jaas.config = "+tt.jaas))
			waitCopied(t, b, "A.orders", 60, 60*time.Second)
			waitFor(t, 10*time.Second, func() (bool, string) {
				for _, au := range front.Auths() {
					if au.Principal == tt.wantAK && au.Reauth {
						return true, ""
					}
				}
				return false, fmt.Sprintf("no re-authentication as %s; auths %v; failures %v", tt.wantAK, front.Auths(), front.Failures())
			})
			for _, au := range front.Auths() {
				if au.Principal != tt.wantAK && au.Principal != "AKIATESTER" {
					t.Errorf("authenticated as %s, want %s", au.Principal, tt.wantAK)
				}
			}
			for _, f := range front.Failures() {
				if strings.Contains(f, "authentication failed") {
					t.Errorf("front rejected a client: %s", f)
				}
			}
			if tt.wantAK == "ASIAROLE" && stsCalls == 0 {
				t.Error("STS AssumeRole was never called")
			}
		})
	}
}

// TestMSKIAMOAuthBearer: sasl.mechanism=OAUTHBEARER with aws-msk-iam-auth's
// IAMOAuthBearerLoginCallbackHandler sends presigned URLs as tokens.
func TestMSKIAMOAuthBearer(t *testing.T) {
	const region = "ap-south-2"
	awsEnv(t, "AWS_ACCESS_KEY_ID", "AKIAOAUTH", "AWS_SECRET_ACCESS_KEY", "oauth-secret", "AWS_REGION", region)
	front := saslfront.New(saslfront.MSKIAMOAuth{MSKIAM: saslfront.MSKIAM{Region: region, Secrets: map[string]string{"AKIAOAUTH": "oauth-secret"}}})
	front.MaxSession = 3 * time.Second
	a := frontedCluster(t, "A", front)
	b := newCluster(t, "B", 3)
	produceAuthed(t, a, oauth.Oauth(func(ctx context.Context) (oauth.Auth, error) {
		return oauth.Auth{Token: mskPresignedForTest(t, region)}, nil
	}), "orders", 1, 0, 20)
	startWorker(t, saslProps(a, b,
		"A.sasl.mechanism = OAUTHBEARER",
		"A.sasl.login.callback.handler.class = software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler",
		"A.sasl.client.callback.handler.class = software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler",
		"A.sasl.jaas.config = org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;"))
	waitCopied(t, b, "A.orders", 20, 60*time.Second)
	if len(front.Auths()) < 2 {
		t.Errorf("auths: %v; failures: %v", front.Auths(), front.Failures())
	}
}

// mskPresignedForTest is the test client's own MSK OAUTHBEARER token,
// built by hand from the aws-msk-iam-auth README (not Strait's code).
func mskPresignedForTest(t *testing.T, region string) string {
	t.Helper()
	u, err := presignByHand("AKIAOAUTH", "oauth-secret", region, time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(u))
}

// kdc is a throwaway MIT Kerberos KDC for realm STRAIT.TEST.
type kdc struct {
	dir, krb5conf string
}

const krbRealm = "STRAIT.TEST"

// startKDC creates a realm with principals (keytabs written to
// dir/<first part of the name>.keytab) and runs krb5kdc on a free port
// below 32768; it skips the test when MIT Kerberos is not installed.
func startKDC(t *testing.T, principals ...string) *kdc {
	t.Helper()
	bins := map[string]string{}
	for _, b := range []string{"kdb5_util", "kadmin.local", "krb5kdc"} {
		p, err := exec.LookPath(b)
		if err != nil {
			if _, err2 := os.Stat("/usr/sbin/" + b); err2 == nil {
				p = "/usr/sbin/" + b
			} else {
				t.Skipf("MIT Kerberos %s not found (apt-get install krb5-kdc krb5-admin-server): %v", b, err)
			}
		}
		bins[b] = p
	}
	dir := t.TempDir()
	port := kafkatest.LowPort(t)
	k := &kdc{dir: dir, krb5conf: filepath.Join(dir, "krb5.conf")}
	krb5 := fmt.Sprintf(`[libdefaults]
  default_realm = %[1]s
  dns_lookup_kdc = false
  dns_lookup_realm = false
  rdns = false
  udp_preference_limit = 1
  ticket_lifetime = 1h
[realms]
  %[1]s = {
    kdc = 127.0.0.1:%[2]d
  }
`, krbRealm, port)
	kdcConf := fmt.Sprintf(`[kdcdefaults]
  kdc_ports = %[2]d
  kdc_tcp_ports = %[2]d
[realms]
  %[1]s = {
    database_name = %[3]s/principal
    key_stash_file = %[3]s/stash
    acl_file = %[3]s/kadm5.acl
    kdc_ports = %[2]d
    kdc_tcp_ports = %[2]d
    max_life = 1h
  }
[logging]
  kdc = FILE:%[3]s/kdc.log
`, krbRealm, port, dir)
	if err := os.WriteFile(k.krb5conf, []byte(krb5), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kdc.conf"), []byte(kdcConf), 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "kadm5.acl"), nil, 0o600)
	env := append(os.Environ(), "KRB5_CONFIG="+k.krb5conf, "KRB5_KDC_PROFILE="+filepath.Join(dir, "kdc.conf"))
	run := func(name string, args ...string) {
		cmd := exec.Command(bins[name], args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run("kdb5_util", "-r", krbRealm, "create", "-s", "-P", "master-password")
	for _, p := range principals {
		run("kadmin.local", "-r", krbRealm, "-q", "addprinc -randkey "+p+"@"+krbRealm)
		name := strings.SplitN(p, "/", 2)[0]
		run("kadmin.local", "-r", krbRealm, "-q", "ktadd -k "+filepath.Join(dir, name+".keytab")+" "+p+"@"+krbRealm)
	}
	cmd := exec.Command(bins["krb5kdc"], "-n", "-r", krbRealm)
	cmd.Env = env
	logs := &kafkatest.LogBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	waitFor(t, 10*time.Second, func() (bool, string) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err != nil {
			return false, fmt.Sprintf("krb5kdc not listening on %d: %v; %s", port, err, logs.String())
		}
		c.Close()
		return true, ""
	})
	return k
}

// clientFn returns what makes a new Kerberos client of principal, logging
// in with its keytab, for each authentication to the service kafka.
func (k *kdc) clientFn(t *testing.T, principal, keytabPath string) func(context.Context) (kerberos.Auth, error) {
	t.Helper()
	cfg, err := krbconfig.Load(k.krb5conf)
	if err != nil {
		t.Fatal(err)
	}
	kt, err := keytab.Load(keytabPath)
	if err != nil {
		t.Fatal(err)
	}
	return func(context.Context) (kerberos.Auth, error) {
		return kerberos.Auth{Client: client.NewWithKeytab(principal, krbRealm, kt, cfg, client.DisablePAFXFAST(true)), Service: "kafka"}, nil
	}
}

// TestGSSAPIKerberos: Strait logs in to a real MIT KDC as Krb5LoginModule
// does, with a keytab (useKeyTab=true) or from a ticket cache kinit wrote
// (useTicketCache=true), reading krb5.conf from KRB5_CONFIG, and
// authenticates to a broker whose service keytab the front verifies the
// AP-REQ with, re-authenticating as sessions expire.
func TestGSSAPIKerberos(t *testing.T) {
	k := startKDC(t, "strait", "tester", "kafka/127.0.0.1")
	t.Setenv("KRB5_CONFIG", k.krb5conf)
	svc, err := keytab.Load(filepath.Join(k.dir, "kafka.keytab"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		setup func(t *testing.T) string // returns the JAAS options
	}{
		{"keytab", func(t *testing.T) string {
			return fmt.Sprintf(`useKeyTab=true storeKey=true keyTab="%s" principal="strait@%s"`, filepath.Join(k.dir, "strait.keytab"), krbRealm)
		}},
		{"ticket cache", func(t *testing.T) string {
			kinit, err := exec.LookPath("kinit")
			if err != nil {
				t.Skipf("MIT kinit not found (apt-get install krb5-user): %v", err)
			}
			cache := filepath.Join(t.TempDir(), "krb5cc")
			cmd := exec.Command(kinit, "-k", "-t", filepath.Join(k.dir, "strait.keytab"), "-c", "FILE:"+cache, "strait@"+krbRealm)
			cmd.Env = append(os.Environ(), "KRB5_CONFIG="+k.krb5conf)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("kinit: %v\n%s", err, out)
			}
			t.Setenv("KRB5CCNAME", "FILE:"+cache)
			return "useTicketCache=true"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.setup(t)
			front := saslfront.New(saslfront.GSSAPI{Keytab: svc})
			front.MaxSession = 3 * time.Second
			a := frontedCluster(t, "A", front)
			b := newCluster(t, "B", 3)
			// A client per authentication, as Strait's own GSSAPI does: a
			// shared client destroyed at Close races with a connection
			// still authenticating (franz-go's kerberos closing wrapper).
			tester := kerberos.Kerberos(k.clientFn(t, "tester", filepath.Join(k.dir, "tester.keytab")))
			produceAuthed(t, a, tester, "orders", 2, 0, 25)

			startWorker(t, saslProps(a, b,
				"A.sasl.mechanism = GSSAPI",
				"A.sasl.kerberos.service.name = kafka",
				"A.sasl.jaas.config = com.sun.security.auth.module.Krb5LoginModule required "+opts+";"))
			waitCopied(t, b, "A.orders", 50, 60*time.Second)
			waitFor(t, 10*time.Second, func() (bool, string) {
				for _, au := range front.Auths() {
					if au.Principal == "strait@"+krbRealm && au.Reauth {
						return true, ""
					}
				}
				return false, fmt.Sprintf("no re-authentication of strait@%s; auths %v; failures %v", krbRealm, front.Auths(), front.Failures())
			})
			for _, f := range front.Failures() {
				if strings.Contains(f, "authentication failed") {
					t.Errorf("front rejected a client: %s", f)
				}
			}
		})
	}
}

// presignByHand follows the aws-msk-iam-auth README's SigV4 steps for a
// presigned kafka-cluster:Connect URL.
func presignByHand(akid, secret, region string, now time.Time) (string, error) {
	enc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	host := "kafka." + region + ".amazonaws.com"
	date, stamp := now.Format("20060102"), now.Format("20060102T150405Z")
	scope := date + "/" + region + "/kafka-cluster/aws4_request"
	params := map[string]string{"Action": "kafka-cluster:Connect", "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
		"X-Amz-Credential": akid + "/" + scope, "X-Amz-Date": stamp, "X-Amz-Expires": "900", "X-Amz-SignedHeaders": "host"}
	var q []string
	for k, v := range params {
		q = append(q, enc(k)+"="+enc(v))
	}
	sort.Strings(q)
	query := strings.Join(q, "&")
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	mac := func(k []byte, s string) []byte { h := hmac.New(sha256.New, k); h.Write([]byte(s)); return h.Sum(nil) }
	canonical := "GET\n/\n" + query + "\nhost:" + host + "\n\nhost\n" + sum("")
	toSign := "AWS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" + sum(canonical)
	key := mac(mac(mac(mac([]byte("AWS4"+secret), date), region), "kafka-cluster"), "aws4_request")
	return "https://" + host + "/?" + query + "&X-Amz-Signature=" + hex.EncodeToString(mac(key, toSign)) + "&User-Agent=tester", nil
}
