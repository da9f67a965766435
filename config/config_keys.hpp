#pragma once

// Private to tastesync_config: the table of keys that YAML, the environment, overrides and
// describe_config all go through, so a key added once is accepted, documented and logged
// everywhere.

#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace tastesync::config_keys {

// 'text', for messages.
std::string in_quotes(std::string_view text);

inline constexpr std::string_view kPropertiesKey = "kafka.properties";
// kafka.secret_files.<property>: the file a secret librdkafka property is read from.
inline constexpr std::string_view kSecretFilesKey = "kafka.secret_files";
// <key>_file: the file a secret key of the table is read from.
inline constexpr std::string_view kFileSuffix = "_file";

// A bearer token must fit in one Authorization header of the HTTP server's request buffer.
inline constexpr std::size_t kMaxTokenBytes = 4096;

// What is wrong with a value, without the key: the caller adds the key and where it came from.
class InvalidValue : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How a key's value is shown in the effective-config log. Anything but `none` makes the key a
// secret: its value is redacted everywhere (redactor_for), never echoed in a config error, and it
// can be read from a file with <key>_file (docs/design.md "Secrets").
enum class Redaction { none, whole_value, dsn_password };

struct KeySpec {
  std::string_view key;
  std::function<void(Config&, const std::string&)> set;  // throws InvalidValue
  std::function<std::string(const Config&)> get;
  Redaction redaction = Redaction::none;
  std::string accepts;  // the values allowed, for --help and KeyDescription ("" = any text)
};

const std::vector<KeySpec>& all_keys();

const KeySpec* find_key(std::string_view key);

// True for kafka.properties.<name>: the one family of keys not listed in the table.
bool is_property_key(std::string_view key);

// True for a key whose value is a secret: a table key with a Redaction, or a secret
// kafka.properties.<name> (is_secret_kafka_property).
bool is_secret_key(std::string_view key);

// The secret key that a file key names: postgres.dsn_file -> postgres.dsn,
// kafka.secret_files.sasl.password -> kafka.properties.sasl.password; nullopt for other keys.
std::optional<std::string> secret_of_file_key(std::string_view key);

// The inverse: the key naming the file that `secret_key` can be read from.
std::string file_key_of(std::string_view secret_key);

// Every key of the table and their file keys (for suggestions).
std::vector<std::string> all_key_names();

// True for a prefix of known keys ("kafka", "kafka.properties"): YAML expects a mapping there.
bool is_section(std::string_view key);

// Sets a key (table, property or secret file); origin ("from TASTESYNC_X") goes into the error
// after the key.
void apply(Config& config, const std::string& key, const std::string& value,
           const std::string& origin);

// The candidate nearest to a misspelt name, if it is near enough to be the likely intent.
std::optional<std::string> closest(const std::string& name,
                                   const std::vector<std::string>& candidates);

// closest() over the keys of the table.
std::optional<std::string> closest_key(const std::string& key);

}  // namespace tastesync::config_keys
