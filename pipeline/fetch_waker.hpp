#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <stop_token>
#include <thread>

#include "kafka/kafka.hpp"

namespace tastesync {

struct FetchWakerOptions {
  std::size_t queue_limit = 0;  // the consumer's queued.min.messages
  // How often an armed waker looks whether the queue has fallen below the limit.
  std::chrono::milliseconds period{2};
  // A request that is not answered in this time (an outage) holds the next wake back by
  // `backoff`, so unanswered requests never pile up in librdkafka.
  std::chrono::milliseconds request_timeout{250};
  std::chrono::milliseconds backoff{1000};
};

// Wakes a consumer's fetchers after the consumer queue was full. librdkafka 2.0.2 (Debian
// bookworm's) stops fetching once that queue holds queued.min.messages records (it counts the
// whole forwarded queue, not a partition's) and decides again only when its broker thread wakes
// for something else, up to 1 s later (librdkafka 2.1 made that wait fetch.queue.backoff.ms).
// The consuming thread looks at the queue's length before each take (before_take); once it may
// have been at the limit, the waker's thread waits for it to fall below and then sends one
// ListOffsets request (rd_kafka_offsets_for_times) for the assigned partitions to each of their
// leaders: its answer wakes the broker thread that fetches from that leader
// (docs/design.md#fetch-wake).
class FetchWaker {
 public:
  // `consumer` must be a consumer (it has a consumer queue: a group.id) and outlive the waker.
  FetchWaker(rd_kafka_t* consumer, FetchWakerOptions options);
  ~FetchWaker();
  FetchWaker(const FetchWaker&) = delete;
  FetchWaker& operator=(const FetchWaker&) = delete;

  // Called by the consuming thread just before it takes up to `take` records. A fetcher stops
  // right after it filled the queue to the limit, which may be while the previous take was
  // under way (a take that waits for its first record is): the length seen here is then at
  // least the limit less one take, and that arms the waker. One mutex-guarded read of the
  // queue's length.
  void before_take(std::size_t take);
  // Stops and joins the thread (waits at most one request timeout). Idempotent.
  void stop();
  // Requests sent so far.
  std::uint64_t wakes() const { return wakes_.load(std::memory_order_relaxed); }

 private:
  void run(const std::stop_token& stop);
  // One request to every leader of an assigned partition; whether all answered in time.
  bool wake();

  rd_kafka_t* consumer_;
  FetchWakerOptions options_;
  KafkaQueue queue_;
  std::atomic<bool> armed_{false};
  std::atomic<std::uint64_t> wakes_{0};
  std::mutex mutex_;
  std::condition_variable_any armed_changed_;
  std::jthread thread_;  // started once everything it reads is set
};

}  // namespace tastesync
