package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/strait-replicator/strait/internal/kafkatest"
)

// TestTopicACLsAndDenial runs Strait between clusters that enforce ACLs:
// the source's topic ACLs are copied to the remote topics by MM2's rules,
// and a remote topic Strait may not write fails only its own task, with
// an error naming the topic, while the other topic keeps being copied.
func TestTopicACLsAndDenial(t *testing.T) {
	const pass = "pw"
	topicACL := func(name string, pattern kmsg.ACLResourcePatternType, op kmsg.ACLOperation, allow bool) kfake.ACL {
		return kfake.ACL{Resource: kmsg.ACLResourceTypeTopic, Name: name, Pattern: pattern, Operation: op, Allow: allow}
	}
	lit := kmsg.ACLResourcePatternTypeLiteral
	a, err := kafkatest.NewCluster("A", 1, kfake.EnableSASL(), kfake.EnableACLs(), kfake.Superuser("SCRAM-SHA-256", "strait", pass),
		kfake.GroupMinSessionTimeout(500*time.Millisecond),
		kfake.User("SCRAM-SHA-256", "alice", pass,
			topicACL("orders", lit, kmsg.ACLOperationRead, true),
			topicACL("orders", lit, kmsg.ACLOperationWrite, true),
			topicACL("ord", kmsg.ACLResourcePatternTypePrefixed, kmsg.ACLOperationRead, true)),
		kfake.User("SCRAM-SHA-256", "mallory", pass, topicACL("orders", lit, kmsg.ACLOperationAll, false)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	all := func(res kmsg.ACLResourceType) kfake.ACL {
		return kfake.ACL{Resource: res, Name: "*", Pattern: lit, Operation: kmsg.ACLOperationAll, Allow: true}
	}
	b, err := kafkatest.NewCluster("B", 1, kfake.EnableSASL(), kfake.EnableACLs(), kfake.Superuser("SCRAM-SHA-256", "admin", pass),
		kfake.GroupMinSessionTimeout(500*time.Millisecond),
		kfake.User("SCRAM-SHA-256", "strait", pass, all(kmsg.ACLResourceTypeTopic), all(kmsg.ACLResourceTypeGroup),
			all(kmsg.ACLResourceTypeCluster), all(kmsg.ACLResourceTypeTransactionalId),
			topicACL("A.restricted", lit, kmsg.ACLOperationWrite, false)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	as := func(c *kfake.Cluster, user string, opts ...kgo.Opt) *kgo.Client {
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...), kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha256Mechanism())}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	ctx := context.Background()
	srcAdmin := as(a, "strait", kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for _, topic := range []string{"orders", "restricted"} {
		req := kmsg.NewPtrCreateTopicsRequest()
		ct := kmsg.NewCreateTopicsRequestTopic()
		ct.Topic, ct.NumPartitions, ct.ReplicationFactor = topic, 1, 1
		req.Topics = append(req.Topics, ct)
		resp, err := req.RequestWith(ctx, srcAdmin)
		if err == nil && len(resp.Topics) != 1 {
			err = fmt.Errorf("%d topics in the answer", len(resp.Topics))
		}
		if err == nil {
			err = kerr.ErrorForCode(resp.Topics[0].ErrorCode)
		}
		if err != nil {
			t.Fatalf("create %s on A: %v", topic, err)
		}
		for i := range 10 {
			if err := srcAdmin.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: fmt.Appendf(nil, "%s-%d", topic, i)}).FirstErr(); err != nil {
				t.Fatalf("produce to %s: %v", topic, err)
			}
		}
	}

	sasl := func(alias string, c *kfake.Cluster) []string {
		return []string{
			alias + ".bootstrap.servers = " + strings.Join(c.ListenAddrs(), ","),
			alias + ".security.protocol = SASL_PLAINTEXT",
			alias + ".sasl.mechanism = SCRAM-SHA-256",
			alias + `.sasl.jaas.config = org.apache.kafka.common.security.scram.ScramLoginModule required username="strait" password="pw";`,
		}
	}
	addr := freeAddr(t)
	lines := append(append([]string{"clusters = A, B"}, sasl("A", a)...), sasl("B", b)...)
	lines = append(lines, "A->B.enabled = true", "tasks.max = 2", "replication.factor = 1", "offset.storage.replication.factor = 1",
		"config.storage.replication.factor = 1", "status.storage.replication.factor = 1", "offset-syncs.topic.replication.factor = 1",
		"checkpoints.topic.replication.factor = 1", "heartbeats.topic.replication.factor = 1",
		"refresh.topics.interval.seconds = 1", "offset.flush.interval.ms = 500",
		"session.timeout.ms = 2000", "heartbeat.interval.ms = 300", "listeners = http://"+addr)
	cfg := writeFile(t, "acl.properties", strings.Join(lines, "\n")+"\n")
	p := startProcess(t, "run", "-c", cfg)

	tgtAdmin := as(b, "admin")
	waitFor(t, 60*time.Second, func() (bool, string) {
		req := kmsg.NewPtrListOffsetsRequest()
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "A.orders"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, tgtAdmin)
		if err != nil || len(resp.Topics) == 0 || len(resp.Topics[0].Partitions) == 0 {
			return false, fmt.Sprintf("list offsets of A.orders: %v", err)
		}
		end := resp.Topics[0].Partitions[0].Offset
		return end == 10, fmt.Sprintf("A.orders has %d of 10 records; strait's output:\n%s", end, p.output)
	})

	// The task of A.restricted failed, naming the topic and the refusal.
	var st struct {
		Tasks []struct {
			ID    int    `json:"id"`
			State string `json:"state"`
			Trace string `json:"trace"`
		} `json:"tasks"`
	}
	waitFor(t, 30*time.Second, func() (bool, string) {
		rest(t, "GET", "http://"+addr+"/connectors/A.B.MirrorSourceConnector/status", 200, &st)
		for _, task := range st.Tasks {
			if task.State == "FAILED" && strings.Contains(task.Trace, "A.restricted") && strings.Contains(task.Trace, "TOPIC_AUTHORIZATION_FAILED") {
				return true, ""
			}
		}
		return false, fmt.Sprintf("no task failed on A.restricted: %+v", st.Tasks)
	})

	// ACLs on the target, for the remote topic.
	var got []string
	waitFor(t, 30*time.Second, func() (bool, string) {
		req := kmsg.NewPtrDescribeACLsRequest()
		req.ResourceType, req.ResourcePatternType = kmsg.ACLResourceTypeTopic, kmsg.ACLResourcePatternTypeAny
		req.Operation, req.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
		resp, err := req.RequestWith(ctx, tgtAdmin)
		if err != nil {
			return false, err.Error()
		}
		got = got[:0]
		for _, r := range resp.Resources {
			if !strings.HasPrefix(r.ResourceName, "A.ord") {
				continue
			}
			for _, acl := range r.ACLs {
				got = append(got, fmt.Sprintf("%s %s %s %s %s", r.ResourceName, r.ResourcePatternType, acl.Principal, acl.Operation, acl.PermissionType))
			}
		}
		slices.Sort(got)
		return len(got) >= 2, fmt.Sprintf("ACLs on B: %v", got)
	})
	want := []string{"A.orders LITERAL User:alice READ ALLOW", "A.orders LITERAL User:mallory ALL DENY"}
	if !slices.Equal(got, want) {
		t.Errorf("ACLs on B for the remote topic: %v, want %v (ALLOW WRITE and prefixed patterns are not copied)", got, want)
	}
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM (a failed task does not stop the worker); output:\n%s", code, p.output)
	}
}
