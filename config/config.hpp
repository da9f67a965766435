#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/config_error.hpp"
#include "config/dsn.hpp"
#include "config/redactor.hpp"
#include "stages/topology.hpp"

namespace tastesync {

// One struct tree with every default in one place (docs/contract.md#config). Keys are the dotted
// paths written beside each member; YAML nests them, the environment spells them
// TASTESYNC_KAFKA__BROKERS, and flags set them through Config overrides. The stages' knobs are the
// stages' own option structs (ParseOptions, DedupeOptions, ScoreOptions, TopologyOptions): their
// defaults are written there once, and config/config_keys.cpp maps each key onto a member.

enum class ConsumerMode { group, assign };
// Whether state changes are also written to a changelog topic, so a partition's state follows it
// to another instance. `automatic`: on in group mode (partitions move), off in assign mode.
enum class ChangelogMode { automatic, on, off };
// docs/contract.md#exactly-once: outputs, changelog records and input offsets in one Kafka
// transaction per commit interval, or the at-least-once path of docs/contract.md#delivery.
enum class Guarantee { at_least_once, exactly_once };

struct KafkaConfig {
  std::string brokers;                               // kafka.brokers ("" = none configured)
  bool require_brokers = false;                      // kafka.require_brokers
  std::string group_id = "tastesync";                // kafka.group_id
  std::string input_topic = "raw-beacons";           // kafka.input_topic
  std::string output_topic = "customer-events";      // kafka.output_topic
  std::string dlq_topic = "raw-beacons-dlq";         // kafka.dlq_topic
  ConsumerMode consumer_mode = ConsumerMode::group;  // kafka.consumer_mode: group | assign
  int session_timeout_ms = 6000;                     // kafka.session_timeout_ms
  int heartbeat_interval_ms = 2000;                  // kafka.heartbeat_interval_ms
  std::string group_instance_id;                     // kafka.group_instance_id (static membership)
  int topic_check_timeout_ms = 10000;                // kafka.topic_check_timeout_ms
  // Copies of dead letters waiting to be produced again after a failed delivery; past it they
  // wait as their dlq.* headers only (docs/design.md, "Bounded memory").
  std::int64_t dlq_retry_buffer_bytes = 64 << 20;  // kafka.dlq_retry_buffer_bytes
  // librdkafka properties passed through as they are (TLS, SASL, tuning): kafka.properties.<name>
  std::map<std::string, std::string> properties;
};

struct StateConfig {
  static constexpr TopologyOptions kTopology{};
  std::string dir;                                     // state.dir ("" = ./tastesync-state/<group>)
  std::int64_t retention_ms = kTopology.retention_ms;  // state.retention_ms
  std::int64_t allowed_lateness_ms = kTopology.allowed_lateness_ms;  // state.allowed_lateness_ms
  std::int64_t block_cache_bytes = 64 << 20;                         // state.block_cache_bytes
  std::int64_t write_buffer_bytes = 64 << 20;                        // state.write_buffer_bytes
  // Live customers kept in memory per input partition, the least recently touched forgotten
  // beyond it: docs/design.md, "Bounded memory", says how the default was sized.
  std::size_t max_customers_per_partition =
      kTopology.max_customers_per_partition;           // state.max_customers_per_partition
  ChangelogMode changelog = ChangelogMode::automatic;  // state.changelog: auto | on | off
  std::string changelog_topic;  // state.changelog_topic ("" = <group_id>-state-changelog)
};

// registry.source naming the database (postgres.dsn) instead of a file.
inline constexpr std::string_view kRegistryFromPostgres = "postgres";

struct RegistryConfig {
  std::string source;  // registry.source: a file path, "postgres" (postgres.dsn); "" = built-in
  int start_timeout_ms = 60000;    // registry.start_timeout_ms (database unreachable at start)
  int reload_interval_ms = 60000;  // registry.reload_interval_ms (safety net under NOTIFY)
  // registry.learned_export_interval_ms: how often learnt beacon levels go to PostgreSQL
  // (docs/scoring.md, "Learning the room from QR scans").
  int learned_export_interval_ms = 30000;
};

// Setting a DSN or address turns on that sink inside `run` (docs/contract.md#sinks).
struct PostgresConfig {
  std::string dsn;  // postgres.dsn (libpq DSN or URI; secret: its password is redacted)
};

struct RedisConfig {
  std::string address;   // redis.address (host:port)
  std::string user;      // redis.user (an ACL user; "" = the default user)
  std::string password;  // redis.password (secret; AUTH after every connect when set)
};

struct SinkConfig {
  int batch_max_records = 5000;  // sink.batch_max_records
  int batch_max_wait_ms = 100;   // sink.batch_max_wait_ms
  int backoff_initial_ms = 100;  // sink.backoff_initial_ms
  int backoff_max_ms = 5000;     // sink.backoff_max_ms (capped at 5 s: docs/contract.md#sinks)
  std::string dlq_topic = "customer-events-sink-dlq";  // sink.dlq_topic
};

// docs/design.md "The HTTP server": loopback unless a deployment asks for more; the token guards
// /metrics only (probes stay open).
struct MetricsConfig {
  int port = 9464;                         // metrics.port (0 = pick a free one)
  std::string bind_address = "127.0.0.1";  // metrics.bind_address (0.0.0.0: every interface)
  std::string token;                       // metrics.token ("" = /metrics open; redacted in logs)
                                           // (or metrics.token_file, as every secret key)
};

struct LogConfig {
  std::string level = "info";  // log.level: trace|debug|info|warn|error
  bool json = false;           // log.json
};

struct OutputConfig {
  bool print_events = false;  // output.print_events (on in embedded mode)
  bool quiet = false;         // output.quiet (turns printed events off)
};

// What `tastesync topics create` (and `run`, for a missing changelog) asks the broker for
// (docs/contract.md#topics).
struct TopicsConfig {
  int partitions = 6;           // topics.partitions (the changelog takes the input's count)
  int replication_factor = -1;  // topics.replication_factor (-1: the broker's default)
  std::int64_t retention_ms = 604800000;           // topics.retention_ms (7 d; -1: forever)
  std::int64_t changelog_retention_ms = 86400000;  // topics.changelog_retention_ms (1 d)
};

// The live floor view at /floor (docs/contract.md#floor).
struct FloorConfig {
  // As long as the Redis sink keeps a customer in store:<id>:present (docs/storage.md).
  int presence_timeout_ms = 180000;  // floor.presence_timeout_ms
  bool mask_ids = false;             // floor.mask_ids (--floor-mask-ids)
};

// The gRPC front door (docs/grpc.md). Off unless grpc.port is set; every call needs an RS256
// JWT unless grpc.auth is none.
enum class GrpcAuth { jwt, none };
struct GrpcConfig {
  int port = 0;                            // grpc.port (0 = off)
  std::string bind_address = "127.0.0.1";  // grpc.bind_address (0.0.0.0: every interface)
  GrpcAuth auth = GrpcAuth::jwt;           // grpc.auth: jwt | none
  std::string jwt_public_key_file;         // grpc.jwt_public_key_file (PEM public keys)
  std::string jwks_file;                   // grpc.jwks_file (a JWK Set)
  std::string jwt_issuer;                  // grpc.jwt_issuer (iss)
  std::string jwt_audience;                // grpc.jwt_audience (aud)
  int jwt_clock_skew_s = 30;               // grpc.jwt_clock_skew_s (at most 300)
  std::string tls_cert_file;               // grpc.tls_cert_file (PEM chain)
  std::string tls_key_file;                // grpc.tls_key_file (PEM private key)
  std::string tls_client_ca_file;          // grpc.tls_client_ca_file (set: mTLS required)
  // How long IdentifyCustomer waits for its event when the caller set no deadline.
  int default_deadline_ms = 1000;  // grpc.default_deadline_ms
  int max_pending_calls = 10000;   // grpc.max_pending_calls (then RESOURCE_EXHAUSTED)
};

struct ProcessingConfig {
  Guarantee guarantee = Guarantee::at_least_once;  // processing.guarantee
  // How long one transaction stays open (exactly_once): Kafka Streams' default under EOS.
  int commit_interval_ms = 100;  // processing.commit_interval_ms
  // "" = <group_id>-<host name>-<hash of state.dir>: the same after a restart of this instance
  // (so it aborts what its predecessor left open), different for each instance at once.
  std::string transactional_id;  // processing.transactional_id
};

struct ShutdownConfig {
  int timeout_ms = 20000;  // shutdown.timeout_ms
};

struct Config {
  KafkaConfig kafka;
  ParseOptions parse;    // parse.*
  DedupeOptions dedupe;  // dedupe.*
  ScoreOptions score;    // score.* (docs/scoring.md explains each)
  StateConfig state;
  RegistryConfig registry;
  PostgresConfig postgres;
  RedisConfig redis;
  SinkConfig sink;
  MetricsConfig metrics;
  LogConfig log;
  OutputConfig output;
  ShutdownConfig shutdown;
  TopicsConfig topics;
  ProcessingConfig processing;
  FloorConfig floor;
  GrpcConfig grpc;
  // Secret key -> the file its value was read from (<key>_file, kafka.secret_files.<property>;
  // docs/design.md "Secrets"). load_config reads them; kept for the effective-config log.
  std::map<std::string, std::string> secret_files;
};

// The effective changelog settings of a loaded Config.
bool changelog_enabled(const Config& config);
std::string changelog_topic(const Config& config);
// processing.transactional_id, or the default built from the group, the host and state.dir.
std::string transactional_id(const Config& config);

// Everything that can feed a Config, lowest precedence first (docs/contract.md#config):
// defaults < YAML file < environment < overrides (command-line flags). A secret's file
// (<key>_file) is read last, once every source is in; setting both the key and its file is an
// error.
// The {} initializers let callers write {.overrides = ...} without -Wmissing-field-initializers.
struct ConfigSources {
  std::optional<std::string> yaml_path{};
  std::vector<std::pair<std::string, std::string>> environment{};  // NAME, value (all of environ)
  std::vector<std::pair<std::string, std::string>> overrides{};    // dotted key, value
};

Config load_config(const ConfigSources& sources);

// Sets one dotted key from its text form; throws ConfigError naming the key.
void set_config_value(Config& config, const std::string& key, const std::string& value);

// Every dotted key with its effective value, secrets redacted (for the start-up log line).
std::vector<std::pair<std::string, std::string>> describe_config(const Config& config);

// A key of the table as a tool's flag shows it: name, default (secrets redacted) and the values
// it accepts ("an integer from 1 to 315360000000", "one of group | assign", "text").
struct KeyDescription {
  std::string key;
  std::string default_value;
  std::string accepts;
};
std::vector<KeyDescription> describe_keys();

// The process environment as ConfigSources wants it.
std::vector<std::pair<std::string, std::string>> process_environment();

// The cross-field checks load_config runs last, and every key's own range again: for a Config
// assembled in code with set_config_value or plain assignments.
void validate_config(const Config& config);

// The environment variable that sets a dotted key: kafka.brokers -> TASTESYNC_KAFKA__BROKERS.
std::string environment_name(const std::string& key);

// Whether a librdkafka property carries a secret (passwords, keys, tokens) and must not be logged.
bool is_secret_kafka_property(const std::string& name);

// Knows every secret in effect in `config` (each key the table marks secret, secret
// kafka.properties, the DSN's password as libpq parses it) and hides them in any text.
Redactor redactor_for(const Config& config);

}  // namespace tastesync
