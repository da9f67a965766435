#include "redis_sink_writer.hpp"

#include <charconv>

#include "config.hpp"
#include "redis_writer.hpp"

namespace tastesync {
namespace {

class RedisSinkWriter : public SinkWriter {
 public:
  explicit RedisSinkWriter(RedisOptions options) : writer_(std::move(options)) {}

  std::string_view name() const override { return "redis"; }

  Result<SinkWriteResult, std::string> write(std::span<const SinkEvent> events,
                                             EpochMs now_ms) override {
    auto written = writer_.write(events, now_ms);
    if (!written) return Failure{written.error().message};
    SinkWriteResult result;
    result.rejected = std::move(written->rejected);
    return result;
  }

 private:
  RedisWriter writer_;
};

}  // namespace

std::unique_ptr<SinkWriter> make_redis_sink_writer(const std::string& address) {
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
  return std::make_unique<RedisSinkWriter>(std::move(options));
}

}  // namespace tastesync
