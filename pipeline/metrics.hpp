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
#include <vector>

#include "common/health.hpp"
#include "stages/outcome.hpp"
#include "stages/parse.hpp"
#include "stages/score.hpp"

namespace tastesync {

// Observations of one histogram gathered on the pipeline thread and added to it once per batch
// (flush()): prometheus-cpp's Histogram::Observe takes a lock and searches the buckets for every
// value, and once per output for two histograms that was ~2 % of the pipeline thread
// (docs/bench.md#issue-17-9). One thread observes and flushes.
class BatchedHistogram {
 public:
  // `boundaries`: exactly those `target` was made with.
  BatchedHistogram(prometheus::Histogram& target,
                   prometheus::Histogram::BucketBoundaries boundaries);

  void observe(double value);
  // Adds what was observed since the last flush to the histogram.
  void flush();

 private:
  prometheus::Histogram& target_;
  prometheus::Histogram::BucketBoundaries boundaries_;
  std::vector<double> counts_;  // one per boundary, then +Inf
  double sum_ = 0.0;
  bool observed_ = false;
};

// Every series of docs/contract.md#metrics, created once so the hot path only increments.
class PipelineMetrics {
 public:
  explicit PipelineMetrics(prometheus::Registry& registry);

  prometheus::Counter& consumed;
  prometheus::Counter& consume_seconds;
  prometheus::Counter& fetch_wakes;
  prometheus::Counter& parsed_ahead;
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
  prometheus::Counter& forgotten_customers;
  prometheus::Counter& transactions_committed;
  prometheus::Counter& transactions_aborted;
  prometheus::Counter* registry_reloads = nullptr;
  prometheus::Counter* registry_reload_errors = nullptr;
  prometheus::Histogram& pipeline_latency;
  prometheus::Histogram& detection_age;
  // The two above as the pipeline thread observes them, once per output; flush_batched() adds
  // them once per batch.
  BatchedHistogram pipeline_latency_batched;
  BatchedHistogram detection_age_batched;
  prometheus::Histogram& stage_latency_topology;
  prometheus::Histogram& stage_latency_checkpoint;
  prometheus::Histogram& partition_restore;
  prometheus::Histogram& transaction_commit;
  prometheus::Family<prometheus::Gauge>& consumer_lag;
  prometheus::Gauge& state_store_bytes;
  prometheus::Gauge& changelog_lag;
  prometheus::Gauge& state_customers;
  prometheus::Gauge& last_event;
  prometheus::Gauge& in_flight;
  prometheus::Gauge& assigned_partitions;
  prometheus::Family<prometheus::Gauge>& partition_customers;
  prometheus::Gauge& embedded_mode;
  prometheus::Gauge& ready;

  void flush_batched() {
    pipeline_latency_batched.flush();
    detection_age_batched.flush();
  }
};

// Per-record counts kept as plain integers and added to their counters once per consumed batch
// (flush()): a prometheus counter's increment is an atomic compare-and-swap on a double, and the
// pipeline thread made one or two per record (docs/bench.md#issue-17-4).
template <std::size_t N>
class CounterTally {
 public:
  explicit CounterTally(const std::array<prometheus::Counter*, N>& counters)
      : counters_(counters) {}
  void add(std::size_t index) { ++counts_[index]; }
  void flush() {
    for (std::size_t i = 0; i < N; ++i) {
      if (counts_[i] == 0) continue;
      counters_[i]->Increment(static_cast<double>(counts_[i]));
      counts_[i] = 0;
    }
  }

 private:
  const std::array<prometheus::Counter*, N>& counters_;
  std::array<std::uint64_t, N> counts_{};
};

}  // namespace tastesync
