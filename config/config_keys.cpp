// The key table of docs/contract.md#config: every key's name, parser, range and redaction, and
// the lookups around it (secret files, spelling suggestions, the effective-config log). Over 400
// lines because the table is the one place a key is defined; the value parsers it is built from
// sit above it so that a key's range can be read next to its parser.
#include "config/config_keys.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <utility>

#include "config/dsn.hpp"
#include "config/redactor.hpp"

namespace tastesync {
namespace config_keys {
namespace {

// Durations get added to and subtracted from epoch milliseconds (watermark - retention -
// lateness); ten years is longer than any sane window and keeps those sums far from overflow.
constexpr std::int64_t kMaxDurationMs = 10LL * 365 * 24 * 3600 * 1000;
constexpr std::int64_t kMaxInt = std::numeric_limits<int>::max();
constexpr std::int64_t kMaxInt64 = std::numeric_limits<std::int64_t>::max();
// librdkafka's own bounds for session.timeout.ms and heartbeat.interval.ms: failing here names
// the key, failing inside librdkafka names a property the user never wrote.
constexpr std::int64_t kMaxKafkaTimeoutMs = 3600000;
// A replication factor is an int16 in CreateTopics; no cluster has this many brokers anyway.
constexpr std::int64_t kMaxReplicas = 1000;

// Properties tastesync sets itself (the refused list of docs/contract.md#config). Accepting them
// under kafka.properties would leave two answers to one question (bootstrap.servers there would
// not stop the embedded mock cluster) or undo a delivery guarantee of docs/contract.md#delivery
// (commits trail RocksDB; producer idempotence on).
constexpr std::pair<std::string_view, std::string_view> kOwnedProperties[] = {
    {"bootstrap.servers", "set kafka.brokers instead"},
    {"metadata.broker.list", "set kafka.brokers instead"},
    {"group.id", "set kafka.group_id instead"},
    {"group.instance.id", "set kafka.group_instance_id instead"},
    {"session.timeout.ms", "set kafka.session_timeout_ms instead"},
    {"heartbeat.interval.ms", "set kafka.heartbeat_interval_ms instead"},
    {"enable.auto.commit", "tastesync decides how offsets are committed (after delivery)"},
    {"enable.auto.offset.store", "tastesync stores offsets itself, after delivery"},
    {"enable.idempotence", "tastesync always produces idempotently"},
    {"transactional.id", "set processing.guarantee and processing.transactional_id instead"},
    {"isolation.level", "tastesync's own consumers always read committed data"},
};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string format_double(double value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

std::int64_t parse_integer(const std::string& text, std::int64_t min, std::int64_t max) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec == std::errc::invalid_argument || ptr != end) {
    throw InvalidValue(in_quotes(text) + " is not an integer");
  }
  if (ec == std::errc::result_out_of_range || value < min || value > max) {
    throw InvalidValue(in_quotes(text) + " is not between " + std::to_string(min) + " and " +
                       std::to_string(max));
  }
  return value;
}

// The interval (above, at_most]: every real-valued key so far excludes its lower bound.
double parse_double(const std::string& text, double above, double at_most) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value)) {
    throw InvalidValue(in_quotes(text) + " is not a number");
  }
  if (value <= above || value > at_most) {
    std::string allowed = "greater than " + format_double(above);
    if (std::isfinite(at_most)) allowed += " and at most " + format_double(at_most);
    throw InvalidValue(in_quotes(text) + " is not " + allowed);
  }
  return value;
}

std::string real_range(double above, double at_most) {
  std::string range = "a number greater than " + format_double(above);
  if (std::isfinite(at_most)) range += " and at most " + format_double(at_most);
  return range;
}

bool parse_bool(const std::string& text) {
  const std::string word = lower(text);
  if (word == "true" || word == "yes" || word == "1") return true;
  if (word == "false" || word == "no" || word == "0") return false;
  throw InvalidValue(in_quotes(text) + " is not a boolean; use true, false, yes, no, 1 or 0");
}

