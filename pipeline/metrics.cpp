#include "pipeline/metrics.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace tastesync {
namespace {

using Buckets = prometheus::Histogram::BucketBoundaries;

prometheus::Counter& counter(prometheus::Registry& registry, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add({});
}

prometheus::Gauge& gauge(prometheus::Registry& registry, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
}

prometheus::Histogram& histogram(prometheus::Registry& registry, const char* name, const char* help,
                                 const prometheus::Labels& labels, const Buckets& buckets) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(registry).Add(labels, buckets);
}

// One series per value of an enum, labelled `label` = its name (kind, reason, class, code).
template <typename Enum, std::size_t N, typename NameOf>
void counters_by(prometheus::Registry& registry, const char* name, const char* help,
                 const char* label, NameOf name_of, std::array<prometheus::Counter*, N>& out) {
  auto& family = prometheus::BuildCounter().Name(name).Help(help).Register(registry);
  for (std::size_t i = 0; i < N; ++i) {
    out[i] = &family.Add({{label, std::string(name_of(static_cast<Enum>(i)))}});
  }
}

const Buckets kLatencyBuckets = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                 0.1,    0.2,   0.5,   1,     2,    5};
const Buckets kDetectionAgeBuckets = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300};
const Buckets kStageBuckets = {1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 1e-3};
const Buckets kCheckpointBuckets = {1e-5, 1e-4, 1e-3, 5e-3, 2e-2, 0.1, 1};
const Buckets kRestoreBuckets = {0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300};

}  // namespace

BatchedHistogram::BatchedHistogram(prometheus::Histogram& target,
                                   prometheus::Histogram::BucketBoundaries boundaries)
    : target_(target), boundaries_(std::move(boundaries)), counts_(boundaries_.size() + 1, 0.0) {}

void BatchedHistogram::observe(double value) {
  // The first bucket whose upper bound is at least the value, as Histogram::Observe counts it.
  const auto bucket = std::lower_bound(boundaries_.begin(), boundaries_.end(), value);
  counts_[static_cast<std::size_t>(bucket - boundaries_.begin())] += 1.0;
  sum_ += value;
  observed_ = true;
}

void BatchedHistogram::flush() {
  if (!observed_) return;
  target_.ObserveMultiple(counts_, sum_);
  std::fill(counts_.begin(), counts_.end(), 0.0);
  sum_ = 0.0;
  observed_ = false;
}

