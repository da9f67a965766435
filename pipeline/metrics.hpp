#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "stages/outcome.hpp"
#include "stages/parse.hpp"
#include "stages/score.hpp"

class CivetServer;

namespace tastesync {

struct MetricsConfig;

// What /healthz and /readyz answer. Written by the pipeline thread, read by the HTTP threads.
class Health {
 public:
  void set_ready(bool ready) { ready_.store(ready, std::memory_order_relaxed); }
  // Ready when the pipeline says so and no supervised part (a sink thread) is down.
  bool ready() const {
    return ready_.load(std::memory_order_relaxed) &&
           parts_down_.load(std::memory_order_relaxed) == 0;
  }
  void part_down() { parts_down_.fetch_add(1, std::memory_order_relaxed); }
  void part_up() { parts_down_.fetch_sub(1, std::memory_order_relaxed); }
  // The pipeline thread beats once per loop; a stalled loop turns /healthz 503.
  void beat(std::int64_t now_ms) { last_beat_ms_.store(now_ms, std::memory_order_relaxed); }
  std::int64_t last_beat_ms() const { return last_beat_ms_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> ready_{false};
  std::atomic<int> parts_down_{0};
  std::atomic<std::int64_t> last_beat_ms_{0};
};

// Every series of SPEC §8, created once so the hot path only increments.
class PipelineMetrics {
 public:
  explicit PipelineMetrics(prometheus::Registry& registry);

  prometheus::Counter& consumed;
  prometheus::Counter& produced_events;
  std::array<prometheus::Counter*, kIdentificationKindCount> events{};
  std::array<prometheus::Counter*, kDropReasonCount> drops{};
  std::array<prometheus::Counter*, kParseErrorCodeCount> dlq{};
  std::array<prometheus::Counter*, kProximityCount> proximity{};
  prometheus::Counter& delivery_errors;
  prometheus::Counter& dlq_retries;
  prometheus::Counter& changelog_written;
  prometheus::Counter& changelog_replayed;
  prometheus::Counter& records_lost_to_retention;
  prometheus::Counter& evicted_customers;
  prometheus::Counter* registry_reloads = nullptr;
  prometheus::Counter* registry_reload_errors = nullptr;
  prometheus::Histogram& pipeline_latency;
  prometheus::Histogram& detection_age;
  prometheus::Histogram& stage_latency_topology;
  prometheus::Histogram& stage_latency_checkpoint;
  prometheus::Family<prometheus::Gauge>& consumer_lag;
  prometheus::Gauge& state_store_bytes;
  prometheus::Gauge& state_customers;
  prometheus::Gauge& in_flight;
  prometheus::Gauge& assigned_partitions;
  prometheus::Gauge& embedded_mode;
  prometheus::Gauge& ready;
};

// /metrics, /healthz and /readyz on one civetweb listener. With a token configured, /metrics
// answers only requests bearing it; the probes stay open (docs/design.md, "The HTTP server").
class MetricsServer {
 public:
  // Throws ConfigError naming metrics.port when the port cannot be bound.
  MetricsServer(const MetricsConfig& config, std::shared_ptr<prometheus::Registry> registry,
                const std::shared_ptr<Health>& health);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const { return port_; }

 private:
  struct Handlers;
  std::unique_ptr<Handlers> handlers_;
  std::unique_ptr<CivetServer> server_;
  int port_ = 0;
};

}  // namespace tastesync
