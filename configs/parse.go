package configs

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/rawbytes"
	"github.com/knadh/koanf/v2"

	"github.com/strait-replicator/strait/policy"
)

// Format is the syntax of a configuration file.
type Format int

const (
	// Properties is an MM2 mm2.properties file.
	Properties Format = iota
	// YAML holds the same keys, flat ("A->B.topics: orders") or nested
	// ("A: {bootstrap.servers: ...}").
	YAML
)

// FormatOf picks the format by file extension: .yaml and .yml are YAML,
// anything else is properties.
func FormatOf(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return YAML
	}
	return Properties
}

// EnvPrefix starts every environment variable that overrides a key.
const EnvPrefix = "STRAIT_"

// An Option changes how Parse and Load read a configuration.
type Option func(*options)

type options struct {
	// allowUnknownKeys makes a key Strait does not know a warning.
	allowUnknownKeys bool
}

// AllowUnknownKeys makes a key that is no MM2, Connect or Kafka client key
// Strait knows a warning ("unknown key ... ignored") instead of an error:
// for a file shared with other tools, which carries their keys. Without
// it such a key fails, naming the nearest known key, since a typo
// ("A->B.topic") would otherwise leave a default in force.
func AllowUnknownKeys() Option {
	return func(o *options) { o.allowUnknownKeys = true }
}

// Load reads the file at path and parses it with Parse.
func Load(path string, environ []string, opts ...Option) (*Config, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, FormatOf(path), environ, opts...)
}

// Parse builds a validated Config from a file's bytes and the environment
// (os.Environ's form). It returns warnings for keys it accepts without
// effect, which MM2 files carry for Connect, and for keys a properties
// file sets twice; and an error that lists every invalid key (a
// *multierror.Error of *KeyError) before anything connects: a key Strait
// does not know is one, unless AllowUnknownKeys.
func Parse(data []byte, format Format, environ []string, opts ...Option) (*Config, []string, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	raw, lines, dups, err := parseRaw(data, format)
	if err != nil {
		return nil, nil, err
	}
	applyEnv(raw, environ)
	cfg, warnings, err := build(raw, environ, o, lines)
	warnings = append(dups, warnings...)
	return cfg, warnings, err
}

// parseRaw reads the keys of a file; for a properties file also the line
// each key is set on (the last, which wins) and a warning for each key set
// twice.
func parseRaw(data []byte, format Format) (raw map[string]string, lines map[string]int, dups []string, err error) {
	if format == Properties {
		m, lines, dups, err := parseProperties(data)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("parse properties: %w", err)
		}
		return m, lines, dups, nil
	}
	// A delimiter no key contains: MM2 keys hold dots ("topics" and
	// "topics.exclude" are both leaves), so koanf must not split them.
	const delim = "\x1f"
	k := koanf.New(delim)
	if err := k.Load(rawbytes.Provider(data), yaml.Parser()); err != nil {
		return nil, nil, nil, fmt.Errorf("parse yaml: %w", err)
	}
	out := make(map[string]string)
	for key, v := range k.All() {
		out[strings.ReplaceAll(key, delim, ".")] = yamlString(v)
	}
	return out, nil, nil, nil
}

func yamlString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = yamlString(e)
		}
		return strings.Join(parts, ", ")
	default:
		return fmt.Sprint(v)
	}
}

var envRun = regexp.MustCompile(`[^A-Za-z0-9]+`)

// EnvName is the environment variable that overrides key.
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(envRun.ReplaceAllString(key, "_"))
}

// applyEnv overrides raw with STRAIT_* variables. A variable is matched to a
// key by EnvName over the keys the file has and every key Strait knows in
// every scope of the configured clusters.
func applyEnv(raw map[string]string, environ []string) {
	env := make(map[string]string)
	for _, kv := range environ {
		if name, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(name, EnvPrefix) {
			env[name] = v
		}
	}
	if len(env) == 0 {
		return
	}
	if v, ok := env[EnvName(KeyClusters)]; ok {
		raw[KeyClusters] = v
	}
	aliases := splitList(raw[KeyClusters])
	candidates := make(map[string]bool)
	for k := range raw {
		candidates[k] = true
	}
	for k := range flowKeys {
		candidates[k] = true
		for _, s := range aliases {
			for _, t := range aliases {
				candidates[s+"->"+t+"."+k] = true
				candidates[s+"->"+t+"."+KeyEnabled] = true
			}
		}
	}
	for _, specs := range []map[string]keySpec{clientKeys, workerKeys} {
		for k := range specs {
			candidates[k] = true
			for _, a := range aliases {
				candidates[a+"."+k] = true
			}
		}
	}
	for _, k := range []string{KeyListeners, KeyRESTAdvertisedHost, KeyRESTAdvertisedPort, KeyRESTAdvertisedListener,
		KeyRESTExtensionClasses, KeyRESTBasicAuthJAASFile, KeyMemoryMaxBytes, KeyReadinessUnreachableTimeout, KeyMetricsPartitionSeries, KeyConfigProviders} {
		candidates[k] = true
	}
	for k := range candidates {
		if v, ok := env[EnvName(k)]; ok {
			raw[k] = v
		}
	}
}

