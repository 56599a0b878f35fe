package configs

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-multierror"
)

// Tests written against the survivors of internal/tools/mutate: each pins
// a behaviour an operator relies on that no other test checked.

// mutantsParse parses defaultsMinimal plus extra and returns the config,
// the warnings joined by line breaks, and the error.
func mutantsParse(t *testing.T, extra string, environ ...string) (*Config, string, error) {
	t.Helper()
	cfg, warnings, err := Parse([]byte(defaultsMinimal+extra), Properties, environ)
	return cfg, strings.Join(warnings, "\n"), err
}

// mutantsProblem returns the problem of the *KeyError naming key in err.
func mutantsProblem(err error, key string) (string, bool) {
	var ke *KeyError
	for _, e := range mutantsErrors(err) {
		if errors.As(e, &ke) && ke.Key == key {
			return ke.Problem, true
		}
	}
	return "", false
}

// mutantsErrors lists the errors Parse joined into err.
func mutantsErrors(err error) []error {
	var me *multierror.Error
	if errors.As(err, &me) {
		return me.Errors
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// A source/target.cluster.alias that differs from the flow's alias is
// refused under the key written (per flow or top level), naming the flow;
// the flow's own alias is accepted.
func TestFlowAliasKeys(t *testing.T) {
	for _, tc := range []struct {
		extra   string
		errKeys []string
		problem string // in the error's message
	}{
		{extra: "A->B.source.cluster.alias = A\nA->B.target.cluster.alias = B\n"},
		{extra: "A->B.source.cluster.alias = X\n", errKeys: []string{"A->B.source.cluster.alias"}, problem: `"X" differs from the flow A->B's alias "A"`},
		// Top level: checked for every flow, here A->B and the heartbeats flow B->A.
		{extra: "target.cluster.alias = C\n", errKeys: []string{"target.cluster.alias", "target.cluster.alias"}, problem: `"C" differs from the flow A->B's alias "B"`},
	} {
		_, _, err := mutantsParse(t, tc.extra)
		if got := defaultsErrKeys(err); !slices.Equal(got, tc.errKeys) {
			t.Errorf("%q: error keys %q, want %q (%v)", tc.extra, got, tc.errKeys, err)
			continue
		}
		if tc.problem != "" && !strings.Contains(err.Error(), tc.problem) {
			t.Errorf("%q: %v, want %q in it", tc.extra, err, tc.problem)
		}
	}
}

// Java client keys: the value reaches the typed field of the right client,
// a negative duration is refused, a compression level applies only to its
// codec, a key of another role is ignored with a warning naming it, and
// values franz-go refuses are clamped.
func TestClientKeysReachFields(t *testing.T) {
	for _, tc := range []struct {
		name    string
		extra   string
		errKeys []string
		warn    string
		check   func(f Flow, a Cluster) bool
	}{
		{name: "negative duration", extra: "A.request.timeout.ms = -1\n", errKeys: []string{"A.request.timeout.ms"}},
		{name: "zero duration", extra: "A.retry.backoff.ms = 0\n", check: func(f Flow, a Cluster) bool { return a.Client.RetryBackoff == 0 }},
		{name: "gzip level with gzip", extra: "B.producer.compression.type = gzip\nB.producer.compression.gzip.level = 5\n",
			check: func(f Flow, a Cluster) bool {
				return f.Producer.Compression == "gzip" && f.Producer.CompressionLevel != nil && *f.Producer.CompressionLevel == 5
			}},
		{name: "zstd level with lz4", extra: "B.producer.compression.type = lz4\nB.producer.compression.zstd.level = 5\n",
			check: func(f Flow, a Cluster) bool {
				return f.Producer.Compression == "lz4" && f.Producer.CompressionLevel == nil
			}},
		{name: "consumer key under producer", extra: "B.producer.fetch.min.bytes = 5\n",
			warn:  `key "B.producer.fetch.min.bytes" ignored: it is not a producer setting`,
			check: func(f Flow, a Cluster) bool { return f.Producer.FetchMinBytes == 0 }},
		{name: "flow key under consumer scope", extra: "A->B.consumer.poll.timeout.ms = 500\n",
			check: func(f Flow, a Cluster) bool { return true }},
		{name: "request timeout clamped", extra: "A.request.timeout.ms = 50\n", warn: "A.request.timeout.ms",
			check: func(f Flow, a Cluster) bool {
				return a.Client.RequestTimeout == 100*time.Millisecond && f.SourceConsumer.RequestTimeout == 100*time.Millisecond && a.Client.TransactionTimeout == 0
			}},
		{name: "request timeout clamped above", extra: "A.request.timeout.ms = 3600000\n", warn: "A.request.timeout.ms",
			check: func(f Flow, a Cluster) bool { return a.Client.RequestTimeout == 15*time.Minute }},
		{name: "request timeout at the upper bound", extra: "A.request.timeout.ms = 900000\n",
			check: func(f Flow, a Cluster) bool { return a.Client.RequestTimeout == 15*time.Minute }},
		{name: "request timeout at the bound", extra: "A.request.timeout.ms = 100\n",
			check: func(f Flow, a Cluster) bool { return a.Client.RequestTimeout == 100*time.Millisecond }},
		{name: "metadata age clamped", extra: "A.metadata.max.age.ms = 5\n", warn: "A.metadata.max.age.ms",
			check: func(f Flow, a Cluster) bool { return a.Client.MetadataMaxAge == 10*time.Millisecond }},
	} {
		// Repeated: the keys of a scope are applied in sorted order
		// (compression.type before compression.*.level), not map order.
		for range 20 {
			cfg, warnings, err := mutantsParse(t, tc.extra)
			if got := defaultsErrKeys(err); !slices.Equal(got, tc.errKeys) {
				t.Fatalf("%s: error keys %q, want %q (%v)", tc.name, got, tc.errKeys, err)
			}
			if err != nil {
				break
			}
			if tc.warn != "" && !strings.Contains(warnings, tc.warn) {
				t.Errorf("%s: no warning %q in:\n%s", tc.name, tc.warn, warnings)
			}
			if tc.warn == "" && warnings != "" {
				t.Errorf("%s: warnings:\n%s", tc.name, warnings)
			}
			a, _ := cfg.Cluster("A")
			if !tc.check(defaultsFlow(t, cfg, "A", "B"), a) {
				f := defaultsFlow(t, cfg, "A", "B")
				t.Fatalf("%s: cluster %+v producer %+v source consumer %+v", tc.name, a.Client, f.Producer, f.SourceConsumer)
			}
		}
	}
}

func TestClusterLookupUnknownAlias(t *testing.T) {
	cfg := defaultsParse(t, "")
	if c, ok := cfg.Cluster("C"); ok {
		t.Errorf("Cluster(C) = %+v, true; want false", c)
	}
	if c, ok := cfg.Cluster("B"); !ok || c.Alias != "B" {
		t.Errorf("Cluster(B) = %+v, %v", c, ok)
	}
}

// compression.gzip.level (and lz4's) must not reach a producer whose
// compression.type is another codec ("compression.gzip.level" sorts before
// "compression.type": client() applies the type first).
func TestCompressionLevelOfAnotherCodec(t *testing.T) {
	for _, extra := range []string{
		"B.producer.compression.type = lz4\nB.producer.compression.gzip.level = 5\n",
		"B.producer.compression.type = zstd\nB.producer.compression.lz4.level = 5\n",
	} {
		f := defaultsFlow(t, defaultsParse(t, extra), "A", "B")
		if f.Producer.CompressionLevel != nil {
			t.Errorf("%q: level %d reaches the producer", extra, *f.Producer.CompressionLevel)
		}
	}
}

// Whole-file checks: each case is a file (defaultsMinimal plus extra, or
// a file of its own), the keys its errors name, a text one of them holds,
// and a check of the parsed config when it is accepted.
func TestParseAliasesStorageAndProviders(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string // replaces defaultsMinimal when set
		extra   string
		environ []string
		errKeys []string
		problem string
		check   func(cfg *Config) bool
	}{
		{name: "alias with a space", file: "clusters = A, B, x y\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\n",
			errKeys: []string{KeyClusters, "x y.bootstrap.servers"}, problem: `alias "x y" must not contain '->' or white space`},
		{name: "alias listed twice", file: "clusters = A, B, A\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\n",
			errKeys: []string{KeyClusters}, problem: `alias "A" listed twice`},
		{name: "config.properties.blacklist is checked as config.properties.exclude", extra: "A->B.config.properties.blacklist = (\n",
			errKeys: []string{"A->B.config.properties.blacklist"}},
		{name: "status.storage.* under the target alias", extra: "B.status.storage.segment.bytes = 1000\nA.status.storage.retention.ms = 5\n",
			check: func(cfg *Config) bool {
				f, _ := cfg.Flow("A", "B")
				return f.StatusTopicConfigs["segment.bytes"] == "1000" && f.StatusTopicConfigs["retention.ms"] == ""
			}},
		{name: "offset.storage.topic, .replication.factor and .partitions are not topic configs", extra: "offset.storage.topic = my-offsets\noffset.storage.segment.bytes = 1000\noffset.storage.replication.factor = 3\noffset.storage.partitions = 5\n",
			check: func(cfg *Config) bool {
				f, _ := cfg.Flow("A", "B")
				return len(f.OffsetsTopicConfigs) == 1 && f.OffsetsTopicConfigs["segment.bytes"] == "1000"
			}},
		{name: "heartbeat interval not below the session timeout", extra: "B.session.timeout.ms = 10000\nB.heartbeat.interval.ms = 20000\n",
			errKeys: []string{"B.heartbeat.interval.ms"}, problem: "must be below session.timeout.ms (10s)"},
		{name: "empty value from a provider: the message is not rewritten",
			extra:   "config.providers = env\nconfig.providers.env.class = " + EnvVarProviderClass + "\nA->B.replication.factor = ${env:RF}\n",
			environ: []string{"RF="}, errKeys: []string{"A->B.replication.factor"}, problem: "A->B.replication.factor: \"\" is not"},
		{name: "provider without a class", extra: "config.providers = vault\n",
			errKeys: []string{"config.providers.vault.class"}, problem: "missing: the class of config provider \"vault\""},
		{name: "bad env allowlist pattern", extra: "config.providers = env\nconfig.providers.env.class = " + EnvVarProviderClass + "\nconfig.providers.env.param.allowlist.pattern = (\n",
			errKeys: []string{"config.providers.env.param.allowlist.pattern"}, problem: "invalid regular expression"},
	} {
		file := tc.file
		if file == "" {
			file = defaultsMinimal
		}
		cfg, _, err := Parse([]byte(file+tc.extra), Properties, tc.environ)
		if got := defaultsErrKeys(err); !slices.Equal(got, tc.errKeys) {
			t.Errorf("%s: error keys %q, want %q (%v)", tc.name, got, tc.errKeys, err)
			continue
		}
		if tc.problem != "" && !strings.Contains(err.Error(), tc.problem) {
			t.Errorf("%s: %v\nwant %q in it", tc.name, err, tc.problem)
		}
		if err == nil && tc.check != nil && !tc.check(cfg) {
			t.Errorf("%s: wrong config: %+v", tc.name, cfg)
		}
	}
}

// REST: Check logs in a known user; jaasPath reads only KAFKA_OPTS; an
// advertised http listener is accepted; no REST TLS without listeners; an
// https listener without key store names the key to set.
func TestRESTAuthListenersAndJAASPath(t *testing.T) {
	a := &RESTAuth{Modules: []UsersFile{{Flag: "required", Users: map[string]Secret{"x": "pw", "": "pw"}}}}
	for _, tc := range []struct {
		user, pass string
		want       bool
	}{{"x", "pw", true}, {"x", "no", false}, {"", "pw", false}, {"y", "pw", false}} {
		if got := a.Check(tc.user, tc.pass); got != tc.want {
			t.Errorf("Check(%q, %q) = %v, want %v", tc.user, tc.pass, got, tc.want)
		}
	}

	opt := "-D" + JAASSystemProperty + "=/etc/connect.jaas"
	if p, from := jaasPath(nil, []string{"JAVA_TOOL_OPTIONS=x " + opt}); p != "" {
		t.Errorf("jaasPath read JAVA_TOOL_OPTIONS: %q from %q", p, from)
	}
	if p, _ := jaasPath(nil, []string{"JAVA_TOOL_OPTIONS=x " + opt, "KAFKA_OPTS=-Xmx1g " + opt}); p != "/etc/connect.jaas" {
		t.Errorf("jaasPath from KAFKA_OPTS: %q", p)
	}

	cfg, _, err := mutantsParse(t, "listeners = http://:8083\nrest.advertised.listener = http\n")
	if err != nil || cfg.REST.AdvertisedScheme != "http" {
		t.Errorf("advertised http: %v %+v", err, cfg)
	}
	cfg, _, err = mutantsParse(t, "rest.advertised.listener = https\n")
	if err != nil || cfg.REST.ForwardTLS != nil {
		t.Errorf("advertised https without listeners: %v, forward TLS %v", err, cfg.REST.ForwardTLS)
	}
	_, _, err = mutantsParse(t, "listeners = https://:8443\n")
	want := "set listeners.https.ssl.keystore.location (or ssl.keystore.location, read when no listeners.https. key is set)"
	if p, _ := mutantsProblem(err, KeyListeners); !strings.Contains(p, want) {
		t.Errorf("https listener without key store: %v\nwant %q", err, want)
	}
}

// SASL: each refusal names the key and tells the operator what to set.
func TestSASLMessages(t *testing.T) {
	const (
		oauth    = "A.sasl.mechanism = OAUTHBEARER\n"
		mskOAuth = oauth + "A.sasl.login.callback.handler.class = " + mskOAuthLoginHandler + "\n"
		msk      = "A.sasl.mechanism = AWS_MSK_IAM\n"
		mskJAAS  = "A.sasl.jaas.config = " + mskLoginModule + " required"
	)
	for _, tc := range []struct {
		name, extra, key, problem string
	}{
		{"OAUTHBEARER without a login handler", oauth + "A.sasl.jaas.config = " + oauthLoginModule + " required;\n",
			"A.sasl.login.callback.handler.class", "missing for sasl.mechanism=OAUTHBEARER: Kafka's default is its unsecured test tokens"},
		{"MSK client handler of another class", msk + mskJAAS + ";\nA.sasl.client.callback.handler.class = com.example.Handler\n",
			"A.sasl.client.callback.handler.class", `"com.example.Handler" is Java code Strait cannot run: use ` + mskClientHandler + " or remove it"},
		{"OAUTHBEARER without JAAS", oauthHandler + oauth,
			"A.sasl.jaas.config", "missing: sasl.mechanism=OAUTHBEARER needs `" + oauthLoginModule + " required ...;`"},
		{"OAUTHBEARER with the MSK handler, without JAAS", mskOAuth,
			"A.sasl.jaas.config", "missing: sasl.mechanism=OAUTHBEARER with " + mskOAuthLoginHandler + " needs `" + oauthLoginModule + " required ...;`"},
		{"AWS_MSK_IAM with another login module", msk + "A.sasl.jaas.config = " + oauthLoginModule + " required;\n",
			"A.sasl.mechanism", "AWS_MSK_IAM needs the login module " + mskLoginModule + ", but A.sasl.jaas.config names " + oauthLoginModule},
		{"negative awsMaxBackOffTimeMs", msk + mskJAAS + " awsMaxBackOffTimeMs=\"-1\";\n",
			"A.sasl.jaas.config", "option awsMaxBackOffTimeMs is not a non-negative number of milliseconds"},
		{"role credentials without a role", msk + mskJAAS + ` awsRoleAccessKeyId="AK" awsRoleSecretAccessKey="SK" awsStsRegion="eu-west-1";` + "\n",
			"A.sasl.jaas.config", "options awsRoleAccessKeyId and awsRoleSecretAccessKey need awsRoleArn"},
		{"refresh window factor out of range", oauthHandler + oauth + "A.sasl.oauthbearer.token.endpoint.url = https://idp/token\nA.sasl.jaas.config = " + oauthLoginModule + ` required clientId="c" clientSecret="s";` + "\nA.sasl.login.refresh.window.factor = 2\n",
			"A.sasl.login.refresh.window.factor", `"2" is not a number from 0.5 to 1`},
	} {
		_, _, err := parseSASL(t, tc.extra)
		if got := defaultsErrKeys(err); !slices.Equal(got, []string{tc.key}) {
			t.Errorf("%s: error keys %q, want %q (%v)", tc.name, got, tc.key, err)
			continue
		}
		if p, _ := mutantsProblem(err, tc.key); !strings.Contains(p, tc.problem) {
			t.Errorf("%s: %q\nwant %q in it", tc.name, p, tc.problem)
		}
	}
}

// Stores used in the other role: a PKCS12 key store as trust store trusts
// its key's certificate; a trust store as key store is refused, naming the
// key store. A PEM certificate cut before its END line's dashes is refused.
func TestTLSStoresInTheOtherRole(t *testing.T) {
	cfg, _, err := parseTLS("A.ssl.truststore.type = PKCS12", "A.ssl.truststore.location = "+fixture("client.p12"), "A.ssl.truststore.password = "+clientPass)
	if err != nil {
		t.Fatalf("key store as trust store: %v", err)
	}
	if cfg.RootCAs == nil || len(cfg.RootCAs.Subjects()) != 1 { //nolint:staticcheck // a test pool, not the system's
		t.Errorf("key store as trust store: roots %v", cfg.RootCAs)
	}
	_, _, err = parseTLS("A.ssl.keystore.location = "+fixture("truststore.jks"), "A.ssl.keystore.password = "+trustPass, "A.ssl.key.password = "+trustPass)
	if p, ok := mutantsProblem(err, "A.ssl.keystore.location"); !ok || !strings.Contains(p, "no private key entry in it") {
		t.Errorf("trust store as key store: %v", err)
	}

	data, err := os.ReadFile(fixture("ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	whole := strings.TrimSpace(string(data))
	if _, err := pemCertificates(whole); err != nil {
		t.Fatalf("ca.pem: %v", err)
	}
	cut := strings.TrimRight(whole, "-")
	if c, err := pemCertificates(cut); err == nil {
		t.Errorf("PEM cut to %q...%q: read %d certificates", cut[:30], cut[len(cut)-30:], len(c))
	}
}

// JAAS text at the edges of the lexer: comments right against tokens,
// numbers and escapes at the end of the text, and the hints and token
// names of the errors.
func TestJAASLexerEdges(t *testing.T) {
	const m = "org.example.Module"
	for _, tc := range []struct {
		name          string
		in            string
		opts          []JAASOption // parsed; nil: an error holding want and none of wantNot
		want, wantNot string
	}{
		{name: "empty block comment", in: m + ` required /**/ k="v";`, opts: opts("k", "v")},
		{name: "block comment against the key", in: m + ` required /* c */k="v";`, opts: opts("k", "v")},
		{name: "line comment between = and the value", in: m + " required k=// c\n\"v\";", opts: opts("k", "v")},
		{name: "number at the end", in: m + ` required k=12`, want: "unquoted value starts with a digit"},
		{name: "negative number", in: m + ` required k=-9;`, want: "unquoted value starts with a digit"},
		{name: "octal escape at the end", in: m + ` required k="\1`, want: "quoted string not closed"},
		{name: "'}' named", in: m + ` required };`, want: "found '}'"},
		{name: "first entry: no stray-';' hint", in: m + `;`, want: "control flag missing", wantNot: "outside quotes"},
		{name: "line comment: no lone-'/' hint", in: m + ` required k="v" // c`, want: "not terminated by ';'", wantNot: "the '/' at"},
	} {
		e, err := ParseJAASConfig(tc.in)
		switch {
		case tc.opts != nil && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.opts != nil && !slices.Equal(e.Options, tc.opts):
			t.Errorf("%s: options %v, want %v", tc.name, e.Options, tc.opts)
		case tc.opts == nil && err == nil:
			t.Errorf("%s: parsed as %v", tc.name, e)
		case tc.opts == nil && (!strings.Contains(err.Error(), tc.want) || tc.wantNot != "" && strings.Contains(err.Error(), tc.wantNot)):
			t.Errorf("%s: %v\nwant %q in it, not %q", tc.name, err, tc.want, tc.wantNot)
		}
	}

	if _, _, err := ParseJAAS(`org.apache.kafka.common.security.plain.PlainLoginModule required username="" password="p";`); err == nil || !strings.Contains(err.Error(), "option username is empty") {
		t.Errorf("empty username: %v", err)
	}
	if u, p, err := ParseJAAS(`org.apache.kafka.common.security.plain.PlainLoginModule required username="x" password="p";`); err != nil || u != "x" || p != "p" {
		t.Errorf("username x: %q %q %v", u, p, err)
	}
}

// JAAS file errors at the end of the text give the end's line and column,
// also after a last line break "\r" or a lone '/'.
func TestJAASFileEndPosition(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"KafkaConnect {\r", "line 2, column 1: section KafkaConnect is not closed"},
		{"KafkaConnect {\n\r", "line 3, column 1: section KafkaConnect is not closed"}, // "\n\r" is two line breaks
		{"KafkaConnect {\n\r ", "line 3, column 2: section KafkaConnect is not closed"},
		{"KafkaConnect {\n m required k=\"v\"; /", "line 2, column 21: section KafkaConnect is not closed"},
	} {
		if _, err := ParseJAASFile(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.want)
		}
	}
}

