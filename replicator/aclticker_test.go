package replicator

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// A new sync.topic.acls.interval.seconds set through the REST API takes
// effect: the ACL sync's ticker is made again with the new interval.
func TestConfigureChangesACLSyncInterval(t *testing.T) {
	a, b := newTestCluster(t, "A"), newTestCluster(t, "B")
	var describes atomic.Int32
	a.ControlKey(int16(kmsg.DescribeACLs), func(req kmsg.Request) (kmsg.Response, error, bool) {
		a.KeepControl()
		describes.Add(1)
		resp := req.(*kmsg.DescribeACLsRequest).ResponseKind().(*kmsg.DescribeACLsResponse)
		return resp, nil, true // no ACLs on the source
	})
	w := newABWorker(t, a, b, "sync.topic.acls.enabled = true", "sync.topic.acls.interval.seconds = 3600")
	runWorker(t, w)
	waitUntil(t, 30*time.Second, func() (bool, string) {
		return describes.Load() >= 1, "no ACL sync after the first assignment"
	})
	if _, err := w.Configure(context.Background(), "A.B.MirrorSourceConnector", map[string]string{
		"sync.topic.acls.enabled": "true", "sync.topic.acls.interval.seconds": "1",
	}); err != nil {
		t.Fatal(err)
	}
	from := describes.Load()
	waitUntil(t, 15*time.Second, func() (bool, string) {
		n := describes.Load() - from
		return n >= 3, fmt.Sprintf("%d ACL syncs since the interval became 1 s, want 3", n)
	})
}