// splitList splits a Kafka LIST value on commas and trims each entry.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// scopes holds the raw keys split by where they apply.
type scopes struct {
	top      map[string]string
	clusters map[string]map[string]string
	flows    map[[2]string]map[string]string
}

type builder struct {
	raw map[string]string
	// written holds, for each key whose value held config-provider
	// references, the value as written: shown instead of what it resolved to.
	written  map[string]string
	aliases  []string
	sc       scopes
	errs     *multierror.Error
	warnings []string
	opts     options
	// lines holds the line each key of a properties file is set on.
	lines map[string]int
}

func (b *builder) fail(key, format string, args ...any) {
	e := &KeyError{Key: key, Problem: fmt.Sprintf(format, args...)}
	if w, ok := b.written[key]; ok && b.raw[key] != "" {
		// Never show what a provider resolved: it is usually a secret.
		e.Problem = strings.ReplaceAll(e.Problem, b.raw[key], w)
	}
	if b.errs != nil {
		for _, prev := range b.errs.Errors {
			if prev.Error() == e.Error() {
				return // a top-level key resolves into every flow: report it once
			}
		}
	}
	b.errs = multierror.Append(b.errs, e)
}

// build validates the keys as written (after environment overrides) and
// resolves their config-provider references with environ.
func build(written map[string]string, environ []string, opts options, lines map[string]int) (*Config, []string, error) {
	raw := make(map[string]string, len(written))
	for k, v := range written {
		raw[k] = v
	}
	refs, perrs := resolveProviders(raw, environ)
	b := &builder{raw: raw, written: refs, opts: opts, lines: lines}
	for _, e := range perrs {
		b.errs = multierror.Append(b.errs, e)
	}
	b.aliases = splitList(raw[KeyClusters])
	if len(b.aliases) == 0 {
		b.fail(KeyClusters, "missing: list the cluster aliases, e.g. clusters = A, B")
	}
	seen := map[string]bool{}
	for _, a := range b.aliases {
		if strings.ContainsAny(a, " \t") || strings.Contains(a, "->") || strings.HasPrefix(a, ".") || strings.HasSuffix(a, ".") {
			b.fail(KeyClusters, "alias %q must not contain '->' or white space, nor start or end with '.'", a)
		}
		if seen[a] {
			b.fail(KeyClusters, "alias %q listed twice", a)
		}
		seen[a] = true
	}
	b.split()
	b.checkValues()

	cfg := &Config{}
	used := map[string]bool{}
	var heartbeatOnly [][2]string
	for _, s := range b.aliases {
		for _, t := range b.aliases {
			if s == t {
				continue
			}
			kv := b.sc.flows[[2]string{s, t}]
			if v, ok := kv[KeyEnabled]; !ok || !strings.EqualFold(v, "true") {
				if hb, _ := b.lookup(s, t, KeyEmitHeartbeatsEnabled); isTrue(hb) {
					heartbeatOnly = append(heartbeatOnly, [2]string{s, t})
				}
				continue
			}
			cfg.Flows = append(cfg.Flows, b.flow(s, t))
			used[s], used[t] = true, true
		}
	}
	if len(b.aliases) > 0 && len(cfg.Flows) == 0 {
		b.fail(KeyClusters, "no source->target replication flows: set e.g. %s->%s.enabled = true", b.aliases[0], lastOr(b.aliases, "B"))
	}
	for _, pair := range heartbeatOnly {
		f := b.flow(pair[0], pair[1])
		if f.EmitHeartbeatsInterval > 0 {
			cfg.HeartbeatFlows = append(cfg.HeartbeatFlows, f)
			used[pair[1]] = true
		}
	}
	for _, a := range b.aliases {
		cfg.Clusters = append(cfg.Clusters, b.cluster(a, used[a]))
	}
	cfg.Listeners, cfg.REST = b.rest(environ)
	cfg.MemoryMaxBytes = 256 << 20
	if v, ok := b.sc.top[KeyMemoryMaxBytes]; ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 16<<20 {
			b.fail(KeyMemoryMaxBytes, "%q is not a number of bytes of at least 16777216 (16 MiB)", v)
		} else {
			cfg.MemoryMaxBytes = n
		}
	}
	if v, ok := b.sc.top[KeyMetricsPartitionSeries]; ok {
		v = strings.TrimSpace(v)
		b.checkKind(KeyMetricsPartitionSeries, v, keySpec{kind: kindBool})
		cfg.MetricsPartitionSeries = strings.EqualFold(v, "true")
	}
	if _, set := b.sc.top[KeyMemoryMaxBytes]; !set {
		// MM2 has no such key: an MM2 file with many tasks gets what
		// they need.
		cfg.MemoryMaxBytes = max(cfg.MemoryMaxBytes, MemoryMinimum(len(cfg.Flows), cfg.Tasks()))
	} else if problem := checkMemory(cfg.MemoryMaxBytes, cfg.Flows); problem != "" {
		b.fail(KeyMemoryMaxBytes, "%s", problem)
	}
	cfg.ReadinessUnreachableTimeout = 30 * time.Second
	if v, ok := b.sc.top[KeyReadinessUnreachableTimeout]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 || int64(n) > math.MaxInt64/int64(time.Millisecond) {
			b.fail(KeyReadinessUnreachableTimeout, "%q is not a non-negative number of milliseconds", v)
		} else {
			cfg.ReadinessUnreachableTimeout = time.Duration(n) * time.Millisecond
		}
	}
	slices.Sort(b.warnings)
	if err := b.errs.ErrorOrNil(); err != nil {
		b.errs.ErrorFormat = listErrors
		return nil, b.warnings, b.errs
	}
	cfg.raw, cfg.environ = written, environ
	return cfg, b.warnings, nil
}

