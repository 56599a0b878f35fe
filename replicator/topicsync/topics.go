package topicsync

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/strait-replicator/strait/replicator/task"
)

// Topics lists the source's topics, creates the missing remote topics
// with the source's partition count, replication.factor and copyable
// configs, raises the partition count of remote topics that have fewer,
// and returns the source partitions whose remote partition exists: the
// slice the last call returned when they are the same (the caller must
// not change it). It blocks for at most admin.timeout.ms; the run loop
// only.
func (s *Syncer) Topics(ctx context.Context) ([]task.TopicPartition, error) {
	ctx, cancel := s.adminContext(ctx)
	defer cancel()
	began := time.Now()
	srcTopics, err := s.lister.list(ctx)
	s.listing = time.Since(began)
	if err != nil {
		return nil, fmt.Errorf("list topics on cluster %s: %w", s.cfg.Source, err)
	}
	var names, remotes []string
	for _, name := range slices.Sorted(maps.Keys(srcTopics)) {
		if s.cfg.Topics.Replicate(name) {
			names = append(names, name)
			remotes = append(remotes, s.remote(name))
		}
	}
	s.noteTopicIDs(srcTopics)
	if len(names) == 0 {
		s.copied, s.lastTPs = nil, nil
		return nil, nil
	}
	// Only remote topics not known to be complete are listed: a refresh
	// of an unchanged source asks the target nothing, except every
	// fullListingEvery refreshes (to see remote topics deleted meanwhile).
	full := s.refreshes%fullListingEvery == 0 || s.fullListing.Swap(false)
	s.refreshes++
	have := make(map[string]int, len(names))
	var toList []string
	for i, name := range names {
		if n, ok := s.remotes[remotes[i]]; ok && !full && n >= srcTopics[name].partitions {
			have[remotes[i]] = n
			continue
		}
		toList = append(toList, remotes[i])
	}
	s.listed = len(toList)
	if len(toList) > 0 {
		tgtTopics, err := s.tgtAdm.ListTopics(ctx, toList...)
		if err != nil {
			return nil, fmt.Errorf("list topics on cluster %s: %w", s.cfg.Target, err)
		}
		// The answers of the create and update requests below are trusted,
		// since a listing right after them may come from metadata cached
		// before them.
		for _, td := range tgtTopics {
			switch {
			case td.Err == nil:
				have[td.Topic] = len(td.Partitions)
			case !errors.Is(td.Err, kerr.UnknownTopicOrPartition):
				// A passing error on one topic: keep what the last refresh
				// knew rather than stop its tasks.
				if n, ok := s.remotes[td.Topic]; ok {
					have[td.Topic] = n
				} else {
					s.log.Warn("listing remote topic failed; retrying at the next refresh", "topic", td.Topic, "err", td.Err)
				}
			}
		}
	}
	var missing []string
	for i, name := range names {
		want := srcTopics[name].partitions
		remote := remotes[i]
		n, ok := have[remote]
		switch {
		case !ok:
			missing = append(missing, name)
		case n < want:
			resp, err := s.tgtAdm.UpdatePartitions(ctx, want, remote)
			if err == nil {
				err = resp.Error()
			}
			if err != nil {
				s.log.Warn("raising partition count of remote topic failed", "topic", remote, "partitions", want, "err", err)
			} else {
				s.log.Info("raised partition count of remote topic", "topic", remote, "from", n, "to", want)
				have[remote] = want
			}
		}
	}
	if len(missing) > 0 {
		for remote, n := range s.createRemoteTopics(ctx, srcTopics, missing) {
			have[remote] = n
		}
	}
	s.remotes = have
	// The partitions to copy: those of the last refresh again when every
	// replicated topic has as many as then (an unchanged source).
	copied := make([]topicCount, 0, len(names))
	for i, name := range names {
		if n, ok := have[remotes[i]]; ok {
			copied = append(copied, topicCount{name, min(srcTopics[name].partitions, n)})
		}
	}
	if slices.Equal(copied, s.copied) {
		return s.lastTPs, nil
	}
	var tps []task.TopicPartition
	for _, c := range copied {
		for p := range int32(c.partitions) {
			tps = append(tps, task.TopicPartition{Topic: c.topic, Partition: p})
		}
	}
	s.copied, s.lastTPs = copied, tps
	return tps, nil
}

