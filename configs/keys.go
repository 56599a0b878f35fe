package configs

// MM2 and Connect key names Strait reads. Scopes are described in doc.go.
const (
	KeyClusters          = "clusters"
	KeyBootstrapServers  = "bootstrap.servers"
	KeySecurityProtocol  = "security.protocol"
	KeySASLMechanism     = "sasl.mechanism"
	KeySASLJAASConfig    = "sasl.jaas.config"
	KeySSLTruststoreLoc  = "ssl.truststore.location"
	KeySSLTruststoreType = "ssl.truststore.type"
	KeySSLKeystoreLoc    = "ssl.keystore.location"
	KeySSLKeystoreType   = "ssl.keystore.type"
	KeySSLEndpointIdent  = "ssl.endpoint.identification.algorithm"
	// The other ssl.* keys of Kafka's Java client that Strait honours
	// (configs/tls.go), and those it accepts only at Java's default value.
	KeySSLTruststorePassword = "ssl.truststore.password"
	KeySSLTruststoreCerts    = "ssl.truststore.certificates"
	KeySSLKeystorePassword   = "ssl.keystore.password"
	KeySSLKeystoreKey        = "ssl.keystore.key"
	KeySSLKeystoreChain      = "ssl.keystore.certificate.chain"
	KeySSLKeyPassword        = "ssl.key.password"
	KeySSLProtocol           = "ssl.protocol"
	KeySSLEnabledProtocols   = "ssl.enabled.protocols"
	KeySSLCipherSuites       = "ssl.cipher.suites"
	KeySSLProvider           = "ssl.provider"
	KeySSLSecureRandom       = "ssl.secure.random.implementation"
	KeySSLKeyManagerAlg      = "ssl.keymanager.algorithm"
	KeySSLTrustManagerAlg    = "ssl.trustmanager.algorithm"
	KeySSLEngineFactory      = "ssl.engine.factory.class"

	KeyEnabled                    = "enabled"
	KeyTopics                     = "topics"
	KeyTopicsExclude              = "topics.exclude"
	KeyTopicsBlacklist            = "topics.blacklist"
	KeyGroups                     = "groups"
	KeyGroupsExclude              = "groups.exclude"
	KeyGroupsBlacklist            = "groups.blacklist"
	KeyConfigPropertiesExclude    = "config.properties.exclude"
	KeyConfigPropertiesBlacklist  = "config.properties.blacklist"
	KeyUseDefaultsFrom            = "use.defaults.from"
	KeyReplicationFactor          = "replication.factor"
	KeyRefreshTopicsEnabled       = "refresh.topics.enabled"
	KeyRefreshTopicsInterval      = "refresh.topics.interval.seconds"
	KeySyncTopicConfigsEnabled    = "sync.topic.configs.enabled"
	KeySyncTopicConfigsInterval   = "sync.topic.configs.interval.seconds"
	KeySyncTopicACLsEnabled       = "sync.topic.acls.enabled"
	KeySyncTopicACLsInterval      = "sync.topic.acls.interval.seconds"
	KeyRefreshGroupsEnabled       = "refresh.groups.enabled"
	KeyRefreshGroupsInterval      = "refresh.groups.interval.seconds"
	KeyEmitCheckpointsEnabled     = "emit.checkpoints.enabled"
	KeyEmitCheckpointsInterval    = "emit.checkpoints.interval.seconds"
	KeySyncGroupOffsetsEnabled    = "sync.group.offsets.enabled"
	KeySyncGroupOffsetsInterval   = "sync.group.offsets.interval.seconds"
	KeyEmitHeartbeatsEnabled      = "emit.heartbeats.enabled"
	KeyEmitHeartbeatsInterval     = "emit.heartbeats.interval.seconds"
	KeyEmitOffsetSyncsEnabled     = "emit.offset-syncs.enabled"
	KeyHeartbeatsReplication      = "heartbeats.replication.enabled"
	KeyOffsetLagMax               = "offset.lag.max"
	KeyHeartbeatsTopicRF          = "heartbeats.topic.replication.factor"
	KeyCheckpointsTopicRF         = "checkpoints.topic.replication.factor"
	KeyOffsetSyncsTopicRF         = "offset-syncs.topic.replication.factor"
	KeyOffsetSyncsTopicLocation   = "offset-syncs.topic.location"
	KeyConsumerPollTimeout        = "consumer.poll.timeout.ms"
	KeyAdminTimeout               = "admin.timeout.ms"
	KeyReplicationPolicyClass     = "replication.policy.class"
	KeyReplicationPolicySeparator = "replication.policy.separator"
	KeyInternalTopicSeparator     = "replication.policy.internal.topic.separator.enabled"
	KeyTasksMax                   = "tasks.max"
	// Connect's source connector keys for exactly-once (KIP-618): a
	// transaction per poll (default) or per interval.
	KeyTransactionBoundary         = "transaction.boundary"
	KeyTransactionBoundaryInterval = "transaction.boundary.interval.ms"
	// KeyTasksAssignment is Strait's own: how a flow spreads partitions
	// over its source tasks. "round-robin" (default) as MM2; "load" by
	// measured bytes/s per partition, moving few partitions and rarely.
	KeyTasksAssignment = "tasks.assignment"

	// Connect worker keys (dedicated mode: top level or per target cluster).
	KeyGroupID                 = "group.id"
	KeyOffsetFlushInterval     = "offset.flush.interval.ms"
	KeyOffsetStorageTopic      = "offset.storage.topic"
	KeyOffsetStoragePartitions = "offset.storage.partitions"
	KeyOffsetStorageRF         = "offset.storage.replication.factor"
	KeyConfigStorageTopic      = "config.storage.topic"
	KeyConfigStorageRF         = "config.storage.replication.factor"
	KeyStatusStorageTopic      = "status.storage.topic"
	KeyStatusStoragePartitions = "status.storage.partitions"
	KeyStatusStorageRF         = "status.storage.replication.factor"
	KeyExactlyOnceSource       = "exactly.once.source.support"
	KeySessionTimeout          = "session.timeout.ms"
	KeyHeartbeatInterval       = "heartbeat.interval.ms"
	KeyRebalanceTimeout        = "rebalance.timeout.ms"

	// KeyMemoryMaxBytes is Strait's own: how much resident memory the
	// worker's process may take, in bytes, most of it buffers of fetched
	// and not yet acknowledged records; default 268435456 (256 MiB), at
	// least MemoryMinimum for the flows and tasks.
	KeyMemoryMaxBytes = "memory.max.bytes"

	// KeyReadinessUnreachableTimeout is Strait's own: how long a cluster
	// the worker uses may stay unreachable (its probes fail) before
	// /readyz answers 503, in milliseconds; default 30000 (30 s), 0: at
	// once. Top level only.
	KeyReadinessUnreachableTimeout = "readiness.unreachable.timeout.ms"

	// KeyMetricsPartitionSeries is Strait's own: true exports the
	// per-partition metric series (a "partition" label on lag, counts,
	// latency, age and partition state); default false, one series per
	// remote topic, so /metrics stays small with many partitions. Top
	// level only.
	KeyMetricsPartitionSeries = "metrics.partition.series"

	// KeyListeners is Connect's listeners: where the REST API listens,
	// e.g. "http://127.0.0.1:8083, https://0.0.0.0:8443". Unset: no REST
	// API. The REST keys below are top level only (configs/rest.go).
	KeyListeners = "listeners"
	// Connect's RestServerConfig keys: the URL other workers are given
	// (http or https, host, port), and REST extensions (only
	// BasicAuthExtensionClass).
	KeyRESTAdvertisedListener = "rest.advertised.listener"
	KeyRESTAdvertisedHost     = "rest.advertised.host.name"
	KeyRESTAdvertisedPort     = "rest.advertised.port"
	KeyRESTExtensionClasses   = "rest.extension.classes"
	// KeyRESTBasicAuthJAASFile is Strait's own: the JAAS file whose
	// KafkaConnect entry lists the users files of basic authentication.
	// Connect takes it from the JVM's -Djava.security.auth.login.config,
	// which Strait reads from KAFKA_OPTS when this key is unset.
	KeyRESTBasicAuthJAASFile = "rest.basic.auth.jaas.config.file"
	// PrefixListenersHTTPS starts the ssl.* keys of https listeners
	// ("listeners.https.ssl.keystore.location"); when none is set, the
	// top-level ssl.* keys apply, as in Connect.
	PrefixListenersHTTPS = "listeners.https."
	// KeySSLClientAuth is ssl.client.auth of https listeners: none
	// (default), requested or required (client certificates checked
	// against the truststore).
	KeySSLClientAuth = "ssl.client.auth"

	// KeyDataLossPolicy is Strait's own: what a source task does when
	// records it has not copied were deleted on the source (retention,
	// DeleteRecords). "fail" (default) fails the partition's task naming the
	// lost range; "skip" resumes at the log start and counts the loss.
	KeyDataLossPolicy = "data.loss.policy"

	// KeyReplicationBytesPerSecond is Strait's own (MM2 has none): the
	// most bytes per second a flow copies, shared by its source tasks on
	// every worker (each takes the limit divided by their number). Unset,
	// the flow is not limited.
	KeyReplicationBytesPerSecond = "replication.bytes.per.second"
)

