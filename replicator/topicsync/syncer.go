package topicsync

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/replicator/task"
)

// Config is what a Syncer is built from.
type Config struct {
	// Flow gives the source and target aliases, the topic filter, the
	// replication policy, replication.factor, config.properties.exclude,
	// use.defaults.from and admin.timeout.ms.
	Flow configs.Flow
	// SourceAdmin and TargetAdmin are the flow's admin clients; the
	// Syncer uses them but does not close them.
	SourceAdmin, TargetAdmin *kadm.Client
	// SourceClient is the client SourceAdmin wraps: each refresh sends
	// its listing of the source's topics through it, as it is (see
	// sourceLister).
	SourceClient *kgo.Client
	// SourceOpts and TargetOpts are the clusters' client options, for
	// the ACL requests kadm does not send.
	SourceOpts, TargetOpts []kgo.Opt
	// Log is the flow's logger.
	Log *slog.Logger
}

// Syncer keeps a flow's remote topics, their configs and their ACLs in
// line with the source. Its methods run on the flow's run loop, one at a
// time, except IDChanged, Recreated and ListAll, which are safe for
// concurrent use (the source tasks call them).
type Syncer struct {
	cfg            configs.Flow
	log            *slog.Logger
	srcAdm, tgtAdm *kadm.Client
	// lister lists the source's topics for each refresh; the run loop
	// only.
	lister  sourceLister
	srcOpts []kgo.Opt
	tgtOpts []kgo.Opt

	// remotes are the partition counts of the remote topics at the last
	// refresh; the run loop only.
	remotes map[string]int
	// copied are the replicated topics (those whose remote topics exist)
	// with the partitions copied of each, and lastTPs those partitions,
	// as the last refresh returned them; the run loop only.
	copied  []topicCount
	lastTPs []task.TopicPartition
	// refreshes counts topic refreshes and listed is how many remote
	// topics the last one listed on the target; the run loop only.
	refreshes, listed int
	// listing is how long the last Topics waited for the source's
	// listing (answered and decoded); the run loop only.
	listing time.Duration

	// topicIDs are the source topics' ids at the last refresh, and
	// recreated the topics whose id changed since (deleted and created
	// again) and that Recreated did not return yet.
	idsMu     sync.Mutex
	topicIDs  map[string]kadm.TopicID // guarded by idsMu
	recreated map[string]bool         // guarded by idsMu
	// fullListing asks the next refresh to list every remote topic (one
	// was found missing while copying).
	fullListing atomic.Bool
	acls        aclSync // the ACL sync's state; the run loop only
}

// New returns a Syncer for the flow c.Flow.
func New(c Config) *Syncer {
	return &Syncer{cfg: c.Flow, log: c.Log, srcAdm: c.SourceAdmin, tgtAdm: c.TargetAdmin, srcOpts: c.SourceOpts, tgtOpts: c.TargetOpts,
		lister: sourceLister{cl: c.SourceClient, try: brokerTry}}
}

// SetFlow replaces the flow's configuration (a connector config set
// through the REST API); the run loop only.
func (s *Syncer) SetFlow(cfg configs.Flow) { s.cfg = cfg }

// ListAll asks the next Topics to list every remote topic on the target
// (one was found missing while copying). Safe for concurrent use.
func (s *Syncer) ListAll() { s.fullListing.Store(true) }

// LastRefresh reports how many source topics the last Topics found
// replicated and how many remote topics it listed on the target.
func (s *Syncer) LastRefresh() (replicated, listed int) { return len(s.copied), s.listed }

// SourceListing reports how long the last Topics waited for the source's
// listing of its topics, answered and decoded: of a refresh's duration,
// the part the source and the network take.
func (s *Syncer) SourceListing() time.Duration { return s.listing }

// adminContext bounds one round of administrative work (a topic refresh, a
// config or ACL sync) by admin.timeout.ms, as MM2 bounds its admin calls.
func (s *Syncer) adminContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if d := s.cfg.AdminTimeout; d > 0 {
		return context.WithTimeout(ctx, d)
	}
	return ctx, func() {}
}