template <typename Section, typename T>
KeySpec field(std::string_view key, Section Config::*section, T Section::*member,
              std::function<T(const std::string&)> parse,
              std::function<std::string(const T&)> print, Redaction redaction = Redaction::none) {
  return {key,
          [=](Config& config, const std::string& text) { (config.*section).*member = parse(text); },
          [=](const Config& config) { return print((config.*section).*member); }, redaction, ""};
}

// A secret (say a postgres.dsn) passes Redaction::whole_value or dsn_password here.
template <typename Section>
KeySpec text(std::string_view key, Section Config::*section, std::string Section::*member,
             Redaction redaction = Redaction::none) {
  return field<Section, std::string>(
      key, section, member, [](const std::string& text) { return text; },
      [](const std::string& value) { return value; }, redaction);
}

// The messages never quote the value: it is a secret, and a wrong one is often nearly right.
template <typename Section>
KeySpec token(std::string_view key, Section Config::*section, std::string Section::*member) {
  return field<Section, std::string>(
      key, section, member,
      [](const std::string& text) {
        if (text.size() > kMaxTokenBytes) {
          throw InvalidValue("the token is longer than " + std::to_string(kMaxTokenBytes) +
                             " bytes (the value is not shown)");
        }
        // A client sends it in an Authorization header, where spaces, tabs and line breaks
        // cannot be part of it: such a token could never match.
        if (std::any_of(text.begin(), text.end(), [](char c) { return c < '!' || c > '~'; })) {
          throw InvalidValue(
              "the token may hold only visible ASCII characters, no spaces or line breaks (the "
              "value is not shown)");
        }
        return text;
      },
      [](const std::string& value) { return value; }, Redaction::whole_value);
}

// A libpq connection string, checked with libpq's own parser at start; its password is redacted.
template <typename Section>
KeySpec dsn(std::string_view key, Section Config::*section, std::string Section::*member) {
  return field<Section, std::string>(
      key, section, member,
      [](const std::string& text) {
        if (auto problem = dsn_problem(text)) throw InvalidValue(*problem);
        return text;
      },
      [](const std::string& value) { return value; }, Redaction::dsn_password);
}

template <typename Section>
KeySpec name(std::string_view key, Section Config::*section, std::string Section::*member) {
  return field<Section, std::string>(
      key, section, member,
      [](const std::string& text) {
        if (text.empty()) throw InvalidValue("an empty value is not allowed here");
        return text;
      },
      [](const std::string& value) { return value; });
}

template <typename Section, typename T>
KeySpec integer(std::string_view key, Section Config::*section, T Section::*member,
                std::int64_t min, std::int64_t max) {
  // The bounds never exceed what T holds, so the cast below cannot wrap (compared as T's own
  // limits: a size_t's maximum does not fit in an int64).
  if (std::cmp_less(min, std::numeric_limits<T>::min())) {
    min = static_cast<std::int64_t>(std::numeric_limits<T>::min());
  }
  if (std::cmp_greater(max, std::numeric_limits<T>::max())) {
    max = static_cast<std::int64_t>(std::numeric_limits<T>::max());
  }
  KeySpec spec = field<Section, T>(
      key, section, member,
      [min, max](const std::string& text) { return static_cast<T>(parse_integer(text, min, max)); },
      [](const T& value) { return std::to_string(value); });
  spec.accepts = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  return spec;
}

// -1 asks for the broker's default.replication.factor (CreateTopics v4, Kafka 2.4 and later);
// 0 replicas is never a topic.
template <typename Section>
KeySpec replication_factor(std::string_view key, Section Config::*section, int Section::*member) {
  KeySpec spec = field<Section, int>(
      key, section, member,
      [](const std::string& text) {
        const auto value = static_cast<int>(parse_integer(text, -1, kMaxReplicas));
        if (value == 0)
          throw InvalidValue("a topic needs at least 1 replica (-1: the broker's default)");
        return value;
      },
      [](const int& value) { return std::to_string(value); });
  spec.accepts =
      "-1 (the broker's default) or an integer from 1 to " + std::to_string(kMaxReplicas);
  return spec;
}

