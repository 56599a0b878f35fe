package configs

import (
	"crypto/tls"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strait-replicator/strait/policy"
)

// More tests written against the survivors of a full run of
// internal/tools/mutate on configs (see SURVIVORS.md): each row is a file
// an operator could write and what Parse must make of it.

// parseCase is one file: defaultsMinimal plus extra (or file, when set, in
// format), the keys its errors name, a text the error holds, a warning it
// gives (or, with noWarn, that it gives none) and a check of the config.
type parseCase struct {
	name    string
	file    string
	format  Format
	extra   string
	environ []string
	opts    []Option
	errKeys []string
	problem string
	warn    string
	warns   []string // all the warnings, when set
	noWarn  bool
	check   func(cfg *Config) bool
}

func runParseCases(t *testing.T, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		file := tc.file
		if file == "" {
			file = defaultsMinimal
		}
		cfg, warnings, err := Parse([]byte(file+tc.extra), tc.format, tc.environ, tc.opts...)
		all := strings.Join(warnings, "\n")
		if got := defaultsErrKeys(err); !slices.Equal(got, tc.errKeys) {
			t.Errorf("%s: error keys %q, want %q (%v)", tc.name, got, tc.errKeys, err)
			continue
		}
		if tc.problem != "" && (err == nil || !strings.Contains(err.Error(), tc.problem)) {
			t.Errorf("%s: %v\nwant %q in it", tc.name, err, tc.problem)
		}
		if tc.warn != "" && !strings.Contains(all, tc.warn) {
			t.Errorf("%s: no warning %q in:\n%s", tc.name, tc.warn, all)
		}
		if tc.warns != nil && !slices.Equal(warnings, tc.warns) {
			t.Errorf("%s: warnings %q, want %q", tc.name, warnings, tc.warns)
		}
		if tc.noWarn && all != "" {
			t.Errorf("%s: warnings:\n%s", tc.name, all)
		}
		if err == nil && tc.check != nil && !tc.check(cfg) {
			t.Errorf("%s: wrong config (flow A->B %+v)", tc.name, flowAB(cfg))
		}
	}
}

// flowAB is the flow A->B of cfg (the zero Flow when there is none).
func flowAB(cfg *Config) Flow {
	f, _ := cfg.Flow("A", "B")
	return f
}

// Client keys at their bounds: the largest value that fits is taken, one
// more is refused naming the key; clamping starts exactly at franz-go's
// limits; a connection key repeated with the cluster's value is silent.
func TestClientKeyEdges(t *testing.T) {
	maxMs := int64(math.MaxInt64 / int64(time.Millisecond))
	runParseCases(t, []parseCase{
		{name: "largest duration in milliseconds", extra: "A.retry.backoff.ms = 9223372036854\n", noWarn: true,
			check: func(cfg *Config) bool {
				a, _ := cfg.Cluster("A")
				return a.Client.RetryBackoff == time.Duration(maxMs)*time.Millisecond
			}},
		{name: "one millisecond more", extra: "A.retry.backoff.ms = 9223372036855\n", errKeys: []string{"A.retry.backoff.ms"},
			problem: `"9223372036855" is not a non-negative number of milliseconds`},
		{name: "largest int32 of bytes", extra: "A.consumer.fetch.max.bytes = 2147483647\n", noWarn: true,
			check: func(cfg *Config) bool { return flowAB(cfg).SourceConsumer.FetchMaxBytes == math.MaxInt32 }},
		{name: "bytes past int32", extra: "A.consumer.fetch.max.bytes = 2147483648\n", errKeys: []string{"A.consumer.fetch.max.bytes"},
			problem: `"2147483648" is not a positive number of bytes`},
		{name: "2^30 bytes", extra: "B.producer.batch.size = 1073741824\n", noWarn: true,
			check: func(cfg *Config) bool { return flowAB(cfg).Producer.BatchMaxBytes == 1<<30 }},
		{name: "idle timeout below 100 ms", extra: "A.connections.max.idle.ms = 99\n",
			warn: "A.connections.max.idle.ms = 99 is outside what the client allows: 100 is used",
			check: func(cfg *Config) bool {
				a, _ := cfg.Cluster("A")
				return a.Client.ConnIdleTimeout == 100*time.Millisecond && flowAB(cfg).SourceAdmin.ConnIdleTimeout == 100*time.Millisecond
			}},
		{name: "idle timeout at 100 ms", extra: "A.connections.max.idle.ms = 100\n", noWarn: true,
			check: func(cfg *Config) bool {
				a, _ := cfg.Cluster("A")
				return a.Client.ConnIdleTimeout == 100*time.Millisecond
			}},
		{name: "idle timeout at 15 minutes", extra: "A.connections.max.idle.ms = 900000\n", noWarn: true,
			check: func(cfg *Config) bool {
				a, _ := cfg.Cluster("A")
				return a.Client.ConnIdleTimeout == 15*time.Minute
			}},
		{name: "connection keys repeated with the cluster's values", noWarn: true,
			extra: "A.security.protocol = SSL\nA.consumer.security.protocol = SSL\nA.consumer.bootstrap.servers = a:9092\nA.ssl.endpoint.identification.algorithm = \nA.admin.ssl.endpoint.identification.algorithm = \n",
			check: func(cfg *Config) bool { a, _ := cfg.Cluster("A"); return a.Security.TLSConfig != nil }},
		{name: "an ssl key of one client differs from the cluster's", extra: "A.security.protocol = SSL\nA.ssl.protocol = TLSv1.3\nA.consumer.ssl.protocol = TLSv1.2\n",
			errKeys: []string{"A.consumer.ssl.protocol"}, problem: "A.consumer.ssl.protocol: differs from A.ssl.protocol"},
		{name: "an ssl key Strait does not read, set for one client only", extra: "A.consumer.ssl.client.auth = required\n",
			errKeys: []string{"A.consumer.ssl.client.auth"}, problem: "differs from A.ssl.client.auth"},
		{name: "a sasl key of one client differs from the cluster's", extra: "A.admin.sasl.mechanism = SCRAM-SHA-512\n",
			errKeys: []string{"A.admin.sasl.mechanism"}, problem: "A.admin.sasl.mechanism: differs from A.sasl.mechanism"},
		{name: "zero durations are left unset, not clamped", extra: "A.request.timeout.ms = 0\nA.connections.max.idle.ms = 0\nA.metadata.max.age.ms = 0\nB.producer.linger.ms = 0\n", noWarn: true,
			check: func(cfg *Config) bool {
				a, _ := cfg.Cluster("A")
				p := flowAB(cfg).Producer
				return a.Client.RequestTimeout == 0 && a.Client.ConnIdleTimeout == 0 && a.Client.MetadataMaxAge == 0 && p.Linger != nil && *p.Linger == 0
			}},
		{name: "fetch.max.wait.ms has no upper bound", extra: "A.consumer.fetch.max.wait.ms = 30000\n", noWarn: true,
			check: func(cfg *Config) bool {
				w := flowAB(cfg).SourceConsumer.FetchMaxWait
				return w != nil && *w == 30*time.Second
			}},
		{name: "batch.size at 512", extra: "B.producer.batch.size = 512\n", noWarn: true,
			check: func(cfg *Config) bool { return flowAB(cfg).Producer.BatchMaxBytes == 512 }},
		{name: "batch.size at 511", extra: "B.producer.batch.size = 511\n", warn: "B.producer.batch.size = 511 is below what the client allows: 512 is used",
			check: func(cfg *Config) bool { return flowAB(cfg).Producer.BatchMaxBytes == 512 }},
		// interceptor.classes accepts no class: the advice alone.
		{name: "a class key that accepts no class", extra: "A.consumer.interceptor.classes = com.example.Audit\n",
			errKeys: []string{"A.consumer.interceptor.classes"},
			problem: "A.consumer.interceptor.classes: client interceptors cannot run in Strait (no JVM); remove the key"},
	})
}

