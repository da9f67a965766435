#include "pipeline/changelog_reader.hpp"

#include <chrono>

#include "kafka/kafka.hpp"
#include "pipeline/input_consumer.hpp"
#include "state/changelog_restore.hpp"

namespace tastesync {

Result<ChangelogReplay, std::string> replay_changelog(const Config& config, std::int32_t partition,
                                                      StateStore& store, int timeout_ms) {
  const std::string topic = changelog_topic(config);
  auto properties = consumer_properties(config);
  properties["group.id"] = config.kafka.group_id + "-changelog-restore";
  properties["enable.auto.commit"] = "false";
  properties["enable.partition.eof"] = "true";
  properties.erase("statistics.interval.ms");
  const KafkaHandle consumer =
      make_kafka_handle(RD_KAFKA_CONSUMER, make_kafka_conf(properties, "kafka.properties"));

  ChangelogReplay replay;
  std::int64_t high = 0;
  auto err = rd_kafka_query_watermark_offsets(consumer.get(), topic.c_str(), partition,
                                              &replay.log_start_offset, &high, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Failure{"reading the watermarks of " + topic + "[" + std::to_string(partition) +
                   "]: " + rd_kafka_err2str(err)};
  }
  if (high <= replay.log_start_offset) return replay;

  const TopicPartitionList assignment(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), partition)->offset =
      replay.log_start_offset;
  err = rd_kafka_assign(consumer.get(), assignment.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Failure{"assigning " + topic + ": " + std::string(rd_kafka_err2str(err))};
  }

  ChangelogRestore restore(store, partition);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::int64_t next_offset = replay.log_start_offset;
  while (next_offset < high) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Failure{"reading " + topic + "[" + std::to_string(partition) + "] took longer than " +
                     std::to_string(timeout_ms) + " ms (at offset " + std::to_string(next_offset) +
                     " of " + std::to_string(high) + ")"};
    }
    const KafkaMessage message(rd_kafka_consumer_poll(consumer.get(), 100));
    if (!message) continue;
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Failure{"reading " + topic + ": " +
                     std::string(rd_kafka_message_errstr(message.get()))};
    }
    next_offset = message->offset + 1;
    ++replay.records_read;
    if (message->key == nullptr) continue;  // not ours
    // No value: a tombstone, an erased key (docs/operations.md#forget).
    std::optional<std::string_view> value;
    if (message->payload != nullptr) {
      value.emplace(static_cast<const char*>(message->payload), message->len);
    }
    auto added = restore.add({static_cast<const char*>(message->key), message->key_len}, value);
    if (!added) return Failure{added.error().message};
  }
  rd_kafka_consumer_close(consumer.get());
  replay.checkpoint = restore.checkpoint();
  replay.records_dropped = restore.records_dropped();
  return replay;
}

}  // namespace tastesync