// More whole-file cases: clusters and flows, config providers, the
// producer's batch size, SASL keys accepted and refused, TLS keys.
func TestParseFlowsProvidersSASLAndTLSKeys(t *testing.T) {
	const (
		plain    = "A.security.protocol = SASL_PLAINTEXT\nA.sasl.mechanism = PLAIN\nA.sasl.jaas.config = org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"p\";\n"
		msk      = "A.security.protocol = SASL_SSL\nA.sasl.mechanism = AWS_MSK_IAM\nA.sasl.jaas.config = " + mskLoginModule + " required"
		oauth    = "A.security.protocol = SASL_SSL\nA.sasl.mechanism = OAUTHBEARER\n" + oauthHandler + "A.sasl.oauthbearer.token.endpoint.url = https://idp/token\nA.sasl.jaas.config = " + oauthLoginModule + " required clientId=\"c\" clientSecret=\"s\";\n"
		mskOAuth = "A.security.protocol = SASL_SSL\nA.sasl.mechanism = OAUTHBEARER\nA.sasl.login.callback.handler.class = " + mskOAuthLoginHandler + "\nA.sasl.jaas.config = " + oauthLoginModule + " required;\n"
		ssl      = "A.security.protocol = SSL\n"
	)
	t.Run("files", func(t *testing.T) {
		for _, tc := range []struct {
			name, file, problem string
			errKeys             []string
		}{
			{"no clusters", "A.bootstrap.servers = a:1\n", "missing: list the cluster aliases", []string{KeyClusters}},
			{"one cluster, no flow", "clusters = A\nA.bootstrap.servers = a:1\n", "no source->target replication flows", []string{KeyClusters}},
			{"heartbeats-only flow: its target must be reachable",
				"clusters = A, B, C\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\nemit.heartbeats.enabled = false\nA->C.emit.heartbeats.enabled = true\n",
				"missing", []string{"C.bootstrap.servers"}},
			{"flow to an unknown cluster", defaultsMinimal + "A->X.enabled = true\n", `unknown cluster alias "X"`, []string{"A->X.enabled"}},
		} {
			_, _, err := Parse([]byte(tc.file), Properties, nil)
			if got := defaultsErrKeys(err); !slices.Equal(got, tc.errKeys) {
				t.Errorf("%s: error keys %q, want %q (%v)", tc.name, got, tc.errKeys, err)
			} else if !strings.Contains(err.Error(), tc.problem) {
				t.Errorf("%s: %v\nwant %q in it", tc.name, err, tc.problem)
			}
		}
	})

	for _, tc := range []struct {
		name, extra, problem string
		errKeys              []string
		check                func(cfg *Config) bool
		quiet                bool // no warnings either
	}{
		{name: "env provider ignores param.allowed.paths, as in Kafka",
			extra: "config.providers = env\nconfig.providers.env.class = " + EnvVarProviderClass + "\nconfig.providers.env.param.allowed.paths = relative\n"},
		{name: "provider settings are not themselves resolved",
			extra: "config.providers = env\nconfig.providers.env.class = " + EnvVarProviderClass + "\nconfig.providers.env.param.allowlist.pattern = A${x:y}\n"},
		{name: "heartbeats-only flow with every other task off",
			extra: "emit.checkpoints.enabled = false\nsync.topic.configs.enabled = false\nsync.topic.acls.enabled = false\nrefresh.topics.enabled = false\nrefresh.groups.enabled = false\n",
			check: func(cfg *Config) bool { return len(cfg.HeartbeatFlows) == 1 && cfg.HeartbeatFlows[0].Name() == "B->A" }},
		{name: "class keys left empty", extra: "A->B.topic.filter.class =\nA->B.transforms =\n", quiet: true},
		{name: "a class other than the one accepted", extra: "A->B.topic.filter.class = com.example.Filter\n",
			errKeys: []string{"A->B.topic.filter.class"}, problem: `"com.example.Filter" cannot run in Strait (it has no JVM)`},
		{name: "batch.size wins over max.request.size", extra: "B.producer.batch.size = 16384\nB.producer.max.request.size = 1048576\n",
			check: func(cfg *Config) bool { return defaultsFlow(t, cfg, "A", "B").Producer.BatchMaxBytes == 16384 }},
		{name: "max.request.size alone", extra: "B.producer.max.request.size = 1048576\n",
			check: func(cfg *Config) bool { return defaultsFlow(t, cfg, "A", "B").Producer.BatchMaxBytes == 1048576 }},
		{name: "zstd level with zstd", extra: "B.producer.compression.type = zstd\nB.producer.compression.zstd.level = 7\n",
			check: func(cfg *Config) bool {
				l := defaultsFlow(t, cfg, "A", "B").Producer.CompressionLevel
				return l != nil && *l == 7
			}},
		{name: "PLAIN with a login callback handler", extra: plain + "A.sasl.login.callback.handler.class = com.example.Handler\n",
			errKeys: []string{"A.sasl.login.callback.handler.class"}, problem: "Java code Strait cannot run"},
		{name: "PLAIN with Kafka's DefaultLogin", extra: plain + "A.sasl.login.class = org.apache.kafka.common.security.authenticator.DefaultLogin\n"},
		{name: "MSK OAuth with another client handler", extra: mskOAuth + "A.sasl.client.callback.handler.class = com.example.Handler\n",
			errKeys: []string{"A.sasl.client.callback.handler.class"}, problem: "use " + mskOAuthLoginHandler + " or remove it"},
		{name: "negative refresh jitter", extra: oauth + "A.sasl.login.refresh.window.jitter = -0.1\n",
			errKeys: []string{"A.sasl.login.refresh.window.jitter"}, problem: "from 0 to 0.25"},
		{name: "negative refresh min period", extra: oauth + "A.sasl.login.refresh.min.period.seconds = -1\n",
			errKeys: []string{"A.sasl.login.refresh.min.period.seconds"}, problem: "from 0 to 900"},
		{name: "zero login connect timeout", extra: oauth + "A.sasl.login.connect.timeout.ms = 0\n",
			check: func(cfg *Config) bool {
				a, _ := cfg.Cluster("A")
				return a.Security.SASLConfig.OAuth.ConnectTimeout == 0
			}},
		{name: "MSK role: session name defaults", extra: msk + ` awsRoleArn="arn:aws:iam::1:role/r" awsMaxRetries="0";` + "\n",
			check: func(cfg *Config) bool {
				a, _ := cfg.Cluster("A")
				aws := a.Security.SASLConfig.AWS
				return aws.RoleSessionName == "aws-msk-iam-auth" && aws.RoleARN == "arn:aws:iam::1:role/r" && aws.MaxRetries == 0
			}},
		{name: "trust store password without a trust store", extra: ssl + "A.ssl.truststore.password = x\n",
			errKeys: []string{"A.ssl.truststore.password"}, problem: "set but A.ssl.truststore.location is not"},
		{name: "inline trust store that is not PEM", extra: ssl + "A.ssl.truststore.type = PEM\nA.ssl.truststore.certificates = garbage\n",
			errKeys: []string{"A.ssl.truststore.certificates"}, problem: "no PEM certificate"},
	} {
		cfg, warnings, err := mutantsParse(t, tc.extra)
		if got := defaultsErrKeys(err); !slices.Equal(got, tc.errKeys) {
			t.Errorf("%s: error keys %q, want %q (%v)", tc.name, got, tc.errKeys, err)
			continue
		}
		if tc.problem != "" && !strings.Contains(err.Error(), tc.problem) {
			t.Errorf("%s: %v\nwant %q in it", tc.name, err, tc.problem)
		}
		if err == nil && tc.check != nil && !tc.check(cfg) {
			t.Errorf("%s: wrong config", tc.name)
		}
		if tc.quiet && warnings != "" {
			t.Errorf("%s: warnings:\n%s", tc.name, warnings)
		}
	}
}

