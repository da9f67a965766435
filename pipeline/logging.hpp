#pragma once

#include "config.hpp"

namespace tastesync {

// spdlog to stderr (stdout carries events in the embedded default), plain or one JSON object a
// line. Throws ConfigError for an unknown log.level.
void setup_logging(const LogConfig& config);

}  // namespace tastesync