// Client key prefixes: "consumer.", "producer.", "admin." at the top level,
// per cluster ("A.consumer.") or per flow ("A->B.consumer.").
const (
	PrefixConsumer = "consumer."
	PrefixProducer = "producer."
	PrefixAdmin    = "admin."
)

// Values of replication.policy.class that Strait implements.
const (
	DefaultPolicyClass  = "org.apache.kafka.connect.mirror.DefaultReplicationPolicy"
	IdentityPolicyClass = "org.apache.kafka.connect.mirror.IdentityReplicationPolicy"
)

// MM2's default lists.
const (
	DefaultTopicsExclude           = `.*[\-\.]internal, .*\.replica, __.*`
	DefaultGroupsExclude           = `console-consumer-.*, connect-.*, __.*`
	DefaultConfigPropertiesExclude = `follower\.replication\.throttled\.replicas, leader\.replication\.throttled\.replicas, message\.timestamp\.difference\.max\.ms, message\.timestamp\.type, unclean\.leader\.election\.enable, min\.insync\.replicas`
)

type kind int

const (
	kindString kind = iota
	kindBool
	kindInt
	kindList
	kindRegexList
	kindEnum
)

type keySpec struct {
	kind  kind
	def   string
	enums []string
}

// flowKeys are the keys that may be set at the top level or per flow, with
// MM2's defaults. It is read only.
var flowKeys = map[string]keySpec{
	KeyTopics:                      {kind: kindRegexList, def: ".*"},
	KeyTopicsExclude:               {kind: kindRegexList, def: DefaultTopicsExclude},
	KeyGroups:                      {kind: kindRegexList, def: ".*"},
	KeyGroupsExclude:               {kind: kindRegexList, def: DefaultGroupsExclude},
	KeyConfigPropertiesExclude:     {kind: kindRegexList, def: DefaultConfigPropertiesExclude},
	KeyUseDefaultsFrom:             {kind: kindEnum, def: "target", enums: []string{"source", "target"}},
	KeyReplicationFactor:           {kind: kindInt, def: "2"},
	KeyRefreshTopicsEnabled:        {kind: kindBool, def: "true"},
	KeyRefreshTopicsInterval:       {kind: kindInt, def: "600"},
	KeySyncTopicConfigsEnabled:     {kind: kindBool, def: "true"},
	KeySyncTopicConfigsInterval:    {kind: kindInt, def: "600"},
	KeySyncTopicACLsEnabled:        {kind: kindBool, def: "true"},
	KeySyncTopicACLsInterval:       {kind: kindInt, def: "600"},
	KeyRefreshGroupsEnabled:        {kind: kindBool, def: "true"},
	KeyRefreshGroupsInterval:       {kind: kindInt, def: "600"},
	KeyEmitCheckpointsEnabled:      {kind: kindBool, def: "true"},
	KeyEmitCheckpointsInterval:     {kind: kindInt, def: "60"},
	KeySyncGroupOffsetsEnabled:     {kind: kindBool, def: "false"},
	KeySyncGroupOffsetsInterval:    {kind: kindInt, def: "60"},
	KeyEmitHeartbeatsEnabled:       {kind: kindBool, def: "true"},
	KeyEmitHeartbeatsInterval:      {kind: kindInt, def: "1"},
	KeyEmitOffsetSyncsEnabled:      {kind: kindBool, def: "true"},
	KeyHeartbeatsReplication:       {kind: kindBool, def: "true"},
	KeyOffsetLagMax:                {kind: kindInt, def: "100"},
	KeyHeartbeatsTopicRF:           {kind: kindInt, def: "3"},
	KeyCheckpointsTopicRF:          {kind: kindInt, def: "3"},
	KeyOffsetSyncsTopicRF:          {kind: kindInt, def: "3"},
	KeyOffsetSyncsTopicLocation:    {kind: kindEnum, def: "source", enums: []string{"source", "target"}},
	KeyConsumerPollTimeout:         {kind: kindInt, def: "1000"},
	KeyAdminTimeout:                {kind: kindInt, def: "60000"},
	KeyReplicationPolicyClass:      {kind: kindEnum, def: DefaultPolicyClass, enums: []string{DefaultPolicyClass, IdentityPolicyClass, "DefaultReplicationPolicy", "IdentityReplicationPolicy"}},
	KeyReplicationPolicySeparator:  {kind: kindString, def: "."},
	KeyInternalTopicSeparator:      {kind: kindBool, def: "true"},
	KeyTasksMax:                    {kind: kindInt, def: "1"},
	KeyTasksAssignment:             {kind: kindEnum, def: "round-robin", enums: []string{"round-robin", "load"}},
	KeyTransactionBoundary:         {kind: kindEnum, def: "poll", enums: []string{"poll", "interval"}},
	KeyTransactionBoundaryInterval: {kind: kindInt},
	KeyOffsetFlushInterval:         {kind: kindInt, def: "60000"},
	KeyDataLossPolicy:              {kind: kindEnum, def: "fail", enums: []string{"fail", "skip"}},
	KeyReplicationBytesPerSecond:   {kind: kindInt},
	KeyGroupID:                     {kind: kindString},
}