template <typename Section>
KeySpec real(std::string_view key, Section Config::*section, double Section::*member, double above,
             double at_most) {
  KeySpec spec = field<Section, double>(
      key, section, member,
      [above, at_most](const std::string& text) { return parse_double(text, above, at_most); },
      format_double);
  spec.accepts = real_range(above, at_most);
  return spec;
}

// One element of a score.* array indexed by LocationType (the radius of each location type).
KeySpec real_at(std::string_view key, std::array<double, 3> ScoreOptions::*member,
                LocationType type, double above, double at_most) {
  const auto index = static_cast<std::size_t>(type);
  return {key,
          [=](Config& config, const std::string& text) {
            (config.score.*member)[index] = parse_double(text, above, at_most);
          },
          [=](const Config& config) { return format_double((config.score.*member)[index]); },
          Redaction::none, real_range(above, at_most)};
}

template <typename Section>
KeySpec boolean(std::string_view key, Section Config::*section, bool Section::*member) {
  KeySpec spec = field<Section, bool>(key, section, member, parse_bool,
                                      [](const bool& value) { return value ? "true" : "false"; });
  spec.accepts = "true or false";
  return spec;
}

// A closed set of names, matched without regard to case and stored as spelt in the table.
template <typename Section, typename T>
KeySpec choice(std::string_view key, Section Config::*section, T Section::*member,
               std::vector<std::pair<std::string_view, T>> allowed) {
  std::string names;
  for (const auto& [spelling, value] : allowed) {
    names += (names.empty() ? "" : " | ") + std::string(spelling);
  }
  KeySpec spec = field<Section, T>(
      key, section, member,
      [allowed](const std::string& text) {
        const std::string word = lower(text);
        std::string names;
        for (const auto& [spelling, value] : allowed) {
          if (word == spelling) return value;
          names += (names.empty() ? "" : ", ") + std::string(spelling);
        }
        throw InvalidValue(in_quotes(text) + " is not one of " + names);
      },
      [allowed](const T& value) {
        for (const auto& [spelling, candidate] : allowed) {
          if (candidate == value) return std::string(spelling);
        }
        return std::string("?");
      });
  spec.accepts = "one of " + names;
  return spec;
}

void set_property(Config& config, const std::string& property, const std::string& value) {
  if (property.empty()) {
    throw InvalidValue(
        "a librdkafka property name must follow, e.g. kafka.properties.ssl.ca.location");
  }
  for (const auto& [owned, instead] : kOwnedProperties) {
    if (property == owned) throw InvalidValue(std::string(instead));
  }
  config.kafka.properties[property] = value;
}

// A secret key's file: only its path is kept here; load_config reads it once every source is in.
void set_secret_file(Config& config, const std::string& secret_key, const std::string& path) {
  if (path.empty()) {
    config.secret_files.erase(secret_key);
  } else {
    config.secret_files[secret_key] = path;
  }
}

std::string redact(const std::string& value, Redaction redaction) {
  if (value.empty()) return value;
  switch (redaction) {
    case Redaction::none:
      return value;
    case Redaction::whole_value:
      return "***";
    case Redaction::dsn_password:
      return redact_dsn(value);
  }
  return "***";
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> previous(b.size() + 1);
  std::vector<std::size_t> current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

}  // namespace

std::string in_quotes(std::string_view text) {
  // Appended, not `"'" + std::string(text)`: GCC 12 at -O3 warns (-Wrestrict) on the latter.
  std::string quoted;
  quoted.reserve(text.size() + 2);
  quoted.append(1, '\'').append(text).append(1, '\'');
  return quoted;
}

