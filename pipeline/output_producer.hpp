#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "kafka.hpp"
#include "parse.hpp"

namespace tastesync {

enum class OutputKind : std::uint8_t { event, dead_letter, changelog };

// Which input record an output came from (for the changelog: which input partition), carried
// through librdkafka as the message opaque (packed into the pointer: no allocation per message).
struct OutputOrigin {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  OutputKind kind = OutputKind::event;
};

// The librdkafka properties of the output producer: our defaults, then kafka.properties.
std::map<std::string, std::string> producer_properties(const Config& config);

class DeliveryListener {
 public:
  virtual ~DeliveryListener() = default;
  virtual void on_delivered(const OutputOrigin& origin, const rd_kafka_message_t& message) = 0;
  // An event or changelog record that librdkafka gave up on (after its retries): the pipeline
  // must stop.
  virtual void on_failed(const OutputOrigin& origin, const rd_kafka_message_t& message) = 0;
  // A dead letter that failed; it is kept and produced again by retry_dead_letters().
  virtual void on_dead_letter_retry(const OutputOrigin& origin) = 0;
};

// The one idempotent producer for events and dead letters (partitioner murmur2_random, like the
// Java client). Delivery reports reach the listener from poll()/flush(), on the caller's thread.
class OutputProducer {
 public:
  OutputProducer(const Config& config, DeliveryListener& listener);

  // Both wait (serving delivery reports) while librdkafka's queue is full; false means the
  // stop token fired first and nothing was produced.
  bool produce_event(std::string_view customer_id, std::string_view value,
                     std::string_view event_id, const OutputOrigin& origin,
                     const std::stop_token& stop);
  bool produce_dead_letter(const rd_kafka_message_t& original, const ParseError& error,
                           const OutputOrigin& origin, const std::stop_token& stop);
  // One state record to the changelog's partition of the same number as its input partition.
  bool produce_changelog(std::int32_t partition, std::string_view key, std::string_view value,
                         const std::stop_token& stop);

  // Produces failed dead letters again, unchanged: a dead letter is never dropped, it blocks
  // its partition's checkpoint until delivered. False when stopped before all were queued.
  bool retry_dead_letters(const std::stop_token& stop);
  std::size_t dead_letters_to_retry() const { return retries_.size(); }

  void poll(int timeout_ms) { rd_kafka_poll(handle_.get(), timeout_ms); }
  // True when every message was delivered (or failed) within the timeout.
  bool flush(int timeout_ms);
  int outstanding() const { return rd_kafka_outq_len(handle_.get()); }
  // A fatal idempotent-producer error, if one happened.
  std::optional<std::string> fatal_error() const;
  rd_kafka_t* handle() const { return handle_.get(); }

 private:
  struct Retry {
    OutputOrigin origin;
    std::optional<std::string> key;
    std::optional<std::string> value;
    KafkaHeaders headers;
  };

  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  bool produce(rd_kafka_topic_t* topic, std::int32_t partition, const void* key,
               std::size_t key_size, const void* value, std::size_t value_size,
               KafkaHeaders headers, const OutputOrigin& origin, const std::stop_token& stop);

  DeliveryListener& listener_;
  std::vector<Retry> retries_;
  KafkaHandle handle_;
  KafkaTopic events_topic_;
  KafkaTopic dlq_topic_;
  KafkaTopic changelog_topic_;  // null when the changelog is off
  std::string input_topic_;
};

}  // namespace tastesync
