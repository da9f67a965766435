#pragma once

#include <stdexcept>

namespace tastesync {

// A start-up error. The message always names the offending key (and where it came from).
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace tastesync
