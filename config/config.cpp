#include "config/config.hpp"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "config/config_keys.hpp"

namespace tastesync {
namespace {

constexpr std::string_view kEnvironmentPrefix = "TASTESYNC_";
constexpr std::int64_t kMinMessageMaxBytes = 4096;
// Far above a password, a DSN or a PEM private key (a few KiB).
constexpr std::size_t kMaxSecretFileBytes = std::size_t{64} * 1024;

using config_keys::in_quotes;

std::string read_file(const std::string& path) {
  if (std::filesystem::is_directory(path)) {
    throw ConfigError("config file " + path + ": is a directory, not a YAML file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("config file " + path + ": cannot be opened: " + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    throw ConfigError("config file " + path + ": cannot be read: " + std::strerror(errno));
  }
  return text;
}

// Never the value itself: a shape error can meet a secret (postgres: 'host=db password=...' where
// a mapping belongs) before anything knows it is one.
std::string describe_kind(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  if (node.IsNull()) return "nothing";
  return "a single value";
}

// Walks a YAML document, turning nested mappings into dotted keys for the key table.
class YamlSettings {
 public:
  YamlSettings(Config& config, std::string path) : config_(config), path_(std::move(path)) {}

  void apply(const std::string& text) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      const std::string where = e.mark.is_null()
                                    ? ""
                                    : " at line " + std::to_string(e.mark.line + 1) + ", column " +
                                          std::to_string(e.mark.column + 1);
      throw ConfigError("config file " + path_ + ": invalid YAML" + where + ": " + e.msg);
    }
    if (root.IsNull()) return;
    if (!root.IsMap()) {
      fail(root, "the top level must be a mapping of settings, found " + describe_kind(root));
    }
    walk(root, "");
  }

 private:
  void walk(const YAML::Node& mapping, const std::string& prefix) {
    for (const auto& entry : mapping) {
      const std::string key = key_of(entry.first, prefix);
      const YAML::Node& value = entry.second;
      if (key == config_keys::kPropertiesKey || key == config_keys::kSecretFilesKey) {
        if (!value.IsNull()) walk_properties(key, value);
      } else if (config_keys::is_section(key)) {
        if (value.IsNull()) continue;  // a section with every key commented out
        if (!value.IsMap()) {
          fail(value, key + " is a section and expects a mapping of its keys, found " +
                          describe_kind(value));
        }
        walk(value, key);
      } else if (config_keys::find_key(key) != nullptr || config_keys::is_property_key(key) ||
                 config_keys::secret_of_file_key(key)) {
        set(key, entry.first, value);
      } else {
        const auto near = config_keys::closest_key(key);
        fail(entry.first, "unknown key " + in_quotes(key),
             near ? "; did you mean " + in_quotes(*near) + "?" : "");
      }
    }
  }

  // librdkafka names are dotted themselves: {"ssl.ca.location": x} and {ssl: {ca: {location: x}}}
  // are the same property (under kafka.properties and kafka.secret_files alike).
  void walk_properties(const std::string& prefix, const YAML::Node& mapping) {
    if (!mapping.IsMap()) {
      fail(mapping,
           prefix + " expects a mapping of librdkafka properties, found " + describe_kind(mapping));
    }
    for (const auto& entry : mapping) {
      const std::string key = key_of(entry.first, prefix);
      if (entry.second.IsMap()) {
        walk_properties(key, entry.second);
      } else {
        set(key, entry.first, entry.second);
      }
    }
  }

  std::string key_of(const YAML::Node& key_node, const std::string& prefix) const {
    if (!key_node.IsScalar() || key_node.Scalar().empty()) {
      fail(key_node, "expected a key name" + (prefix.empty() ? "" : " under " + prefix) +
                         ", found " + describe_kind(key_node));
    }
    return prefix.empty() ? key_node.Scalar() : prefix + "." + key_node.Scalar();
  }

