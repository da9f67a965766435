#pragma once

#include <atomic>
#include <cstdint>

namespace tastesync {

// What /healthz and /readyz answer. Written by the pipeline thread, read by the HTTP threads.
class Health {
 public:
  void set_ready(bool ready) { ready_.store(ready, std::memory_order_relaxed); }
  // Whether the Kafka cluster answers (off while every broker is down).
  void set_brokers_reachable(bool reachable) {
    brokers_reachable_.store(reachable, std::memory_order_relaxed);
  }
  // Ready when the pipeline says so, Kafka answers and no supervised part (a sink thread) is
  // down.
  bool ready() const {
    return ready_.load(std::memory_order_relaxed) &&
           brokers_reachable_.load(std::memory_order_relaxed) &&
           parts_down_.load(std::memory_order_relaxed) == 0;
  }
  void part_down() { parts_down_.fetch_add(1, std::memory_order_relaxed); }
  void part_up() { parts_down_.fetch_sub(1, std::memory_order_relaxed); }
  // The pipeline thread beats once per loop; a stalled loop turns /healthz 503.
  void beat(std::int64_t now_ms) { last_beat_ms_.store(now_ms, std::memory_order_relaxed); }
  std::int64_t last_beat_ms() const { return last_beat_ms_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> ready_{false};
  std::atomic<bool> brokers_reachable_{true};
  std::atomic<int> parts_down_{0};
  std::atomic<std::int64_t> last_beat_ms_{0};
};

}  // namespace tastesync
