#include "sinks/sinks.hpp"

#include <spdlog/spdlog.h>

#include "common/backoff.hpp"
#include "common/clock.hpp"
#include "sinks/postgres_sink_writer.hpp"
#include "sinks/redis_sink_writer.hpp"

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

namespace {

// The sinks a Config turns on: a DSN or an address set (docs/contract.md#sinks).
std::vector<SinkKind> configured_sinks(const Config& config) {
  std::vector<SinkKind> kinds;
  if (!config.postgres.dsn.empty()) kinds.push_back(SinkKind::postgres);
  if (!config.redis.address.empty()) kinds.push_back(SinkKind::redis);
  return kinds;
}

}  // namespace

Sinks::Sinks(const Config& config, prometheus::Registry& metrics, std::shared_ptr<Health> health,
             std::function<void()> on_failure)
    : Sinks(
          config, configured_sinks(config),
          [config](SinkKind kind) { return make_sink_writer(config, kind); }, metrics,
          std::move(health), std::move(on_failure)) {}

Sinks::Sinks(const Config& config, const std::vector<SinkKind>& kinds, WriterFactory make_writer,
             prometheus::Registry& metrics, std::shared_ptr<Health> health,
             std::function<void()> on_failure)
    : config_(config),
      make_writer_(std::move(make_writer)),
      health_(std::move(health)),
      families_(std::make_unique<SinkMetricFamilies>(metrics)),
      on_failure_(std::move(on_failure)) {
  std::vector<std::unique_ptr<SinkRunner>> runners;
  runners.reserve(kinds.size());
  for (const SinkKind kind : kinds) {
    runners.push_back(std::make_unique<SinkRunner>(sink_runner_options(config, kind),
                                                   make_writer_(kind), *families_));
  }
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    threads_.emplace_back([this, kind = kinds[i],
                           runner = std::move(runners[i])](const std::stop_token& stop) mutable {
      supervise(kind, std::move(runner), stop);
    });
  }
}

void Sinks::supervise(SinkKind kind, std::unique_ptr<SinkRunner> runner,
                      const std::stop_token& stop) {
  const std::string_view name = kind == SinkKind::postgres ? "postgres" : "redis";
  prometheus::Counter& restarts = families_->restarts.Add({{"sink", std::string(name)}});
  Backoff backoff(std::chrono::seconds(1), std::chrono::seconds(60));
  while (true) {
    std::string reason = "it returned without being asked to stop";
    const auto started = std::chrono::steady_clock::now();
    try {
      if (!runner) {
        runner = std::make_unique<SinkRunner>(sink_runner_options(config_, kind),
                                              make_writer_(kind), *families_);
      }
      runner->run(stop);
    } catch (const ConfigError& e) {
      // Only the operator can fix it (Redis refusing the credentials): the process must end.
      spdlog::error("sink {} stopped: {}", name, e.what());
      if (on_failure_) on_failure_();
      return;
    } catch (const std::exception& e) {
      reason = e.what();
    } catch (...) {
      reason = "an unknown exception";
    }
    runner.reset();
    if (stop.stop_requested()) return;
    // A sink that ran a good while before it stopped starts the backoff over.
    if (std::chrono::steady_clock::now() - started > std::chrono::seconds(60)) backoff.reset();
    // Down: not ready until it is started again. Identification goes on meanwhile (the sinks
    // are asynchronous by design), which is why this restarts it rather than end the process.
    health_->part_down();
    restarts.Increment();
    const auto wait = backoff.next();
    spdlog::error("sink {} stopped: {}; starting it again in {} ms", name, reason, wait.count());
    sleep_unless_stopped(wait, stop);
    health_->part_up();
    if (stop.stop_requested()) return;
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
