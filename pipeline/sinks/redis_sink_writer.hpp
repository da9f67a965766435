#pragma once

#include <memory>
#include <string>

#include "sink_writer.hpp"

namespace tastesync {

// The Redis sink's writer (SPEC §6) at `address` (host:port). Throws ConfigError naming
// redis.address when it is not host:port.
std::unique_ptr<SinkWriter> make_redis_sink_writer(const std::string& address);

}  // namespace tastesync
