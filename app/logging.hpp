#pragma once

#include "config/config.hpp"

namespace tastesync {

// spdlog to stderr (stdout carries events in the embedded default), plain or one JSON object a
// line, every message passed through `redactor` first (docs/design.md "Secrets"). Throws
// ConfigError for an unknown log.level.
void setup_logging(const LogConfig& config, Redactor redactor = Redactor());

// Whether setup_logging has run (its logger is the default one).
bool logging_is_set_up();

}  // namespace tastesync
