#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <chrono>
#include <map>
#include <memory>
#include <stop_token>
#include <string>

#include "config/config.hpp"
#include "sinks/event/sink_writer.hpp"

namespace tastesync {

// The sink series of docs/contract.md#metrics, labelled sink="postgres"|"redis"; built once per
// registry and shared by the sinks in one process.
struct SinkMetricFamilies {
  explicit SinkMetricFamilies(prometheus::Registry& registry);

  prometheus::Family<prometheus::Gauge>& lag;
  prometheus::Family<prometheus::Counter>& retries;
  prometheus::Family<prometheus::Counter>& errors;
  prometheus::Family<prometheus::Counter>& written;
  prometheus::Family<prometheus::Counter>& dlq;
  prometheus::Family<prometheus::Counter>& skipped;
  prometheus::Family<prometheus::Gauge>& last_success;
  prometheus::Family<prometheus::Counter>& restarts;
};

struct SinkRunnerOptions {
  std::string brokers;
  std::map<std::string, std::string> kafka_properties;  // kafka.properties, passed through
  std::string group_id;                                 // <kafka.group_id>-sink-<name>
  std::string topic = "customer-events";
  // The defaults are the configuration's (config/config.hpp, SinkConfig), so the two never part.
  std::string dlq_topic = SinkConfig{}.dlq_topic;
  int session_timeout_ms = 6000;
  int heartbeat_interval_ms = 2000;
  // A batch's statements and commit are paid once per batch: docs/bench.md#issue-17-18.
  int batch_max_records = SinkConfig{}.batch_max_records;
  std::chrono::milliseconds batch_max_wait{SinkConfig{}.batch_max_wait_ms};
  std::chrono::milliseconds backoff_initial{SinkConfig{}.backoff_initial_ms};
  std::chrono::milliseconds backoff_max{SinkConfig{}.backoff_max_ms};
};

// Feeds one database from customer-events in its own consumer group (docs/contract.md#sinks):
// polls a batch, writes it, dead-letters what the database refuses for its content, and only then
// commits the batch's offsets. A write that fails is retried with backoff, never dropped: the
// sink pauses and lags, and resumes by itself. Writes are idempotent, so a crash between write
// and commit (or a rebalance) only rewrites what is already there.
class SinkRunner {
 public:
  SinkRunner(SinkRunnerOptions options, std::unique_ptr<SinkWriter> writer,
             SinkMetricFamilies& metrics);
  ~SinkRunner();
  SinkRunner(const SinkRunner&) = delete;
  SinkRunner& operator=(const SinkRunner&) = delete;

  // Runs until `stop`; commits what was written before returning. Throws on a broken setup
  // (topic missing, bad Kafka properties).
  void run(const std::stop_token& stop);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tastesync