// An encrypted inline PEM key: a wrong or missing ssl.key.password is
// reported under ssl.key.password.
func TestTLSInlineKeyPassword(t *testing.T) {
	base := []string{
		"A.ssl.keystore.type = PEM",
		"A.ssl.keystore.certificate.chain = " + inline(t, "client-chain.pem"),
		"A.ssl.keystore.key = " + inline(t, "client-enc.key"),
	}
	for _, tc := range []struct {
		extra   []string
		problem string
	}{
		{[]string{"A.ssl.key.password = not-the-password"}, "key in A.ssl.keystore.key"},
		{nil, "missing: the key in A.ssl.keystore.key is encrypted"},
	} {
		_, _, err := parseTLS(append(base, tc.extra...)...)
		if p, ok := mutantsProblem(err, "A.ssl.key.password"); !ok || !strings.Contains(p, tc.problem) || len(mutantsErrors(err)) != 1 {
			t.Errorf("%v: %v, want %q", tc.extra, err, tc.problem)
		}
	}
}

// More JAAS lexing: a lone '/' drops the line break after it (as Java's
// StreamTokenizer does), a line comment after a leading line break, word
// characters at the ends of their ranges.
func TestJAASLexerMore(t *testing.T) {
	const m = "org.example.Module"
	if _, err := ParseJAASConfig(m + " required k=\"v\" /\n;"); err == nil || !strings.Contains(err.Error(), "not terminated by ';'") {
		t.Errorf("lone '/' before a line break: %v", err)
	}
	for _, tc := range []struct {
		in   string
		opts []JAASOption
	}{
		{"\n" + m + ` required k="v"; // c`, opts("k", "v")},
		{"\r" + m + ` required k="v"; // c`, opts("k", "v")},
		{m + " required a=z Z=A k=x\u00a0y;", opts("a", "z", "Z", "A", "k", "x\u00a0y")},
	} {
		e, err := ParseJAASConfig(tc.in)
		if err != nil || !slices.Equal(e.Options, tc.opts) {
			t.Errorf("%q: %v %v, want %v", tc.in, e.Options, err, tc.opts)
		}
	}

	// PEM headers (RFC 1421's "Name: value" lines) before the base64 are skipped.
	data, err := os.ReadFile(fixture("ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	withHeader := strings.Replace(string(data), "-----BEGIN CERTIFICATE-----\n", "-----BEGIN CERTIFICATE-----\nComment: test CA\n\n", 1)
	if c, err := pemCertificates(withHeader); err != nil || len(c) != 1 {
		t.Errorf("PEM with a header: %d certificates, %v", len(c), err)
	}
}

// keyPair orders a chain given in any order, with unrelated certificates
// among it: the key's certificate, then its issuers; a leaf whose issuer is
// not given stands alone.
func TestKeyPairChainOrder(t *testing.T) {
	read := func(name string) string {
		data, err := os.ReadFile(fixture(name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	key, serverChain, clientChain := read("client.key"), read("server-chain.pem"), read("client-chain.pem")
	certs, err := pemCertificates(clientChain)
	if err != nil || len(certs) != 2 {
		t.Fatalf("client-chain.pem: %d certificates, %v", len(certs), err)
	}
	client, ca := certs[0], certs[1]
	leafOnly := clientChain[:strings.Index(clientChain, "-----END CERTIFICATE-----")+len("-----END CERTIFICATE-----")] + "\n"
	for _, tc := range []struct {
		name, chain string
		want        [][]byte
	}{
		{"unrelated certificate first", serverChain + clientChain, [][]byte{client.Raw, ca.Raw}},
		{"issuer first", read("ca.pem") + leafOnly, [][]byte{client.Raw, ca.Raw}},
		{"issuer not given", leafOnly, [][]byte{client.Raw}},
	} {
		c, err := pemKeyPair(tc.chain, key, "")
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !slices.EqualFunc(c.Certificate, tc.want, func(a, b []byte) bool { return string(a) == string(b) }) || c.Leaf != nil && string(c.Leaf.Raw) != string(client.Raw) {
			t.Errorf("%s: chain of %d certificates, want %d in order key's, issuer's", tc.name, len(c.Certificate), len(tc.want))
		}
	}
}

// ssl.cipher.suites naming only Java's renegotiation marker (which Go
// always signals) leaves no suite: refused under ssl.cipher.suites.
func TestTLSOnlyRenegotiationMarker(t *testing.T) {
	_, _, err := parseTLS("A.ssl.cipher.suites = TLS_EMPTY_RENEGOTIATION_INFO_SCSV")
	if p, ok := mutantsProblem(err, "A.ssl.cipher.suites"); !ok || !strings.Contains(p, "no cipher suite Go can use") {
		t.Errorf("%v", err)
	}
}

// A number of milliseconds that would overflow a duration is refused.
func TestMillisecondsOverflow(t *testing.T) {
	_, _, err := Parse([]byte(compatBase+"A.retry.backoff.ms = 10000000000000000\n"), Properties, nil)
	if err == nil || !strings.Contains(err.Error(), "A.retry.backoff.ms:") {
		t.Errorf("an overflowing retry.backoff.ms: %v", err)
	}
}