// A class named with white space around it (a quoted YAML value or an
// environment variable; properties values are trimmed before) is the class:
// accepted, and IdentityReplicationPolicy is the policy used (before the
// fix, the check trimmed the value and the policy choice did not, so the
// flow silently used DefaultReplicationPolicy).
func TestClassValueTrimmed(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "yaml", format: YAML, file: "clusters: A, B\nA.bootstrap.servers: a:9092\nB.bootstrap.servers: b:9092\nA->B.enabled: true\nA->B.topic.filter.class: ' DefaultTopicFilter '\n"},
		{name: "env", environ: []string{"STRAIT_REPLICATION_POLICY_CLASS=IdentityReplicationPolicy "},
			check: func(cfg *Config) bool { _, ok := flowAB(cfg).Policy.(policy.Identity); return ok }},
	})
}

// compression.<codec>.level applies only with its codec, whatever the
// order the producer's keys come in (they are held in a map): repeated.
func TestCompressionLevelOrder(t *testing.T) {
	for _, tc := range []struct {
		extra string
		level int // 0: none
	}{
		{"B.producer.compression.type = lz4\nB.producer.compression.gzip.level = 5\n", 0},
		{"B.producer.compression.type = zstd\nB.producer.compression.lz4.level = 5\n", 0},
		{"B.producer.compression.type = gzip\nB.producer.compression.gzip.level = 5\nB.producer.compression.lz4.level = 7\n", 5},
		{"B.producer.compression.type = lz4\nB.producer.compression.lz4.level = 7\nB.producer.compression.gzip.level = 5\n", 7},
		// More keys than an insertion sort takes (12).
		{"B.producer.compression.type = zstd\nB.producer.compression.gzip.level = 5\nB.producer.compression.lz4.level = 6\n" +
			"B.producer.linger.ms = 5\nB.producer.batch.size = 1000\nB.producer.buffer.memory = 2000\nB.producer.acks = all\n" +
			"B.producer.request.timeout.ms = 1000\nB.producer.metadata.max.age.ms = 1000\nB.producer.connections.max.idle.ms = 1000\n" +
			"B.producer.retry.backoff.ms = 10\nB.producer.retry.backoff.max.ms = 100\nB.producer.default.api.timeout.ms = 1000\n" +
			"B.producer.socket.connection.setup.timeout.ms = 1000\nB.producer.transaction.timeout.ms = 1000\nB.producer.enable.idempotence = true\n", 0},
	} {
		for range 30 {
			f := defaultsFlow(t, defaultsParse(t, tc.extra), "A", "B")
			got := 0
			if f.Producer.CompressionLevel != nil {
				got = *f.Producer.CompressionLevel
			}
			if got != tc.level {
				t.Fatalf("%q: level %d, want %d", tc.extra, got, tc.level)
			}
		}
	}
}

// A clamped value read by several clients (B.producer: the data producer
// of A->B and the offset-syncs producer of the heartbeats flow B->A) is
// warned about once.
func TestClampWarnedOnce(t *testing.T) {
	for _, tc := range []struct{ extra, warn string }{
		{"B.producer.batch.size = 100\n", "B.producer.batch.size = 100 is below"},
		{"B.producer.linger.ms = 120000\n", "B.producer.linger.ms = 120000 is outside"},
		{"A.consumer.request.timeout.ms = 50\nB.consumer.request.timeout.ms = 50\n", "A.consumer.request.timeout.ms = 50 is outside"},
		{"B.producer.frobnicate = 1\n", `unknown client key "B.producer.frobnicate" ignored`},
	} {
		// AllowUnknownKeys: the unknown client key is a warning, read once per client.
		_, warnings, err := Parse([]byte(defaultsMinimal+tc.extra), Properties, nil, AllowUnknownKeys())
		if err != nil {
			t.Fatalf("%q: %v", tc.extra, err)
		}
		n := 0
		for _, w := range warnings {
			if strings.Contains(w, tc.warn) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%q: warning %q given %d times in:\n%s", tc.extra, tc.warn, n, strings.Join(warnings, "\n"))
		}
	}
}

// JAAS error messages: which text they may quote (only what comes before
// any option value of a sasl.jaas.config or a file), and which hint they
// give.
func TestJAASMessagesMore(t *testing.T) {
	const m = "org.example.Module"
	for _, tc := range []struct {
		name      string
		in        string
		file      bool
		want, not []string
	}{
		{name: "bad flag in a later section's first entry is not quoted", file: true,
			in:   "A { " + m + " required k=\"v\"; };\nB { " + m + " bogus; };",
			want: []string{"section B: login module 1: invalid control flag at line 2, column 24"}, not: []string{"bogus", m}},
		{name: "bad flag in the first section is quoted", file: true,
			in:   "A { " + m + " bogus; };",
			want: []string{"login module " + m + `: invalid control flag "bogus"`}},
		{name: "a brace after the class in a file is a missing flag", file: true,
			in:   "A { " + m + " { }; };",
			want: []string{"control flag missing at line 1, column 24"}, not: []string{"sasl.jaas.config"}},
		{name: "a quoted flag is not quoted back",
			in:   m + " 'bogus' k=v;",
			want: []string{"login module " + m + ": invalid control flag at line 1, column 20"}, not: []string{"bogus"}},
		{name: "an unquoted value does not carry over to the next entry", file: true,
			in:   "A { " + m + " required a=b; " + m + " required x y; };",
			want: []string{"option x at line 1, column 66: value not specified"}, not: []string{"after option a"}},
		{name: "no ';' hint in a file", file: true,
			in:   "A { " + m + " required a=b; " + m + " bogus; };",
			want: []string{"login module 2: invalid control flag at"}, not: []string{"a ';' outside quotes"}},
		{name: "the stray ';' hint names the last option, quoted or not",
			in:   m + ` required k="v"; bogus`,
			want: []string{"login module 2 at line 1, column 36: control flag missing", "if option k holds a ';', quote it"}},
		{name: "no unquoted-value hint after a quoted value",
			in:   m + ` required k="v" , x=y;`,
			want: []string{"expected an option key, found ','"}, not: []string{"if option"}},
		{name: "the unquoted-value hint after an unquoted value",
			in:   m + ` required k=v , x=y;`,
			want: []string{"expected an option key, found ','", "if option k holds characters other than"}},
		{name: "an '=' where a key belongs is named",
			in: m + ` required =x;`, want: []string{"expected an option key, found '='"}},
		{name: "a '{' where a key belongs is named",
			in: m + ` required k=v {`, want: []string{"expected an option key, found '{'"}},
		{name: "U+009F is a character of its own, not part of a word",
			in: m + " required k=a\u009fb;", want: []string{"expected an option key, found a punctuation character"}},
	} {
		var err error
		if tc.file {
			_, err = ParseJAASFile(tc.in)
		} else {
			_, err = ParseJAASConfig(tc.in)
		}
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\nwant %q in it", tc.name, err, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(err.Error(), n) {
				t.Errorf("%s: %v\nwant no %q in it", tc.name, err, n)
			}
		}
	}
}

// String quotes a name the tokenizer would not read back as one word (one
// starting with a digit, '.' or '-'), so that it parses back the same.
func TestJAASStringRoundTripNames(t *testing.T) {
	for _, name := range []string{"9Module", ".Module", "-Module", "x9", "a-b", "a.b", "$x", "a b", "a*b"} {
		e := JAASEntry{LoginModule: name, Flag: "required", Options: []JAASOption{{Key: name, Value: "v"}}}
		got, err := ParseJAASConfig(e.String())
		if err != nil || got.LoginModule != name || !slices.Equal(got.Options, e.Options) {
			t.Errorf("%q: %s parses as %+v, %v", name, e.String(), got, err)
		}
	}
}

// Word characters at the edges of their classes: '9' is a digit inside a
// word, U+00A0 a letter, and '*' a letter in a JAAS file only.
func TestJAASWordCharacters(t *testing.T) {
	const m = "org.example.Module"
	e, err := ParseJAASConfig(m + " required k=a9 n=\u00a0x z=a0;")
	if want := opts("k", "a9", "n", "\u00a0x", "z", "a0"); err != nil || !slices.Equal(e.Options, want) {
		t.Errorf("sasl.jaas.config: %v %v, want %v", e.Options, err, want)
	}
	apps, err := ParseJAASFile("A { " + m + " required principal=kafka*9 host=*x; };")
	if err != nil || len(apps["A"]) != 1 || !slices.Equal(apps["A"][0].Options, opts("principal", "kafka*9", "host", "*x")) {
		t.Errorf("JAAS file: %v %v", apps, err)
	}
	if _, err := ParseJAASConfig(m + " required principal=kafka*9;"); err == nil {
		t.Errorf("'*' outside quotes in sasl.jaas.config: no error")
	}
}

