package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/checkpoint"
)

// allGroupsResult is a line of `strait failover --all-groups --json`.
type allGroupsResult struct {
	Group      string `json:"group"`
	Partitions int    `json:"partitions"`
	Result     string `json:"result"`
	Reason     string `json:"reason"`
}

// failoverAll runs `strait failover --all-groups --json` from A to B with
// extra flags and returns its exit code and results by group.
func failoverAll(t *testing.T, cfg string, extra ...string) (int, map[string]allGroupsResult) {
	t.Helper()
	p := startProcess(t, append([]string{"failover", "-c", cfg, "--all-groups", "--from", "A", "--to", "B", "--json"}, extra...)...)
	code := p.wait(t, 120*time.Second)
	out := p.output.String()
	start, end := strings.Index(out, "[\n"), strings.LastIndex(out, "]")
	if start < 0 || end < start {
		t.Fatalf("failover --all-groups %v: exit %d, no JSON:\n%s", extra, code, out)
	}
	var rs []allGroupsResult
	if err := json.Unmarshal([]byte(out[start:end+1]), &rs); err != nil {
		t.Fatalf("failover --all-groups output: %v\n%s", err, out)
	}
	byGroup := map[string]allGroupsResult{}
	for _, r := range rs {
		byGroup[r.Group] = r
	}
	return code, byGroup
}

// TestFailoverAllGroups: three groups consumed orders on A; `strait
// failover --all-groups` moves every group the checkpoints cover in one
// run. With one group still active on B it refuses that group (exit 1)
// and commits the others their checkpoints' offsets; --dry-run commits
// nothing; once the group's consumers on B stop, a second run moves it
// too and exits 0.
func TestFailoverAllGroups(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 2, nil)
	a.produce(t, "orders", 2, 0, 500, "all") // 1,000 records
	text := props([]*cluster{a, b}, "A->B.enabled = true", "emit.checkpoints.interval.seconds = 1")
	startWorker(t, text)
	waitCopied(t, b, "A.orders", 1000, 60*time.Second)

	wants := map[string]map[checkpoint.TopicPartition]upDown{}
	for group, n := range map[string]int{"app1": 300, "app2": 700, "busy": 500} {
		commitStarts(t, a, group, "orders")
		if got := len(consumeGroup(t, a, group, n, "orders")); got != n {
			t.Fatalf("group %s consumed %d records on A, want %d", group, got, n)
		}
		want := map[checkpoint.TopicPartition]upDown{}
		for tp, off := range committed(t, a, group) {
			want[checkpoint.TopicPartition{Topic: "A." + tp.Topic, Partition: tp.Partition}] = upDown{off, off} // a gap-free exact copy
		}
		wants[group] = want
		waitCheckpoints(t, b, "A", group, want)
	}

	// busy has a live member on B: failing it over would race it.
	member := b.client(t, kgo.ConsumerGroup("busy"), kgo.ConsumeTopics("A.orders"), kgo.DisableAutoCommit())
	waitFor(t, 30*time.Second, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		member.PollFetches(ctx) // joins the group
		d, err := b.admin(t).DescribeGroups(context.Background(), "busy")
		if err != nil {
			return false, err.Error()
		}
		return d["busy"].State == "Stable", "group busy on B is " + d["busy"].State
	})

	cfg := writeFile(t, "mm2.properties", text)
	code, rs := failoverAll(t, cfg, "--dry-run")
	if code != 1 || rs["app1"].Result != "dry-run" || rs["app2"].Result != "dry-run" || rs["busy"].Result != "refused" {
		t.Fatalf("--dry-run: exit %d, results %+v; want 1, app1 and app2 dry-run, busy refused", code, rs)
	}
	for group := range wants {
		if got := committed(t, b, group); len(got) != 0 {
			t.Fatalf("--dry-run committed %v for %s on B", got, group)
		}
	}

	code, rs = failoverAll(t, cfg)
	if code != 1 || rs["busy"].Result != "refused" || !strings.Contains(rs["busy"].Reason, "active member") {
		t.Fatalf("exit %d, busy: %+v; want exit 1 and busy refused for its active member", code, rs["busy"])
	}
	for _, group := range []string{"app1", "app2"} {
		if r := rs[group]; r.Result != "committed" || r.Partitions != 2 {
			t.Errorf("%s: %+v, want committed on 2 partitions", group, r)
		}
		checkCommitted(t, b, group, wants[group])
	}
	if got := committed(t, b, "busy"); len(got) != 0 {
		t.Fatalf("refused group busy has commits on B: %v", got)
	}

	member.Close() // leaves the group
	code, rs = failoverAll(t, cfg)
	if code != 0 || len(rs) != 3 {
		t.Fatalf("after busy's member left: exit %d, results %+v; want 0 and all three committed", code, rs)
	}
	for group, want := range wants {
		if r := rs[group]; r.Result != "committed" {
			t.Errorf("%s: %+v, want committed", group, r)
		}
		checkCommitted(t, b, group, want)
	}
}
