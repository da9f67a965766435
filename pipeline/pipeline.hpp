#pragma once

#include <prometheus/registry.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "pipeline/checkpoint_writer.hpp"
#include "pipeline/consumer_lag.hpp"
#include "pipeline/input_consumer.hpp"
#include "pipeline/metrics.hpp"
#include "pipeline/offset_tracker.hpp"
#include "pipeline/output_producer.hpp"
#include "pipeline/output_transactions.hpp"
#include "pipeline/parse_ahead.hpp"
#include "pipeline/partition_restorer.hpp"
#include "registry/learned_levels.hpp"
#include "registry/registry_feed.hpp"
#include "registry/registry_file_poller.hpp"
#include "stages/registry.hpp"
#include "stages/topology.hpp"
#include "state/pending_writes.hpp"
#include "state/state_store.hpp"

namespace tastesync {

// Called with each CustomerIdentified's key and value once Kafka acknowledged it (the embedded
// default prints them); an empty value is an erasure's tombstone (docs/operations.md#forget).
using EventTap = std::function<void(std::string_view customer_id, std::string_view value)>;

// How long one transactional call (init, offsets, commit, abort) may retry, and the delivery
// of a transaction's outputs may take (processing.guarantee exactly_once).
inline constexpr int kTransactionTimeoutMs = 10000;

// Exit codes of Pipeline::run. After kExitShutdownTimedOut the caller should exit without
// destroying the pipeline: a Kafka client whose close is still in progress would hold it.
inline constexpr int kExitClean = 0;
inline constexpr int kExitShutdownTimedOut = 1;
inline constexpr int kExitFailed = 2;

// raw-beacons -> stages -> customer-events / raw-beacons-dlq, with the state and delivery design
// of docs/contract.md#delivery: state is updated in memory at once, written to RocksDB with the
// partition's next offset only after the outputs it produced are delivered, and offsets are
// stored after that.
class Pipeline final : private DeliveryListener, private AssignmentListener {
 public:
  Pipeline(Config config, std::shared_ptr<const Registry> registry,
           std::shared_ptr<prometheus::Registry> metrics_registry, std::shared_ptr<Health> health,
           EventTap tap);
  ~Pipeline() override;

  void set_embedded_mode(bool embedded) { metrics_.embedded_mode.Set(embedded ? 1 : 0); }
  // registry.source = postgres: newer registries arrive through `feed` (PostgresRegistryWatcher).
  void set_registry_feed(std::shared_ptr<RegistryFeed> feed) { registry_feed_ = std::move(feed); }
  // Where checkpointed room levels go (LearnedLevelExporter), once RocksDB has them.
  void set_learned_level_feed(std::shared_ptr<LearnedLevelFeed> feed) {
    learned_level_feed_ = std::move(feed);
  }

  // Runs until `stop` fires or something fatal happens; returns kExit*. Start-up errors (bad
  // config, missing topic, unusable state dir) throw ConfigError / std::runtime_error.
  int run(const std::stop_token& stop);

 private:
  struct PartitionSlot {
    PartitionState state;
    OffsetTracker tracker;
    PendingWrites pending;
    bool paused = false;  // by backpressure
    // The offset the next record must have at least (-1: not known yet). Offsets only go back
    // when the log was truncated or recreated under this instance's state.
    std::int64_t next_offset = -1;
    // exactly_once: where an aborted transaction sends the partition back (its last committed
    // next offset, else the first offset it processed; -1: nothing processed yet).
    std::int64_t committed_offset = -1;
    prometheus::Gauge* customers_gauge = nullptr;  // its tastesync_partition_customers series
    // A restored state ahead of the group's committed offset (its previous owner's last commit
    // failed): that offset, to be stored once the partition is assigned, unless a checkpoint
    // stores a later one first; -1 otherwise.
    std::int64_t store_restored_offset = -1;
  };

  struct BatchClock {
    std::int64_t steady_ns;
    std::int64_t wall_ms;
  };

  // Fills records_ and to_parse_ from a batch: what ParseAhead reads while handle() runs.
  void view_batch(const std::vector<KafkaMessage>& batch);
  // `index`: the message's place in the batch (records_[index] is its view).
  void handle(const rd_kafka_message_t& message, std::size_t index, const BatchClock& clock,
              const std::stop_token& stop);
  // at_least_once: hands what was delivered to the checkpoint writer, unless it is still
  // writing the last batch (exactly_once: commits the open transaction).
  void checkpoint();
  // The most records one partition holds not yet checkpointed (cadence::checkpoint_due).
  std::size_t most_in_flight() const;
  // Waits for the write in flight, then checkpoints and waits for that write too: before a
  // commit that must include everything delivered (revoke, shutdown).
  void checkpoint_now();
  // A finished write: its offsets may now be stored for Kafka.
  void finish_checkpoint(const Status<StateError>& written);
  // The writer's finished write, if there is one.
  void take_finished_checkpoint();
  // Adds what the fetch waker and the parse thread did since the last call to their counters.
  void mirror_helper_counts();
  // The slots' completed positions into batch_ (pending state and checkpoints) and advanced_.
  void collect_checkpoints();
  // batch_ to the changelog (when on), record for record.
  void produce_changelog();
  // exactly_once (docs/contract.md#exactly-once): the open transaction gets the changelog
  // records and the offsets of everything processed since it began, and is committed; RocksDB
  // follows a committed one. An aborted one rewinds every partition to its last commit.
  void commit_transaction();
  void rewind_to_last_commit();
  void fail_or_abort(std::string reason);
  // An erasure request's audit line and tombstone (docs/operations.md#forget).
  void forget(const rd_kafka_message_t& message, std::string_view request_id,
              const RecordView& record, const Outcome& outcome, const OutputOrigin& origin,
              EpochMs wall_ms, const std::stop_token& stop);
  // Hands the room levels of the checkpoint just written to the learned level feed.
  void publish_learned_levels();
  // A failed produce stops the pipeline; a stopped one marks the shutdown as not drained.
  void check_produced(const ProduceResult& result, const char* what);
  void apply_backpressure();
  void housekeeping(std::int64_t now_ms);
  void reload_registry_if_changed();
  int shutdown();
  PartitionSlot* slot_for(std::int32_t partition);
  std::size_t in_flight() const;
  void fail(std::string reason);