// workerKeys may also be set per target cluster ("B.offset.storage.topic"),
// as MM2 builds each flow's worker config from its target cluster's keys.
var workerKeys = map[string]keySpec{
	KeyGroupID:                 {kind: kindString},
	KeyOffsetFlushInterval:     {kind: kindInt, def: "60000"},
	KeyOffsetStorageTopic:      {kind: kindString},
	KeyOffsetStoragePartitions: {kind: kindInt, def: "25"},
	KeyOffsetStorageRF:         {kind: kindInt, def: "3"},
	KeyConfigStorageTopic:      {kind: kindString},
	KeyConfigStorageRF:         {kind: kindInt, def: "3"},
	KeyStatusStorageTopic:      {kind: kindString},
	KeyStatusStoragePartitions: {kind: kindInt, def: "5"},
	KeyStatusStorageRF:         {kind: kindInt, def: "3"},
	KeyExactlyOnceSource:       {kind: kindEnum, def: "disabled", enums: []string{"disabled", "preparing", "enabled"}},
	KeySessionTimeout:          {kind: kindInt, def: "10000"},
	KeyHeartbeatInterval:       {kind: kindInt, def: "3000"},
	KeyRebalanceTimeout:        {kind: kindInt, def: "60000"},
}

// The other sasl.* client keys of Kafka's Java client, read by
// configs/sasl.go (OAUTHBEARER, AWS_MSK_IAM, GSSAPI).
const (
	KeySASLClientCallbackHandler        = "sasl.client.callback.handler.class"
	KeySASLLoginCallbackHandler         = "sasl.login.callback.handler.class"
	KeySASLLoginClass                   = "sasl.login.class"
	KeySASLLoginRefreshWindowFactor     = "sasl.login.refresh.window.factor"
	KeySASLLoginRefreshWindowJitter     = "sasl.login.refresh.window.jitter"
	KeySASLLoginRefreshMinPeriod        = "sasl.login.refresh.min.period.seconds"
	KeySASLLoginRefreshBuffer           = "sasl.login.refresh.buffer.seconds"
	KeySASLLoginConnectTimeout          = "sasl.login.connect.timeout.ms"
	KeySASLLoginReadTimeout             = "sasl.login.read.timeout.ms"
	KeySASLLoginRetryBackoff            = "sasl.login.retry.backoff.ms"
	KeySASLLoginRetryBackoffMax         = "sasl.login.retry.backoff.max.ms"
	KeySASLOAuthTokenEndpoint           = "sasl.oauthbearer.token.endpoint.url"
	KeySASLOAuthScopeClaim              = "sasl.oauthbearer.scope.claim.name"
	KeySASLOAuthSubClaim                = "sasl.oauthbearer.sub.claim.name"
	KeySASLOAuthHeaderURLEncode         = "sasl.oauthbearer.header.urlencode"
	KeySASLOAuthClientID                = "sasl.oauthbearer.client.credentials.client.id"
	KeySASLOAuthClientSecret            = "sasl.oauthbearer.client.credentials.client.secret"
	KeySASLOAuthScope                   = "sasl.oauthbearer.scope"
	KeySASLKerberosServiceName          = "sasl.kerberos.service.name"
	KeySASLKerberosKinitCmd             = "sasl.kerberos.kinit.cmd"
	KeySASLKerberosRenewWindowFactor    = "sasl.kerberos.ticket.renew.window.factor"
	KeySASLKerberosRenewJitter          = "sasl.kerberos.ticket.renew.jitter"
	KeySASLKerberosMinTimeBeforeRelogin = "sasl.kerberos.min.time.before.relogin"
)