// Whole-file checks of Parse's own rules: flow keys, the warnings that
// come with errors, the hint when no flow is enabled.
func TestParseFileRules(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "no flow enabled: the hint names the first and last aliases", file: "clusters = X, Y, Z\nX.bootstrap.servers = x:1\nY.bootstrap.servers = y:1\nZ.bootstrap.servers = z:1\n",
			errKeys: []string{KeyClusters}, problem: "set e.g. X->Z.enabled = true"},
		{name: "warnings come with the errors", extra: "frobnicate = 1\nA->B.replication.factor = x\n", opts: []Option{AllowUnknownKeys()},
			errKeys: []string{"A->B.replication.factor"}, warns: []string{`unknown key "frobnicate" ignored`}},
		{name: "a flow key without a source", extra: "->B.topics = x\n",
			errKeys: []string{"->B.topics"}, problem: "expected <source>-><target>.<key>"},
		{name: "a top-level client key is warned about, alone", extra: "consumer.fetch.min.bytes = 9\n",
			warns: []string{`key "consumer.fetch.min.bytes" ignored: at the top level it reaches no client, as in MM2; set it per cluster (<alias>.consumer.fetch.min.bytes) or per flow (<source>-><target>.consumer.fetch.min.bytes)`}},
	})
}

// Octal escapes take three digits only when the first is 0-3 (so at most
// \377), as in StreamTokenizer; positions count a CR LF as one line break
// and a lone CR as one, and columns restart after it.
func TestJAASOctalAndPositions(t *testing.T) {
	const m = "org.example.Module"
	for _, tc := range []struct{ in, want string }{
		{`"\377"`, "\u00ff"},
		{`"\400"`, " 0"},
		{`"\38"`, "\x038"},
		{`"\101\1011"`, "AA1"},
		{`"\0"`, "\x00"},
		{`"\7"`, "\x07"},
		{`"\08"`, "\x008"},
		{`"\8"`, "8"},
	} {
		e, err := ParseJAASConfig(m + " required k=" + tc.in + ";")
		if v, _ := e.Option("k"); err != nil || v != tc.want {
			t.Errorf("%s: %q, %v, want %q", tc.in, v, err, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		file bool
		want string
	}{
		{in: "A {\r\n x required;\r\n", file: true, want: "line 3, column 1: section A is not closed"},
		{in: "A {\r x required;\r", file: true, want: "line 3, column 1: section A is not closed"},
		{in: "A {\n x required;\n  B", file: true, want: "login module 2 at line 3, column 3: control flag missing"},
		{in: m + " required\r\n  k=v\r\n  n=1;", want: "option n at line 3, column 3"},
		{in: "\n" + m + " required n=1;", want: "option n at line 2, column 29"},
		{in: m + ` required k="\12`, want: "line 1, column 31: quoted string not closed"},
		{in: m + ` required k="\1`, want: "line 1, column 31: quoted string not closed"},
	} {
		var err error
		if tc.file {
			_, err = ParseJAASFile(tc.in)
		} else {
			_, err = ParseJAASConfig(tc.in)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.want)
		}
	}
}

// A line that is only a backslash (after its indentation) continues into
// the next line, as in java.util.Properties: the backslash at the line's
// first character counts.
func TestPropertiesLoneBackslashLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want map[string]string
	}{
		{"\\\nk=v", map[string]string{"k": "v"}},
		{"  \\\n  k=v\nj=w", map[string]string{"k": "v", "j": "w"}},
		{"\\\\\nk=v", map[string]string{`\`: "", "k": "v"}},
	} {
		got, err := ParseProperties([]byte(tc.in))
		if err != nil || !maps.Equal(got, tc.want) {
			t.Errorf("%q: %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
}

// rest.advertised.port is a TCP port: 1 to 65535.
func TestRESTAdvertisedPortBounds(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "port 0", extra: "rest.advertised.port = 0\n", errKeys: []string{KeyRESTAdvertisedPort}, problem: `"0" is not a port (1 to 65535)`},
		{name: "port 65536", extra: "rest.advertised.port = 65536\n", errKeys: []string{KeyRESTAdvertisedPort}},
		{name: "not a number", extra: "rest.advertised.port = http\n", errKeys: []string{KeyRESTAdvertisedPort}},
		{name: "port 1", extra: "rest.advertised.port = 1\n", check: func(cfg *Config) bool { return cfg.REST.AdvertisedPort == 1 }},
		{name: "port 65535", extra: "rest.advertised.port = 65535\n", check: func(cfg *Config) bool { return cfg.REST.AdvertisedPort == 65535 }},
	})
}

// OAUTHBEARER with Kafka's client-credentials handler: other Java classes
// are refused under their key, the token endpoint may be a file (then no
// client id or secret is needed), a bad one is quoted in the error.
func TestSASLOAuthEdges(t *testing.T) {
	const oauth = "A.sasl.mechanism = OAUTHBEARER\n" + oauthHandler
	const module = "A.sasl.jaas.config = org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required"
	const creds = module + ` clientId="id" clientSecret="hunter2";` + "\n"
	runParseCases(t, []parseCase{
		{name: "a client callback handler", file: saslBase,
			extra:   oauth + creds + "A.sasl.oauthbearer.token.endpoint.url = https://idp/token\nA.sasl.client.callback.handler.class = com.example.Handler\n",
			errKeys: []string{"A.sasl.client.callback.handler.class"}, problem: `"com.example.Handler" is Java code Strait cannot run: remove it`},
		{name: "a login class", file: saslBase,
			extra:   oauth + creds + "A.sasl.oauthbearer.token.endpoint.url = https://idp/token\nA.sasl.login.class = com.example.Login\n",
			errKeys: []string{"A.sasl.login.class"}},
		{name: "a file token endpoint needs no client credentials", file: saslBase,
			extra: oauth + module + ";\nA.sasl.oauthbearer.token.endpoint.url = file:///var/run/token\n",
			check: func(cfg *Config) bool {
				o := cfg.Clusters[0].Security.SASLConfig.OAuth
				return o != nil && o.TokenEndpoint == "file:///var/run/token" && o.ClientID == ""
			}},
		{name: "an ftp token endpoint", file: saslBase,
			extra:   oauth + creds + "A.sasl.oauthbearer.token.endpoint.url = ftp://idp/token\nA.sasl.oauthbearer.scope.claim.name = scp\n",
			errKeys: []string{"A.sasl.oauthbearer.token.endpoint.url"}, problem: `"ftp://idp/token" is not an http, https or file URL`},
	})
}

// AWS_MSK_IAM options the library would refuse or misread are refused
// under sasl.jaas.config, with what to do (never quoting a secret).
func TestSASLAWSOptionErrors(t *testing.T) {
	const msk = "A.sasl.mechanism = AWS_MSK_IAM\nA.sasl.jaas.config = software.amazon.msk.auth.iam.IAMLoginModule required "
	runParseCases(t, []parseCase{
		{name: "FIPS", file: saslBase, extra: msk + `awsShouldUseFips="true";` + "\n",
			errKeys: []string{"A.sasl.jaas.config"}, problem: "awsShouldUseFips=true is not supported"},
		{name: "FIPS off", file: saslBase, extra: msk + `awsShouldUseFips="false";` + "\n",
			check: func(cfg *Config) bool { return cfg.Clusters[0].Security.SASLConfig.AWS != nil }},
		{name: "role that is not an ARN", file: saslBase, extra: msk + `awsRoleArn="mm2-role" awsRoleExternalId="arn:x";` + "\n",
			errKeys: []string{"A.sasl.jaas.config"}, problem: `option awsRoleArn "mm2-role" is not an ARN`},
		{name: "external id without a role", file: saslBase, extra: msk + `awsRoleExternalId="ext-1";` + "\n",
			check: func(cfg *Config) bool {
				a := cfg.Clusters[0].Security.SASLConfig.AWS
				return a != nil && a.RoleExternalID == "ext-1"
			}},
	})
}

// Kerberos with a keytab needs the principal; a SASL login timeout of 0
// ms is accepted (unset, as in Kafka).
func TestSASLKerberosPrincipalAndZeroMillis(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "keytab without principal", file: saslBase,
			extra:   "A.sasl.kerberos.service.name = kafka\nA.sasl.jaas.config = com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true keyTab=\"/nonexistent/mm2.keytab\";\n",
			errKeys: []string{"A.sasl.jaas.config"}, problem: "option principal is missing: the client principal (user@REALM) in the keytab"},
		{name: "zero login timeouts", file: saslBase,
			extra: "A.sasl.mechanism = OAUTHBEARER\n" + oauthHandler + "A.sasl.oauthbearer.token.endpoint.url = https://idp/token\n" +
				`A.sasl.jaas.config = org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="id" clientSecret="s";` + "\n" +
				"A.sasl.login.connect.timeout.ms = 0\nA.sasl.login.retry.backoff.ms = 0\n",
			check: func(cfg *Config) bool {
				o := cfg.Clusters[0].Security.SASLConfig.OAuth
				return o != nil && o.ConnectTimeout == 0 && o.RetryBackoff == 0
			}},
		{name: "negative login timeout", file: saslBase,
			extra: "A.sasl.mechanism = OAUTHBEARER\n" + oauthHandler + "A.sasl.oauthbearer.token.endpoint.url = https://idp/token\n" +
				`A.sasl.jaas.config = org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="id" clientSecret="s";` + "\n" +
				"A.sasl.login.read.timeout.ms = -1\n",
			errKeys: []string{"A.sasl.login.read.timeout.ms"}, problem: `"-1" is not a non-negative number of milliseconds`},
	})
}

// A store password without its store is refused under the password key,
// naming the location key to set.
func TestTLSPasswordWithoutStore(t *testing.T) {
	for _, tc := range []struct{ line, key, want string }{
		{"A.ssl.truststore.password = secret", "A.ssl.truststore.password", "set but A.ssl.truststore.location is not"},
		{"ssl.truststore.password = secret", "ssl.truststore.password", "set but A.ssl.truststore.location is not"},
	} {
		_, _, err := parseTLS(tc.line)
		if p, ok := mutantsProblem(err, tc.key); !ok || p != tc.want {
			t.Errorf("%s: %v, want %q under %s", tc.line, err, tc.want, tc.key)
		}
	}
}

// ssl.enabled.protocols may list versions in any order and repeat one:
// the range is from the lowest to the highest.
func TestTLSEnabledProtocolsOrder(t *testing.T) {
	for _, tc := range []struct {
		list     string
		min, max uint16
	}{
		{"TLSv1.3, TLSv1.2", tls.VersionTLS12, tls.VersionTLS13},
		{"TLSv1.2, TLSv1.1, TLSv1.2", tls.VersionTLS11, tls.VersionTLS12},
		{"TLSv1.3,TLSv1.1,TLSv1.2", tls.VersionTLS11, tls.VersionTLS13},
		{"", tls.VersionTLS12, tls.VersionTLS13}, // empty: Kafka's default list
	} {
		c, _, err := parseTLS("A.ssl.enabled.protocols = " + tc.list)
		if err != nil || c.MinVersion != tc.min || c.MaxVersion != tc.max {
			t.Errorf("%s: %v", tc.list, err)
			if c != nil {
				t.Errorf("%s: versions %x to %x, want %x to %x", tc.list, c.MinVersion, c.MaxVersion, tc.min, tc.max)
			}
		}
	}
}

// A '-' starts a number only when a digit or '.' follows it; otherwise it
// is a character of its own, and the errors say which.
func TestJAASMinus(t *testing.T) {
	const m = "org.example.Module"
	for _, tc := range []struct{ in, want string }{
		{m + " required - k=v;", "expected an option key, found a punctuation character"},
		{m + " required -5 k=v;", "expected an option key, found a number"},
		{m + " required -9 k=v;", "expected an option key, found a number"},
		{m + " required -0 k=v;", "expected an option key, found a number"},
		{m + " required -.5 k=v;", "expected an option key, found a number"},
		{m + " required k=-x;", "option k at line 1, column 29: value not specified"},
		{m + " required k=-;", "option k at line 1, column 29: value not specified"},
		{m + " required k=-", "option k at line 1, column 29: value not specified"},
		{m + " required k=-1;", "option k at line 1, column 29: unquoted value starts with a digit"},
		{m + " required k=-.", "option k at line 1, column 29: unquoted value starts with a digit"},
	} {
		_, err := ParseJAASConfig(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.want)
		}
	}
}

// A comment runs to the end of its line only: options on the next line
// (after LF, CR LF or a lone CR) are read.
func TestJAASCommentEndsAtLineBreak(t *testing.T) {
	const m = "org.example.Module"
	for _, in := range []string{
		m + " required // a comment\n k=v; // last",
		m + " required /* a */ k=v /* b */;",
		m + " required k=v // a comment\r\n ;",
		m + " required k=v // a comment\r ;",
		"// " + m + "\n" + m + " required k=v;",
	} {
		e, err := ParseJAASConfig(in)
		if err != nil || e.LoginModule != m || !slices.Equal(e.Options, opts("k", "v")) {
			t.Errorf("%q: %+v, %v", in, e, err)
		}
	}
}

// Flow keys and aliases that cannot name a flow or a cluster are refused
// under the key, saying which alias is unknown and listing the known ones;
// a value a config provider resolved is never shown, the reference is.
func TestParseKeysAndAliases(t *testing.T) {
	const env = "config.providers = env\nconfig.providers.env.class = " + EnvVarProviderClass + "\n"
	runParseCases(t, []parseCase{
		{name: "unknown source alias", extra: "C->B.topics = x\n",
			errKeys: []string{"C->B.topics"}, problem: `C->B.topics: unknown cluster alias "C" (clusters = A, B)`},
		{name: "unknown target alias", extra: "A->C.topics = x\n",
			errKeys: []string{"A->C.topics"}, problem: `A->C.topics: unknown cluster alias "C" (clusters = A, B)`},
		{name: "a flow key without a target", extra: "A->.topics = x\n",
			errKeys: []string{"A->.topics"}, problem: "A->.topics: expected <source>-><target>.<key>"},
		{name: "a flow key without a key", extra: "A->B. = x\n",
			errKeys: []string{"A->B."}, problem: "A->B.: expected <source>-><target>.<key>"},
		{name: "a flow key without a dot", extra: "A->B = x\n",
			errKeys: []string{"A->B"}, problem: "A->B: expected <source>-><target>.<key>"},
		{name: "a provider's value is not shown", extra: env + "A->B.replication.factor = ${env:RF}\n", environ: []string{"RF=zz9"},
			errKeys: []string{"A->B.replication.factor"}, problem: `A->B.replication.factor: "${env:RF}" is not`},
		{name: "no flow, two aliases", file: "clusters = X, Y\nX.bootstrap.servers = x:1\nY.bootstrap.servers = y:1\n",
			errKeys: []string{KeyClusters}, problem: "set e.g. X->Y.enabled = true"},
		{name: "no flow, one alias", file: "clusters = X\nX.bootstrap.servers = x:1\n",
			errKeys: []string{KeyClusters}, problem: "set e.g. X->B.enabled = true"},
	})
	for _, alias := range []string{"x y", "x\ty", "C->D", ".C", "C."} {
		_, _, err := Parse([]byte("clusters = A, B, "+alias+"\n"+defaultsMinimal[len("clusters = A, B\n"):]), Properties, nil)
		want := fmt.Sprintf("alias %q must not contain '->' or white space, nor start or end with '.'", alias)
		if p, ok := mutantsProblem(err, KeyClusters); !ok || p != want {
			t.Errorf("alias %q: %v, want %q", alias, err, want)
		}
	}
	// The resolved value itself appears nowhere in the error.
	_, _, err := mutantsParse(t, env+"A->B.replication.factor = ${env:RF}\n", "RF=zz9")
	if err == nil || strings.Contains(err.Error(), "zz9") {
		t.Errorf("the error shows the resolved value: %v", err)
	}
}

// FormatOf picks YAML by extension, case aside; Load reads the file in
// that format and names a file it cannot read.
func TestFormatOfAndLoad(t *testing.T) {
	for path, want := range map[string]Format{
		"mm2.yaml": YAML, "/etc/strait/MM2.YML": YAML, "mm2.properties": Properties, "mm2": Properties, "yaml": Properties, "mm2.yaml.bak": Properties,
	} {
		if got := FormatOf(path); got != want {
			t.Errorf("FormatOf(%q) = %v, want %v", path, got, want)
		}
	}
	dir := t.TempDir()
	props := filepath.Join(dir, "mm2.properties")
	yml := filepath.Join(dir, "mm2.yml")
	if err := os.WriteFile(props, []byte(defaultsMinimal+"A->B.topics = orders\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(yml, []byte("clusters: A, B\nA.bootstrap.servers: a:9092\nB.bootstrap.servers: b:9092\nA->B.enabled: true\nA->B.topics: [orders]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{props, yml} {
		cfg, _, err := Load(path, []string{"STRAIT_A_B_TASKS_MAX=4"})
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		f := flowAB(cfg)
		if !f.Topics.Filter.Match("orders") || f.Topics.Filter.Match("payments") || f.TasksMax != 4 {
			t.Errorf("%s: flow %+v", path, f)
		}
	}
	if _, _, err := Load(filepath.Join(dir, "missing.properties"), nil); err == nil || !strings.Contains(err.Error(), "read config:") {
		t.Errorf("a missing file: %v", err)
	}
}

// WithFlowSettings keeps (or makes) the flow enabled whatever the settings
// say; Flow does not find a flow that is not enabled.
func TestWithFlowSettingsEnables(t *testing.T) {
	cfg := defaultsParse(t, "")
	if _, ok := cfg.Flow("B", "A"); ok {
		t.Errorf("Flow(B, A) found a flow that is not enabled")
	}
	for _, tc := range []struct {
		s, t     string
		settings map[string]string
	}{
		{"A", "B", map[string]string{"enabled": "false", "tasks.max": "2"}},
		{"B", "A", map[string]string{"tasks.max": "2"}},
	} {
		got, err := cfg.WithFlowSettings(tc.s, tc.t, tc.settings)
		if err != nil {
			t.Fatalf("%s->%s: %v", tc.s, tc.t, err)
		}
		if f, ok := got.Flow(tc.s, tc.t); !ok || f.TasksMax != 2 {
			t.Errorf("%s->%s: %v %+v", tc.s, tc.t, ok, got.Flows)
		}
	}
}

// Keys checked by kind: a bad value is quoted in the error; the
// *.blacklist spellings are checked as *.exclude; a key that starts with an
// alias but not "<alias>." is not that cluster's.
func TestParseValueChecks(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "boolean", extra: "A->B.emit.checkpoints.enabled = yes\n",
			errKeys: []string{"A->B.emit.checkpoints.enabled"}, problem: `A->B.emit.checkpoints.enabled: "yes" is not a boolean (true or false)`},
		{name: "enum", extra: "A->B.use.defaults.from = both\n",
			errKeys: []string{"A->B.use.defaults.from"}, problem: `A->B.use.defaults.from: "both" is not one of source, target`},
		{name: "topics.blacklist is a pattern list", extra: "A->B.topics.blacklist = (\n",
			errKeys: []string{"A->B.topics.blacklist"}, problem: "invalid regular expression"},
		{name: "groups.blacklist is a pattern list", extra: "A->B.groups.blacklist = (\n",
			errKeys: []string{"A->B.groups.blacklist"}, problem: "invalid regular expression"},
		{name: "topics.blacklist excludes", extra: "A->B.topics.blacklist = foo.*\nA->B.groups.blacklist = g.*\n", noWarn: true,
			check: func(cfg *Config) bool {
				f := flowAB(cfg)
				return !f.Topics.Filter.Match("foo1") && f.Topics.Filter.Match("bar") && !f.Groups.Match("g1") && f.Groups.Match("h1")
			}},
		{name: "per-flow excludes", extra: "A->B.topics.exclude = secret.*\nA->B.groups.exclude = batch.*\n", noWarn: true,
			check: func(cfg *Config) bool {
				f := flowAB(cfg)
				return !f.Topics.Filter.Match("secret1") && f.Topics.Filter.Match("orders") && !f.Groups.Match("batch1") && f.Groups.Match("app1")
			}},
		{name: "config.storage.* of the target", extra: "B.config.storage.segment.bytes = 1000\nA.config.storage.retention.ms = 5\n", noWarn: true,
			check: func(cfg *Config) bool {
				c := flowAB(cfg).ConfigsTopicConfigs
				return len(c) == 1 && c["segment.bytes"] == "1000"
			}},
		{name: "a top-level storage cleanup.policy is warned about once", extra: "offset.storage.cleanup.policy = delete\n",
			warns: []string{"offset.storage.cleanup.policy ignored: internal topics are always compacted"}},
		{name: "a data producer key of another role is named as written", extra: "B.producer.fetch.min.bytes = 5\n",
			warns: []string{`key "B.producer.fetch.min.bytes" ignored: it is not a producer setting`}},
		{name: "an alias without its dot", extra: "Ax.bootstrap.servers = x:1\n",
			errKeys: []string{"Ax.bootstrap.servers"}, problem: "unknown key (did you mean A.bootstrap.servers?)"},
		{name: "an alias without its dot, unknown keys allowed", extra: "Ax.bootstrap.servers = x:1\n", opts: []Option{AllowUnknownKeys()},
			warns: []string{`unknown key "Ax.bootstrap.servers" ignored`},
			check: func(cfg *Config) bool {
				a, _ := cfg.Cluster("A")
				return slices.Equal(a.BootstrapServers, []string{"a:9092"})
			}},
	})
}

// \uXXXX takes exactly four hex digits, any of 0-9, a-f, A-F, up to
// \uFFFF; three digits at the end of a value are malformed.
func TestPropertiesUnicodeEscapeEdges(t *testing.T) {
	got, err := ParseProperties([]byte(`k=\u00ff\uFFFD\u8000\uffff`))
	if want := "\u00ff\ufffd\u8000\uffff"; err != nil || got["k"] != want {
		t.Errorf("hex digits: %q, %v, want %q", got["k"], err, want)
	}
	for _, in := range []string{`k=\u123`, `k=\u00g0`, "k=\\u12f"} {
		if _, err := ParseProperties([]byte(in)); err == nil || !strings.Contains(err.Error(), "line 1: key k: malformed \\uxxxx escape") {
			t.Errorf("%q: %v", in, err)
		}
	}
}

// Declared providers: one whose class is missing or refused is reported
// once, under its class key (the references to it add no error of their
// own); allowed.paths takes absolute paths only.
func TestProviderDeclarationErrors(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "custom class", extra: "config.providers = vault\nconfig.providers.vault.class = com.example.VaultConfigProvider\nA->B.topics = ${vault:secret/x:y}\n",
			errKeys: []string{"config.providers.vault.class"}, problem: `config provider class "com.example.VaultConfigProvider" is not available in Strait`},
		{name: "relative allowed path", file: providersBase, extra: "config.providers.file.param.allowed.paths = /etc/strait, secrets\n",
			errKeys: []string{"config.providers.file.param.allowed.paths"}, problem: `config.providers.file.param.allowed.paths: "secrets" is not an absolute path`},
		{name: "no class", extra: "config.providers = vault\nA->B.topics = ${vault:secret/x:y}\n",
			errKeys: []string{"config.providers.vault.class"}, problem: `missing: the class of config provider "vault"`},
	})
}

// The REST worker's advertised address: the first listener of the
// advertised scheme, an empty or wildcard host replaced by the machine's
// name; port 1 is a port.
func TestRESTAdvertisedListener(t *testing.T) {
	for _, tc := range []struct{ listeners, want string }{
		{"http://:8083, http://:8084", "http://worker1:8083"},
		{"http://0.0.0.0:8083", "http://worker1:8083"},
		{"http://[::]:8083", "http://worker1:8083"},
		{"http://10.0.0.5:8083", "http://10.0.0.5:8083"},
		{"http://:1", "http://worker1:1"},
		{"http://:65535", "http://worker1:65535"},
	} {
		cfg, _, err := mutantsParse(t, "listeners = "+tc.listeners+"\n")
		if err != nil {
			t.Errorf("%s: %v", tc.listeners, err)
			continue
		}
		scheme, addr, ok := cfg.Advertised("worker1")
		if got := scheme + "://" + addr; !ok || got != tc.want {
			t.Errorf("%s: advertised %s (%v), want %s", tc.listeners, got, ok, tc.want)
		}
	}
	// Without the machine's name a wildcard host stays as it is.
	if cfg, _, err := mutantsParse(t, "listeners = http://0.0.0.0:8083\n"); err != nil {
		t.Error(err)
	} else if scheme, addr, _ := cfg.Advertised(""); scheme+"://"+addr != "http://0.0.0.0:8083" {
		t.Errorf("no hostname: advertised %s://%s", scheme, addr)
	}
	_, _, err := mutantsParse(t, "listeners = http://:65536\n")
	if p, ok := mutantsProblem(err, KeyListeners); !ok || p != `"http://:65536" is not http://host:port or https://host:port` {
		t.Errorf("port 65536: %v", err)
	}
	// Without listeners the scheme other workers are reached with is http.
	if cfg := defaultsParse(t, ""); cfg.REST.AdvertisedScheme != "http" {
		t.Errorf("no listeners: advertised scheme %q", cfg.REST.AdvertisedScheme)
	}
}

// A sufficient module that accepts ends the login, even before a required
// one that would refuse (JAAS: no required module failed before it).
func TestRESTAuthSufficientFirst(t *testing.T) {
	ok := UsersFile{Users: map[string]Secret{"u": "pw"}}
	no := UsersFile{Users: map[string]Secret{}}
	with := func(m UsersFile, flag string) UsersFile { m.Flag = flag; return m }
	for _, tc := range []struct {
		name    string
		modules []UsersFile
		want    bool
	}{
		{"sufficient accepts, then required refuses", []UsersFile{with(ok, "sufficient"), with(no, "required")}, true},
		{"required refuses, then sufficient accepts", []UsersFile{with(no, "required"), with(ok, "sufficient")}, false},
		{"sufficient refuses, then optional accepts", []UsersFile{with(no, "sufficient"), with(ok, "optional")}, true},
		{"only a sufficient that refuses", []UsersFile{with(no, "sufficient")}, false},
	} {
		a := &RESTAuth{Modules: tc.modules}
		if got := a.Check("u", "pw"); got != tc.want {
			t.Errorf("%s: Check = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Config providers: where the reference's parts go (path, key), what the
// allow-lists let through, and errors that name the file once.
func TestConfigProviderPaths(t *testing.T) {
	dir := t.TempDir()
	secrets := writeFile(t, dir, "secrets.properties", "user = alice\n")
	writeFile(t, dir, "password", "pw")
	missing := filepath.Join(dir, "nope.properties")
	groupIs := func(want string) func(cfg *Config) bool {
		return func(cfg *Config) bool { return flowAB(cfg).GroupID == want }
	}
	runParseCases(t, []parseCase{
		{name: "env allowed by the allowlist", file: providersBase,
			extra: "config.providers.env.param.allowlist.pattern = KAFKA_.*\nA->B.group.id = ${env:KAFKA_GROUP}\n", environ: []string{"KAFKA_GROUP=g1"},
			check: groupIs("g1")},
		{name: "file inside allowed.paths", file: providersBase,
			extra: "config.providers.file.param.allowed.paths = " + dir + "\nA->B.group.id = ${file:" + secrets + ":user}\n",
			check: groupIs("alice")},
		{name: "file that is the allowed path", file: providersBase,
			extra: "config.providers.file.param.allowed.paths = " + secrets + "\nA->B.group.id = ${file:" + secrets + ":user}\n",
			check: groupIs("alice")},
		{name: "directory inside allowed.paths", file: providersBase,
			extra: "config.providers.dir.param.allowed.paths = " + dir + "\nA->B.group.id = ${dir:" + dir + ":password}\n",
			check: groupIs("pw")},
		{name: "directory provider without a directory", file: providersBase, extra: "A->B.group.id = ${dir::password}\n",
			errKeys: []string{"A->B.group.id"}, problem: "the directory provider needs a directory: write ${dir:/dir:file}"},
		{name: "file provider without a file", file: providersBase, extra: "A->B.group.id = ${file::user}\n",
			errKeys: []string{"A->B.group.id"}, problem: "the file provider needs a file: write ${file:/path/to/file.properties:key}"},
		{name: "a missing file is named once", file: providersBase, extra: "A->B.group.id = ${file:" + missing + ":user}\n",
			errKeys: []string{"A->B.group.id"}, problem: "read " + missing + ": no such file or directory"},
	})
}

// REST basic authentication: each problem with the JAAS file or its users
// files is reported under where the path came from and names the file; the
// module's flag reaches the parsed module.
func TestRESTJAASFileErrors(t *testing.T) {
	dir := t.TempDir()
	users := restWrite(t, dir, "users.properties", "alice: secret\n")
	const module = "org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule"
	jaas := func(name, content string) string { return restWrite(t, dir, name, content) }
	base := "listeners = http://127.0.0.1:8083\nrest.extension.classes = " + BasicAuthExtensionClass + "\nrest.basic.auth.jaas.config.file = "
	for _, tc := range []struct {
		name, path, want string
	}{
		{"syntax", jaas("syntax.jaas", "KafkaConnect {\n"), "JAAS file " + dir + "/syntax.jaas: line 2, column 1: section KafkaConnect is not closed"},
		{"no entry", jaas("other.jaas", "KafkaServer { "+module+" required file=\""+users+"\"; };\n"),
			"JAAS file " + dir + "/other.jaas has no KafkaConnect entry"},
		{"other module", jaas("module.jaas", "KafkaConnect { org.example.Login required file=\""+users+"\"; };\n"),
			"JAAS file " + dir + "/module.jaas: login module org.example.Login is not supported"},
		{"no file option", jaas("nofile.jaas", "KafkaConnect { "+module+" required; };\n"),
			"JAAS file " + dir + "/nofile.jaas: " + PropertyFileLoginModuleName + " needs file=\"<users file>\""},
		{"blank file option", jaas("blank.jaas", "KafkaConnect { "+module+" required file=\" \"; };\n"),
			"JAAS file " + dir + "/blank.jaas: " + PropertyFileLoginModuleName + " needs file=\"<users file>\""},
		{"users file missing", jaas("missing.jaas", "KafkaConnect { "+module+" required file=\""+dir+"/nope\"; };\n"),
			"JAAS file " + dir + "/missing.jaas: read the users file"},
	} {
		_, _, err := mutantsParse(t, base+tc.path+"\n")
		if p, ok := mutantsProblem(err, KeyRESTBasicAuthJAASFile); !ok || !strings.HasPrefix(p, tc.want) {
			t.Errorf("%s: %v\nwant %q under %s", tc.name, err, tc.want, KeyRESTBasicAuthJAASFile)
		}
	}
	cfg, _, err := mutantsParse(t, base+jaas("ok.jaas", "KafkaConnect { "+module+" SUFFICIENT file=\""+users+"\"; };\n")+"\n")
	if err != nil || cfg.REST.Auth == nil || len(cfg.REST.Auth.Modules) != 1 || cfg.REST.Auth.Modules[0].Flag != "sufficient" || cfg.REST.Auth.Modules[0].Path != users {
		t.Errorf("parsed module: %v %+v", err, cfg)
	}
	// The JAAS file key without the extension is refused, unless empty.
	_, _, err = mutantsParse(t, "rest.basic.auth.jaas.config.file = "+users+"\n")
	if _, ok := mutantsProblem(err, KeyRESTBasicAuthJAASFile); !ok {
		t.Errorf("JAAS file without the extension: %v", err)
	}
	if _, _, err = mutantsParse(t, "rest.basic.auth.jaas.config.file = \n"); err != nil {
		t.Errorf("empty JAAS file key without the extension: %v", err)
	}
}

// listeners.https.ssl.client.auth: requested and required ask for client
// certificates checked against the trust store; none (the default) does not.
func TestRESTClientAuth(t *testing.T) {
	for _, tc := range []struct {
		auth string
		want tls.ClientAuthType
	}{
		{"", tls.NoClientCert},
		{"none", tls.NoClientCert},
		{"requested", tls.VerifyClientCertIfGiven},
		{" Required ", tls.RequireAndVerifyClientCert},
	} {
		extra := "listeners = https://127.0.0.1:8443\n" + restServerStore("listeners.https.") + restTrustStore("listeners.https.")
		if tc.auth != "" {
			extra += "listeners.https.ssl.client.auth = " + tc.auth + "\n"
		}
		cfg, _, err := mutantsParse(t, extra)
		if err != nil || len(cfg.Listeners) != 1 || cfg.Listeners[0].TLS == nil {
			t.Errorf("%q: %v", tc.auth, err)
			continue
		}
		srv := cfg.Listeners[0].TLS
		if srv.ClientAuth != tc.want || tc.want != tls.NoClientCert && srv.ClientCAs == nil {
			t.Errorf("%q: client auth %v, CAs %v, want %v", tc.auth, srv.ClientAuth, srv.ClientCAs != nil, tc.want)
		}
	}
}

// SASL checks per mechanism: GSSAPI refuses callback handlers too; Kafka's
// own login classes are accepted; a broken sasl.jaas.config is one error;
// warnings about keys read for several clusters are given once; an empty
// or default kinit command is not warned about.
func TestSASLMechanismChecks(t *testing.T) {
	const krb = "A.sasl.kerberos.service.name = kafka\nA.sasl.jaas.config = com.sun.security.auth.module.Krb5LoginModule required useTicketCache=true;\n"
	const oauth = "A.sasl.mechanism = OAUTHBEARER\n" + oauthHandler + "A.sasl.oauthbearer.token.endpoint.url = https://idp/token\n" +
		`A.sasl.jaas.config = org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="id" clientSecret="s";` + "\n"
	const plainBoth = "B.security.protocol = SASL_PLAINTEXT\nsasl.mechanism = PLAIN\n" +
		`sasl.jaas.config = org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";` + "\n"
	runParseCases(t, []parseCase{
		{name: "GSSAPI with a login callback handler", file: saslBase, extra: krb + "A.sasl.login.callback.handler.class = com.example.Handler\n",
			errKeys: []string{"A.sasl.login.callback.handler.class"}},
		{name: "GSSAPI with Kafka's Kerberos login class", file: saslBase, extra: krb + "A.sasl.login.class = org.apache.kafka.common.security.kerberos.KerberosLogin\n", noWarn: true},
		{name: "OAUTHBEARER with Kafka's refreshing login class", file: saslBase, extra: oauth + "A.sasl.login.class = org.apache.kafka.common.security.oauthbearer.internals.OAuthBearerRefreshingLogin\n", noWarn: true},
		{name: "GSSAPI with a broken sasl.jaas.config", file: saslBase,
			extra:   "A.sasl.kerberos.service.name = kafka\nA.sasl.jaas.config = com.sun.security.auth.module.Krb5LoginModule required useTicketCache=true\n",
			errKeys: []string{"A.sasl.jaas.config"}, problem: "not terminated by ';'"},
		{name: "a broker key for two clusters", file: saslBase, extra: plainBoth + "sasl.enabled.mechanisms = PLAIN\n",
			warns: []string{"sasl.enabled.mechanisms is a broker setting; Strait's clients ignore it"}},
		{name: "a kinit command", file: saslBase, extra: krb + "A.sasl.kerberos.kinit.cmd = /opt/krb5/bin/kinit\n",
			warns: []string{"A.sasl.kerberos.kinit.cmd is ignored: Strait renews Kerberos tickets itself (keytab) or reads the ticket cache as kinit leaves it"}},
		{name: "an option Krb5LoginModule does not take", file: saslBase,
			extra: "A.sasl.kerberos.service.name = kafka\nA.sasl.jaas.config = com.sun.security.auth.module.Krb5LoginModule required useTicketCache=true useKeytab=true;\n",
			warns: []string{`A.sasl.jaas.config: option "useKeytab" of com.sun.security.auth.module.Krb5LoginModule is not known to Strait and is ignored`}},
		{name: "OAUTHBEARER without a token endpoint", file: saslBase,
			extra:   "A.sasl.mechanism = OAUTHBEARER\n" + oauthHandler + `A.sasl.jaas.config = org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="id" clientSecret="s";` + "\n",
			errKeys: []string{"A.sasl.oauthbearer.token.endpoint.url"}, problem: "A.sasl.oauthbearer.token.endpoint.url: missing: the OAuth token endpoint"},
		// The handler with white space around it (an environment variable)
		// is the handler: before the fix saslNoHandlers refused it as "only
		// used with sasl.mechanism=OAUTHBEARER".
		{name: "an OAUTHBEARER handler with white space around it", file: saslBase,
			extra:   "A.sasl.mechanism = OAUTHBEARER\nA.sasl.oauthbearer.token.endpoint.url = https://idp/token\n" + `A.sasl.jaas.config = org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="id" clientSecret="s";` + "\n",
			environ: []string{"STRAIT_A_SASL_LOGIN_CALLBACK_HANDLER_CLASS=org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerLoginCallbackHandler "},
			check:   func(cfg *Config) bool { return cfg.Clusters[0].Security.SASLConfig.OAuth != nil }},
		{name: "the default kinit command", file: saslBase, extra: krb + "A.sasl.kerberos.kinit.cmd = /usr/bin/kinit\n", noWarn: true},
		{name: "an empty kinit command", file: saslBase, extra: krb + "A.sasl.kerberos.kinit.cmd = \n", noWarn: true},
	})
}

// OAUTHBEARER's JAAS options and refresh bounds, AWS_MSK_IAM's options:
// errors name the option, never its value.
func TestSASLOptionChecks(t *testing.T) {
	const oauth = "A.sasl.mechanism = OAUTHBEARER\n" + oauthHandler + "A.sasl.oauthbearer.token.endpoint.url = https://idp/token\n"
	const module = "A.sasl.jaas.config = org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
	const creds = module + `clientId="id" clientSecret="s";` + "\n"
	const msk = "A.sasl.mechanism = AWS_MSK_IAM\nA.sasl.jaas.config = software.amazon.msk.auth.iam.IAMLoginModule required "
	aws := func(check func(a *AWSIAM) bool) func(cfg *Config) bool {
		return func(cfg *Config) bool { a := cfg.Clusters[0].Security.SASLConfig.AWS; return a != nil && check(a) }
	}
	buffer := func(want time.Duration) func(cfg *Config) bool {
		return func(cfg *Config) bool {
			o := cfg.Clusters[0].Security.SASLConfig.OAuth
			return o != nil && o.Refresh.Buffer == want
		}
	}
	runParseCases(t, []parseCase{
		{name: "no client id", file: saslBase, extra: oauth + module + `clientSecret="hunter2";` + "\n",
			errKeys: []string{"A.sasl.jaas.config"}, problem: "option clientId is missing or empty"},
		{name: "extension named auth", file: saslBase, extra: oauth + module + `clientId="id" clientSecret="s" extension_auth="hunter2";` + "\n",
			errKeys: []string{"A.sasl.jaas.config"}, problem: `A.sasl.jaas.config: option extension_auth: an extension name is letters only and not "auth"`},
		{name: "extension value with a control character", file: saslBase, extra: oauth + module + `clientId="id" clientSecret="s" extension_pool="hunter\u00012";` + "\n",
			errKeys: []string{"A.sasl.jaas.config"}, problem: "A.sasl.jaas.config: option extension_pool: an extension value is printable ASCII"},
		{name: "refresh buffer at 3600 s", file: saslBase, extra: oauth + creds + "A.sasl.login.refresh.buffer.seconds = 3600\n", check: buffer(time.Hour)},
		{name: "refresh buffer at 0 s", file: saslBase, extra: oauth + creds + "A.sasl.login.refresh.buffer.seconds = 0\n", check: buffer(0)},
		{name: "refresh buffer above 3600 s", file: saslBase, extra: oauth + creds + "A.sasl.login.refresh.buffer.seconds = 3601\n",
			errKeys: []string{"A.sasl.login.refresh.buffer.seconds"}, problem: `"3601" is not a number from 0 to 3600`},
		{name: "refresh buffer below 0 s", file: saslBase, extra: oauth + creds + "A.sasl.login.refresh.buffer.seconds = -1\n",
			errKeys: []string{"A.sasl.login.refresh.buffer.seconds"}},
		{name: "an AWS option the library does not have", file: saslBase, extra: msk + `awsRegion="us-east-1";` + "\n",
			warns: []string{`A.sasl.jaas.config: option "awsRegion" of software.amazon.msk.auth.iam.IAMLoginModule is not known to Strait and is ignored`}},
		{name: "default providers said explicitly", file: saslBase, extra: msk + `awsAddDefaultProviders="true";` + "\n",
			check: aws(func(a *AWSIAM) bool { return a.AddDefaultProviders })},
		{name: "a role without an STS region", file: saslBase, extra: msk + `awsRoleArn="arn:aws:iam::1:role/r" awsRoleSessionName="mm2";` + "\n",
			check: aws(func(a *AWSIAM) bool { return a.STSRegion == "aws-global" && a.RoleSessionName == "mm2" })},
		{name: "no retries, no backoff", file: saslBase, extra: msk + `awsMaxRetries="0" awsMaxBackOffTimeMs="0";` + "\n",
			check: aws(func(a *AWSIAM) bool { return a.MaxRetries == 0 && a.MaxBackoff == 0 })},
		{name: "negative retries", file: saslBase, extra: msk + `awsMaxRetries="-1";` + "\n",
			errKeys: []string{"A.sasl.jaas.config"}, problem: "option awsMaxRetries is not a non-negative integer"},
		{name: "negative backoff", file: saslBase, extra: msk + `awsMaxBackOffTimeMs="-1";` + "\n",
			errKeys: []string{"A.sasl.jaas.config"}, problem: "option awsMaxBackOffTimeMs is not a non-negative number of milliseconds"},
		{name: "an STS region without a session name", file: saslBase, extra: msk + `awsRoleArn="arn:aws:iam::1:role/r" awsStsRegion="eu-west-1";` + "\n",
			check: aws(func(a *AWSIAM) bool { return a.RoleSessionName == "aws-msk-iam-auth" && a.STSRegion == "eu-west-1" })},
	})
	// Neither error shows the value.
	for _, extra := range []string{
		module + `clientId="id" clientSecret="s" extension_auth="hunter2";`,
		module + `clientId="id" clientSecret="s" extension_pool="hunter\u00012";`,
	} {
		_, _, err := Parse([]byte(saslBase+oauth+extra+"\n"), Properties, nil)
		if err == nil || strings.Contains(err.Error(), "hunter") {
			t.Errorf("%s: %v", extra, err)
		}
	}
}

// Kerberos: the keytab option is required with useKeyTab=true, the ticket
// cache option reaches its field, and the renewal keys (which have no
// effect) must still be numbers from 0 to 1.
func TestSASLKerberosOptions(t *testing.T) {
	const svc = "A.sasl.kerberos.service.name = kafka\n"
	const krb = "A.sasl.jaas.config = com.sun.security.auth.module.Krb5LoginModule required "
	kerberos := func(check func(k *Kerberos) bool) func(cfg *Config) bool {
		return func(cfg *Config) bool { k := cfg.Clusters[0].Security.SASLConfig.Kerberos; return k != nil && check(k) }
	}
	runParseCases(t, []parseCase{
		{name: "keytab missing", file: saslBase, extra: svc + krb + `useKeyTab=true principal="mm2@EXAMPLE.COM";` + "\n",
			errKeys: []string{"A.sasl.jaas.config"}, problem: "option keyTab is missing: the keytab file useKeyTab=true reads"},
		{name: "ticket cache", file: saslBase, extra: svc + krb + `useTicketCache=true ticketCache="/tmp/krb5cc_1000";` + "\n", noWarn: true,
			check: kerberos(func(k *Kerberos) bool { return k.UseTicketCache && k.TicketCache == "/tmp/krb5cc_1000" })},
		{name: "renew window factor above 1", file: saslBase, extra: svc + krb + "useTicketCache=true;\nA.sasl.kerberos.ticket.renew.window.factor = 1.5\n",
			errKeys: []string{"A.sasl.kerberos.ticket.renew.window.factor"}, problem: `"1.5" is not a number from 0 to 1`},
		{name: "renew jitter below 0", file: saslBase, extra: svc + krb + "useTicketCache=true;\nA.sasl.kerberos.ticket.renew.jitter = -0.1\n",
			errKeys: []string{"A.sasl.kerberos.ticket.renew.jitter"}},
		{name: "renew window factor at 1", file: saslBase, extra: svc + krb + "useTicketCache=true;\nA.sasl.kerberos.ticket.renew.window.factor = 1\n",
			warns: []string{"A.sasl.kerberos.ticket.renew.window.factor has no effect: Strait's Kerberos client (gokrb5) renews keytab logins on its own schedule"}},
		{name: "renew jitter at 0", file: saslBase, extra: svc + krb + "useTicketCache=true;\nA.sasl.kerberos.ticket.renew.jitter = 0\n",
			warns: []string{"A.sasl.kerberos.ticket.renew.jitter has no effect: Strait's Kerberos client (gokrb5) renews keytab logins on its own schedule"}},
	})
}

// Store keys that contradict each other are refused under the key to
// change, saying what to do.
func TestTLSStoreKeyConflicts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		key   string
		want  string
	}{
		{"PEM trust store file with a password",
			[]string{"A.ssl.truststore.type = PEM", "A.ssl.truststore.location = " + fixture("ca.pem"), "A.ssl.truststore.password = secret-9"},
			"A.ssl.truststore.password", "a PEM trust store has no password: unset it"},
		{"inline PEM trust store with a password",
			[]string{"A.ssl.truststore.type = PEM", "A.ssl.truststore.certificates = " + inline(t, "ca.pem"), "A.ssl.truststore.password = secret-9"},
			"A.ssl.truststore.password", "a PEM trust store has no password: unset it"},
		{"PEM trust store password without a store",
			[]string{"A.ssl.truststore.type = PEM", "A.ssl.truststore.password = secret-9"},
			"A.ssl.truststore.password", "set but A.ssl.truststore.location is not"},
		{"PKCS12 trust store without its password",
			[]string{"A.ssl.truststore.type = PKCS12", "A.ssl.truststore.location = " + fixture("truststore.p12")},
			"A.ssl.truststore.password", "missing: the trust store " + fixture("truststore.p12") + " (A.ssl.truststore.location) needs its password"},
		{"inline key in a JKS key store",
			[]string{"A.ssl.keystore.certificate.chain = " + inline(t, "client-chain.pem"), "A.ssl.keystore.key = " + inline(t, "client.key")},
			"A.ssl.keystore.key", "an inline key needs A.ssl.keystore.type = PEM, not JKS"},
		{"inline key and a key store file",
			[]string{"A.ssl.keystore.type = PEM", "A.ssl.keystore.location = " + fixture("client.pem"), "A.ssl.keystore.certificate.chain = " + inline(t, "client-chain.pem"), "A.ssl.keystore.key = " + inline(t, "client.key")},
			"A.ssl.keystore.key", "A.ssl.keystore.location is set too: give the key one way"},
		{"PEM key store file with a password",
			[]string{"A.ssl.keystore.type = PEM", "A.ssl.keystore.location = " + fixture("client.pem"), "A.ssl.keystore.password = secret-9"},
			"A.ssl.keystore.password", "a PEM key store has no password: unset it (an encrypted key's password is A.ssl.key.password)"},
		{"a key password for a key that is not encrypted",
			[]string{"A.ssl.keystore.type = PEM", "A.ssl.keystore.certificate.chain = " + inline(t, "client-chain.pem"), "A.ssl.keystore.key = " + inline(t, "client.key"), "A.ssl.key.password = secret-9"},
			"A.ssl.key.password", "key in A.ssl.keystore.key: wrong key password: the key is not encrypted (BEGIN PRIVATE KEY), unset the key password"},
		{"PEM key store password without a store",
			[]string{"A.ssl.keystore.type = PEM", "A.ssl.keystore.password = secret-9"},
			"A.ssl.keystore.password", "set but A.ssl.keystore.location is not"},
		{"inline PEM key with a key store password",
			[]string{"A.ssl.keystore.type = PEM", "A.ssl.keystore.certificate.chain = " + inline(t, "client-chain.pem"), "A.ssl.keystore.key = " + inline(t, "client.key"), "A.ssl.keystore.password = secret-9"},
			"A.ssl.keystore.password", "a PEM key store has no password"},
	} {
		_, _, err := parseTLS(tc.lines...)
		if p, ok := mutantsProblem(err, tc.key); !ok || !strings.HasPrefix(p, tc.want) {
			t.Errorf("%s: %v\nwant %q under %s", tc.name, err, tc.want, tc.key)
		}
	}
}