  void on_delivered(const OutputOrigin& origin, const rd_kafka_message_t& message) override;
  void on_failed(const OutputOrigin& origin, const rd_kafka_message_t& message) override;
  void on_dead_letter_retry(const OutputOrigin& origin) override;
  void on_assigned(rd_kafka_topic_partition_list_t& partitions) override;
  void on_revoked(const rd_kafka_topic_partition_list_t& partitions, bool lost) override;
  // Both listeners': something threw inside a librdkafka callback.
  void on_callback_failed(const std::string& reason) override { fail(reason); }

  Config config_;
  std::shared_ptr<prometheus::Registry> metrics_registry_;
  PipelineMetrics metrics_;
  CounterTally<kDropReasonCount> drop_tally_{metrics_.drops};
  CounterTally<kProximityCount> proximity_tally_{metrics_.proximity};
  std::shared_ptr<Health> health_;
  EventTap tap_;
  Topology topology_;
  // The current batch as the stages see it, and which of its records are sightings to parse.
  std::vector<RecordView> records_;
  std::vector<std::uint8_t> to_parse_;
  // What handle() needs of each message, read with the rest by view_batch: by the time a record
  // is handled its librdkafka message has left the cache, and reading it again was ~4 % of the
  // pipeline thread (docs/bench.md#issue-17-16).
  struct RecordHead {
    std::int32_t partition = 0;
    bool consumer_error = false;
    bool no_value = false;  // an erasure request (or a dead letter)
  };
  std::vector<RecordHead> heads_;
  ParseAhead parse_ahead_;
  ConsumerLag consumer_lag_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<PartitionRestorer> restorer_;  // on each assignment, before the state loads
  std::unique_ptr<OutputProducer> producer_;
  std::unique_ptr<OutputTransactions> transactions_;  // exactly_once only
  std::optional<std::string> doomed_;                 // why the open transaction must abort
  std::int64_t transaction_due_ms_ = 0;
  int aborts_in_a_row_ = 0;
  // exactly_once with a tap: values delivered in the open transaction, shown once it commits.
  std::vector<std::pair<std::string, std::string>> tapped_;
  std::unique_ptr<InputConsumer> consumer_;
  std::vector<std::unique_ptr<PartitionSlot>> slots_;  // indexed by partition
  StateStore::Batch batch_;
  std::vector<std::pair<std::int32_t, std::int64_t>> advanced_;  // reused by checkpoint()
  // at_least_once: the checkpoint being written, and what its success releases.
  std::unique_ptr<CheckpointWriter> writer_;
  std::vector<std::pair<std::int32_t, std::int64_t>> writing_advanced_;
  std::vector<StateStore::Batch::RoomLevelPut> writing_learned_;
  bool state_write_failed_ = false;  // then no later checkpoint may be written
  // Offsets were stored since the last commit sent once caught up
  // (docs/contract.md#caught-up-commit).
  bool stored_since_commit_ = false;
  std::optional<std::string> fatal_;
  bool assigned_once_ = false;
  std::uint64_t records_seen_ = 0;
  // Changelog records handed to the producer / acknowledged: tastesync_changelog_lag_records.
  std::uint64_t changelog_produced_ = 0;
  std::uint64_t changelog_acknowledged_ = 0;
  std::shared_ptr<RegistryFeed> registry_feed_;
  std::shared_ptr<LearnedLevelFeed> learned_level_feed_;
  std::vector<StateStore::Batch::RoomLevelPut> learned_;  // reused by checkpoint()
  std::optional<RegistryFilePoller> registry_poller_;     // registry.source is a file
  bool shutting_down_ = false;
  bool undelivered_at_stop_ = false;
  std::int64_t next_housekeeping_ms_ = 0;
  std::int64_t next_checkpoint_ns_ = 0;      // at_least_once: the next checkpoint while busy
  bool checkpointed_ = true;                 // at_least_once: the next poll begins a batch
  std::uint64_t fetch_wakes_mirrored_ = 0;   // mirror_helper_counts()
  std::uint64_t parsed_ahead_mirrored_ = 0;  // mirror_helper_counts()
};

}  // namespace tastesync