// clientKeys are client settings of a cluster ("A.security.protocol"); at the
// top level they are the fallback for every cluster.
var clientKeys = map[string]keySpec{
	KeyBootstrapServers:  {kind: kindList},
	KeySecurityProtocol:  {kind: kindEnum, def: "PLAINTEXT", enums: []string{"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}},
	KeySASLMechanism:     {kind: kindEnum, def: "GSSAPI", enums: []string{"GSSAPI", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "AWS_MSK_IAM"}},
	KeySASLJAASConfig:    {kind: kindString},
	KeySSLTruststoreLoc:  {kind: kindString},
	KeySSLTruststoreType: {kind: kindEnum, def: "JKS", enums: []string{"JKS", "PKCS12", "PEM"}},
	KeySSLKeystoreLoc:    {kind: kindString},
	KeySSLKeystoreType:   {kind: kindEnum, def: "JKS", enums: []string{"JKS", "PKCS12", "PEM"}},
	KeySSLEndpointIdent:  {kind: kindString, def: "https"},
	// ssl.* keys read by tlsSettings; defaults are Java's.
	KeySSLTruststorePassword: {kind: kindString},
	KeySSLTruststoreCerts:    {kind: kindString},
	KeySSLKeystorePassword:   {kind: kindString},
	KeySSLKeystoreKey:        {kind: kindString},
	KeySSLKeystoreChain:      {kind: kindString},
	KeySSLKeyPassword:        {kind: kindString},
	KeySSLProtocol:           {kind: kindString, def: "TLSv1.3"},
	KeySSLEnabledProtocols:   {kind: kindList, def: "TLSv1.2,TLSv1.3"},
	KeySSLCipherSuites:       {kind: kindList},
	KeySSLProvider:           {kind: kindString},
	KeySSLSecureRandom:       {kind: kindString},
	KeySSLKeyManagerAlg:      {kind: kindString, def: "SunX509"},
	KeySSLTrustManagerAlg:    {kind: kindString, def: "PKIX"},
	KeySSLEngineFactory:      {kind: kindString},
	"client.id":              {kind: kindString},

	// sasl.* keys read by saslSettings; defaults are Java's. Broker-only
	// sasl.* keys are listed in saslBrokerKeys (accepted with a warning).
	KeySASLClientCallbackHandler:        {kind: kindString},
	KeySASLLoginCallbackHandler:         {kind: kindString},
	KeySASLLoginClass:                   {kind: kindString},
	KeySASLLoginRefreshWindowFactor:     {kind: kindString, def: "0.8"},
	KeySASLLoginRefreshWindowJitter:     {kind: kindString, def: "0.05"},
	KeySASLLoginRefreshMinPeriod:        {kind: kindInt, def: "60"},
	KeySASLLoginRefreshBuffer:           {kind: kindInt, def: "300"},
	KeySASLLoginConnectTimeout:          {kind: kindInt},
	KeySASLLoginReadTimeout:             {kind: kindInt},
	KeySASLLoginRetryBackoff:            {kind: kindInt, def: "100"},
	KeySASLLoginRetryBackoffMax:         {kind: kindInt, def: "10000"},
	KeySASLOAuthTokenEndpoint:           {kind: kindString},
	KeySASLOAuthScopeClaim:              {kind: kindString, def: "scope"},
	KeySASLOAuthSubClaim:                {kind: kindString, def: "sub"},
	KeySASLOAuthHeaderURLEncode:         {kind: kindBool, def: "false"},
	KeySASLOAuthClientID:                {kind: kindString},
	KeySASLOAuthClientSecret:            {kind: kindString},
	KeySASLOAuthScope:                   {kind: kindString},
	KeySASLKerberosServiceName:          {kind: kindString},
	KeySASLKerberosKinitCmd:             {kind: kindString, def: "/usr/bin/kinit"},
	KeySASLKerberosRenewWindowFactor:    {kind: kindString, def: "0.8"},
	KeySASLKerberosRenewJitter:          {kind: kindString, def: "0.05"},
	KeySASLKerberosMinTimeBeforeRelogin: {kind: kindInt, def: "60000"},

	"sasl.enabled.mechanisms":                             {kind: kindString},
	"sasl.mechanism.inter.broker.protocol":                {kind: kindString},
	"sasl.server.callback.handler.class":                  {kind: kindString},
	"sasl.server.max.receive.size":                        {kind: kindString},
	"sasl.kerberos.principal.to.local.rules":              {kind: kindString},
	"sasl.oauthbearer.jwks.endpoint.url":                  {kind: kindString},
	"sasl.oauthbearer.jwks.endpoint.refresh.ms":           {kind: kindString},
	"sasl.oauthbearer.jwks.endpoint.retry.backoff.ms":     {kind: kindString},
	"sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms": {kind: kindString},
	"sasl.oauthbearer.clock.skew.seconds":                 {kind: kindString},
	"sasl.oauthbearer.expected.audience":                  {kind: kindString},
	"sasl.oauthbearer.expected.issuer":                    {kind: kindString},
}

// ignoredPrefixes are Connect and MM2 keys Strait accepts without a warning
// but does not use (converters, plugin classes, ...). The REST keys are
// read in configs/rest.go: an unknown rest.* key warns.
var ignoredPrefixes = []string{
	"key.converter", "value.converter", "header.converter",
	"dedicated.mode.", "config.providers", "task.", "worker.", "metric.reporters",
	"topic.filter.class", "group.filter.class", "config.property.filter.class",
	"forwarding.admin.class", "source.cluster.alias", "target.cluster.alias", // checked per flow
	"offset.storage.", "config.storage.", "status.storage.", "name", "connector.class",
	"exactly.once.support", "replication.policy.",
}