// topicCount is a source topic and how many of its partitions are copied.
type topicCount struct {
	topic      string
	partitions int
}

// noteTopicIDs records the source topics' ids and which changed: a topic
// deleted and created again between two refreshes.
func (s *Syncer) noteTopicIDs(topics map[string]sourceTopic) {
	s.idsMu.Lock()
	defer s.idsMu.Unlock()
	ids := make(map[string]kadm.TopicID, len(topics))
	for name, t := range topics {
		ids[name] = t.id
		if old, ok := s.topicIDs[name]; ok && old != t.id && t.id != (kadm.TopicID{}) {
			if s.recreated == nil {
				s.recreated = map[string]bool{}
			}
			s.recreated[name] = true
			s.log.Warn("source topic was deleted and created again; copying the new topic from its start", "topic", name)
		}
	}
	s.topicIDs = ids
}

// IDChanged reports whether topic's id is no longer the one the last
// refresh saw. Safe for concurrent use.
func (s *Syncer) IDChanged(topic string, id kadm.TopicID) bool {
	s.idsMu.Lock()
	defer s.idsMu.Unlock()
	old, ok := s.topicIDs[topic]
	return ok && old != id && id != (kadm.TopicID{})
}

// Recreated returns the source topics whose id changed since their copy
// started (deleted and created again), sorted, and forgets them: the
// caller starts their copy over. Safe for concurrent use.
func (s *Syncer) Recreated() []string {
	s.idsMu.Lock()
	defer s.idsMu.Unlock()
	topics := slices.Sorted(maps.Keys(s.recreated))
	s.recreated = nil
	return topics
}

// fullListingEvery is how often (in refreshes) Topics lists every
// remote topic on the target, not only those it does not know complete.
const fullListingEvery = 10

// configsKey is a canonical text of topic configs, to group equal ones.
func configsKey(cfgs map[string]*string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(cfgs)) {
		b.WriteString(k)
		if v := cfgs[k]; v != nil {
			b.WriteString("=" + *v)
		}
		b.WriteByte(0)
	}
	return b.String()
}

func (s *Syncer) remote(topic string) string {
	return s.cfg.Policy.FormatRemoteTopic(s.cfg.Source, topic)
}

// createRemoteTopics creates the remote topics of names and returns the
// partition count of each that exists afterwards.
func (s *Syncer) createRemoteTopics(ctx context.Context, srcTopics map[string]sourceTopic, names []string) map[string]int {
	created := map[string]int{}
	described, err := s.srcAdm.DescribeTopicConfigs(ctx, names...)
	if err != nil && !cutShort(ctx) {
		s.log.Warn("describing source topic configs failed; creating remote topics without them", "err", err)
	}
	// Topics with the same partition count and configs are created in one
	// request: at startup there may be thousands.
	type shape struct {
		partitions int32
		configs    string
	}
	groups := map[shape][]string{}
	groupCfgs := map[shape]map[string]*string{}
	var order []shape
	byName := configsByName(described) // ResourceConfigs.On searches the list: quadratic here
	for _, name := range names {
		var cfgs map[string]*string
		if rc, ok := byName[name]; ok && rc.Err == nil {
			cfgs = createConfigs(rc.Configs, s.cfg.ConfigExclude)
		}
		sh := shape{int32(srcTopics[name].partitions), configsKey(cfgs)}
		if _, ok := groups[sh]; !ok {
			order = append(order, sh)
			groupCfgs[sh] = cfgs
		}
		groups[sh] = append(groups[sh], s.remote(name))
	}
	for _, sh := range order {
		cfgs := groupCfgs[sh]
		resps, err := s.tgtAdm.CreateTopics(ctx, sh.partitions, s.cfg.ReplicationFactor, cfgs, groups[sh]...)
		if err != nil {
			if !cutShort(ctx) {
				s.log.Warn("creating remote topics failed; retrying at the next refresh", "topics", len(groups[sh]), "err", err)
			}
			continue
		}
		for _, remote := range groups[sh] {
			var err error = kerr.UnknownTopicOrPartition
			if r, ok := resps[remote]; ok {
				err = r.Err
			}
			if errors.Is(err, kerr.TopicAlreadyExists) {
				// Created meanwhile (another worker, an operator), or listed
				// as missing by stale metadata: known from the last refresh,
				// or seen at the next.
				if n, ok := s.remotes[remote]; ok {
					created[remote] = n
				}
				continue
			}
			if err != nil {
				if !cutShort(ctx) {
					s.log.Warn("creating remote topic failed; retrying at the next refresh", "topic", remote, "err", err)
				}
				continue
			}
			created[remote] = int(sh.partitions)
			s.log.Info("created remote topic", "topic", remote, "partitions", sh.partitions, "replication_factor", s.cfg.ReplicationFactor, "configs", len(cfgs))
		}
	}
	return created
}

