package topicsync

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// aclSync is the state of a flow's ACL sync; only the run loop touches it.
type aclSync struct {
	created  map[topicACL]bool // bindings created on the target by this worker
	disabled bool              // the source has no authorizer
}

// ACLs copies the source's topic ACLs to the remote topics by MM2's
// rules (remoteACLs). As MM2, it only adds: nothing is deleted on the
// target. Bindings this worker created before are not sent again. Failures
// are logged; the run loop only.
func (s *Syncer) ACLs(ctx context.Context) {
	if err := s.aclsOnce(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("ACL sync failed; retrying at the next sync", "err", err)
	}
}

func (s *Syncer) aclsOnce(ctx context.Context) error {
	ctx, cancel := s.adminContext(ctx)
	defer cancel()
	if s.acls.disabled {
		return nil
	}
	src, err := kgo.NewClient(s.srcOpts...)
	if err != nil {
		return err
	}
	defer src.Close()
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType = kmsg.ACLResourceTypeTopic
	req.ResourcePatternType = kmsg.ACLResourcePatternTypeAny
	req.Operation = kmsg.ACLOperationAny
	req.PermissionType = kmsg.ACLPermissionTypeAny
	resp, err := req.RequestWith(ctx, src)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if errors.Is(err, kerr.SecurityDisabled) {
		s.log.Info("the source cluster has no authorizer: no ACLs to sync", "cluster", s.cfg.Source)
		s.acls.disabled = true
		return nil
	}
	if err != nil {
		return fmt.Errorf("describe ACLs on cluster %s: %w", s.cfg.Source, err)
	}
	var acls []topicACL
	for _, r := range resp.Resources {
		for _, a := range r.ACLs {
			acls = append(acls, topicACL{Topic: r.ResourceName, Pattern: r.ResourcePatternType, Principal: a.Principal,
				Host: a.Host, Operation: a.Operation, Permission: a.PermissionType})
		}
	}
	if s.acls.created == nil {
		s.acls.created = map[topicACL]bool{}
	}
	var todo []topicACL
	for _, a := range remoteACLs(acls, s.cfg.Topics.Replicate, s.remote) {
		if !s.acls.created[a] {
			todo = append(todo, a)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	tgt, err := kgo.NewClient(s.tgtOpts...)
	if err != nil {
		return err
	}
	defer tgt.Close()
	create := kmsg.NewPtrCreateACLsRequest()
	for _, a := range todo {
		c := kmsg.NewCreateACLsRequestCreation()
		c.ResourceType, c.ResourceName, c.ResourcePatternType = kmsg.ACLResourceTypeTopic, a.Topic, kmsg.ACLResourcePatternTypeLiteral
		c.Principal, c.Host, c.Operation, c.PermissionType = a.Principal, a.Host, a.Operation, a.Permission
		create.Creations = append(create.Creations, c)
	}
	cresp, err := create.RequestWith(ctx, tgt)
	if err != nil {
		return fmt.Errorf("create ACLs on cluster %s: %w", s.cfg.Target, err)
	}
	var failed []error
	for i, r := range cresp.Results {
		if i >= len(todo) {
			break
		}
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			failed = append(failed, fmt.Errorf("%s %s %s on %s: %w", todo[i].Permission, todo[i].Operation, todo[i].Principal, todo[i].Topic, err))
			continue
		}
		s.acls.created[todo[i]] = true
	}
	s.log.Info("synced topic ACLs", "created", len(todo)-len(failed), "failed", len(failed))
	if len(failed) > 0 {
		return fmt.Errorf("create ACLs on cluster %s: %w", s.cfg.Target, errors.Join(failed...))
	}
	return nil
}
