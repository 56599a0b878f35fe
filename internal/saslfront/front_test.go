package saslfront

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/aws"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

func startFronted(t *testing.T, m Mechanism) (*Front, *kfake.Cluster) {
	t.Helper()
	f := New(m)
	c, err := kfake.NewCluster(kfake.NumBrokers(2), kfake.ListenFn(f.Listen), kfake.SeedTopics(1, "t"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	t.Cleanup(c.Close)
	return f, c
}

// produce writes one record through the front with mechanism m (nil: no
// SASL) and returns the error; refused clients give up after a second.
func produce(t *testing.T, c *kfake.Cluster, m sasl.Mechanism) error {
	t.Helper()
	opts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...), kgo.RequestRetries(0), kgo.RetryTimeout(time.Second)}
	if m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("v")}).FirstErr()
}

func TestOAuthBearerFront(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	f, c := startFronted(t, OAuthBearer{Key: &key.PublicKey})
	sign := func(k *rsa.PrivateKey, claims map[string]any) sasl.Mechanism {
		tok, err := SignJWT(k, claims)
		if err != nil {
			t.Fatal(err)
		}
		return oauth.Auth{Token: tok, Extensions: map[string]string{"x": "y"}}.AsMechanism()
	}
	exp := time.Now().Add(time.Hour).Unix()
	if err := produce(t, c, sign(key, map[string]any{"sub": "alice", "exp": exp})); err != nil {
		t.Fatalf("valid token: %v (failures %v)", err, f.Failures())
	}
	auths := f.Auths()
	if len(auths) == 0 || auths[0].Principal != "alice" || auths[0].Extensions["x"] != "y" || auths[0].Lifetime < 59*time.Minute {
		t.Errorf("auths: %+v", auths)
	}
	for name, m := range map[string]sasl.Mechanism{
		"other key":  sign(other, map[string]any{"sub": "alice", "exp": exp}),
		"expired":    sign(key, map[string]any{"sub": "alice", "exp": time.Now().Add(-time.Minute).Unix()}),
		"no subject": sign(key, map[string]any{"exp": exp}),
		"plain":      plain.Auth{User: "u", Pass: "p"}.AsMechanism(),
		"no sasl":    nil,
	} {
		if err := produce(t, c, m); err == nil {
			t.Errorf("%s: produced", name)
		}
	}
	joined := strings.Join(f.Failures(), "\n")
	for _, want := range []string{"signature does not verify", "expired", `no "sub" claim`, `mechanism "PLAIN"`, "before authentication"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no failure says %q: %s", want, joined)
		}
	}
}

func TestOAuthBearerFrontSessionExpiry(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	f, c := startFronted(t, OAuthBearer{Key: &key.PublicKey})
	f.MaxSession = 1500 * time.Millisecond
	tok, err := SignJWT(key, map[string]any{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.SASL(oauth.Auth{Token: tok}.AsMechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "t", Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		reauth := false
		for _, a := range f.Auths() {
			reauth = reauth || a.Reauth
		}
		if reauth {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no re-authentication: %+v", f.Auths())
		}
		time.Sleep(100 * time.Millisecond) // polling interval
	}
	if f.Expired() != 0 {
		t.Errorf("%d requests on expired sessions", f.Expired())
	}
}

func TestMSKIAMFront(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-2")
	f, c := startFronted(t, MSKIAM{Region: "us-east-2", Secrets: map[string]string{"AKIA1": "secret/1"}, SessionTokens: map[string]string{"AKIA1": "tok"}})
	if err := produce(t, c, aws.Auth{AccessKey: "AKIA1", SecretKey: "secret/1", SessionToken: "tok"}.AsManagedStreamingIAMMechanism()); err != nil {
		t.Fatalf("valid: %v (failures %v)", err, f.Failures())
	}
	for name, a := range map[string]aws.Auth{
		"wrong secret": {AccessKey: "AKIA1", SecretKey: "secret/2", SessionToken: "tok"},
		"unknown key":  {AccessKey: "AKIA2", SecretKey: "secret/1", SessionToken: "tok"},
		"no session":   {AccessKey: "AKIA1", SecretKey: "secret/1"},
	} {
		if err := produce(t, c, a.AsManagedStreamingIAMMechanism()); err == nil {
			t.Errorf("%s: produced", name)
		}
	}
	t.Setenv("AWS_REGION", "us-west-1")
	if err := produce(t, c, aws.Auth{AccessKey: "AKIA1", SecretKey: "secret/1", SessionToken: "tok"}.AsManagedStreamingIAMMechanism()); err == nil {
		t.Error("wrong region: produced")
	}
	joined := strings.Join(f.Failures(), "\n")
	for _, want := range []string{"signature does not match", `unknown access key "AKIA2"`, "session token", `region "us-west-1"`} {
		if !strings.Contains(joined, want) {
			t.Errorf("no failure says %q: %s", want, joined)
		}
	}
}
