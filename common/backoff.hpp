#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace tastesync {

// Exponential backoff with jitter for retrying a database (docs/contract.md#sinks: capped, so a
// sink resumes within seconds of its database returning). "Equal jitter": half the step is fixed,
// half random, so many instances spread out but none waits less than half the step.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds cap,
          std::uint64_t seed = std::random_device{}())
      : initial_(initial), cap_(std::max(cap, initial)), random_(seed) {}

  // The wait before the next attempt; each call doubles the step up to the cap.
  std::chrono::milliseconds next() {
    const auto step = std::min(cap_, initial_ * (std::int64_t{1} << std::min(attempts_, 30)));
    ++attempts_;
    const std::int64_t half = step.count() / 2;
    std::uniform_int_distribution<std::int64_t> jitter(0, step.count() - half);
    return std::chrono::milliseconds(half + jitter(random_));
  }
  void reset() { attempts_ = 0; }
  int attempts() const { return attempts_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds cap_;
  int attempts_ = 0;
  std::mt19937_64 random_;
};

}  // namespace tastesync
