package configs

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-multierror"
)

const saslBase = "clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\nA.security.protocol = SASL_SSL\n"

const oauthHandler = "A.sasl.login.callback.handler.class = org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerLoginCallbackHandler\n"

func parseSASL(t *testing.T, extra string, opts ...Option) (SASL, []string, error) {
	t.Helper()
	cfg, warnings, err := Parse([]byte(saslBase+extra), Properties, nil, opts...)
	if err != nil {
		return SASL{}, warnings, err
	}
	return cfg.Clusters[0].Security.SASLConfig, warnings, nil
}

func TestSASLOAuthBearerSettings(t *testing.T) {
	s, warnings, err := parseSASL(t, `A.sasl.mechanism = OAUTHBEARER
`+oauthHandler+`A.sasl.oauthbearer.token.endpoint.url = https://idp.example.com/oauth2/token
A.sasl.jaas.config = org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="mm2" clientSecret="s;e\\"cret" scope="kafka write" extension_logicalCluster="lkc-1" extension_identityPoolId="pool-2";
A.sasl.oauthbearer.scope.claim.name = scp
A.sasl.oauthbearer.sub.claim.name = client_id
A.sasl.oauthbearer.header.urlencode = true
A.sasl.login.connect.timeout.ms = 3000
A.sasl.login.read.timeout.ms = 4000
A.sasl.login.retry.backoff.ms = 50
A.sasl.login.retry.backoff.max.ms = 2000
A.sasl.login.refresh.window.factor = 0.9
A.sasl.login.refresh.window.jitter = 0
A.sasl.login.refresh.min.period.seconds = 10
A.sasl.login.refresh.buffer.seconds = 20
`)
	if err != nil {
		t.Fatal(err)
	}
	want := &OAuthBearer{
		TokenEndpoint: "https://idp.example.com/oauth2/token", ClientID: "mm2", ClientSecret: `s;e"cret`, Scope: "kafka write",
		Extensions: map[string]string{"logicalCluster": "lkc-1", "identityPoolId": "pool-2"},
		ScopeClaim: "scp", SubClaim: "client_id", HeaderURLEncode: true,
		ConnectTimeout: 3 * time.Second, ReadTimeout: 4 * time.Second, RetryBackoff: 50 * time.Millisecond, RetryBackoffMax: 2 * time.Second,
		Refresh: TokenRefresh{WindowFactor: 0.9, WindowJitter: 0, MinPeriod: 10 * time.Second, Buffer: 20 * time.Second},
	}
	if s.Mechanism != "OAUTHBEARER" || !reflect.DeepEqual(s.OAuth, want) || s.AWS != nil || s.Kerberos != nil {
		t.Errorf("got %+v\nwant %+v", s.OAuth, want)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %v", warnings)
	}

	// Kafka's defaults, the newer handler package, Kafka 4.1's keys for
	// the client credentials.
	s, _, err = parseSASL(t, `A.sasl.mechanism = oauthbearer
A.sasl.login.callback.handler.class = org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
A.sasl.oauthbearer.token.endpoint.url = http://127.0.0.1:8080/token
A.sasl.oauthbearer.client.credentials.client.id = id41
A.sasl.oauthbearer.client.credentials.client.secret = secret41
A.sasl.jaas.config = org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required ;
`)
	if err != nil {
		t.Fatal(err)
	}
	o := s.OAuth
	if o == nil || o.ClientID != "id41" || o.ClientSecret != "secret41" || o.ScopeClaim != "scope" || o.SubClaim != "sub" || o.HeaderURLEncode ||
		o.RetryBackoff != 100*time.Millisecond || o.RetryBackoffMax != 10*time.Second || o.ConnectTimeout != 0 ||
		o.Refresh != (TokenRefresh{WindowFactor: 0.8, WindowJitter: 0.05, MinPeriod: time.Minute, Buffer: 5 * time.Minute}) {
		t.Errorf("defaults: %+v", o)
	}
}

