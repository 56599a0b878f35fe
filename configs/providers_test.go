package configs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-multierror"
)

const providersBase = `clusters = A, B
A.bootstrap.servers = a:9092
B.bootstrap.servers = b:9092
A->B.enabled = true
config.providers = file, dir, env
config.providers.file.class = org.apache.kafka.common.config.provider.FileConfigProvider
config.providers.dir.class = org.apache.kafka.common.config.provider.DirectoryConfigProvider
config.providers.env.class = org.apache.kafka.common.config.provider.EnvVarConfigProvider
`

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigProviders(t *testing.T) {
	dir := t.TempDir()
	secrets := writeFile(t, dir, "secrets.properties", "user = alice\npass = s3cr;et=x\ntopics = orders.*\n")
	writeFile(t, dir, "password", "from-a-dir") // read whole: a line break would end the quoted JAAS value, as in Java
	props := providersBase + `A.security.protocol = SASL_PLAINTEXT
A.sasl.mechanism = PLAIN
A.sasl.jaas.config = org.apache.kafka.common.security.plain.PlainLoginModule required username="${file:` + secrets + `:user}" password="${file:` + secrets + `:pass}";
B.security.protocol = SASL_PLAINTEXT
B.sasl.mechanism = SCRAM-SHA-256
B.sasl.jaas.config = org.apache.kafka.common.security.scram.ScramLoginModule required username="${env:B_USER}" password="${dir:` + dir + `:password}";
A->B.topics = ${file:` + secrets + `:topics}
`
	for _, format := range []Format{Properties, YAML} {
		data := []byte(props)
		if format == YAML {
			data = []byte(toYAML(t, props))
		}
		cfg, _, err := Parse(data, format, []string{"B_USER=bob"})
		if err != nil {
			t.Fatalf("format %d: %v", format, err)
		}
		a, _ := cfg.Cluster("A")
		b, _ := cfg.Cluster("B")
		if got := a.Security.SASLConfig; got.Username != "alice" || string(got.Password) != `s3cr;et=x` {
			t.Errorf("format %d: A credentials %q %q", format, got.Username, string(got.Password))
		}
		if got := b.Security.SASLConfig; got.Username != "bob" || string(got.Password) != "from-a-dir" {
			t.Errorf("format %d: B credentials %q %q", format, got.Username, string(got.Password))
		}
		f, _ := cfg.Flow("A", "B")
		if !f.Topics.Filter.Match("orders.eu") || f.Topics.Filter.Match("payments") {
			t.Errorf("format %d: topics filter not resolved from the file", format)
		}
		if got := f.Settings()[KeyTopics]; got != "${file:"+secrets+":topics}" {
			t.Errorf("format %d: settings show %q, want the reference as written", format, got)
		}
	}
}

// toYAML writes flat properties as a flat YAML mapping.
func toYAML(t *testing.T, props string) string {
	t.Helper()
	m, err := ParseProperties([]byte(props))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for k, v := range m {
		sb.WriteString("'" + k + "': '" + strings.ReplaceAll(v, "'", "''") + "'\n")
	}
	return sb.String()
}

func TestConfigProviderErrors(t *testing.T) {
	dir := t.TempDir()
	secrets := writeFile(t, dir, "secrets.properties", "pass = hunter2\n")
	for _, tc := range []struct {
		name  string
		extra string
		env   []string
		want  []string // keys named by the errors
	}{
		{"missing file", "A->B.topics = ${file:" + dir + "/nope.properties:x}", nil, []string{"A->B.topics"}},
		{"missing key", "A->B.topics = ${file:" + secrets + ":nope}", nil, []string{"A->B.topics"}},
		{"missing env", "A->B.topics = ${env:NOPE}", nil, []string{"A->B.topics"}},
		{"env allowlist", "config.providers.env.param.allowlist.pattern = KAFKA_.*\nA->B.topics = ${env:SECRET}", []string{"SECRET=x"}, []string{"A->B.topics"}},
		{"allowed paths", "config.providers.file.param.allowed.paths = /nonexistent\nA->B.topics = ${file:" + secrets + ":pass}", nil, []string{"A->B.topics"}},
		{"dir escape", "A->B.topics = ${dir:" + dir + ":../x}", nil, []string{"A->B.topics"}},
		{"undeclared provider", "A->B.topics = ${vault:secret/x:y}", nil, []string{"A->B.topics"}},
		{"custom class", "config.providers = vault\nconfig.providers.vault.class = com.example.VaultConfigProvider", nil, []string{"config.providers.vault.class"}},
		{"bad value from a provider", "A->B.tasks.max = ${file:" + secrets + ":pass}", nil, []string{"A->B.tasks.max"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse([]byte(providersBase+tc.extra+"\n"), Properties, tc.env)
			var me *multierror.Error
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.As(err, &me) {
				t.Fatalf("not a list of key errors: %v", err)
			}
			var keys []string
			for _, e := range me.Errors {
				ke, ok := e.(*KeyError)
				if !ok {
					t.Fatalf("not a *KeyError: %v", e)
				}
				keys = append(keys, ke.Key)
			}
			if strings.Join(keys, ",") != strings.Join(tc.want, ",") {
				t.Errorf("errors name %v, want %v: %v", keys, tc.want, err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("a resolved secret is in the error: %v", err)
			}
		})
	}
}
