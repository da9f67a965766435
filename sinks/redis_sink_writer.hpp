#pragma once

#include <memory>
#include <string>

#include "config/config.hpp"
#include "sinks/event/sink_writer.hpp"

namespace tastesync {

// The Redis sink's writer (docs/contract.md#redis) for redis.address (host:port), authenticating
// with redis.user / redis.password. Throws ConfigError naming redis.address when it is not
// host:port, and naming redis.password (or redis.user) when Redis, reachable at start, refuses the
// credentials; an unreachable Redis is retried like an outage. The same refusal later (after a
// reconnect) makes write() throw that ConfigError: the sink stops, as no retry can help
// (docs/design.md "Secrets").
std::unique_ptr<SinkWriter> make_redis_sink_writer(const RedisConfig& config);

}  // namespace tastesync
