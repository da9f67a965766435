#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "pipeline/output_producer.hpp"
#include "replay/replay_plan.hpp"
#include "stages/registry.hpp"
#include "stages/topology.hpp"

namespace tastesync {

struct ReplayOptions {
  std::string output_topic;         // --output-topic (required)
  std::string dlq_topic;            // --dlq-topic ("" = <output_topic>-dlq)
  ReplayRange range;                // --from-beginning | --from-timestamp, --to-timestamp
  std::set<std::string> customers;  // --customer (empty: every customer)
  bool dry_run = false;             // --dry-run: nothing produced
  bool allow_live_output = false;   // --allow-live-output
  std::string started_at;           // names the replay's group id: <group>-replay-<it>
};

// `tastesync replay` (docs/operations.md#replay): the live pipeline's stages over a range of the
// input with a fresh, in-memory state, into a topic of the operator's choosing. The end is fixed
// when it starts (the end offsets then, or --to-timestamp), so it always finishes. It never
// commits offsets, writes no RocksDB state and no changelog.
class Replayer final : private DeliveryListener {
 public:
  // Throws ConfigError for what the operator must change (the live output topic without
  // --allow-live-output, a missing input topic).
  Replayer(Config config, std::shared_ptr<const Registry> registry, ReplayOptions options);
  ~Replayer() override;
  Replayer(const Replayer&) = delete;
  Replayer& operator=(const Replayer&) = delete;

  // Reads the range to its end (or until `stop`), produces and waits for every delivery.
  // Progress goes to the log at most once a second. Throws std::runtime_error when an output
  // cannot be delivered.
  ReplaySummary run(const std::stop_token& stop);

 private:
  struct Partition {
    std::int32_t id = 0;
    std::int64_t start = 0;  // first offset read
    std::int64_t end = 0;    // one past the last offset read (fixed at start)
    std::int64_t next = 0;   // one past the last offset seen
    bool done = false;
    PartitionState state;
  };

  void plan(rd_kafka_t* consumer);
  void prepare_output_topics();
  void handle(const rd_kafka_message_t& message, const std::stop_token& stop);
  void finish_outputs(const std::stop_token& stop);
  bool wanted(std::string_view customer_id) const;

  void on_delivered(const OutputOrigin& origin, const rd_kafka_message_t& message) override;
  void on_failed(const OutputOrigin& origin, const rd_kafka_message_t& message) override;
  void on_dead_letter_retry(const OutputOrigin& origin) override;
  void on_callback_failed(const std::string& reason) override;

  Config config_;  // kafka.output_topic / dlq_topic are the replay's own by now
  ReplayOptions options_;
  std::string live_output_topic_;
  std::string live_dlq_topic_;
  Topology topology_;
  std::vector<std::unique_ptr<Partition>> partitions_;  // indexed by partition id
  std::unique_ptr<OutputProducer> producer_;
  ReplaySummary summary_;
  std::int64_t total_offsets_ = 0;
  std::int64_t offsets_done_ = 0;
  std::int64_t delivered_ = 0;
  std::int64_t produced_ = 0;
  std::optional<std::string> failure_;
};

}  // namespace tastesync
