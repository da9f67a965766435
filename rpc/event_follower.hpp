#pragma once

#include <functional>
#include <string_view>
#include <thread>

#include "config/config.hpp"
#include "kafka/kafka.hpp"

namespace tastesync {

// Reads every partition of customer-events from where it ended when the follower started, on
// its own thread (docs/grpc.md#replies): so every instance sees every event, whichever instance
// owns the customer's partition. read_committed, so under exactly_once only committed events.
class EventFollower {
 public:
  // Called on the follower's thread for each event's key and value (an empty value: an
  // erasure's tombstone, docs/operations.md#forget), and after every poll (at least every 10 ms).
  using OnEvent = std::function<void(std::string_view customer_id, std::string_view value)>;
  using OnTick = std::function<void()>;

  // Throws ConfigError when customer-events does not exist or Kafka does not answer within
  // kafka.topic_check_timeout_ms.
  EventFollower(const Config& config, OnEvent on_event, OnTick on_tick);
  ~EventFollower();
  EventFollower(const EventFollower&) = delete;
  EventFollower& operator=(const EventFollower&) = delete;

  int partitions() const { return partitions_; }

 private:
  void follow(const std::stop_token& stop);

  OnEvent on_event_;
  OnTick on_tick_;
  KafkaHandle handle_;
  int partitions_ = 0;
  std::jthread thread_;
};

}  // namespace tastesync
