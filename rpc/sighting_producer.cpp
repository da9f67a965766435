#include "rpc/sighting_producer.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <cstdint>

#include "common/config_error.hpp"
#include "pipeline/output_producer.hpp"

namespace tastesync {

namespace {

constexpr int kFlushTimeoutMs = 2000;

}  // namespace

SightingProducer::SightingProducer(const Config& config) : topic_(config.kafka.input_topic) {
  auto properties = producer_properties(config);
  properties["client.id"] = "tastesync-grpc-" + config.kafka.group_id;
  // A sighting Kafka has not taken within 30 s is not worth keeping: the caller was answered
  // UNAVAILABLE long before and retries with the same sighting_id (docs/grpc.md#identify).
  if (!config.kafka.properties.contains("message.timeout.ms")) {
    properties["message.timeout.ms"] = "30000";
  }
  properties.erase("transactional.id");
  KafkaConf conf = make_kafka_conf(properties, "kafka.properties");
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &on_delivery);
  rd_kafka_conf_set_opaque(conf.get(), this);
  handle_ = make_kafka_handle(RD_KAFKA_PRODUCER, std::move(conf));
  // The topic's metadata now, not on the first call (whose answer it would delay), and a start
  // error when the topic is missing.
  if (!topic_partition_counts(handle_.get(), {topic_}, config.kafka.topic_check_timeout_ms)
           .front()) {
    throw ConfigError("kafka.input_topic: " + topic_ +
                      " does not exist (the gRPC service produces its sightings there)");
  }
  poller_ = std::jthread([this](const std::stop_token& stop) {
    while (!stop.stop_requested()) rd_kafka_poll(handle_.get(), 50);
  });
}

SightingProducer::~SightingProducer() {
  poller_.request_stop();
  poller_.join();
  // Delivered, failed or purged: every waiting callback runs. Every caller has been answered by
  // now, so the flush is short: the pipeline's own shutdown must not wait behind it.
  if (rd_kafka_flush(handle_.get(), kFlushTimeoutMs) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_purge(handle_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(handle_.get(), 0);
  }
}

rd_kafka_resp_err_t SightingProducer::produce(std::string_view key, std::string_view value,
                                              std::int64_t timestamp_ms, Delivered delivered) {
  // A fatal idempotence error leaves the producer unusable (librdkafka's rule): say so per call
  // rather than queue records that will never go out.
  std::array<char, 256> reason{};
  if (rd_kafka_fatal_error(handle_.get(), reason.data(), reason.size()) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (!fatal_logged_.exchange(true)) {
      spdlog::error("grpc: the sighting producer failed for good: {}", reason.data());
    }
    return RD_KAFKA_RESP_ERR__FATAL;
  }
  std::uint64_t id = 0;
  {
    const std::lock_guard lock(mutex_);
    id = next_id_++;
    waiting_.emplace(id, std::move(delivered));
  }
  // The id travels as the message opaque (packed into the pointer: nothing to free).
  const rd_kafka_resp_err_t error = rd_kafka_producev(
      handle_.get(), RD_KAFKA_V_TOPIC(topic_.c_str()),
      RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(timestamp_ms),
      // NOLINTNEXTLINE(performance-no-int-to-ptr)
      RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(id))), RD_KAFKA_V_END);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const std::lock_guard lock(mutex_);
    waiting_.erase(id);
  }
  return error;
}

void SightingProducer::on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message,
                                   void* opaque) {
  auto& self = *static_cast<SightingProducer*>(opaque);
  const auto id = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(message->_private));
  Delivered delivered;
  {
    const std::lock_guard lock(self.mutex_);
    const auto found = self.waiting_.find(id);
    if (found == self.waiting_.end()) return;
    delivered = std::move(found->second);
    self.waiting_.erase(found);
  }
  // Nothing may unwind into librdkafka's C code.
  try {
    delivered(message->err);
  } catch (const std::exception& e) {
    spdlog::error("grpc: answering a delivered sighting: {}", e.what());
  } catch (...) {
    spdlog::error("grpc: answering a delivered sighting: an unknown exception");
  }
}

}  // namespace tastesync
