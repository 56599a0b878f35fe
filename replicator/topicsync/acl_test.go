package topicsync

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestRemoteACLs(t *testing.T) {
	lit, pre := kmsg.ACLResourcePatternTypeLiteral, kmsg.ACLResourcePatternTypePrefixed
	allow, deny := kmsg.ACLPermissionTypeAllow, kmsg.ACLPermissionTypeDeny
	acl := func(topic string, pattern kmsg.ACLResourcePatternType, op kmsg.ACLOperation, perm kmsg.ACLPermissionType) topicACL {
		return topicACL{Topic: topic, Pattern: pattern, Principal: "User:alice", Host: "*", Operation: op, Permission: perm}
	}
	tests := []struct {
		name string
		in   topicACL
		want string // "" when dropped
	}{
		{"allow read copied", acl("orders", lit, kmsg.ACLOperationRead, allow), "A.orders READ ALLOW"},
		{"allow describe copied", acl("orders", lit, kmsg.ACLOperationDescribe, allow), "A.orders DESCRIBE ALLOW"},
		{"allow write dropped", acl("orders", lit, kmsg.ACLOperationWrite, allow), ""},
		{"allow all becomes read", acl("orders", lit, kmsg.ACLOperationAll, allow), "A.orders READ ALLOW"},
		{"deny write kept", acl("orders", lit, kmsg.ACLOperationWrite, deny), "A.orders WRITE DENY"},
		{"deny all kept", acl("orders", lit, kmsg.ACLOperationAll, deny), "A.orders ALL DENY"},
		{"prefixed pattern dropped", acl("orders", pre, kmsg.ACLOperationRead, allow), ""},
		{"topic not replicated dropped", acl("secret", lit, kmsg.ACLOperationRead, allow), ""},
	}
	replicate := func(topic string) bool { return topic != "secret" }
	remote := func(topic string) string { return "A." + topic }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := remoteACLs([]topicACL{tt.in}, replicate, remote)
			var got []string
			for _, a := range out {
				got = append(got, fmt.Sprintf("%s %s %s", a.Topic, a.Operation, a.Permission))
			}
			if s := strings.Join(got, ","); s != tt.want {
				t.Errorf("got %q, want %q", s, tt.want)
			}
		})
	}
	// The result is sorted by topic, principal, host, operation and
	// permission (operations and permissions by Kafka's numbers),
	// whatever the source's order.
	bind := func(topic, principal, host string, op kmsg.ACLOperation, perm kmsg.ACLPermissionType) topicACL {
		return topicACL{Topic: topic, Pattern: lit, Principal: principal, Host: host, Operation: op, Permission: perm}
	}
	read, describe := kmsg.ACLOperationRead, kmsg.ACLOperationDescribe
	sorted := []topicACL{
		bind("a", "User:b", "h2", read, allow),
		bind("a", "User:c", "h1", read, allow),
		bind("a", "User:c", "h2", read, deny), // DENY (2) before ALLOW (3), as Kafka numbers them
		bind("a", "User:c", "h2", read, allow),
		bind("a", "User:c", "h2", describe, allow),
		bind("b", "User:a", "h1", read, allow),
	}
	in := make([]topicACL, len(sorted))
	for i, a := range sorted {
		in[len(sorted)-1-i] = a
	}
	in[0], in[3] = in[3], in[0]
	for i := range sorted {
		sorted[i].Topic = "A." + sorted[i].Topic
	}
	if got := remoteACLs(in, replicate, remote); !slices.Equal(got, sorted) {
		t.Errorf("order:\n got %v\nwant %v", got, sorted)
	}
	// ALLOW ALL and ALLOW READ of one principal become one binding.
	both := remoteACLs([]topicACL{acl("orders", lit, kmsg.ACLOperationAll, allow), acl("orders", lit, kmsg.ACLOperationRead, allow)}, replicate, remote)
	if len(both) != 1 {
		t.Errorf("ALL and READ gave %d bindings, want 1: %v", len(both), both)
	}
}