  // Errors point at the key's line: an empty value's own mark is already on the next line.
  void set(const std::string& key, const YAML::Node& key_node, const YAML::Node& value) {
    // yaml-cpp keeps both entries of a repeated key; the later one would win without a word.
    if (!seen_.insert(key).second) fail(key_node, key + " is set twice");
    if (value.IsNull()) fail(key_node, key + " has no value; write '' for an empty one");
    if (!value.IsScalar()) {
      fail(key_node, key + " expects a single value, found " + describe_kind(value));
    }
    const YAML::Mark mark = key_node.Mark();
    config_keys::apply(
        config_, key, value.Scalar(),
        "from config file " + path_ + (mark.is_null() ? "" : ", line " + line_of(mark)));
  }

  static std::string line_of(const YAML::Mark& mark) { return std::to_string(mark.line + 1); }

  [[noreturn]] void fail(const YAML::Node& node, const std::string& problem,
                         const std::string& hint = "") const {
    const YAML::Mark mark = node.Mark();
    throw ConfigError("config file " + path_ + ": " + problem +
                      (mark.is_null() ? "" : " (line " + line_of(mark) + ")") + hint);
  }

  Config& config_;
  std::string path_;
  std::set<std::string> seen_;
};

// TASTESYNC_KAFKA__SESSION_TIMEOUT_MS -> kafka.session_timeout_ms; "" when a level is empty.
std::string key_of_environment_name(std::string_view name) {
  std::string key;
  std::string_view rest = name.substr(kEnvironmentPrefix.size());
  while (true) {
    const std::size_t separator = rest.find("__");
    const std::string_view level = rest.substr(0, separator);
    if (level.empty()) return "";
    if (!key.empty()) key += '.';
    for (const char c : level)
      key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (separator == std::string_view::npos) return key;
    rest = rest.substr(separator + 2);
  }
}

void apply_environment(Config& config, const std::string& name, const std::string& value) {
  if (!name.starts_with(kEnvironmentPrefix)) return;
  const std::string key = key_of_environment_name(name);
  if (config_keys::find_key(key) == nullptr && !config_keys::is_property_key(key) &&
      key != config_keys::kPropertiesKey && key != config_keys::kSecretFilesKey &&
      !config_keys::secret_of_file_key(key)) {
    std::vector<std::string> names;
    for (const std::string& known : config_keys::all_key_names()) {
      names.push_back(environment_name(known));
    }
    const auto near = config_keys::closest(name, names);
    throw ConfigError("environment variable " + name + " does not name a setting" +
                      (near ? "; did you mean " + *near + "?" : ".") +
                      " Fix its name or unset it.");
  }
  config_keys::apply(config, key, value, "from " + name);
}

// The value a secret key has from the sources so far ("" = unset).
std::string current_value(const Config& config, const std::string& secret_key) {
  if (config_keys::is_property_key(secret_key)) {
    const auto property =
        config.kafka.properties.find(secret_key.substr(config_keys::kPropertiesKey.size() + 1));
    return property == config.kafka.properties.end() ? std::string() : property->second;
  }
  return config_keys::find_key(secret_key)->get(config);
}

// A secret's file holds the value alone, and one line break after it (what an editor or `echo`
// adds; a second one would be part of the value). Errors name the key and the path, never
// anything read. Reading stops past kMaxSecretFileBytes: the path could name anything, even an
// endless device.
std::string read_secret_file(const std::string& file_key, const std::string& path) {
  std::error_code ignored;  // a path that cannot be looked at fails to open just below
  if (std::filesystem::is_directory(path, ignored)) {
    throw ConfigError(file_key + ": " + path + " is a directory, not a file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(file_key + ": cannot open " + path + ": " + std::strerror(errno));
  std::string text(kMaxSecretFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) throw ConfigError(file_key + ": cannot read " + path + ": " + std::strerror(errno));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxSecretFileBytes) {
    throw ConfigError(file_key + ": " + path + " is larger than " +
                      std::to_string(kMaxSecretFileBytes) + " bytes, too large for a secret");
  }
  if (text.ends_with('\n')) {
    text.pop_back();
    if (text.ends_with('\r')) text.pop_back();
  }
  if (text.empty()) throw ConfigError(file_key + ": " + path + " is empty");
  return text;
}

void read_secret_files(Config& config) {
  for (const auto& [secret_key, path] : config.secret_files) {
    const std::string file_key = config_keys::file_key_of(secret_key);
    if (!current_value(config, secret_key).empty()) {
      std::string message = secret_key;
      message.append(" and ").append(file_key).append(
          " are both set; set one of them (the file holds the value)");
      throw ConfigError(message);
    }
    std::string origin = "read from ";
    origin.append(file_key).append(" ").append(path);
    config_keys::apply(config, secret_key, read_secret_file(file_key, path), origin);
  }
}

}  // namespace

Config load_config(const ConfigSources& sources) {
  Config config;
  try {
    if (sources.yaml_path) {
      YamlSettings(config, *sources.yaml_path).apply(read_file(*sources.yaml_path));
    }
    for (const auto& [name, value] : sources.environment) apply_environment(config, name, value);
    for (const auto& [key, value] : sources.overrides) {
      config_keys::apply(config, key, value, "from the command line");
    }
    read_secret_files(config);
    validate_config(config);
  } catch (const ConfigError& error) {
    // Messages are written not to quote secrets; this catches whatever one still would, with
    // every secret read so far.
    throw ConfigError(redactor_for(config).redact(error.what()));
  }
  return config;
}

bool changelog_enabled(const Config& config) {
  switch (config.state.changelog) {
    case ChangelogMode::on:
      return true;
    case ChangelogMode::off:
      return false;
    case ChangelogMode::automatic:
      break;
  }
  // exactly_once needs it in assign mode too: it is the state that matches the committed
  // offsets (docs/contract.md#exactly-once).
  return config.kafka.consumer_mode == ConsumerMode::group ||
         config.processing.guarantee == Guarantee::exactly_once;
}

std::string transactional_id(const Config& config) {
  if (!config.processing.transactional_id.empty()) return config.processing.transactional_id;
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  // FNV-1a of the absolute state directory: one RocksDB lock per directory makes it unique among
  // the instances running on this host, and it stays the same across this instance's restarts.
  std::error_code error;
  const std::string dir = std::filesystem::absolute(config.state.dir, error).lexically_normal();
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : dir) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash));
  std::string id = config.kafka.group_id;
  id.append("-").append(host[0] != '\0' ? host : "host").append("-").append(hex, 8);
  return id;
}

