#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string_view>
#include <thread>

#include "config/config.hpp"
#include "kafka/kafka.hpp"

namespace tastesync {

// Produces the sightings IdentifyCustomer accepts to raw-beacons, as a phone's edge would
// (docs/grpc.md#identify): idempotent, keyed by customer (murmur2_random, the pipeline's and the
// Java client's partitioner), the record timestamp set. Its own poll thread serves delivery
// reports.
class SightingProducer {
 public:
  // RD_KAFKA_RESP_ERR_NO_ERROR once Kafka has the record, librdkafka's error otherwise.
  using Delivered = std::function<void(rd_kafka_resp_err_t)>;

  explicit SightingProducer(const Config& config);
  ~SightingProducer();
  SightingProducer(const SightingProducer&) = delete;
  SightingProducer& operator=(const SightingProducer&) = delete;

  // An error when librdkafka refused the record at once (its queue is full); `delivered` is
  // called only when this returns RD_KAFKA_RESP_ERR_NO_ERROR, exactly once, on the poll thread
  // (or in the destructor).
  rd_kafka_resp_err_t produce(std::string_view key, std::string_view value,
                              std::int64_t timestamp_ms, Delivered delivered);

 private:
  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);

  std::string topic_;
  std::atomic<bool> fatal_logged_{false};
  std::mutex mutex_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, Delivered> waiting_;  // by the id each record carries as its opaque
  KafkaHandle handle_;
  std::jthread poller_;
};

}  // namespace tastesync