// connectorKeys are keys a Connect connector config carries that are not
// MM2 flow settings: they are implied by the flow and never overlaid.
var connectorKeys = map[string]bool{
	"name": true, "connector.class": true, "source.cluster.alias": true, "target.cluster.alias": true,
}

// WithFlowSettings returns the configuration with settings applied to the
// flow source->target, as if the file had "source->target.<key> = value"
// for each: what a REST PUT of a connector config means. The flow stays
// enabled. Keys that name the connector itself (name, connector.class,
// the aliases) are ignored. The result is validated like the file, but an
// unknown key is not refused (CheckFlowSetting does that for the API); the
// error lists every invalid key.
func (c *Config) WithFlowSettings(source, target string, settings map[string]string) (*Config, error) {
	raw := make(map[string]string, len(c.raw)+len(settings))
	for k, v := range c.raw {
		raw[k] = v
	}
	prefix := source + "->" + target + "."
	for k, v := range settings {
		if !connectorKeys[k] {
			raw[prefix+k] = v
		}
	}
	raw[prefix+KeyEnabled] = "true"
	// Unknown keys are not refused here: the file's were refused (or
	// allowed) when it was read, and CheckFlowSetting refuses a setting's
	// with the API's own message before it comes here.
	cfg, _, err := build(raw, c.environ, options{allowUnknownKeys: true}, nil)
	return cfg, err
}

// Flow returns the enabled flow source->target.
func (c *Config) Flow(source, target string) (Flow, bool) {
	for _, f := range c.Flows {
		if f.Source == source && f.Target == target {
			return f, true
		}
	}
	return Flow{}, false
}

func lastOr(s []string, def string) string {
	if len(s) < 2 {
		return def
	}
	return s[len(s)-1]
}

func listErrors(errs []error) string {
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = "  " + e.Error()
	}
	return fmt.Sprintf("%d invalid setting(s):\n%s", len(errs), strings.Join(lines, "\n"))
}

