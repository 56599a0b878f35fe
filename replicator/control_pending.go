package replicator

import "github.com/strait-replicator/strait/configs"

// configPending reports whether a config is queued that the run loop has
// not taken yet: a new one would conflict with it.
func (c *control) configPending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.config != nil
}

// replaceConfig queues cfg for the run loop, replacing a config queued and
// not taken yet: cfg was written to the configs topic after it, so it is
// the one every worker ends with.
func (c *control) replaceConfig(cfg configs.Flow) {
	c.mu.Lock()
	c.config = &cfg
	c.mu.Unlock()
	c.signal()
}
