#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "kafka/dead_letter.hpp"
#include "kafka/kafka.hpp"
#include "stages/parse.hpp"

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

// What became of one produce call. `failed` carries librdkafka's error; the caller decides
// (the pipeline stops: nothing on the record path throws).
enum class ProduceStatus : std::uint8_t { queued, stopped, failed };
struct ProduceResult {
  ProduceStatus status = ProduceStatus::queued;
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
};

class DeliveryListener {
 public:
  virtual ~DeliveryListener() = default;
  virtual void on_delivered(const OutputOrigin& origin, const rd_kafka_message_t& message) = 0;
  // An event or changelog record that librdkafka gave up on (after its retries): the pipeline
  // must stop. With exactly_once, any output, dead letters included: its transaction must abort.
  virtual void on_failed(const OutputOrigin& origin, const rd_kafka_message_t& message) = 0;
  // A dead letter that failed; it is kept and produced again by retry_dead_letters().
  virtual void on_dead_letter_retry(const OutputOrigin& origin) = 0;
  // Something threw while a delivery report was handled: it never unwinds into librdkafka; the
  // pipeline stops.
  virtual void on_callback_failed(const std::string& reason) = 0;
};

// The one idempotent producer for events and dead letters (partitioner murmur2_random, like the
// Java client). Delivery reports reach the listener from poll()/flush(), on the caller's thread.
// With processing.guarantee exactly_once it is transactional (OutputTransactions drives it) and
// keeps no dead letters for retry: a failed one aborts its transaction instead.
class OutputProducer {
 public:
  OutputProducer(const Config& config, DeliveryListener& listener);

  // Each waits (serving delivery reports) while librdkafka's queue is full; `stopped` means the
  // stop token fired first and nothing was produced.
  ProduceResult produce_event(std::string_view customer_id, std::string_view value,
                              std::string_view event_id, const OutputOrigin& origin,
                              const std::stop_token& stop);
  // The tombstone of an erasure (docs/operations.md#forget): no value, keyed by the customer, with
  // the request's id and time in its headers.
  ProduceResult produce_forget(std::string_view customer_id, std::string_view request_id,
                               std::int64_t requested_at_ms, const OutputOrigin& origin,
                               const std::stop_token& stop);
  // Cut to fit message.max.bytes (dead_letter.hpp); one the producer still refuses as too large
  // goes out with its dlq.* headers only.
  ProduceResult produce_dead_letter(const rd_kafka_message_t& original, const ParseError& error,
                                    const OutputOrigin& origin, const std::stop_token& stop);
  // One state record to the changelog's partition of the same number as its input partition.
  // No value: a tombstone (an erased key).
  ProduceResult produce_changelog(std::int32_t partition, std::string_view key,
                                  std::optional<std::string_view> value,
                                  const std::stop_token& stop);

  // Produces failed dead letters again once their backoff (1 s doubling to 60 s) has passed:
  // a dead letter is never dropped, it holds its partition's checkpoint until delivered. One the
  // broker refused as too large goes again with its dlq.* headers only, and so does one that
  // finds the retry buffer (kafka.dlq_retry_buffer_bytes) full.
  ProduceResult retry_dead_letters(const std::stop_token& stop);
  std::size_t dead_letters_to_retry() const { return retries_.size(); }
  // The bytes the retry copies hold (bounded by kafka.dlq_retry_buffer_bytes, plus the
  // metadata-only copies of at most the in-flight records).
  std::size_t retry_buffer_bytes() const { return retry_bytes_; }
  // A revoked partition's dead letters are its new owner's: it consumes their records again.
  void forget_dead_letters_of(std::int32_t partition);

  // From hold() until release_held(), events, tombstones and dead letters are kept here, in
  // order, instead of going to librdkafka one by one (docs/contract.md#delivery): the outputs of
  // one consumed batch then reach it together, and its broker thread is woken about once per
  // output partition and batch instead of once per output (bench.md#issue-17). Delivery and its
  // guarantees are unchanged.
  void hold() { holding_ = true; }
  // Produces what is held and stops holding: the events and tombstones in order, then the dead
  // letters in order (each topic keeps its records' order). The first result that is not
  // `queued` is returned and the rest are dropped: their records never complete, so no
  // checkpoint passes them and they are consumed again after a restart (or an abort).
  ProduceResult release_held(const std::stop_token& stop);
  std::size_t held() const { return held_.size() + held_letters_.size(); }

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
    DeadLetter letter;
    std::size_t bytes = 0;  // letter.wire_bytes(), counted in retry_bytes_
    int attempts = 1;
    std::chrono::steady_clock::time_point due;
    bool in_flight = false;
  };

  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  void handle_delivery(const rd_kafka_message_t& message);
  void keep_for_retry(const OutputOrigin& origin, const rd_kafka_message_t& message);
  Retry* find_retry(const OutputOrigin& origin);
  void set_letter(Retry& retry, DeadLetter letter);
  void release(Retry& retry) { retry_bytes_ -= std::exchange(retry.bytes, 0); }
  ProduceResult produce_letter(const DeadLetter& letter, const OutputOrigin& origin,
                               const std::stop_token& stop);
  // A letter librdkafka refuses as too large goes again as its dlq.* headers only.
  ProduceResult produce_letter_or_smaller(const DeadLetter& letter, const OutputOrigin& origin,
                                          const std::stop_token& stop);
  ProduceResult produce(rd_kafka_topic_t* topic, std::int32_t partition, const void* key,
                        std::size_t key_size, const void* value, std::size_t value_size,
                        KafkaHeaders headers, const OutputOrigin& origin,
                        const std::stop_token& stop);

  // A produce call kept by hold(): its key and value bytes are in held_bytes_.
  struct Held {
    rd_kafka_topic_t* topic;
    std::int32_t partition;
    bool has_key;
    std::size_t key_begin;
    std::size_t key_size;
    bool has_value;  // no value: a tombstone
    std::size_t value_begin;
    std::size_t value_size;
    KafkaHeaders headers;
    OutputOrigin origin;
  };

  DeliveryListener& listener_;
  bool holding_ = false;
  std::vector<Held> held_;
  std::string held_bytes_;
  struct HeldLetter {
    DeadLetter letter;
    OutputOrigin origin;
  };
  std::vector<HeldLetter> held_letters_;
  std::vector<Retry> retries_;
  std::size_t retry_bytes_ = 0;
  std::size_t retry_buffer_limit_bytes_;
  std::size_t max_message_bytes_;
  KafkaHandle handle_;
  KafkaTopic events_topic_;
  KafkaTopic dlq_topic_;
  KafkaTopic changelog_topic_;  // null when the changelog is off
  std::string input_topic_;
  bool transactional_;
};

}  // namespace tastesync
