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

#include "config.hpp"

namespace tastesync::config_keys {

// 'text', for messages.
std::string in_quotes(std::string_view text);

inline constexpr std::string_view kPropertiesKey = "kafka.properties";

// A bearer token must fit in one Authorization header of the HTTP server's request buffer.
inline constexpr std::size_t kMaxTokenBytes = 4096;

// What is wrong with a value, without the key: the caller adds the key and where it came from.
class InvalidValue : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Redaction { none, whole_value, dsn_password };

struct KeySpec {
  std::string_view key;
  std::function<void(Config&, const std::string&)> set;  // throws InvalidValue
  std::function<std::string(const Config&)> get;
  Redaction redaction = Redaction::none;
};

const std::vector<KeySpec>& all_keys();

const KeySpec* find_key(std::string_view key);

// True for kafka.properties.<name>: the one family of keys not listed in the table.
bool is_property_key(std::string_view key);

// True for a prefix of known keys ("kafka", "kafka.properties"): YAML expects a mapping there.
bool is_section(std::string_view key);

// Sets a key (table or property); origin ("from TASTESYNC_X") goes into the error after the key.
void apply(Config& config, const std::string& key, const std::string& value,
           const std::string& origin);

// The candidate nearest to a misspelt name, if it is near enough to be the likely intent.
std::optional<std::string> closest(const std::string& name,
                                   const std::vector<std::string>& candidates);

// closest() over the keys of the table.
std::optional<std::string> closest_key(const std::string& key);

}  // namespace tastesync::config_keys