// split sorts raw keys into scopes and checks flow keys name known clusters.
func (b *builder) split() {
	b.sc = scopes{top: map[string]string{}, clusters: map[string]map[string]string{}, flows: map[[2]string]map[string]string{}}
	known := map[string]bool{}
	for _, a := range b.aliases {
		known[a] = true
	}
	for k, v := range b.raw {
		if k == KeyClusters {
			continue
		}
		if i := strings.Index(k, "->"); i >= 0 {
			src, rest := k[:i], k[i+2:]
			tgt, sub, ok := b.cutAlias(rest)
			if !ok { // an unknown target: name the part before the first dot
				tgt, sub, ok = strings.Cut(rest, ".")
			}
			switch {
			case !ok || src == "" || tgt == "" || sub == "":
				b.fail(k, "expected <source>-><target>.<key>")
			case !known[src]:
				b.fail(k, "unknown cluster alias %q (clusters = %s)", src, strings.Join(b.aliases, ", "))
			case !known[tgt]:
				b.fail(k, "unknown cluster alias %q (clusters = %s)", tgt, strings.Join(b.aliases, ", "))
			case src == tgt:
				b.fail(k, "a flow from cluster %q to itself is not allowed", src)
			default:
				pair := [2]string{src, tgt}
				if b.sc.flows[pair] == nil {
					b.sc.flows[pair] = map[string]string{}
				}
				b.sc.flows[pair][sub] = v
			}
			continue
		}
		if a, sub, ok := b.cutAlias(k); ok {
			if b.sc.clusters[a] == nil {
				b.sc.clusters[a] = map[string]string{}
			}
			b.sc.clusters[a][sub] = v
			continue
		}
		b.sc.top[k] = v
	}
}

// cutAlias splits "<alias>.<key>" at the longest configured alias that
// starts k, so that aliases may hold dots ("us.east.bootstrap.servers").
func (b *builder) cutAlias(k string) (alias, rest string, ok bool) {
	for _, a := range b.aliases {
		if len(a) > len(alias) && strings.HasPrefix(k, a+".") && len(k) > len(a)+1 {
			alias, rest, ok = a, k[len(a)+1:], true
		}
	}
	return alias, rest, ok
}

