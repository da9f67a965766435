#include "pipeline/partition_restorer.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "pipeline/changelog_reader.hpp"

namespace tastesync {
namespace {

constexpr int kChangelogReplayTimeoutMs = 5 * 60 * 1000;

}  // namespace

std::optional<RestoreFailure> PartitionRestorer::prepare(
    rd_kafka_t* consumer, const rd_kafka_topic_partition_list_t& partitions) {
  if (auto failure = reconcile_with_group(consumer, partitions)) return failure;
  return drop_state_beyond_log_end(consumer, partitions);
}

std::int64_t PartitionRestorer::group_offset(std::int32_t partition) const {
  if (!committed_) return -1;
  for (int i = 0; i < committed_->cnt; ++i) {
    if (committed_->elems[i].partition == partition) {
      return committed_->elems[i].offset >= 0 ? committed_->elems[i].offset : -1;
    }
  }
  return -1;
}

std::optional<RestoreFailure> PartitionRestorer::reconcile_with_group(
    rd_kafka_t* consumer, const rd_kafka_topic_partition_list_t& partitions) {
  // Reads follow: make RocksDB's vector memtable sorted once, not per lookup.
  if (auto flushed = store_.flush(); !flushed) return RestoreFailure{flushed.error().message};
  // Where the group stands. A local checkpoint behind it (or none) means another instance
  // processed the partition meanwhile: its state is in the changelog, and the local one is
  // stale (resuming from it would rewind the group and re-emit with other identifications).
  committed_.reset(rd_kafka_topic_partition_list_copy(&partitions));
  const auto err =
      rd_kafka_committed(consumer, committed_.get(), config_.kafka.topic_check_timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return RestoreFailure{std::string("reading the group's committed offsets: ") +
                          rd_kafka_err2str(err)};
  }
  for (int i = 0; i < committed_->cnt; ++i) {
    const std::int32_t partition = committed_->elems[i].partition;
    const std::int64_t group_offset = committed_->elems[i].offset;
    const auto local = store_.checkpoint(partition);
    if (!local) return RestoreFailure{local.error().message};
    const bool behind = !*local || (group_offset >= 0 && (*local)->next_offset < group_offset);
    if (!behind) continue;
    bool replayed = false;
    if (changelog_enabled(config_)) {
      auto replay = replay_from_changelog(partition, group_offset, *local);
      if (!replay) return replay.error();
      replayed = *replay;
    }
    if (!replayed && *local) {
      spdlog::warn(
          "partition {}: local state stops at offset {}, the group is at {}; dropping it and "
          "starting from the group's offset without state",
          partition, (*local)->next_offset, group_offset);
      if (auto deleted = store_.delete_partition(partition); !deleted) {
        return RestoreFailure{deleted.error().message};
      }
    }
  }
  return std::nullopt;
}

Result<bool, RestoreFailure> PartitionRestorer::replay_from_changelog(
    std::int32_t partition, std::int64_t group_offset,
    const std::optional<PartitionCheckpoint>& local) {
  const auto started = std::chrono::steady_clock::now();
  const auto replay = replay_changelog(config_, partition, store_, kChangelogReplayTimeoutMs);
  if (!replay) {
    return Failure{RestoreFailure{"restoring partition " + std::to_string(partition) +
                                  " from the changelog: " + replay.error()}};
  }
  metrics_.changelog_replayed.Increment(static_cast<double>(replay->records_read));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_.partition_restore.Observe(seconds);
  if (replay->log_start_offset > 0) {
    spdlog::warn(
        "changelog {}[{}] starts at offset {}: its beginning is gone, so customers only in it "
        "restart as arrivals",
        changelog_topic(config_), partition, replay->log_start_offset);
  }
  spdlog::info(
      "partition {}: state from the changelog ({} records, {} of an unfinished checkpoint "
      "dropped) up to offset {} in {:.2f} s; local checkpoint {}, group at {}",
      partition, replay->records_read, replay->records_dropped,
      replay->checkpoint ? std::to_string(replay->checkpoint->next_offset) : "none", seconds,
      local ? std::to_string(local->next_offset) : "none", group_offset);
  return replay->checkpoint.has_value();
}

std::optional<RestoreFailure> PartitionRestorer::drop_state_beyond_log_end(
    rd_kafka_t* consumer, const rd_kafka_topic_partition_list_t& partitions) {
  // A checkpoint past the end of its partition's log: the log was truncated or the topic
  // recreated, and the state describes records that no longer exist (offsets would also go back
  // under the customer cap's eviction rule). One ListOffsets for every partition's end.
  const TopicPartitionList log_ends(rd_kafka_topic_partition_list_copy(&partitions));
  for (int i = 0; i < log_ends->cnt; ++i) log_ends->elems[i].offset = RD_KAFKA_OFFSET_END;
  if (rd_kafka_offsets_for_times(consumer, log_ends.get(), config_.kafka.topic_check_timeout_ms) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  for (int i = 0; i < log_ends->cnt; ++i) {
    const rd_kafka_topic_partition_t& end = log_ends->elems[i];
    if (end.err != RD_KAFKA_RESP_ERR_NO_ERROR || end.offset < 0) continue;
    const auto local = store_.checkpoint(end.partition);
    if (!local) return RestoreFailure{local.error().message};
    if (!*local || (*local)->next_offset <= end.offset) continue;
    spdlog::error(
        "partition {}: local state stops at offset {} but the log ends at {}: the topic was "
        "truncated or recreated; dropping the partition's state and starting it afresh",
        end.partition, (*local)->next_offset, end.offset);
    if (auto deleted = store_.delete_partition(end.partition); !deleted) {
      return RestoreFailure{deleted.error().message};
    }
  }
  return std::nullopt;
}

void PartitionRestorer::report_lost_records(rd_kafka_t* consumer,
                                            const rd_kafka_topic_partition_list_t& partitions) {
  // A start offset below the log start means records were deleted (retention, the mock's 5 MiB
  // cap) before anyone processed them. One ListOffsets request for every partition's log start
  // (timestamp -2 means "earliest").
  const TopicPartitionList log_starts(rd_kafka_topic_partition_list_copy(&partitions));
  for (int i = 0; i < log_starts->cnt; ++i) log_starts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
  if (rd_kafka_offsets_for_times(consumer, log_starts.get(),
                                 config_.kafka.topic_check_timeout_ms) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return;
  }
  for (int i = 0; i < partitions.cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = partitions.elems[i];
    std::int64_t start = tp.offset;
    if (start < 0 && committed_) {
      for (int j = 0; j < committed_->cnt; ++j) {
        if (committed_->elems[j].partition == tp.partition) start = committed_->elems[j].offset;
      }
    }
    const std::int64_t low = log_starts->elems[i].offset;
    if (start < 0 || low < 0 || log_starts->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    if (start < low) {
      metrics_.records_lost_to_retention.Increment(static_cast<double>(low - start));
      spdlog::error(
          "partition {}: resuming at offset {} but the log starts at {}: {} records were deleted "
          "before they were processed",
          tp.partition, start, low, low - start);
    }
  }
}

}  // namespace tastesync