func TestSASLAWSSettings(t *testing.T) {
	s, _, err := parseSASL(t, `A.sasl.mechanism = AWS_MSK_IAM
A.sasl.client.callback.handler.class = software.amazon.msk.auth.iam.IAMClientCallbackHandler
A.sasl.jaas.config = software.amazon.msk.auth.iam.IAMLoginModule required awsRoleArn="arn:aws:iam::123456789012:role/mm2" awsRoleSessionName="producer" awsStsRegion="us-west-2" awsDebugCreds=true awsMaxRetries="7" awsMaxBackOffTimeMs="500";
`)
	if err != nil {
		t.Fatal(err)
	}
	want := &AWSIAM{RoleARN: "arn:aws:iam::123456789012:role/mm2", RoleSessionName: "producer", STSRegion: "us-west-2",
		AddDefaultProviders: true, DebugCreds: true, MaxRetries: 7, MaxBackoff: 500 * time.Millisecond}
	if s.Mechanism != "AWS_MSK_IAM" || !reflect.DeepEqual(s.AWS, want) {
		t.Errorf("got %+v\nwant %+v", s.AWS, want)
	}

	s, _, err = parseSASL(t, `A.sasl.mechanism = AWS_MSK_IAM
A.sasl.jaas.config = software.amazon.msk.auth.iam.IAMLoginModule required awsProfileName="msk_client" awsAddDefaultProviders="false";
`)
	if err != nil {
		t.Fatal(err)
	}
	want = &AWSIAM{Profile: "msk_client", RoleSessionName: "aws-msk-iam-auth", STSRegion: "aws-global", MaxRetries: 3, MaxBackoff: 5 * time.Second}
	if !reflect.DeepEqual(s.AWS, want) {
		t.Errorf("got %+v\nwant %+v", s.AWS, want)
	}

	s, _, err = parseSASL(t, `A.sasl.mechanism = OAUTHBEARER
A.sasl.login.callback.handler.class = software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler
A.sasl.client.callback.handler.class = software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler
A.sasl.jaas.config = org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
`)
	if err != nil {
		t.Fatal(err)
	}
	if s.AWS == nil || !s.AWS.OAuth || s.OAuth != nil {
		t.Errorf("MSK OAUTHBEARER: %+v", s)
	}
}

func TestSASLKerberosSettings(t *testing.T) {
	kt := filepath.Join(t.TempDir(), "mm2.keytab")
	if err := os.WriteFile(kt, []byte{5, 2}, 0o600); err != nil {
		t.Fatal(err)
	}
	s, warnings, err := parseSASL(t, `A.sasl.kerberos.service.name = kafka
A.sasl.jaas.config = com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab="`+kt+`" principal="mm2/host@EXAMPLE.COM";
`)
	if err != nil {
		t.Fatal(err)
	}
	want := &Kerberos{ServiceName: "kafka", Principal: "mm2/host@EXAMPLE.COM", UseKeyTab: true, KeyTab: kt}
	if s.Mechanism != "GSSAPI" || !reflect.DeepEqual(s.Kerberos, want) {
		t.Errorf("got %+v\nwant %+v", s.Kerberos, want)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %v", warnings)
	}
	s, _, err = parseSASL(t, `A.sasl.mechanism = GSSAPI
A.sasl.jaas.config = com.sun.security.auth.module.Krb5LoginModule required useTicketCache=true serviceName="kafka";
`)
	if err != nil || s.Kerberos == nil || !s.Kerberos.UseTicketCache || s.Kerberos.ServiceName != "kafka" {
		t.Errorf("ticket cache: %+v %v", s.Kerberos, err)
	}
}