const std::vector<KeySpec>& all_keys() {
  static const std::vector<KeySpec> keys = {
      text("kafka.brokers", &Config::kafka, &KafkaConfig::brokers),
      boolean("kafka.require_brokers", &Config::kafka, &KafkaConfig::require_brokers),
      name("kafka.group_id", &Config::kafka, &KafkaConfig::group_id),
      name("kafka.input_topic", &Config::kafka, &KafkaConfig::input_topic),
      name("kafka.output_topic", &Config::kafka, &KafkaConfig::output_topic),
      name("kafka.dlq_topic", &Config::kafka, &KafkaConfig::dlq_topic),
      choice<KafkaConfig, ConsumerMode>(
          "kafka.consumer_mode", &Config::kafka, &KafkaConfig::consumer_mode,
          {{"group", ConsumerMode::group}, {"assign", ConsumerMode::assign}}),
      integer("kafka.session_timeout_ms", &Config::kafka, &KafkaConfig::session_timeout_ms, 1,
              kMaxKafkaTimeoutMs),
      integer("kafka.heartbeat_interval_ms", &Config::kafka, &KafkaConfig::heartbeat_interval_ms, 1,
              kMaxKafkaTimeoutMs),
      text("kafka.group_instance_id", &Config::kafka, &KafkaConfig::group_instance_id),
      integer("kafka.topic_check_timeout_ms", &Config::kafka, &KafkaConfig::topic_check_timeout_ms,
              1, kMaxInt),
      integer("kafka.dlq_retry_buffer_bytes", &Config::kafka, &KafkaConfig::dlq_retry_buffer_bytes,
              0, kMaxInt64),
      integer("parse.max_record_bytes", &Config::parse, &ParseOptions::max_record_bytes, 1,
              kMaxInt),
      integer("parse.max_future_skew_ms", &Config::parse, &ParseOptions::max_future_skew_ms, 1,
              kMaxDurationMs),
      integer("parse.max_past_skew_ms", &Config::parse, &ParseOptions::max_past_skew_ms, 1,
              kMaxDurationMs),
      integer("dedupe.interval_ms", &Config::dedupe, &DedupeOptions::interval_ms, 1,
              kMaxDurationMs),
      integer("dedupe.duplicate_window_ms", &Config::dedupe, &DedupeOptions::duplicate_window_ms, 1,
              kMaxDurationMs),
      choice<ScoreOptions, ScoreModel>(
          "score.model", &Config::score, &ScoreOptions::model,
          {{"radius", ScoreModel::radius}, {"filter", ScoreModel::filter}}),
      integer("score.window_ms", &Config::score, &ScoreOptions::window_ms, 1, kMaxDurationMs),
      real("score.path_loss_exponent", &Config::score, &ScoreOptions::path_loss_exponent, 0.0,
           std::numeric_limits<double>::infinity()),
      integer("score.default_tx_power_dbm", &Config::score, &ScoreOptions::default_tx_power_dbm,
              -100, -1),
      real("score.min_confidence", &Config::score, &ScoreOptions::min_confidence, 0.0, 1.0),
      real_at("score.radius_entrance_m", &ScoreOptions::radius_m, LocationType::entrance, 0.0,
              50.0),
      real_at("score.radius_table_m", &ScoreOptions::radius_m, LocationType::table, 0.0, 50.0),
      real_at("score.radius_counter_m", &ScoreOptions::radius_m, LocationType::counter, 0.0, 50.0),
      real("score.rssi_offset_ios_db", &Config::score, &ScoreOptions::rssi_offset_ios_db, -50.0,
           50.0),
      real("score.rssi_offset_android_db", &Config::score, &ScoreOptions::rssi_offset_android_db,
           -50.0, 50.0),
      real("score.measurement_sigma_db", &Config::score, &ScoreOptions::measurement_sigma_db, 0.0,
           30.0),
      real("score.process_noise_db2_per_s", &Config::score, &ScoreOptions::process_noise_db2_per_s,
           0.0, 1000.0),
      real("score.shadowing_sigma_db", &Config::score, &ScoreOptions::shadowing_sigma_db, 0.0,
           30.0),
      real("score.move_margin", &Config::score, &ScoreOptions::move_margin, -1.0, 0.99),
      integer("score.track_memory_ms", &Config::score, &ScoreOptions::track_memory_ms, 1,
              kMaxDurationMs),
      integer("score.move_dwell_ms", &Config::score, &ScoreOptions::move_dwell_ms, 0,
              kMaxDurationMs),
      integer("score.move_dwell_readings", &Config::score, &ScoreOptions::move_dwell_readings, 1,
              255),
      real_at("score.stay_entrance_s", &ScoreOptions::stay_s, LocationType::entrance, 0.0, 86400.0),
      real_at("score.stay_table_s", &ScoreOptions::stay_s, LocationType::table, 0.0, 86400.0),
      real_at("score.stay_counter_s", &ScoreOptions::stay_s, LocationType::counter, 0.0, 86400.0),
      real("score.walk_s", &Config::score, &ScoreOptions::walk_s, 0.0, 86400.0),
      real("score.blocked_share", &Config::score, &ScoreOptions::blocked_share, 0.0, 0.9),
      real("score.evidence_weight", &Config::score, &ScoreOptions::evidence_weight, 0.0, 1.0),
      real("score.move_min_confidence", &Config::score, &ScoreOptions::move_min_confidence, 0.0,
           1.0),
      real("score.evidence_corr_s", &Config::score, &ScoreOptions::evidence_corr_s, -1.0, 3600.0),
      real("score.level_offset_weight", &Config::score, &ScoreOptions::level_offset_weight, -1.0,
           1.0),
      boolean("score.learn_from_qr", &Config::score, &ScoreOptions::learn_from_qr),
      real("score.room_prior_scans", &Config::score, &ScoreOptions::room_prior_scans, 0.0, 1e6),
      text("state.dir", &Config::state, &StateConfig::dir),
      integer("state.retention_ms", &Config::state, &StateConfig::retention_ms, 1, kMaxDurationMs),
      // Zero lateness is a real choice (drop anything behind the watermark), unlike a zero window.
      integer("state.allowed_lateness_ms", &Config::state, &StateConfig::allowed_lateness_ms, 0,
              kMaxDurationMs),
      integer("state.block_cache_bytes", &Config::state, &StateConfig::block_cache_bytes, 1,
              kMaxInt64),
      choice<StateConfig, ChangelogMode>("state.changelog", &Config::state, &StateConfig::changelog,
                                         {{"auto", ChangelogMode::automatic},
                                          {"on", ChangelogMode::on},
                                          {"off", ChangelogMode::off}}),
      text("state.changelog_topic", &Config::state, &StateConfig::changelog_topic),
      integer("state.write_buffer_bytes", &Config::state, &StateConfig::write_buffer_bytes, 1,
              kMaxInt64),
      integer("state.max_customers_per_partition", &Config::state,
              &StateConfig::max_customers_per_partition, 1, kMaxInt),
      text("registry.source", &Config::registry, &RegistryConfig::source),
      integer("registry.start_timeout_ms", &Config::registry, &RegistryConfig::start_timeout_ms, 0,
              kMaxInt),
      integer("registry.reload_interval_ms", &Config::registry, &RegistryConfig::reload_interval_ms,
              100, kMaxInt),
      integer("registry.learned_export_interval_ms", &Config::registry,
              &RegistryConfig::learned_export_interval_ms, 100, kMaxInt),
      dsn("postgres.dsn", &Config::postgres, &PostgresConfig::dsn),
      text("redis.address", &Config::redis, &RedisConfig::address),
      text("redis.user", &Config::redis, &RedisConfig::user),
      text("redis.password", &Config::redis, &RedisConfig::password, Redaction::whole_value),
      integer("sink.batch_max_records", &Config::sink, &SinkConfig::batch_max_records, 1, 100000),
      integer("sink.batch_max_wait_ms", &Config::sink, &SinkConfig::batch_max_wait_ms, 0, 60000),
      integer("sink.backoff_initial_ms", &Config::sink, &SinkConfig::backoff_initial_ms, 1, 60000),
      integer("sink.backoff_max_ms", &Config::sink, &SinkConfig::backoff_max_ms, 1, 600000),
      name("sink.dlq_topic", &Config::sink, &SinkConfig::dlq_topic),
      integer("metrics.port", &Config::metrics, &MetricsConfig::port, 0, 65535),
      name("metrics.bind_address", &Config::metrics, &MetricsConfig::bind_address),
      token("metrics.token", &Config::metrics, &MetricsConfig::token),
      choice<LogConfig, std::string>("log.level", &Config::log, &LogConfig::level,
                                     {{"trace", "trace"},
                                      {"debug", "debug"},
                                      {"info", "info"},
                                      {"warn", "warn"},
                                      {"error", "error"}}),
      boolean("log.json", &Config::log, &LogConfig::json),
      boolean("output.print_events", &Config::output, &OutputConfig::print_events),
      boolean("output.quiet", &Config::output, &OutputConfig::quiet),
      integer("shutdown.timeout_ms", &Config::shutdown, &ShutdownConfig::timeout_ms, 1, kMaxInt),
      choice<ProcessingConfig, Guarantee>(
          "processing.guarantee", &Config::processing, &ProcessingConfig::guarantee,
          {{"at_least_once", Guarantee::at_least_once}, {"exactly_once", Guarantee::exactly_once}}),
      integer("processing.commit_interval_ms", &Config::processing,
              &ProcessingConfig::commit_interval_ms, 1, 600000),
      text("processing.transactional_id", &Config::processing, &ProcessingConfig::transactional_id),
      integer("floor.presence_timeout_ms", &Config::floor, &FloorConfig::presence_timeout_ms, 1,
              kMaxInt),
      boolean("floor.mask_ids", &Config::floor, &FloorConfig::mask_ids),
      integer("grpc.port", &Config::grpc, &GrpcConfig::port, 0, 65535),
      name("grpc.bind_address", &Config::grpc, &GrpcConfig::bind_address),
      choice<GrpcConfig, GrpcAuth>("grpc.auth", &Config::grpc, &GrpcConfig::auth,
                                   {{"jwt", GrpcAuth::jwt}, {"none", GrpcAuth::none}}),
      text("grpc.jwt_public_key_file", &Config::grpc, &GrpcConfig::jwt_public_key_file),
      text("grpc.jwks_file", &Config::grpc, &GrpcConfig::jwks_file),
      text("grpc.jwt_issuer", &Config::grpc, &GrpcConfig::jwt_issuer),
      text("grpc.jwt_audience", &Config::grpc, &GrpcConfig::jwt_audience),
      integer("grpc.jwt_clock_skew_s", &Config::grpc, &GrpcConfig::jwt_clock_skew_s, 0, 300),
      text("grpc.tls_cert_file", &Config::grpc, &GrpcConfig::tls_cert_file),
      text("grpc.tls_key_file", &Config::grpc, &GrpcConfig::tls_key_file),
      text("grpc.tls_client_ca_file", &Config::grpc, &GrpcConfig::tls_client_ca_file),
      integer("grpc.default_deadline_ms", &Config::grpc, &GrpcConfig::default_deadline_ms, 1,
              30000),
      integer("grpc.max_pending_calls", &Config::grpc, &GrpcConfig::max_pending_calls, 1, 1000000),
      integer("topics.partitions", &Config::topics, &TopicsConfig::partitions, 1, 10000),
      replication_factor("topics.replication_factor", &Config::topics,
                         &TopicsConfig::replication_factor),
      integer("topics.retention_ms", &Config::topics, &TopicsConfig::retention_ms, -1, kMaxInt64),
      integer("topics.changelog_retention_ms", &Config::topics,
              &TopicsConfig::changelog_retention_ms, -1, kMaxInt64),
  };
  return keys;
}

