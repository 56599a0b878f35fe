package topicsync

import (
	"cmp"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicACL is an ACL binding on a topic name, as MM2's ACL sync sees it.
type topicACL struct {
	Topic      string
	Pattern    kmsg.ACLResourcePatternType
	Principal  string
	Host       string
	Operation  kmsg.ACLOperation
	Permission kmsg.ACLPermissionType
}

// remoteACLs applies MM2's ACL sync rules (MirrorSourceConnector
// syncTopicAcls) to the source's topic ACLs: only literal patterns on topics
// that are replicated; ALLOW WRITE is dropped (only Strait writes remote
// topics); the topic becomes its remote name; ALLOW ALL becomes ALLOW READ;
// DENY is kept as it is. The result is sorted and has no duplicates.
func remoteACLs(acls []topicACL, replicate func(topic string) bool, remote func(topic string) string) []topicACL {
	var out []topicACL
	for _, a := range acls {
		allow := a.Permission == kmsg.ACLPermissionTypeAllow
		if a.Pattern != kmsg.ACLResourcePatternTypeLiteral || (allow && a.Operation == kmsg.ACLOperationWrite) || !replicate(a.Topic) {
			continue
		}
		a.Topic = remote(a.Topic)
		if allow && a.Operation == kmsg.ACLOperationAll {
			a.Operation = kmsg.ACLOperationRead
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(x, y topicACL) int {
		return cmp.Or(cmp.Compare(x.Topic, y.Topic), cmp.Compare(x.Principal, y.Principal), cmp.Compare(x.Host, y.Host),
			cmp.Compare(x.Operation, y.Operation), cmp.Compare(x.Permission, y.Permission))
	})
	return slices.Compact(out)
}