func hasPrefix(k string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// checkValues validates every value present in every scope and reports
// keys Strait does not know (builder.unknown).
func (b *builder) checkValues() {
	clientPrefixes := []string{PrefixConsumer, PrefixProducer, PrefixAdmin}
	for k, v := range b.sc.top {
		switch {
		case k == KeyMemoryMaxBytes, k == KeyReadinessUnreachableTimeout, k == KeyMetricsPartitionSeries, isRESTKey(k):
		case b.checkClass(k, k, v):
		case noEffectKeys[k] != "":
		case b.check(k, k, v, flowKeys, workerKeys, clientKeys):
		case hasPrefix(k, clientPrefixes...), isClientKey(k):
			// As in MM2, where such keys reach no client.
			b.warnings = append(b.warnings, fmt.Sprintf("key %q ignored: at the top level it reaches no client, as in MM2; set it per cluster (<alias>.%s) or per flow (<source>-><target>.%s)", k, k, k))
		case hasPrefix(k, ignoredPrefixes...):
		case brokerKeys[k]:
			b.brokerKey(k)
		default:
			b.unknown(k, Nearest(k, b.topKeyNames()))
		}
	}
	for a, kv := range b.sc.clusters {
		for k, v := range kv {
			switch {
			case b.checkClass(a+"."+k, k, v):
			case noEffectKeys[k] != "":
			case b.check(a+"."+k, k, v, workerKeys, clientKeys):
			case isClientKey(k): // validated by clusterClient
			case hasPrefix(k, clientPrefixes...), hasPrefix(k, ignoredPrefixes...):
			case brokerKeys[k]:
				b.brokerKey(a + "." + k)
			default:
				b.unknown(a+"."+k, withPrefix(a+".", Nearest(k, clusterKeyNames())))
			}
		}
	}
	for pair, kv := range b.sc.flows {
		for k, v := range kv {
			full := pair[0] + "->" + pair[1] + "." + k
			switch {
			case k == KeyEnabled:
				b.checkKind(full, v, keySpec{kind: kindBool})
			case b.checkClass(full, k, v):
			case noEffectKeys[k] != "":
			case b.check(full, k, v, flowKeys):
			case hasPrefix(k, "consumer.override.", "admin.override."):
				// Connect applies these to sink connectors and exactly-once
				// admins only: in MM2 they reach no client of the flow.
				b.warnings = append(b.warnings, fmt.Sprintf("key %q ignored: it reaches no client of an MM2 flow (Connect takes consumer.override.* for sink connectors); use %s.consumer.* or %s->%s.source.consumer.*", full, pair[0], pair[0], pair[1]))
			case hasPrefix(k, clientPrefixes...), hasPrefix(k, sidePrefixes...), hasPrefix(k, ignoredPrefixes...):
			default:
				b.unknown(full, withPrefix(pair[0]+"->"+pair[1]+".", nearestFlowKey(k)))
			}
		}
	}
}

// sidePrefixes are the per-flow client keys of one side, which win over
// the cluster's ("A->B.source.consumer.max.poll.records").
var sidePrefixes = []string{"source.consumer.", "source.producer.", "source.admin.", "target.consumer.", "target.producer.", "target.admin."}

// unknown reports key, which Strait does not know, as written: an error
// naming its line and near, the nearest known key ("" if none is close),
// or with AllowUnknownKeys a warning. Nothing is reported without
// clusters, when no key can be placed.
func (b *builder) unknown(key, near string) {
	b.unknownKind("key", key, near)
}

// unknownKind is unknown for a key of kind what ("key", "client key").
func (b *builder) unknownKind(what, key, near string) {
	if len(b.aliases) == 0 {
		return // without clusters every key is unknown: "clusters" says why
	}
	if b.opts.allowUnknownKeys {
		b.warnOnce(fmt.Sprintf("unknown %s %q ignored", what, key))
		return
	}
	problem := "unknown " + what
	if near != "" {
		problem += fmt.Sprintf(" (did you mean %s?)", near)
	}
	e := &KeyError{Key: key, Line: b.lines[key], Problem: problem}
	if b.errs != nil {
		for _, prev := range b.errs.Errors {
			if prev.Error() == e.Error() {
				return // a client key is read for each client
			}
		}
	}
	b.errs = multierror.Append(b.errs, e)
}

// brokerKey warns that key, a broker setting, reaches no client.
func (b *builder) brokerKey(key string) {
	b.warnOnce(fmt.Sprintf("key %q ignored: it is a broker setting, which no client reads", key))
}

// withPrefix is prefix+near, or "" when near is.
func withPrefix(prefix, near string) string {
	if near == "" {
		return ""
	}
	return prefix + near
}

// check validates v if k is in one of specs and reports whether it was.
func (b *builder) check(full, k, v string, specs ...map[string]keySpec) bool {
	switch k {
	case KeyTopicsBlacklist:
		k = KeyTopicsExclude
	case KeyGroupsBlacklist:
		k = KeyGroupsExclude
	case KeyConfigPropertiesBlacklist:
		k = KeyConfigPropertiesExclude
	}
	for _, m := range specs {
		if spec, ok := m[k]; ok {
			b.checkKind(full, v, spec)
			return true
		}
	}
	return false
}

func (b *builder) checkKind(full, v string, spec keySpec) {
	switch spec.kind {
	case kindBool:
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			b.fail(full, "%q is not a boolean (true or false)", v)
		}
	case kindInt:
		if _, err := strconv.ParseInt(v, 10, 32); err != nil {
			b.fail(full, "%q is not an integer", v)
		}
	case kindEnum:
		if !slices.ContainsFunc(spec.enums, func(e string) bool { return strings.EqualFold(e, v) }) {
			b.fail(full, "%q is not one of %s", v, strings.Join(spec.enums, ", "))
		}
	case kindRegexList:
		if _, err := policy.CompileList(splitList(v)); err != nil {
			b.fail(full, "invalid regular expression: %v", err)
		}
	}
}

// lookup resolves a flow key: the flow's own, then (for the worker keys
// that are flow settings too, group.id and offset.flush.interval.ms) the
// target cluster's, then the top level, then the default. It returns the key as written where it was found, for errors.
func (b *builder) lookup(s, t, k string, aliases ...string) (v, where string) {
	for _, name := range append([]string{k}, aliases...) {
		if v, ok := b.sc.flows[[2]string{s, t}][name]; ok {
			return v, s + "->" + t + "." + name
		}
	}
	if _, ok := workerKeys[k]; ok {
		// A Connect worker key: MM2 reads it under the target's alias.
		if v, ok := b.sc.clusters[t][k]; ok {
			return v, t + "." + k
		}
	}
	for _, name := range append([]string{k}, aliases...) {
		if v, ok := b.sc.top[name]; ok {
			return v, name
		}
	}
	return flowKeys[k].def, k
}

// lookupWorker resolves a worker key: the target cluster's, then the top
// level, then the default.
func (b *builder) lookupWorker(t, k string) (string, string) {
	if v, ok := b.sc.clusters[t][k]; ok {
		return v, t + "." + k
	}
	if v, ok := b.sc.top[k]; ok {
		return v, k
	}
	return workerKeys[k].def, k
}

func atoi(v string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(v)) // validated in checkValues
	return n
}

func isTrue(v string) bool { return strings.EqualFold(v, "true") }