// Configs copies topic config changes from the source to the remote
// topics of the topics being replicated (those the last Topics found on
// the target). Failures are logged; the run loop only.
func (s *Syncer) Configs(ctx context.Context) {
	ctx, cancel := s.adminContext(ctx)
	defer cancel()
	if len(s.copied) == 0 {
		return
	}
	names := make([]string, len(s.copied))
	remotes := make([]string, len(s.copied))
	for i, c := range s.copied {
		names[i], remotes[i] = c.topic, s.remote(c.topic)
	}
	src, err := s.srcAdm.DescribeTopicConfigs(ctx, names...)
	if err != nil {
		if !cutShort(ctx) {
			s.log.Warn("config sync: describing source configs failed", "err", err)
		}
		return
	}
	tgt, err := s.tgtAdm.DescribeTopicConfigs(ctx, remotes...)
	if err != nil {
		if !cutShort(ctx) {
			s.log.Warn("config sync: describing target configs failed", "err", err)
		}
		return
	}
	srcByName, tgtByName := configsByName(src), configsByName(tgt)
	for i, name := range names {
		sc, ok1 := srcByName[name]
		tc, ok2 := tgtByName[remotes[i]]
		if !ok1 || !ok2 || sc.Err != nil || tc.Err != nil {
			continue
		}
		changes := configChanges(sc.Configs, tc.Configs, s.cfg.ConfigExclude, s.cfg.UseDefaultsFrom == "source")
		if len(changes) == 0 {
			continue
		}
		resp, err := s.tgtAdm.AlterTopicConfigs(ctx, changes, remotes[i])
		if err == nil {
			for _, r := range resp {
				if r.Err != nil {
					err = r.Err
				}
			}
		}
		if err != nil {
			s.log.Warn("config sync failed", "topic", remotes[i], "err", err)
			continue
		}
		keys := make([]string, len(changes))
		for j, c := range changes {
			keys[j] = c.Name
		}
		s.log.Info("synced topic configs", "topic", remotes[i], "changed", keys)
	}
}

// configsByName indexes described configs by resource name.
func configsByName(rcs kadm.ResourceConfigs) map[string]kadm.ResourceConfig {
	out := make(map[string]kadm.ResourceConfig, len(rcs))
	for _, rc := range rcs {
		out[rc.Name] = rc
	}
	return out
}

// cutShort reports whether ctx, an admin context, was canceled from above
// (the flow stops, or its worker group's assignment cut the work short:
// the work is done again, nothing to report) rather than timed out
// (admin.timeout.ms: a cluster that does not answer, worth a warning).
func cutShort(ctx context.Context) bool {
	return ctx.Err() != nil && !errors.Is(context.Cause(ctx), context.DeadlineExceeded)
}
