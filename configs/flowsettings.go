package configs

import (
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
)

// A connector config sent through the REST API holds a flow's settings
// (WithFlowSettings). The API refuses a key it does not know, as the file
// does unless AllowUnknownKeys (the caller is there to read the answer), and
// it refuses secrets written in the clear, since the settings are stored
// as sent in the flow's configs topic, which any client of the target
// cluster allowed to read it can read.

// CheckFlowSetting checks key k of a connector config (a flow's settings)
// with value v. It returns "" for a key the file reads in a flow's scope
// without calling it unknown and a value that is no secret written in the
// clear; otherwise what is wrong, naming the nearest known key when one is
// close ("did you mean topics?").
func CheckFlowSetting(k, v string) string {
	if IsSecretKey(k) && !onlyReferences(v) {
		return fmt.Sprintf("%s is a secret and settings sent through the REST API are stored as sent, in the clear, in the flow's configs topic: "+
			"set it in the worker's configuration file, or send only config provider references, e.g. ${file:/etc/strait/secrets.properties:%s} or ${env:MY_SECRET}", k, k)
	}
	if knownFlowKey(k) {
		return ""
	}
	msg := fmt.Sprintf("unknown key %s: Strait does not read it in a flow's settings", k)
	if near := nearestFlowKey(k); near != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", near)
	}
	return msg
}

// IsSecretKey reports whether key k (with any scope or client prefix)
// holds a secret: a password (ssl.key.password, ssl.keystore.password,
// ssl.truststore.password, any *password), a JAAS configuration
// (sasl.jaas.config, which holds the SASL credentials), a private key
// (ssl.keystore.key), basic.auth.user.info, or an OAuth client secret
// (any *secret).
func IsSecretKey(k string) bool {
	k = strings.ToLower(k)
	for _, suffix := range []string{"password", "secret", KeySASLJAASConfig, KeySSLKeystoreKey, "basic.auth.user.info"} {
		if strings.HasSuffix(k, suffix) {
			return true
		}
	}
	return false
}

// onlyReferences reports whether v is empty or made only of config
// provider references (${file:...}, ${env:...}): storing it stores no
// secret.
func onlyReferences(v string) bool {
	return strings.TrimSpace(providerRef.ReplaceAllString(v, "")) == ""
}

// flowPrefixes are the prefixes of client keys in a flow's scope, longest
// first: the rest of the key is a client key (see builder.client).
var flowPrefixes = []string{
	"producer.override.", "consumer.override.", "admin.override.",
	"source.consumer.", "source.producer.", "source.admin.",
	"target.consumer.", "target.producer.", "target.admin.",
	PrefixConsumer, PrefixProducer, PrefixAdmin,
}

// knownFlowKey reports whether the file reads k in a flow's scope
// ("A->B.<k>") without warning that it is unknown: the cases of
// builder.checkValues for flows and, under a client prefix, of
// builder.client. TestKnownFlowKeyAgreesWithTheFile keeps them in step.
func knownFlowKey(k string) bool {
	switch k {
	case KeyEnabled, KeyTopicsBlacklist, KeyGroupsBlacklist, KeyConfigPropertiesBlacklist:
		return true
	}
	if _, ok := flowKeys[k]; ok || connectorKeys[k] || noEffectKeys[k] != "" {
		return true
	}
	if _, ok := classKeys[k]; ok {
		return true
	}
	for _, p := range flowPrefixes {
		if rest, ok := strings.CutPrefix(k, p); ok {
			return strings.HasPrefix(rest, "override.") || knownClientKey(rest) ||
				(p == "consumer.override." || p == "admin.override.") // reach no client, with a warning of their own
		}
	}
	return hasPrefix(k, ignoredPrefixes...)
}

// knownClientKey reports whether builder.client reads k (a client key
// without its prefix) without calling it unknown; a class key
// (interceptor.classes) is refused with its own advice.
func knownClientKey(k string) bool {
	_, conn := clientKeys[k]
	_, class := classKeys[k]
	return conn || class || isClientKey(k) || strings.HasPrefix(k, "ssl.") || strings.HasPrefix(k, "sasl.")
}

