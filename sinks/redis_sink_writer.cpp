#include "sinks/redis_sink_writer.hpp"

#include <spdlog/spdlog.h>

#include <charconv>

#include "sinks/redis/redis_writer.hpp"

namespace tastesync {
namespace {

// The key to fix, for a failure of kind credentials_rejected.
std::string credentials_problem(const RedisOptions& options, const std::string& message) {
  if (options.password.empty()) {
    return "redis.password: Redis requires authentication and redis.password is not set "
           "(set it, or redis.password_file): " +
           message;
  }
  if (message.find("NOPERM") != std::string::npos) {
    return "redis.user: the Redis user " +
           (options.user.empty() ? std::string("(the default user)") : "'" + options.user + "'") +
           " lacks a permission the sink needs: " + message;
  }
  if (!options.user.empty()) {
    return "redis.user / redis.password: Redis refused user '" + options.user +
           "' or its password: " + message;
  }
  return "redis.password: Redis refused the password: " + message;
}

class RedisSinkWriter : public SinkWriter {
 public:
  explicit RedisSinkWriter(const RedisOptions& options) : options_(options), writer_(options) {
    if (auto failure = writer_.ready()) {
      if (failure->kind == RedisErrorKind::credentials_rejected) {
        throw ConfigError(credentials_problem(options_, failure->message));
      }
      spdlog::warn("sink redis: Redis not reachable at start ({}); the sink retries",
                   failure->message);
    }
  }

  std::string_view name() const override { return "redis"; }

  Result<SinkWriteResult, SinkError> write(std::span<const SinkEvent> events,
                                           EpochMs now_ms) override {
    auto written = writer_.write(events, now_ms);
    if (!written) {
      if (written.error().kind == RedisErrorKind::credentials_rejected) {
        return Failure{SinkError{SinkErrorKind::credentials_refused,
                                 credentials_problem(options_, written.error().message)}};
      }
      return Failure{SinkError{SinkErrorKind::unavailable, written.error().message}};
    }
    SinkWriteResult result;
    result.rejected = std::move(written->rejected);
    return result;
  }

 private:
  RedisOptions options_;
  RedisWriter writer_;
};

}  // namespace

std::unique_ptr<SinkWriter> make_redis_sink_writer(const RedisConfig& config) {
  const std::string& address = config.address;
  const auto colon = address.rfind(':');
  int port = 0;
  const char* end = address.data() + address.size();
  if (colon == std::string::npos || colon == 0 ||
      std::from_chars(address.data() + colon + 1, end, port).ptr != end || port < 1 ||
      port > 65535) {
    throw ConfigError("redis.address must be host:port, not '" + address + "'");
  }
  RedisOptions options;
  options.host = address.substr(0, colon);
  options.port = port;
  options.user = config.user;
  options.password = config.password;
  return std::make_unique<RedisSinkWriter>(options);
}

}  // namespace tastesync
