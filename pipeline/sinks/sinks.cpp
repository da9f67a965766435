#include "sinks.hpp"

#include <spdlog/spdlog.h>

#include "postgres_sink_writer.hpp"
#include "redis_sink_writer.hpp"

namespace tastesync {

SinkRunnerOptions sink_runner_options(const Config& config, SinkKind kind) {
  SinkRunnerOptions options;
  options.brokers = config.kafka.brokers;
  options.kafka_properties = config.kafka.properties;
  options.group_id =
      config.kafka.group_id + (kind == SinkKind::postgres ? "-sink-postgres" : "-sink-redis");
  options.topic = config.kafka.output_topic;
  options.dlq_topic = config.sink.dlq_topic;
  options.session_timeout_ms = config.kafka.session_timeout_ms;
  options.heartbeat_interval_ms = config.kafka.heartbeat_interval_ms;
  options.batch_max_records = config.sink.batch_max_records;
  options.batch_max_wait = std::chrono::milliseconds(config.sink.batch_max_wait_ms);
  options.backoff_initial = std::chrono::milliseconds(config.sink.backoff_initial_ms);
  options.backoff_max = std::chrono::milliseconds(config.sink.backoff_max_ms);
  return options;
}

std::unique_ptr<SinkWriter> make_sink_writer(const Config& config, SinkKind kind) {
  if (kind == SinkKind::redis) {
    if (config.redis.address.empty()) {
      throw ConfigError("the Redis sink needs redis.address (--redis, TASTESYNC_REDIS__ADDRESS)");
    }
    return make_redis_sink_writer(config.redis);
  }
  if (config.postgres.dsn.empty()) {
    throw ConfigError(
        "the PostgreSQL sink needs postgres.dsn (--postgres, TASTESYNC_POSTGRES__DSN, or "
        "postgres.dsn_file)");
  }
  return make_postgres_sink_writer(config.postgres.dsn);
}

Sinks::Sinks(const Config& config, prometheus::Registry& metrics, std::function<void()> on_failure)
    : families_(std::make_unique<SinkMetricFamilies>(metrics)), on_failure_(std::move(on_failure)) {
  std::vector<SinkKind> kinds;
  if (!config.postgres.dsn.empty()) kinds.push_back(SinkKind::postgres);
  if (!config.redis.address.empty()) kinds.push_back(SinkKind::redis);
  for (const SinkKind kind : kinds) {
    runners_.push_back(std::make_unique<SinkRunner>(sink_runner_options(config, kind),
                                                    make_sink_writer(config, kind), *families_));
  }
  for (auto& runner : runners_) {
    threads_.emplace_back([this, &runner = *runner](const std::stop_token& stop) {
      try {
        runner.run(stop);
      } catch (const ConfigError& e) {
        // Only the operator can fix it (Redis refusing the credentials): the process must end.
        spdlog::error("sink stopped: {}", e.what());
        if (on_failure_) on_failure_();
      } catch (const std::exception& e) {
        spdlog::error("sink stopped: {}", e.what());
      }
    });
  }
}

Sinks::~Sinks() {
  stop();
}

void Sinks::stop() {
  for (auto& thread : threads_) thread.request_stop();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

}  // namespace tastesync