// nearestFlowKey is the known key nearest to the unknown k: among the
// client keys under the same prefix when k has one, else among the flow
// keys.
func nearestFlowKey(k string) string {
	for _, p := range flowPrefixes {
		if rest, ok := strings.CutPrefix(k, p); ok {
			if near := Nearest(rest, clientKeyNames()); near != "" {
				return p + near
			}
			break
		}
	}
	return Nearest(k, flowKeyNames())
}

// flowKeyNames lists, sorted, the keys a flow's settings may hold without
// a prefix.
func flowKeyNames() []string {
	return sortedUnion(slices.Values([]string{KeyEnabled}), maps.Keys(flowKeys), maps.Keys(noEffectKeys), maps.Keys(classKeys))
}

// clientKeyNames lists, sorted, the client keys Strait reads.
func clientKeyNames() []string {
	return sortedUnion(maps.Keys(clientSettings), maps.Keys(clientNoEffect), maps.Keys(clientKeys))
}

// clusterKeyNames lists, sorted, the keys a cluster's scope
// ("<alias>.<k>") may hold.
func clusterKeyNames() []string {
	return sortedUnion(slices.Values(clientKeyNames()), maps.Keys(workerKeys), maps.Keys(noEffectKeys), maps.Keys(classKeys))
}

// topKeyNames lists, sorted, the keys a top-level key may have been
// meant as: the top level's own and those of each cluster and flow
// ("Ax.bootstrap.servers" is near "A.bootstrap.servers").
func (b *builder) topKeyNames() []string {
	names := sortedUnion(slices.Values(flowKeyNames()), slices.Values(clientKeyNames()), maps.Keys(workerKeys),
		slices.Values([]string{KeyMemoryMaxBytes, KeyReadinessUnreachableTimeout, KeyMetricsPartitionSeries, KeyListeners, KeyRESTAdvertisedHost, KeyRESTAdvertisedPort,
			KeyRESTAdvertisedListener, KeyRESTExtensionClasses, KeyRESTBasicAuthJAASFile, KeySSLClientAuth}))
	cluster, flow := clusterKeyNames(), flowKeyNames()
	for _, s := range b.aliases {
		for _, k := range cluster {
			names = append(names, s+"."+k)
		}
		for _, t := range b.aliases {
			for _, k := range flow {
				if s != t {
					names = append(names, s+"->"+t+"."+k)
				}
			}
		}
	}
	return names
}

func sortedUnion(sets ...iter.Seq[string]) []string {
	var names []string
	for _, set := range sets {
		names = slices.AppendSeq(names, set)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// FlowKeyDef describes a key of a flow's settings, as Connect's
// ConfigKeyInfo describes a connector's config key.
type FlowKeyDef struct {
	Name string
	// Type is Connect's ConfigDef type: STRING, BOOLEAN, INT or LIST.
	Type string
	// Default is MM2's default; HasDefault is false for a key without one.
	Default    string
	HasDefault bool
	// Values are the values an enumerated key accepts, else nil.
	Values []string
}

// FlowKeyDefs describes, sorted by name, the keys a flow's settings may
// hold without a prefix and whose value Strait reads (MM2's defaults).
func FlowKeyDefs() []FlowKeyDef {
	types := map[kind]string{kindString: "STRING", kindBool: "BOOLEAN", kindInt: "INT", kindList: "LIST", kindRegexList: "LIST", kindEnum: "STRING"}
	defs := []FlowKeyDef{{Name: KeyEnabled, Type: "BOOLEAN", Default: "true", HasDefault: true}}
	for k, spec := range flowKeys {
		if noEffectKeys[k] != "" {
			continue
		}
		defs = append(defs, FlowKeyDef{Name: k, Type: types[spec.kind], Default: spec.def, HasDefault: spec.def != "", Values: slices.Clone(spec.enums)})
	}
	slices.SortFunc(defs, func(a, b FlowKeyDef) int { return strings.Compare(a.Name, b.Name) })
	return defs
}