func (b *builder) flow(s, t string) Flow {
	get := func(k string, aliases ...string) string {
		v, _ := b.lookup(s, t, k, aliases...)
		return v
	}
	positive := func(k string) int {
		v, where := b.lookup(s, t, k)
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err == nil && n < 1 { // a non-number was reported by checkValues
			b.fail(where, "must be at least 1, got %q", v)
		}
		return n
	}
	interval := func(enabledKey, secondsKey string) time.Duration {
		if !isTrue(get(enabledKey)) {
			return 0
		}
		return time.Duration(positive(secondsKey)) * time.Second
	}
	// rf reads a replication factor: 1 to 32767, or -1 for the broker's
	// default.replication.factor (KIP-464), as Kafka's admin client takes.
	rf := func(k string) int16 {
		v, where := b.lookup(s, t, k)
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err == nil && (n == 0 || n < -1 || n > 32767) { // a non-number was reported by checkValues
			b.fail(where, "must be between 1 and 32767, or -1 for the broker's default, got %q", v)
		}
		return int16(n)
	}
	// optionalPositive reads a key without a default: 0 when unset, else
	// at least 1.
	optionalPositive := func(k string) int64 {
		if v, _ := b.lookup(s, t, k); strings.TrimSpace(v) == "" {
			return 0
		}
		return int64(positive(k))
	}
	f := Flow{
		Source:                   s,
		Target:                   t,
		UseDefaultsFrom:          strings.ToLower(get(KeyUseDefaultsFrom)),
		ReplicationFactor:        rf(KeyReplicationFactor),
		RefreshTopicsInterval:    interval(KeyRefreshTopicsEnabled, KeyRefreshTopicsInterval),
		SyncTopicConfigsInterval: interval(KeySyncTopicConfigsEnabled, KeySyncTopicConfigsInterval),
		SyncTopicACLsInterval:    interval(KeySyncTopicACLsEnabled, KeySyncTopicACLsInterval),
		EmitCheckpointsInterval:  interval(KeyEmitCheckpointsEnabled, KeyEmitCheckpointsInterval),
		SyncGroupOffsetsInterval: interval(KeySyncGroupOffsetsEnabled, KeySyncGroupOffsetsInterval),
		EmitHeartbeatsInterval:   interval(KeyEmitHeartbeatsEnabled, KeyEmitHeartbeatsInterval),
		EmitOffsetSyncs:          isTrue(get(KeyEmitOffsetSyncsEnabled)),
		OffsetLagMax:             int64(atoi(get(KeyOffsetLagMax))),
		OffsetSyncsOnTarget:      strings.EqualFold(get(KeyOffsetSyncsTopicLocation), "target"),
		OffsetSyncsTopicRF:       rf(KeyOffsetSyncsTopicRF),
		CheckpointsTopicRF:       rf(KeyCheckpointsTopicRF),
		HeartbeatsTopicRF:        rf(KeyHeartbeatsTopicRF),
		TasksMax:                 positive(KeyTasksMax),
		LoadAware:                strings.EqualFold(get(KeyTasksAssignment), "load"),
		AdminTimeout:             time.Duration(positive(KeyAdminTimeout)) * time.Millisecond,
		OffsetFlushInterval:      time.Duration(positive(KeyOffsetFlushInterval)) * time.Millisecond,
		SkipDataLoss:             strings.EqualFold(get(KeyDataLossPolicy), "skip"),
		BytesPerSecond:           optionalPositive(KeyReplicationBytesPerSecond),
		GroupID:                  get(KeyGroupID),
	}
	if f.GroupID == "" {
		f.GroupID = s + "-mm2"
	}

	sep, sepWhere := b.lookup(s, t, KeyReplicationPolicySeparator)
	if sep == "" {
		b.fail(sepWhere, "the separator must not be empty: for remote topics named as on the source, use replication.policy.class = IdentityReplicationPolicy")
	}
	def := policy.Default{Separator: sep, DotInternal: !isTrue(get(KeyInternalTopicSeparator))}
	f.Policy = def
	if strings.HasSuffix(strings.TrimSpace(get(KeyReplicationPolicyClass)), "IdentityReplicationPolicy") {
		f.Policy = policy.Identity{Default: def, SourceAlias: s}
	}

	filter := func(incKey, excKey string, excAliases ...string) policy.Filter {
		inc, _ := b.lookup(s, t, incKey)
		exc, _ := b.lookup(s, t, excKey, excAliases...)
		// checkValues has reported any bad pattern under its own key.
		fl, _ := policy.NewFilter(splitList(inc), splitList(exc))
		return fl
	}
	f.Topics = policy.Topics{
		Policy:     f.Policy,
		Filter:     filter(KeyTopics, KeyTopicsExclude, KeyTopicsBlacklist),
		Target:     t,
		Heartbeats: isTrue(get(KeyHeartbeatsReplication)),
	}
	f.Groups = filter(KeyGroups, KeyGroupsExclude, KeyGroupsBlacklist)
	exc, _ := b.lookup(s, t, KeyConfigPropertiesExclude, KeyConfigPropertiesBlacklist)
	f.ConfigExclude, _ = policy.NewFilter(nil, splitList(exc))

	worker := func(k, def string) string {
		if v, _ := b.lookupWorker(t, k); v != "" {
			return v
		}
		return def
	}
	workerRF := func(k string) int16 {
		v, where := b.lookupWorker(t, k)
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err == nil && (n == 0 || n < -1 || n > 32767) {
			b.fail(where, "must be between 1 and 32767, or -1 for the broker's default, got %q", v)
		}
		return int16(n)
	}
	workerParts := func(k string) int32 {
		v, where := b.lookupWorker(t, k)
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err == nil && (n == 0 || n < -1) {
			b.fail(where, "must be at least 1, or -1 for the broker's default, got %q", v)
		}
		return int32(n)
	}
	f.OffsetsTopic = worker(KeyOffsetStorageTopic, "mm2-offsets."+s+".internal")
	f.OffsetsTopicPartitions = workerParts(KeyOffsetStoragePartitions)
	f.OffsetsTopicRF = workerRF(KeyOffsetStorageRF)
	f.ConfigsTopic = worker(KeyConfigStorageTopic, "mm2-configs."+s+".internal")
	f.ConfigsTopicRF = workerRF(KeyConfigStorageRF)
	f.StatusTopic = worker(KeyStatusStorageTopic, "mm2-status."+s+".internal")
	f.StatusTopicPartitions = workerParts(KeyStatusStoragePartitions)
	f.StatusTopicRF = workerRF(KeyStatusStorageRF)
	f.OffsetsTopicConfigs = b.storageTopicConfigs(t, "offset.storage.")
	f.ConfigsTopicConfigs = b.storageTopicConfigs(t, "config.storage.")
	f.StatusTopicConfigs = b.storageTopicConfigs(t, "status.storage.")
	f.ExactlyOnce = strings.EqualFold(worker(KeyExactlyOnceSource, "disabled"), "enabled")
	workerMillis := func(k string) time.Duration {
		v, where := b.lookupWorker(t, k)
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err == nil && n < 1 {
			b.fail(where, "must be at least 1, got %q", v)
		}
		return time.Duration(n) * time.Millisecond
	}
	f.SessionTimeout = workerMillis(KeySessionTimeout)
	f.HeartbeatInterval = workerMillis(KeyHeartbeatInterval)
	f.RebalanceTimeout = workerMillis(KeyRebalanceTimeout)
	if f.SessionTimeout > 0 && f.HeartbeatInterval >= f.SessionTimeout { // a bad session.timeout.ms is reported already
		_, where := b.lookupWorker(t, KeyHeartbeatInterval)
		b.fail(where, "must be below %s (%s)", KeySessionTimeout, f.SessionTimeout)
	}
	if strings.EqualFold(get(KeyTransactionBoundary), "interval") {
		f.TransactionInterval = f.OffsetFlushInterval
		if get(KeyTransactionBoundaryInterval) != "" {
			f.TransactionInterval = time.Duration(positive(KeyTransactionBoundaryInterval)) * time.Millisecond
		}
	}

	f.settings = map[string]string{}
	for k := range flowKeys {
		v, where := b.lookup(s, t, k)
		if w, ok := b.written[where]; ok {
			v = w // as written, never what a config provider resolved
		}
		if v != "" {
			f.settings[k] = v
		}
	}
	f.settings[KeyGroupID] = f.GroupID
	b.flowClients(&f)
	b.checkFlowAliases(s, t)
	return f
}

