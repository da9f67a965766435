#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "kafka/kafka.hpp"
#include "pipeline/metrics.hpp"
#include "state/state_store.hpp"

namespace tastesync {

// Why an assignment cannot be used: the pipeline logs it and stops (kExitFailed).
struct RestoreFailure {
  std::string reason;
};

// Makes the local state of newly assigned partitions the right starting point before the
// pipeline loads it from RocksDB (docs/contract.md#scale-out, docs/contract.md#changelog): state
// behind the group's committed offset came from another instance's time and is replaced from the
// changelog or dropped; state past the log's end describes records that no longer exist and is
// dropped. Runs on the consumer thread, inside the assignment callback.
class PartitionRestorer {
 public:
  PartitionRestorer(const Config& config, StateStore& store, PipelineMetrics& metrics)
      : config_(config), store_(store), metrics_(metrics) {}

  std::optional<RestoreFailure> prepare(rd_kafka_t* consumer,
                                        const rd_kafka_topic_partition_list_t& partitions);

  // Once the start offsets are known: records deleted (retention) before anyone processed them
  // are counted and logged, where librdkafka would jump past them without a word.
  void report_lost_records(rd_kafka_t* consumer, const rd_kafka_topic_partition_list_t& partitions);

  // The group's committed offset for `partition` as read at the last assignment; -1 for none.
  std::int64_t group_offset(std::int32_t partition) const;

 private:
  std::optional<RestoreFailure> reconcile_with_group(
      rd_kafka_t* consumer, const rd_kafka_topic_partition_list_t& partitions);
  // Whether the changelog held a complete checkpoint for the partition (the state is then
  // replaced by it).
  Result<bool, RestoreFailure> replay_from_changelog(
      std::int32_t partition, std::int64_t group_offset,
      const std::optional<PartitionCheckpoint>& local);
  std::optional<RestoreFailure> drop_state_beyond_log_end(
      rd_kafka_t* consumer, const rd_kafka_topic_partition_list_t& partitions);

  const Config& config_;
  StateStore& store_;
  PipelineMetrics& metrics_;
  TopicPartitionList committed_;  // the group's offsets at the last assignment
};

}  // namespace tastesync