func TestSASLErrors(t *testing.T) {
	const oauthJAAS = `A.sasl.jaas.config = org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="id" clientSecret="hunter2";` + "\n"
	const endpoint = "A.sasl.oauthbearer.token.endpoint.url = https://idp/token\n"
	tests := []struct {
		name  string
		extra string
		keys  []string
	}{
		{"unknown mechanism", "A.sasl.mechanism = NTLM\n", []string{"A.sasl.mechanism"}},
		{"oauth without handler", "A.sasl.mechanism = OAUTHBEARER\n" + endpoint + oauthJAAS, []string{"A.sasl.login.callback.handler.class"}},
		{"oauth custom handler", "A.sasl.mechanism = OAUTHBEARER\nA.sasl.login.callback.handler.class = com.example.Mine\n" + endpoint + oauthJAAS, []string{"A.sasl.login.callback.handler.class"}},
		{"oauth without endpoint", "A.sasl.mechanism = OAUTHBEARER\n" + oauthHandler + oauthJAAS, []string{"A.sasl.oauthbearer.token.endpoint.url"}},
		{"oauth bad endpoint", "A.sasl.mechanism = OAUTHBEARER\n" + oauthHandler + oauthJAAS + "A.sasl.oauthbearer.token.endpoint.url = ftp://idp/token\n", []string{"A.sasl.oauthbearer.token.endpoint.url"}},
		{"oauth without secret", "A.sasl.mechanism = OAUTHBEARER\n" + oauthHandler + endpoint + `A.sasl.jaas.config = org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="id";` + "\n", []string{"A.sasl.jaas.config"}},
		{"oauth window factor", "A.sasl.mechanism = OAUTHBEARER\n" + oauthHandler + endpoint + oauthJAAS + "A.sasl.login.refresh.window.factor = 0.3\n", []string{"A.sasl.login.refresh.window.factor"}},
		{"oauth buffer", "A.sasl.mechanism = OAUTHBEARER\n" + oauthHandler + endpoint + oauthJAAS + "sasl.login.refresh.buffer.seconds = 4000\n", []string{"sasl.login.refresh.buffer.seconds"}},
		{"oauth extension name", "A.sasl.mechanism = OAUTHBEARER\n" + oauthHandler + endpoint + `A.sasl.jaas.config = org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="id" clientSecret="hunter2" extension_auth="x";` + "\n", []string{"A.sasl.jaas.config"}},
		{"oauth plain module", "A.sasl.mechanism = OAUTHBEARER\n" + oauthHandler + endpoint + `A.sasl.jaas.config = org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="hunter2";` + "\n", []string{"A.sasl.mechanism"}},
		{"login class", "A.sasl.mechanism = PLAIN\nA.sasl.login.class = com.example.Login\n" + `A.sasl.jaas.config = org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="hunter2";` + "\n", []string{"A.sasl.login.class"}},
		{"msk without jaas", "A.sasl.mechanism = AWS_MSK_IAM\n", []string{"A.sasl.jaas.config"}},
		{"msk client handler", "A.sasl.mechanism = AWS_MSK_IAM\nA.sasl.client.callback.handler.class = com.example.Handler\nA.sasl.jaas.config = software.amazon.msk.auth.iam.IAMLoginModule required;\n", []string{"A.sasl.client.callback.handler.class"}},
		{"msk role key without secret", "A.sasl.mechanism = AWS_MSK_IAM\nA.sasl.jaas.config = software.amazon.msk.auth.iam.IAMLoginModule required awsRoleArn=\"arn:aws:iam::1:role/r\" awsRoleAccessKeyId=\"AKIA\";\n", []string{"A.sasl.jaas.config"}},
		{"msk retries", "A.sasl.mechanism = AWS_MSK_IAM\nA.sasl.jaas.config = software.amazon.msk.auth.iam.IAMLoginModule required awsMaxRetries=\"many\";\n", []string{"A.sasl.jaas.config"}},
		{"gssapi without service name", `A.sasl.jaas.config = com.sun.security.auth.module.Krb5LoginModule required useTicketCache=true;` + "\n", []string{"A.sasl.kerberos.service.name"}},
		{"gssapi password prompt", "A.sasl.kerberos.service.name = kafka\n" + `A.sasl.jaas.config = com.sun.security.auth.module.Krb5LoginModule required principal="u@R";` + "\n", []string{"A.sasl.jaas.config"}},
		{"gssapi missing keytab", "A.sasl.kerberos.service.name = kafka\n" + `A.sasl.jaas.config = com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true keyTab="/nonexistent/x.keytab" principal="u@R";` + "\n", []string{"A.sasl.jaas.config"}},
		{"gssapi with plain module", `A.sasl.jaas.config = org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="hunter2";` + "\n", []string{"A.sasl.mechanism"}},
	}
	for _, tt := range tests {
		_, _, err := parseSASL(t, tt.extra)
		merr, ok := err.(*multierror.Error)
		if !ok {
			t.Errorf("%s: err = %v, want a multierror", tt.name, err)
			continue
		}
		if len(merr.Errors) != len(tt.keys) {
			t.Errorf("%s: %d errors, want %d: %v", tt.name, len(merr.Errors), len(tt.keys), err)
		}
		for _, k := range tt.keys {
			found := false
			for _, e := range merr.Errors {
				if ke, ok := e.(*KeyError); ok && ke.Key == k {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no error names %q: %v", tt.name, k, err)
			}
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows a secret: %v", tt.name, err)
		}
	}
}

func TestSASLWarnings(t *testing.T) {
	_, warnings, err := parseSASL(t, `A.sasl.mechanism = PLAIN
A.sasl.jaas.config = org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";
sasl.enabled.mechanisms = PLAIN
A.sasl.made.up = 1
`, AllowUnknownKeys())
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(warnings, "\n")
	if len(warnings) != 2 || !strings.Contains(joined, "sasl.enabled.mechanisms is a broker setting") || !strings.Contains(joined, `unknown key "A.sasl.made.up"`) {
		t.Errorf("warnings: %q", warnings)
	}
	_, warnings, err = parseSASL(t, `A.sasl.kerberos.service.name = kafka
A.sasl.jaas.config = com.sun.security.auth.module.Krb5LoginModule required useTicketCache=true useKeytab=true;
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `option "useKeytab"`) {
		t.Errorf("misspelled option: %q", warnings)
	}
}
