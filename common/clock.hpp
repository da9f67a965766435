#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stop_token>
#include <thread>

#include "common/event_time.hpp"

namespace tastesync {

// Milliseconds since the epoch by the wall clock: for metrics, logs, retention and the sinks'
// "now". Never for event time, which comes from the records (a replay must not depend on it).
inline EpochMs wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Nanoseconds of the monotonic clock: for durations and latencies only.
inline std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Sleeps for `wait`, waking early when `stop` is requested (a backoff must not delay shutdown).
inline void sleep_unless_stopped(std::chrono::milliseconds wait, const std::stop_token& stop) {
  const auto until = std::chrono::steady_clock::now() + wait;
  while (!stop.stop_requested() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min(wait, std::chrono::milliseconds(20)));
  }
}

}  // namespace tastesync
