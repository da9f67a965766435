#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "config.hpp"
#include "sink_runner.hpp"

namespace tastesync {

enum class SinkKind { postgres, redis };

// The runner options for `kind` from a Config: group <kafka.group_id>-sink-<kind>, reading
// kafka.output_topic.
SinkRunnerOptions sink_runner_options(const Config& config, SinkKind kind);

// Builds the writer for `kind` from postgres.dsn / redis.address (ConfigError when unset).
std::unique_ptr<SinkWriter> make_sink_writer(const Config& config, SinkKind kind);

// The sinks a Config turns on (postgres.dsn, redis.address set), each in its own thread, fed
// asynchronously from customer-events: a slow or absent database never slows identification.
// Destroying it stops them; each commits what it wrote. Building a writer can fail the start
// (ConfigError: Redis refuses the credentials). A sink stopped by a ConfigError while running
// (the same refusal after a reconnect) is logged and reported to `on_failure`, from the sink's
// thread; any other exception that ends a sink is logged only.
class Sinks {
 public:
  Sinks(const Config& config, prometheus::Registry& metrics, std::function<void()> on_failure);
  ~Sinks();
  Sinks(const Sinks&) = delete;
  Sinks& operator=(const Sinks&) = delete;

  bool empty() const { return threads_.empty(); }
  void stop();

 private:
  std::unique_ptr<SinkMetricFamilies> families_;
  std::function<void()> on_failure_;
  std::vector<std::unique_ptr<SinkRunner>> runners_;
  std::vector<std::jthread> threads_;
};

}  // namespace tastesync