// flowClients reads the Java client keys of the flow's clients at the
// scopes where MM2 applies them (MirrorMakerConfig, MirrorConnectorConfig;
// later scopes win), over each cluster's common client keys:
//   - source consumer, offset-syncs reader: A->B.consumer.* < A.consumer.* < A->B.source.consumer.*
//   - target readers (checkpoints): A->B.consumer.* < B.consumer.* < A->B.target.consumer.*
//   - data producer (records, positions, checkpoints, heartbeats: Connect's
//     task producers): B.producer.* < A->B.producer.override.*
//   - offset-syncs producer: A->B.producer.* < A.producer.* < A->B.source.producer.*
//     (B's and target.producer.* with offset-syncs.topic.location = target)
//   - admins: A->B.admin.* < A.admin.* < A->B.source.admin.* (B's for the target)
func (b *builder) flowClients(f *Flow) {
	s, t := f.Source, f.Target
	fl, sc, tc := b.sc.flows[[2]string{s, t}], b.sc.clusters[s], b.sc.clusters[t]
	fp := s + "->" + t + "."
	srcGet, tgtGet := b.clusterLookup(s), b.clusterLookup(t)
	srcBase, tgtBase := b.clusterClient(s), b.clusterClient(t)
	sides := func(role Role, side string, base Client, get lookupFunc, clusterKV map[string]string, alias string, flowPrefix string) Client {
		p := role.prefix()
		return b.client(role, base, get,
			clientScope{fl, flowPrefix + p, fp},
			clientScope{clusterKV, p, alias + "."},
			clientScope{fl, side + "." + p, fp})
	}
	f.SourceConsumer = sides(RoleConsumer, "source", srcBase, srcGet, sc, s, "")
	f.TargetConsumer = sides(RoleConsumer, "target", tgtBase, tgtGet, tc, t, "")
	f.SourceAdmin = sides(RoleAdmin, "source", srcBase, srcGet, sc, s, "")
	f.TargetAdmin = sides(RoleAdmin, "target", tgtBase, tgtGet, tc, t, "")
	if f.OffsetSyncsOnTarget {
		f.OffsetSyncProducer = sides(RoleProducer, "target", tgtBase, tgtGet, tc, t, "")
	} else {
		f.OffsetSyncProducer = sides(RoleProducer, "source", srcBase, srcGet, sc, s, "")
	}
	f.Producer = b.client(RoleProducer, tgtBase, tgtGet,
		clientScope{tc, PrefixProducer, t + "."},
		clientScope{fl, "producer.override.", fp})
}

