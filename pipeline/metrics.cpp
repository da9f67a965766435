#include "pipeline/metrics.hpp"

namespace tastesync {
namespace {

prometheus::Histogram::BucketBoundaries latency_buckets() {
  return {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5};
}

}  // namespace

PipelineMetrics::PipelineMetrics(prometheus::Registry& registry)
    : consumed(prometheus::BuildCounter()
                   .Name("tastesync_records_consumed_total")
                   .Help("Records read from the input topic")
                   .Register(registry)
                   .Add({})),
      produced_events(prometheus::BuildCounter()
                          .Name("tastesync_events_delivered_total")
                          .Help("CustomerIdentified events acknowledged by Kafka")
                          .Register(registry)
                          .Add({})),
      delivery_errors(prometheus::BuildCounter()
                          .Name("tastesync_delivery_errors_total")
                          .Help("Event deliveries that failed after librdkafka's retries")
                          .Register(registry)
                          .Add({})),
      dlq_retries(prometheus::BuildCounter()
                      .Name("tastesync_dlq_retries_total")
                      .Help("DLQ records produced again after a failed delivery")
                      .Register(registry)
                      .Add({})),
      changelog_written(prometheus::BuildCounter()
                            .Name("tastesync_changelog_records_written_total")
                            .Help("State records acknowledged on the changelog topic")
                            .Register(registry)
                            .Add({})),
      changelog_replayed(prometheus::BuildCounter()
                             .Name("tastesync_changelog_records_replayed_total")
                             .Help("Changelog records read to restore moved partitions")
                             .Register(registry)
                             .Add({})),
      records_lost_to_retention(
          prometheus::BuildCounter()
              .Name("tastesync_records_lost_to_retention_total")
              .Help("Input records deleted (retention) before this pipeline processed them")
              .Register(registry)
              .Add({})),
      evicted_customers(prometheus::BuildCounter()
                            .Name("tastesync_state_evicted_customers_total")
                            .Help("Customers forgotten to keep state.max_customers_per_partition")
                            .Register(registry)
                            .Add({})),
      pipeline_latency(prometheus::BuildHistogram()
                           .Name("tastesync_pipeline_latency_seconds")
                           .Help("Delivery report time minus consume time, per output")
                           .Register(registry)
                           .Add({}, latency_buckets())),
      detection_age(
          prometheus::BuildHistogram()
              .Name("tastesync_detection_age_seconds")
              .Help("Emit time minus detected_at (informational: phone clocks drift)")
              .Register(registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5,
                                                               10, 30, 60, 300})),
      stage_latency_topology(prometheus::BuildHistogram()
                                 .Name("tastesync_stage_latency_seconds")
                                 .Help("Time per record in the stages, and per state checkpoint")
                                 .Register(registry)
                                 .Add({{"stage", "parse_to_emit"}},
                                      prometheus::Histogram::BucketBoundaries{
                                          1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 1e-3})),
      stage_latency_checkpoint(
          prometheus::BuildHistogram()
              .Name("tastesync_state_checkpoint_seconds")
              .Help("Time to write one checkpoint batch to RocksDB")
              .Register(registry)
              .Add({},
                   prometheus::Histogram::BucketBoundaries{1e-5, 1e-4, 1e-3, 5e-3, 2e-2, 0.1, 1})),
      consumer_lag(prometheus::BuildGauge()
                       .Name("tastesync_consumer_lag_records")
                       .Help("High watermark minus the stored offset, per input partition")
                       .Register(registry)),
      state_store_bytes(prometheus::BuildGauge()
                            .Name("tastesync_state_store_bytes")
                            .Help("RocksDB live SST files plus memtables")
                            .Register(registry)
                            .Add({})),
      state_customers(prometheus::BuildGauge()
                          .Name("tastesync_state_customers")
                          .Help("Customers held in the in-memory state layer")
                          .Register(registry)
                          .Add({})),
      in_flight(prometheus::BuildGauge()
                    .Name("tastesync_records_in_flight")
                    .Help("Records consumed whose outputs are not delivered yet")
                    .Register(registry)
                    .Add({})),
      assigned_partitions(prometheus::BuildGauge()
                              .Name("tastesync_assigned_partitions")
                              .Help("Input partitions this instance processes")
                              .Register(registry)
                              .Add({})),
      embedded_mode(prometheus::BuildGauge()
                        .Name("tastesync_embedded_mode")
                        .Help("1 when running the embedded default (mock cluster + generator)")
                        .Register(registry)
                        .Add({})),
      ready(prometheus::BuildGauge()
                .Name("tastesync_ready")
                .Help("1 when /readyz answers 200")
                .Register(registry)
                .Add({})) {
  auto& reloads = prometheus::BuildCounter()
                      .Name("tastesync_registry_reloads_total")
                      .Help("Registry reloads while running, by result")
                      .Register(registry);
  registry_reloads = &reloads.Add({{"result", "ok"}});
  registry_reload_errors = &reloads.Add({{"result", "error"}});
  auto& events_family = prometheus::BuildCounter()
                            .Name("tastesync_events_emitted_total")
                            .Help("CustomerIdentified events produced, by identification kind")
                            .Register(registry);
  for (std::size_t i = 0; i < events.size(); ++i) {
    events[i] = &events_family.Add({{"identification", std::string(identification_kind_name(
                                                           static_cast<IdentificationKind>(i)))}});
  }
  auto& drops_family = prometheus::BuildCounter()
                           .Name("tastesync_drops_total")
                           .Help("Accepted sightings that produced no event, by reason")
                           .Register(registry);
  for (std::size_t i = 0; i < drops.size(); ++i) {
    drops[i] =
        &drops_family.Add({{"reason", std::string(drop_reason_name(static_cast<DropReason>(i)))}});
  }
  auto& proximity_family =
      prometheus::BuildCounter()
          .Name("tastesync_proximity_readings_total")
          .Help("Beacon readings by the proximity class of their filtered distance (Apple's)")
          .Register(registry);
  for (std::size_t i = 0; i < proximity.size(); ++i) {
    proximity[i] =
        &proximity_family.Add({{"class", std::string(proximity_name(static_cast<Proximity>(i)))}});
  }
  auto& dlq_family = prometheus::BuildCounter()
                         .Name("tastesync_dlq_total")
                         .Help("Records sent to the dead-letter topic, by error code")
                         .Register(registry);
  for (std::size_t i = 0; i < dlq.size(); ++i) {
    dlq[i] = &dlq_family.Add(
        {{"code", std::string(parse_error_code_name(static_cast<ParseErrorCode>(i)))}});
  }
}

}  // namespace tastesync
