package replicator

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// syncTopics lists the source's topics, creates the missing remote topics
// with the source's partition count, replication.factor and copyable
// configs, raises the partition count of remote topics that have fewer,
// and returns the source partitions whose remote partition exists.
func (f *flow) syncTopics(ctx context.Context) ([]topicPartition, error) {
	ctx, cancel := f.adminContext(ctx)
	defer cancel()
	srcTopics, err := f.srcAdm.ListTopics(ctx)
	if err != nil {
		return nil, fmt.Errorf("list topics on cluster %s: %w", f.cfg.Source, err)
	}
	var names, remotes []string
	for _, d := range srcTopics.Sorted() {
		if d.Err == nil && f.cfg.Topics.Replicate(d.Topic) {
			names = append(names, d.Topic)
			remotes = append(remotes, f.remote(d.Topic))
		}
	}
	f.noteTopicIDs(srcTopics)
	if len(names) == 0 {
		f.replicated = nil
		return nil, nil
	}
	// Only remote topics not known to be complete are listed: a refresh
	// of an unchanged source asks the target nothing, except every
	// fullListingEvery refreshes (to see remote topics deleted meanwhile).
	full := f.refreshes%fullListingEvery == 0 || f.fullListing.Swap(false)
	f.refreshes++
	have := map[string]int{}
	var toList []string
	for i, name := range names {
		if n, ok := f.remotes[remotes[i]]; ok && !full && n >= len(srcTopics[name].Partitions) {
			have[remotes[i]] = n
			continue
		}
		toList = append(toList, remotes[i])
	}
	f.listed = len(toList)
	if len(toList) > 0 {
		tgtTopics, err := f.tgtAdm.ListTopics(ctx, toList...)
		if err != nil {
			return nil, fmt.Errorf("list topics on cluster %s: %w", f.cfg.Target, err)
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
				if n, ok := f.remotes[td.Topic]; ok {
					have[td.Topic] = n
				} else {
					f.log.Warn("listing remote topic failed; retrying at the next refresh", "topic", td.Topic, "err", td.Err)
				}
			}
		}
	}
	var missing []string
	for _, name := range names {
		want := len(srcTopics[name].Partitions)
		remote := f.remote(name)
		n, ok := have[remote]
		switch {
		case !ok:
			missing = append(missing, name)
		case n < want:
			resp, err := f.tgtAdm.UpdatePartitions(ctx, want, remote)
			if err == nil {
				err = resp.Error()
			}
			if err != nil {
				f.log.Warn("raising partition count of remote topic failed", "topic", remote, "partitions", want, "err", err)
			} else {
				f.log.Info("raised partition count of remote topic", "topic", remote, "from", n, "to", want)
				have[remote] = want
			}
		}
	}
	if len(missing) > 0 {
		for remote, n := range f.createRemoteTopics(ctx, srcTopics, missing) {
			have[remote] = n
		}
	}
	f.remotes = have
	var tps []topicPartition
	f.replicated = f.replicated[:0]
	for _, name := range names {
		n, ok := have[f.remote(name)]
		if !ok {
			continue
		}
		f.replicated = append(f.replicated, name)
		for p := range int32(min(len(srcTopics[name].Partitions), n)) {
			tps = append(tps, topicPartition{Topic: name, Partition: p})
		}
	}
	return tps, nil
}

// noteTopicIDs records the source topics' ids and which changed: a topic
// deleted and created again between two refreshes.
func (f *flow) noteTopicIDs(topics kadm.TopicDetails) {
	f.idsMu.Lock()
	defer f.idsMu.Unlock()
	ids := make(map[string]kadm.TopicID, len(topics))
	for name, d := range topics {
		if d.Err != nil {
			continue
		}
		ids[name] = d.ID
		if old, ok := f.topicIDs[name]; ok && old != d.ID && d.ID != (kadm.TopicID{}) {
			if f.recreated == nil {
				f.recreated = map[string]bool{}
			}
			f.recreated[name] = true
			f.log.Warn("source topic was deleted and created again; copying the new topic from its start", "topic", name)
		}
	}
	f.topicIDs = ids
}

// idChanged reports whether topic's id is no longer the one the last
// refresh saw.
func (f *flow) idChanged(topic string, id kadm.TopicID) bool {
	f.idsMu.Lock()
	defer f.idsMu.Unlock()
	old, ok := f.topicIDs[topic]
	return ok && old != id && id != (kadm.TopicID{})
}

