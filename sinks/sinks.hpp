#pragma once

#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "common/health.hpp"
#include "config/config.hpp"
#include "sinks/sink_runner.hpp"

namespace tastesync {

enum class SinkKind { postgres, redis };

// The runner options for `kind` from a Config: group <kafka.group_id>-sink-<kind>, reading
// kafka.output_topic.
SinkRunnerOptions sink_runner_options(const Config& config, SinkKind kind);

// Builds the writer for `kind` from postgres.dsn / redis.address (ConfigError when unset).
std::unique_ptr<SinkWriter> make_sink_writer(const Config& config, SinkKind kind);

// The sinks a Config turns on (postgres.dsn, redis.address set), each in its own thread, fed
// asynchronously from customer-events: a slow or absent database never slows identification.
// Destroying it stops them; each commits what it wrote.
//
// What a sink dying means (docs/design.md, "Failures that show"): one stopped by a ConfigError
// (Redis refusing the credentials after a reconnect: only the operator can fix that) is logged
// and reported to `on_failure`, from the sink's thread, and the process ends; one that stops
// for any other reason turns `health` not ready, is counted, and is started again after a
// backoff (1 s doubling to 60 s) while identification goes on.
class Sinks {
 public:
  using WriterFactory = std::function<std::unique_ptr<SinkWriter>(SinkKind)>;

  // Builds every sink now, so that a broken setup (refused credentials) fails the start.
  Sinks(const Config& config, prometheus::Registry& metrics, std::shared_ptr<Health> health,
        std::function<void()> on_failure);
  // The sinks of `kinds`, their writers (at start and at each restart) from `make_writer`.
  Sinks(const Config& config, const std::vector<SinkKind>& kinds, WriterFactory make_writer,
        prometheus::Registry& metrics, std::shared_ptr<Health> health,
        std::function<void()> on_failure);
  ~Sinks();
  Sinks(const Sinks&) = delete;
  Sinks& operator=(const Sinks&) = delete;

  bool empty() const { return threads_.empty(); }
  void stop();

 private:
  void supervise(SinkKind kind, std::unique_ptr<SinkRunner> runner, const std::stop_token& stop);

  Config config_;
  WriterFactory make_writer_;
  std::shared_ptr<Health> health_;
  std::unique_ptr<SinkMetricFamilies> families_;
  std::function<void()> on_failure_;
  std::vector<std::jthread> threads_;
};

}  // namespace tastesync