PipelineMetrics::PipelineMetrics(prometheus::Registry& registry)
    : consumed(counter(registry, "tastesync_records_consumed_total",
                       "Records read from the input topic")),
      consume_seconds(counter(
          registry, "tastesync_consume_seconds_total",
          "Time the pipeline thread spent in the consumer poll: waiting for records and taking "
          "them from librdkafka's prefetched queue")),
      fetch_wakes(counter(registry, "tastesync_fetch_wakes_total",
                          "Requests sent to wake librdkafka's fetcher after the prefetch queue "
                          "had filled (docs/design.md#fetch-wake)")),
      parsed_ahead(counter(registry, "tastesync_records_parsed_ahead_total",
                           "Records the parse thread parsed before the pipeline thread reached "
                           "them (docs/design.md#parse-ahead)")),
      produced_events(counter(registry, "tastesync_events_delivered_total",
                              "CustomerIdentified events acknowledged by Kafka")),
      delivery_errors(counter(registry, "tastesync_delivery_errors_total",
                              "Event deliveries that failed after librdkafka's retries")),
      dlq_retries(counter(registry, "tastesync_dlq_retries_total",
                          "DLQ records produced again after a failed delivery")),
      changelog_written(counter(registry, "tastesync_changelog_records_written_total",
                                "State records acknowledged on the changelog topic")),
      changelog_replayed(counter(registry, "tastesync_changelog_records_replayed_total",
                                 "Changelog records read to restore moved partitions")),
      records_lost_to_retention(
          counter(registry, "tastesync_records_lost_to_retention_total",
                  "Input records deleted (retention) before this pipeline processed them")),
      evicted_customers(counter(registry, "tastesync_state_evicted_customers_total",
                                "Customers forgotten to keep state.max_customers_per_partition")),
      forgotten_customers(counter(registry, "tastesync_erasures_total",
                                  "Erasure requests processed (tastesync forget)")),
      transactions_committed(counter(registry, "tastesync_transactions_committed_total",
                                     "Output transactions committed (processing.guarantee "
                                     "exactly_once)")),
      transactions_aborted(counter(registry, "tastesync_transactions_aborted_total",
                                   "Output transactions aborted; their records are processed "
                                   "again")),
      pipeline_latency(histogram(registry, "tastesync_pipeline_latency_seconds",
                                 "Delivery report time minus consume time, per output", {},
                                 kLatencyBuckets)),
      detection_age(histogram(registry, "tastesync_detection_age_seconds",
                              "Emit time minus detected_at (informational: phone clocks drift)", {},
                              kDetectionAgeBuckets)),
      pipeline_latency_batched(pipeline_latency, kLatencyBuckets),
      detection_age_batched(detection_age, kDetectionAgeBuckets),
      stage_latency_topology(histogram(registry, "tastesync_stage_latency_seconds",
                                       "Time per record in the stages, and per state checkpoint",
                                       {{"stage", "parse_to_emit"}}, kStageBuckets)),
      stage_latency_checkpoint(histogram(registry, "tastesync_state_checkpoint_seconds",
                                         "Time to write one checkpoint batch to RocksDB", {},
                                         kCheckpointBuckets)),
      partition_restore(histogram(registry, "tastesync_partition_restore_seconds",
                                  "Time to rebuild one partition's state from the changelog", {},
                                  kRestoreBuckets)),
      transaction_commit(histogram(registry, "tastesync_transaction_commit_seconds",
                                   "Time to deliver, send the offsets of and commit one output "
                                   "transaction",
                                   {}, kCheckpointBuckets)),
      consumer_lag(prometheus::BuildGauge()
                       .Name("tastesync_consumer_lag_records")
                       .Help("High watermark minus the stored offset, per input partition")
                       .Register(registry)),
      state_store_bytes(
          gauge(registry, "tastesync_state_store_bytes", "RocksDB live SST files plus memtables")),
      changelog_lag(gauge(registry, "tastesync_changelog_lag_records",
                          "Changelog records produced and not yet acknowledged by Kafka")),
      state_customers(gauge(registry, "tastesync_state_customers",
                            "Customers held in the in-memory state layer")),
      last_event(gauge(registry, "tastesync_last_event_timestamp_seconds",
                       "Wall-clock time Kafka acknowledged the latest event (0: none yet)")),
      in_flight(gauge(registry, "tastesync_records_in_flight",
                      "Records consumed whose outputs are not delivered yet")),
      assigned_partitions(gauge(registry, "tastesync_assigned_partitions",
                                "Input partitions this instance processes")),
      partition_customers(prometheus::BuildGauge()
                              .Name("tastesync_partition_customers")
                              .Help("Customers in the state of each input partition this instance "
                                    "owns (one series per owned partition)")
                              .Register(registry)),
      embedded_mode(gauge(registry, "tastesync_embedded_mode",
                          "1 when running the embedded default (mock cluster + generator)")),
      ready(gauge(registry, "tastesync_ready", "1 when /readyz answers 200")) {
  auto& reloads = prometheus::BuildCounter()
                      .Name("tastesync_registry_reloads_total")
                      .Help("Registry reloads while running, by result")
                      .Register(registry);
  registry_reloads = &reloads.Add({{"result", "ok"}});
  registry_reload_errors = &reloads.Add({{"result", "error"}});
  counters_by<IdentificationKind>(registry, "tastesync_events_emitted_total",
                                  "CustomerIdentified events produced, by identification kind",
                                  "identification", identification_kind_name, events);
  counters_by<DropReason>(registry, "tastesync_drops_total",
                          "Accepted sightings that produced no event, by reason", "reason",
                          drop_reason_name, drops);
  counters_by<Proximity>(
      registry, "tastesync_proximity_readings_total",
      "Beacon readings by the proximity class of their filtered distance (Apple's)", "class",
      proximity_name, proximity);
  counters_by<ParseErrorCode>(registry, "tastesync_dlq_total",
                              "Records sent to the dead-letter topic, by error code", "code",
                              parse_error_code_name, dlq);
}

}  // namespace tastesync