const KeySpec* find_key(std::string_view key) {
  for (const KeySpec& spec : all_keys()) {
    if (spec.key == key) return &spec;
  }
  return nullptr;
}

bool is_property_key(std::string_view key) {
  return key.size() > kPropertiesKey.size() && key.starts_with(kPropertiesKey) &&
         key[kPropertiesKey.size()] == '.';
}

bool is_secret_key(std::string_view key) {
  if (is_property_key(key)) {
    return is_secret_kafka_property(std::string(key.substr(kPropertiesKey.size() + 1)));
  }
  const KeySpec* spec = find_key(key);
  return spec != nullptr && spec->redaction != Redaction::none;
}

std::optional<std::string> secret_of_file_key(std::string_view key) {
  if (key.size() > kSecretFilesKey.size() && key.starts_with(kSecretFilesKey) &&
      key[kSecretFilesKey.size()] == '.') {
    return std::string(kPropertiesKey) + std::string(key.substr(kSecretFilesKey.size()));
  }
  if (!key.ends_with(kFileSuffix)) return std::nullopt;
  const std::string_view secret = key.substr(0, key.size() - kFileSuffix.size());
  const KeySpec* spec = find_key(secret);
  if (spec == nullptr || spec->redaction == Redaction::none) return std::nullopt;
  return std::string(secret);
}

