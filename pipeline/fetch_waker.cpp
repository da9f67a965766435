#include "pipeline/fetch_waker.hpp"

#include <stdexcept>

namespace tastesync {

FetchWaker::FetchWaker(rd_kafka_t* consumer, FetchWakerOptions options)
    : consumer_(consumer), options_(options), queue_(rd_kafka_queue_get_consumer(consumer)) {
  if (!queue_) throw std::invalid_argument("FetchWaker: the client has no consumer queue");
  thread_ = std::jthread([this](const std::stop_token& stop) { run(stop); });
}

FetchWaker::~FetchWaker() {
  stop();
}

void FetchWaker::before_take(std::size_t take) {
  if (armed_.load(std::memory_order_relaxed) ||
      rd_kafka_queue_length(queue_.get()) + take < options_.queue_limit) {
    return;
  }
  {
    const std::lock_guard lock(mutex_);
    armed_.store(true, std::memory_order_relaxed);
  }
  armed_changed_.notify_one();
}

void FetchWaker::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

void FetchWaker::run(const std::stop_token& stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    if (!armed_changed_.wait(lock, stop, [this] { return armed_.load(); })) return;
    // Armed: the fetcher may have stopped. Wait for room below the limit, then wake it.
    armed_changed_.wait_for(lock, stop, options_.period, [] { return false; });
    if (stop.stop_requested()) return;
    if (rd_kafka_queue_length(queue_.get()) >= options_.queue_limit) continue;
    armed_.store(false);
    lock.unlock();
    const bool answered = wake();
    lock.lock();
    if (!answered) armed_changed_.wait_for(lock, stop, options_.backoff, [] { return false; });
  }
}

bool FetchWaker::wake() {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(consumer_, &raw) != RD_KAFKA_RESP_ERR_NO_ERROR || raw == nullptr) {
    return false;
  }
  const TopicPartitionList partitions(raw);
  if (partitions->cnt == 0) return true;
  // A timestamp of -1 asks for the end offset: the cheapest answer a leader gives. What it says
  // is not used; its arrival on the fetching broker thread's connection is the point.
  for (int i = 0; i < partitions->cnt; ++i) partitions->elems[i].offset = RD_KAFKA_OFFSET_END;
  wakes_.fetch_add(1, std::memory_order_relaxed);
  return rd_kafka_offsets_for_times(consumer_, partitions.get(),
                                    static_cast<int>(options_.request_timeout.count())) ==
         RD_KAFKA_RESP_ERR_NO_ERROR;
}

}  // namespace tastesync
