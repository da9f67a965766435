#pragma once

#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "config.hpp"
#include "metrics.hpp"
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
// A sink that stops by itself (it threw: docs/design.md, "Failures that show") turns `health`
// not ready, is counted, and is started again after a backoff (1 s doubling to 60 s) while
// identification goes on. Destroying it stops them; each commits what it wrote.
class Sinks {
 public:
  // Builds every sink now, so that a broken setup fails the start.
  Sinks(const Config& config, prometheus::Registry& metrics, std::shared_ptr<Health> health);
  ~Sinks();
  Sinks(const Sinks&) = delete;
  Sinks& operator=(const Sinks&) = delete;

  bool empty() const { return threads_.empty(); }
  void stop();

 private:
  void supervise(SinkKind kind, std::unique_ptr<SinkRunner> runner, const std::stop_token& stop);

  Config config_;
  std::shared_ptr<Health> health_;
  std::unique_ptr<SinkMetricFamilies> families_;
  std::vector<std::jthread> threads_;
};

}  // namespace tastesync