std::string file_key_of(std::string_view secret_key) {
  if (is_property_key(secret_key)) {
    return std::string(kSecretFilesKey) + std::string(secret_key.substr(kPropertiesKey.size()));
  }
  return std::string(secret_key) + std::string(kFileSuffix);
}

std::vector<std::string> all_key_names() {
  std::vector<std::string> names;
  for (const KeySpec& spec : all_keys()) {
    names.emplace_back(spec.key);
    if (spec.redaction != Redaction::none) names.push_back(file_key_of(spec.key));
  }
  return names;
}

bool is_section(std::string_view key) {
  if (key == kPropertiesKey || key == kSecretFilesKey) return true;
  return std::any_of(all_keys().begin(), all_keys().end(), [key](const KeySpec& spec) {
    return spec.key.size() > key.size() && spec.key.starts_with(key) && spec.key[key.size()] == '.';
  });
}

void apply(Config& config, const std::string& key, const std::string& value,
           const std::string& origin) {
  const std::string from = origin.empty() ? "" : " (" + origin + ")";
  try {
    if (key == kPropertiesKey || is_property_key(key)) {
      set_property(config, key.substr(std::min(key.size(), kPropertiesKey.size() + 1)), value);
      return;
    }
    if (key == kSecretFilesKey) {
      throw InvalidValue(
          "a librdkafka property name must follow, e.g. kafka.secret_files.sasl.password");
    }
    if (const auto secret = secret_of_file_key(key)) {
      if (!is_secret_key(*secret)) {
        throw InvalidValue("'" + secret->substr(kPropertiesKey.size() + 1) +
                           "' is not a secret librdkafka property; set " + *secret + " instead");
      }
      set_secret_file(config, *secret, value);
      return;
    }
    const KeySpec* spec = find_key(key);
    if (spec == nullptr) {
      const auto near = closest_key(key);
      throw ConfigError("unknown key " + in_quotes(key) + from +
                        (near ? "; did you mean " + in_quotes(*near) + "?" : ""));
    }
    spec->set(config, value);
  } catch (const InvalidValue& problem) {
    // A parser quotes the value it refuses; a secret's value must never reach the message.
    const std::string reason =
        is_secret_key(key) ? Redactor({value}).redact(problem.what()) : problem.what();
    throw ConfigError(key + ": " + reason + from);
  }
}