// resetRecreated starts the copy of each recreated source topic over: the
// tasks of this worker that copy it stop, its positions (the old topic's)
// are replaced by "nothing copied yet", and reconcileTasks starts the tasks
// again from the new topic's start.
func (f *flow) resetRecreated(ctx context.Context) {
	f.idsMu.Lock()
	topics := f.recreated
	f.recreated = nil
	f.idsMu.Unlock()
	if len(topics) == 0 {
		return
	}
	positions := map[topicPartition]int64{}
	var hit []TaskID
	for _, t := range f.sourceRuns() {
		for _, tp := range t.tps {
			if topics[tp.Topic] {
				positions[tp] = -1
				if !slices.Contains(hit, sourceTaskID(t.index)) {
					hit = append(hit, sourceTaskID(t.index))
				}
			}
		}
	}
	// Stopped and dropped: reconcileTasks starts them again, failed or not.
	f.tasks.StopIDs(hit)
	if len(positions) == 0 {
		return
	}
	cl, err := kgo.NewClient(append(slices.Clone(f.tgtOpts), kgo.RecordPartitioner(partitioner(f.offsets.topic)))...)
	if err == nil {
		defer cl.Close()
		err = f.offsets.write(ctx, cl, positions)
	}
	if err != nil {
		f.log.Error("resetting the positions of a recreated source topic failed; its copy may skip the new topic's first records", "err", err)
	}
}

// fullListingEvery is how often (in refreshes) syncTopics lists every
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

func (f *flow) remote(topic string) string {
	return f.cfg.Policy.FormatRemoteTopic(f.cfg.Source, topic)
}

// createRemoteTopics creates the remote topics of names and returns the
// partition count of each that exists afterwards.
func (f *flow) createRemoteTopics(ctx context.Context, srcTopics kadm.TopicDetails, names []string) map[string]int {
	created := map[string]int{}
	described, err := f.srcAdm.DescribeTopicConfigs(ctx, names...)
	if err != nil {
		f.log.Warn("describing source topic configs failed; creating remote topics without them", "err", err)
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
	for _, name := range names {
		var cfgs map[string]*string
		if rc, err := described.On(name, nil); err == nil && rc.Err == nil {
			cfgs = createConfigs(rc.Configs, f.cfg.ConfigExclude)
		}
		sh := shape{int32(len(srcTopics[name].Partitions)), configsKey(cfgs)}
		if _, ok := groups[sh]; !ok {
			order = append(order, sh)
			groupCfgs[sh] = cfgs
		}
		groups[sh] = append(groups[sh], f.remote(name))
	}
	for _, sh := range order {
		cfgs := groupCfgs[sh]
		resps, err := f.tgtAdm.CreateTopics(ctx, sh.partitions, f.cfg.ReplicationFactor, cfgs, groups[sh]...)
		if err != nil {
			f.log.Warn("creating remote topics failed; retrying at the next refresh", "topics", len(groups[sh]), "err", err)
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
				if n, ok := f.remotes[remote]; ok {
					created[remote] = n
				}
				continue
			}
			if err != nil {
				f.log.Warn("creating remote topic failed; retrying at the next refresh", "topic", remote, "err", err)
				continue
			}
			created[remote] = int(sh.partitions)
			f.log.Info("created remote topic", "topic", remote, "partitions", sh.partitions, "replication_factor", f.cfg.ReplicationFactor, "configs", len(cfgs))
		}
	}
	return created
}

// syncConfigs copies topic config changes from the source to the remote
// topics of the topics being replicated.
func (f *flow) syncConfigs(ctx context.Context) {
	ctx, cancel := f.adminContext(ctx)
	defer cancel()
	if len(f.replicated) == 0 {
		return
	}
	names := slices.Clone(f.replicated)
	remotes := make([]string, len(names))
	for i, n := range names {
		remotes[i] = f.remote(n)
	}
	src, err := f.srcAdm.DescribeTopicConfigs(ctx, names...)
	if err != nil {
		f.log.Warn("config sync: describing source configs failed", "err", err)
		return
	}
	tgt, err := f.tgtAdm.DescribeTopicConfigs(ctx, remotes...)
	if err != nil {
		f.log.Warn("config sync: describing target configs failed", "err", err)
		return
	}
	for i, name := range names {
		s, err1 := src.On(name, nil)
		t, err2 := tgt.On(remotes[i], nil)
		if err1 != nil || err2 != nil || s.Err != nil || t.Err != nil {
			continue
		}
		changes := configChanges(s.Configs, t.Configs, f.cfg.ConfigExclude, f.cfg.UseDefaultsFrom == "source")
		if len(changes) == 0 {
			continue
		}
		resp, err := f.tgtAdm.AlterTopicConfigs(ctx, changes, remotes[i])
		if err == nil {
			for _, r := range resp {
				if r.Err != nil {
					err = r.Err
				}
			}
		}
		if err != nil {
			f.log.Warn("config sync failed", "topic", remotes[i], "err", err)
			continue
		}
		keys := make([]string, len(changes))
		for j, c := range changes {
			keys[j] = c.Name
		}
		f.log.Info("synced topic configs", "topic", remotes[i], "changed", keys)
	}
}

// adminContext bounds one round of administrative work (a topic refresh, a
// config or ACL sync) by admin.timeout.ms, as MM2 bounds its admin calls.
func (f *flow) adminContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if d := f.cfg.AdminTimeout; d > 0 {
		return context.WithTimeout(ctx, d)
	}
	return ctx, func() {}
}
