#include "rpc/event_follower.hpp"

#include <spdlog/spdlog.h>

#include "common/config_error.hpp"

namespace tastesync {
namespace {

constexpr int kPollMs = 10;  // how late an expired call may be answered, at most

std::map<std::string, std::string> follower_properties(const Config& config) {
  std::map<std::string, std::string> properties = {
      {"bootstrap.servers", config.kafka.brokers},
      // Never joins the group or commits: partitions are assigned by hand.
      {"group.id", config.kafka.group_id + "-grpc-follower"},
      {"client.id", "tastesync-grpc-" + config.kafka.group_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
      {"isolation.level", "read_committed"},
      {"socket.nagle.disable", "true"},
      // The reply is on the call's critical path (docs/grpc.md#latency).
      {"fetch.wait.max.ms", "10"},
      {"reconnect.backoff.max.ms", "1000"},
  };
  for (const auto& [name, value] : config.kafka.properties) properties[name] = value;
  properties["isolation.level"] = "read_committed";
  return properties;
}

}  // namespace

EventFollower::EventFollower(const Config& config, OnEvent on_event, OnTick on_tick)
    : on_event_(std::move(on_event)), on_tick_(std::move(on_tick)) {
  handle_ = make_kafka_handle(RD_KAFKA_CONSUMER,
                              make_kafka_conf(follower_properties(config), "kafka.properties"));
  // Errors and logs come through the same poll as the events.
  rd_kafka_poll_set_consumer(handle_.get());
  const std::string& topic = config.kafka.output_topic;
  const int timeout_ms = config.kafka.topic_check_timeout_ms;
  const std::optional<int> count =
      topic_partition_counts(handle_.get(), {topic}, timeout_ms).front();
  if (!count) {
    throw ConfigError("kafka.output_topic: " + topic +
                      " does not exist (the gRPC service reads its replies there)");
  }
  partitions_ = *count;
  // From each partition's end as of now, looked up rather than left to OFFSET_END: a sighting
  // produced after this returns has its event after these offsets, never skipped.
  TopicPartitionList assignment(rd_kafka_topic_partition_list_new(partitions_));
  for (int partition = 0; partition < partitions_; ++partition) {
    std::int64_t low = 0;
    std::int64_t high = 0;
    const rd_kafka_resp_err_t error = rd_kafka_query_watermark_offsets(
        handle_.get(), topic.c_str(), partition, &low, &high, timeout_ms);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw ConfigError("kafka.output_topic: cannot read the end of " + topic + "[" +
                        std::to_string(partition) + "]: " + rd_kafka_err2str(error));
    }
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), partition)->offset = high;
  }
  if (const rd_kafka_resp_err_t error = rd_kafka_assign(handle_.get(), assignment.get());
      error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw ConfigError("kafka.output_topic: cannot read " + topic + ": " + rd_kafka_err2str(error));
  }
  thread_ = std::jthread([this](const std::stop_token& stop) { follow(stop); });
}

EventFollower::~EventFollower() {
  thread_.request_stop();
  thread_.join();
  rd_kafka_assign(handle_.get(), nullptr);
  rd_kafka_consumer_close(handle_.get());
}

void EventFollower::follow(const std::stop_token& stop) {
  std::int64_t errors_logged = 0;
  while (!stop.stop_requested()) {
    const KafkaMessage message(rd_kafka_consumer_poll(handle_.get(), kPollMs));
    try {
      if (message && message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (message->key != nullptr) {
          on_event_(
              std::string_view(static_cast<const char*>(message->key), message->key_len),
              message->payload == nullptr
                  ? std::string_view()
                  : std::string_view(static_cast<const char*>(message->payload), message->len));
        }
      } else if (message && errors_logged < 100) {
        // The broker's outages are librdkafka's to ride out; the first ones are worth a line.
        ++errors_logged;
        spdlog::warn("grpc: reading {}: {}",
                     message->rkt != nullptr ? rd_kafka_topic_name(message->rkt) : "events",
                     rd_kafka_message_errstr(message.get()));
      }
      on_tick_();
    } catch (const std::exception& e) {
      spdlog::error("grpc: following the events: {}", e.what());
    }
  }
}

}  // namespace tastesync