std::optional<std::string> closest(const std::string& name,
                                   const std::vector<std::string>& candidates) {
  // A fifth of the length (at least two edits) catches typos without proposing unrelated keys.
  const std::size_t tolerance = std::max<std::size_t>(2, name.size() / 5);
  std::optional<std::string> best;
  std::size_t best_distance = tolerance + 1;
  for (const std::string& candidate : candidates) {
    const std::size_t distance = edit_distance(lower(name), lower(candidate));
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::optional<std::string> closest_key(const std::string& key) {
  // Sections too, so that a misspelt "kafak:" in YAML is pointed at "kafka".
  std::set<std::string> names;
  for (const KeySpec& spec : all_keys()) {
    for (std::size_t dot = spec.key.find('.'); dot != std::string_view::npos;
         dot = spec.key.find('.', dot + 1)) {
      names.emplace(spec.key.substr(0, dot));
    }
    names.emplace(spec.key);
  }
  names.emplace(kPropertiesKey);
  names.emplace(kSecretFilesKey);
  for (std::string& name : all_key_names()) names.insert(std::move(name));
  return closest(key, {names.begin(), names.end()});
}

}  // namespace config_keys

void set_config_value(Config& config, const std::string& key, const std::string& value) {
  config_keys::apply(config, key, value, "");
}

std::vector<std::pair<std::string, std::string>> describe_config(const Config& config) {
  using config_keys::kPropertiesKey;
  std::vector<std::pair<std::string, std::string>> described;
  bool properties_listed = false;
  const auto file_of = [&config](const std::string& secret_key) {
    const auto file = config.secret_files.find(secret_key);
    return file == config.secret_files.end() ? std::string() : file->second;
  };
  const auto list_properties = [&] {
    // Files first: then the properties still end the kafka.* keys.
    for (const auto& [secret_key, path] : config.secret_files) {
      if (config_keys::is_property_key(secret_key)) {
        described.emplace_back(config_keys::file_key_of(secret_key), path);
      }
    }
    for (const auto& [property, value] : config.kafka.properties) {
      const auto redaction = is_secret_kafka_property(property)
                                 ? config_keys::Redaction::whole_value
                                 : config_keys::Redaction::none;
      described.emplace_back(std::string(kPropertiesKey) + "." + property,
                             config_keys::redact(value, redaction));
    }
    properties_listed = true;
  };
  for (const config_keys::KeySpec& spec : config_keys::all_keys()) {
    // The properties follow the last kafka.* key, where a reader of the log looks for them.
    if (!properties_listed && !spec.key.starts_with("kafka.")) list_properties();
    described.emplace_back(std::string(spec.key),
                           config_keys::redact(spec.get(config), spec.redaction));
    if (spec.redaction != config_keys::Redaction::none) {
      described.emplace_back(config_keys::file_key_of(spec.key), file_of(std::string(spec.key)));
    }
  }
  if (!properties_listed) list_properties();
  return described;
}

std::vector<KeyDescription> describe_keys() {
  const Config defaults;
  std::vector<KeyDescription> keys;
  for (const config_keys::KeySpec& spec : config_keys::all_keys()) {
    keys.push_back({std::string(spec.key), config_keys::redact(spec.get(defaults), spec.redaction),
                    spec.accepts.empty() ? "text" : spec.accepts});
  }
  return keys;
}

bool is_secret_kafka_property(const std::string& name) {
  const std::string property = config_keys::lower(name);
  for (std::string_view marker : {"password", "secret", "token", "sasl.oauthbearer.config"}) {
    if (property.find(marker) != std::string::npos) return true;
  }
  // ssl.key.pem is the private key itself; ssl.key.location and ssl.keystore.location are only
  // paths, which the start-up log should show.
  return property.find("ssl.key") != std::string::npos && !property.ends_with(".location");
}

Redactor redactor_for(const Config& config) {
  std::vector<std::string> secrets;
  for (const config_keys::KeySpec& spec : config_keys::all_keys()) {
    const std::string value = spec.get(config);
    switch (spec.redaction) {
      case config_keys::Redaction::none:
        break;
      case config_keys::Redaction::whole_value:
        secrets.push_back(value);
        break;
      case config_keys::Redaction::dsn_password:
        for (std::string& secret : dsn_secrets(value)) secrets.push_back(std::move(secret));
        // A DSN libpq cannot parse has no password to find: all of it is secret then.
        if (dsn_problem(value)) secrets.push_back(value);
        break;
    }
  }
  for (const auto& [property, value] : config.kafka.properties) {
    if (is_secret_kafka_property(property)) secrets.push_back(value);
  }
  return Redactor(std::move(secrets));
}

}  // namespace tastesync