// storageTopicConfigs are the topic configs Connect takes from the worker
// keys under prefix (DistributedConfig.topicSettings): every key but the
// topic's name, replication factor and partitions; cleanup.policy is
// ignored with a warning, as Connect does (the topics stay compacted).
func (b *builder) storageTopicConfigs(t, prefix string) map[string]string {
	out := map[string]string{}
	for _, sc := range []struct {
		kv    map[string]string
		where string
	}{{b.sc.top, ""}, {b.sc.clusters[t], t + "."}} {
		for k, v := range sc.kv {
			name, ok := strings.CutPrefix(k, prefix)
			switch {
			case !ok, name == "topic", name == "replication.factor", name == "partitions":
			case name == "cleanup.policy":
				b.warnOnce(fmt.Sprintf("%s%s ignored: internal topics are always compacted", sc.where, k))
			default:
				out[name] = v
			}
		}
	}
	return out
}

// clusterLookup resolves a client key of cluster a: its own, else the top
// level's, else the default.
func (b *builder) clusterLookup(a string) lookupFunc {
	return func(k string) (string, string) {
		if v, ok := b.sc.clusters[a][k]; ok {
			return v, a + "." + k
		}
		if v, ok := b.sc.top[k]; ok {
			return v, k
		}
		return clientKeys[k].def, a + "." + k
	}
}

func (b *builder) cluster(a string, used bool) Cluster {
	get := b.clusterLookup(a)
	c := Cluster{Alias: a}
	servers, _ := get(KeyBootstrapServers)
	c.BootstrapServers = splitList(servers)
	if used && len(c.BootstrapServers) == 0 {
		b.fail(a+"."+KeyBootstrapServers, "missing: where is cluster %s?", a)
	}
	c.ClientID, _ = get("client.id")
	c.Client = b.clusterClient(a)
	proto, _ := get(KeySecurityProtocol)
	c.Security.Protocol = strings.ToUpper(proto)
	if c.Security.SASL() {
		c.Security.SASLConfig = b.saslSettings(get)
	}
	if c.Security.TLS() {
		c.Security.TLSConfig = b.tlsSettings(get)
	}
	return c
}

// lookupFunc resolves a client key of one cluster: its value (the cluster's
// own, else the top level's, else the default) and the key as written, for
// errors.
type lookupFunc func(key string) (value, where string)
