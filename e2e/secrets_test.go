package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/strait-replicator/strait/internal/kafkatest"
)

// TestSecretsFromConfigProviders: the target's SASL password comes from a
// FileConfigProvider file, its user name from a DirectoryConfigProvider file
// and the topics from an EnvVarConfigProvider variable, as Kafka's
// config.providers define them. Strait authenticates with them and
// replicates, and no resolved value appears in its logs (debug level), any
// REST answer, the status page's data or /metrics: REST shows the
// references as written. A bad value from a provider is refused naming the
// key, without the value.
func TestSecretsFromConfigProviders(t *testing.T) {
	const user, secret = "strait-user-7c1", "s3cret-9f2e-Pass"
	a := newCluster(t, "A", 3)
	bc, err := kafkatest.NewCluster("B", 3, kfake.GroupMinSessionTimeout(500*time.Millisecond), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", user, secret))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bc.Close)
	b := &cluster{"B", bc}
	a.createTopic(t, "orders", 2, nil)
	a.produce(t, "orders", 2, 0, 50, "secret")

	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets.properties")
	if err := os.WriteFile(secrets, []byte("b.password = "+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.user"), []byte(user), 0o600); err != nil {
		t.Fatal(err)
	}
	// The topics value carries a marker that must not show either.
	t.Setenv("STRAIT_TEST_TOPICS", "orders|never-"+secret)
	addr := freeAddr(t)
	conf := props([]*cluster{a, b},
		"config.providers = file, dir, env",
		"config.providers.file.class = org.apache.kafka.common.config.provider.FileConfigProvider",
		"config.providers.dir.class = org.apache.kafka.common.config.provider.DirectoryConfigProvider",
		"config.providers.env.class = org.apache.kafka.common.config.provider.EnvVarConfigProvider",
		"config.providers.env.param.allowlist.pattern = STRAIT_TEST_.*",
		"B.security.protocol = SASL_PLAINTEXT",
		"B.sasl.mechanism = SCRAM-SHA-256",
		`B.sasl.jaas.config = org.apache.kafka.common.security.scram.ScramLoginModule required username="${dir:`+dir+`:b.user}" password="${file:`+secrets+`:b.password}";`,
		"A->B.enabled = true",
		"A->B.topics = ${env:STRAIT_TEST_TOPICS}",
		"replication.factor = 3",
		"listeners = http://"+addr,
	)
	p := startProcess(t, "run", "-c", writeFile(t, "mm2.properties", conf), "--log-level", "debug")
	badm := kadm.NewClient(b.client(t, kgo.SASL(scram.Auth{User: user, Pass: secret}.AsSha256Mechanism())))
	waitFor(t, 30*time.Second, func() (bool, string) {
		ends, err := badm.ListEndOffsets(t.Context(), "A.orders")
		if err == nil {
			err = ends.Error()
		}
		var n int64
		ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
		return err == nil && n == 100, fmt.Sprintf("A.orders on B has %d records (%v), want 100; output:\n%s", n, err, p.output)
	})

	get := func(path string) string {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return string(body)
	}
	answers := map[string]string{}
	for _, path := range []string{"/", "/connectors?expand=status&expand=info", "/ui/", "/ui/progress", "/metrics"} {
		answers[path] = get(path)
	}
	for _, c := range []string{"A.B.MirrorSourceConnector", "A.B.MirrorCheckpointConnector", "A.B.MirrorHeartbeatConnector"} {
		for _, sub := range []string{"", "/config", "/tasks", "/status"} {
			path := "/connectors/" + c + sub
			answers[path] = get(path)
		}
	}
	if got := answers["/connectors/A.B.MirrorSourceConnector/config"]; !strings.Contains(got, "${env:STRAIT_TEST_TOPICS}") {
		t.Errorf("the connector config does not show topics as written: %s", got)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.output)
	}
	answers["logs"] = p.output.String()
	if !strings.Contains(answers["logs"], "level=DEBUG") {
		t.Errorf("no debug line in the logs, so the check below proves little:\n%s", answers["logs"])
	}
	for where, text := range answers {
		for _, s := range []string{secret, user} {
			if strings.Contains(text, s) {
				t.Errorf("%s shows the resolved value %q:\n%s", where, s, text)
			}
		}
	}

	// A bad value from a provider is refused, naming the key, not the value.
	bad := writeFile(t, "bad.properties", strings.Replace(conf, "A->B.enabled = true", "A->B.enabled = true\nA->B.tasks.max = ${file:"+secrets+":b.password}", 1))
	pb := startProcess(t, "run", "-c", bad)
	if code := pb.wait(t, 20*time.Second); code != 2 {
		t.Fatalf("exit %d, want 2:\n%s", code, pb.output)
	}
	if out := pb.output.String(); !strings.Contains(out, "A->B.tasks.max") || strings.Contains(out, secret) {
		t.Errorf("the error should name A->B.tasks.max and not show the value:\n%s", out)
	}
}