std::string changelog_topic(const Config& config) {
  return config.state.changelog_topic.empty() ? config.kafka.group_id + "-state-changelog"
                                              : config.state.changelog_topic;
}

void validate_config(const Config& config) {
  // Every value goes back through its own parser once, so a Config assembled in code meets the
  // same per-key ranges as one loaded from text.
  Config scratch;
  for (const auto& spec : config_keys::all_keys()) {
    config_keys::apply(scratch, std::string(spec.key), spec.get(config), "");
  }
  for (const auto& [property, value] : config.kafka.properties) {
    config_keys::apply(scratch, std::string(config_keys::kPropertiesKey) + "." + property, value,
                       "");
  }

  if (!config.redis.user.empty() && config.redis.password.empty()) {
    throw ConfigError(
        "redis.user is set but redis.password is not; an ACL user authenticates with its "
        "password (redis.password or redis.password_file)");
  }
  if (config.registry.source == kRegistryFromPostgres && config.postgres.dsn.empty()) {
    throw ConfigError(
        "registry.source is postgres but postgres.dsn is empty; set postgres.dsn "
        "(--postgres, TASTESYNC_POSTGRES__DSN, or postgres.dsn_file) to the database holding the "
        "registry");
  }
  if (config.grpc.tls_cert_file.empty() != config.grpc.tls_key_file.empty()) {
    throw ConfigError(
        "grpc.tls_cert_file and grpc.tls_key_file go together: set both (TLS) or neither");
  }
  if (!config.grpc.tls_client_ca_file.empty() && config.grpc.tls_cert_file.empty()) {
    throw ConfigError(
        "grpc.tls_client_ca_file is set but grpc.tls_cert_file is not; mutual TLS needs the "
        "server's own certificate and key too");
  }
  if (config.processing.guarantee == Guarantee::exactly_once &&
      config.state.changelog == ChangelogMode::off) {
    // The changelog is what a restart restores when RocksDB missed the last committed
    // transaction (docs/contract.md#exactly-once).
    throw ConfigError(
        "processing.guarantee is exactly_once but state.changelog is off; exactly_once keeps the "
        "state in the changelog, in the same transaction as the outputs and offsets: set "
        "state.changelog to auto or on");
  }
  if (config.sink.backoff_max_ms < config.sink.backoff_initial_ms) {
    throw ConfigError("sink.backoff_max_ms (" + std::to_string(config.sink.backoff_max_ms) +
                      ") must be at least sink.backoff_initial_ms (" +
                      std::to_string(config.sink.backoff_initial_ms) + ")");
  }

  const KafkaConfig& kafka = config.kafka;
  // A dead letter is cut to fit message.max.bytes but always carries its dlq.* headers (about
  // 2 KiB at most): below this, the one thing that must never stop a partition could.
  if (const auto max = kafka.properties.find("message.max.bytes"); max != kafka.properties.end()) {
    std::int64_t bytes = 0;
    const char* end = max->second.data() + max->second.size();
    const auto [ptr, ec] = std::from_chars(max->second.data(), end, bytes);
    if (ec != std::errc() || ptr != end || bytes < kMinMessageMaxBytes) {
      throw ConfigError("kafka.properties.message.max.bytes: " + in_quotes(max->second) +
                        " is not an integer of at least " + std::to_string(kMinMessageMaxBytes) +
                        " (dead letters must fit it)");
    }
  }
  if (kafka.heartbeat_interval_ms >= kafka.session_timeout_ms) {
    throw ConfigError("kafka.heartbeat_interval_ms (" +
                      std::to_string(kafka.heartbeat_interval_ms) +
                      ") must be less than kafka.session_timeout_ms (" +
                      std::to_string(kafka.session_timeout_ms) +
                      "), or the group expires the session between two heartbeats");
  }
  if (kafka.require_brokers && kafka.brokers.empty()) {
    throw ConfigError(
        "kafka.require_brokers is true but kafka.brokers is empty; set kafka.brokers "
        "(TASTESYNC_KAFKA__BROKERS), or set kafka.require_brokers to false to run the embedded "
        "mock cluster");
  }
  if (kafka.input_topic == kafka.output_topic || kafka.input_topic == kafka.dlq_topic ||
      kafka.output_topic == kafka.dlq_topic) {
    throw ConfigError(
        "kafka.input_topic, kafka.output_topic and kafka.dlq_topic must be three "
        "different topics, not " +
        in_quotes(kafka.input_topic) + ", " + in_quotes(kafka.output_topic) + " and " +
        in_quotes(kafka.dlq_topic));
  }
  // State older than the retention is compacted away; a window longer than it would forget
  // what it is meant to remember (a staying customer re-emitted early, a duplicate let through).
  const std::int64_t longest_window_ms = std::max(
      {config.dedupe.interval_ms, config.dedupe.duplicate_window_ms, config.score.window_ms});
  if (config.state.retention_ms < longest_window_ms) {
    throw ConfigError("state.retention_ms (" + std::to_string(config.state.retention_ms) +
                      ") must be at least the longest window kept in state, " +
                      std::to_string(longest_window_ms) +
                      " (the largest of dedupe.interval_ms, dedupe.duplicate_window_ms and "
                      "score.window_ms)");
  }
}

std::vector<std::pair<std::string, std::string>> process_environment() {
  std::vector<std::pair<std::string, std::string>> variables;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::size_t equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    variables.emplace_back(text.substr(0, equals), text.substr(equals + 1));
  }
  return variables;
}

std::string environment_name(const std::string& key) {
  std::string name(kEnvironmentPrefix);
  for (const char c : key) {
    if (c == '.') {
      name += "__";
    } else {
      name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return name;
}

}  // namespace tastesync
