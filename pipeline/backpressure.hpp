#pragma once

#include <cstddef>

namespace tastesync {

// When a partition is paused (docs/design.md, "Bounded memory"): a partition whose outputs stop
// being delivered (a dead letter Kafka keeps refusing) must not grow the in-flight bookkeeping
// without bound, so it is paused above kPauseAbove records in flight and the others keep flowing;
// it resumes below kResumeBelow. The gap between the two keeps it from flapping.
struct Backpressure {
  static constexpr std::size_t kPauseAbove = 50000;  // records of one partition
  static constexpr std::size_t kResumeBelow = 25000;

  static constexpr bool should_pause(bool paused, std::size_t in_flight) {
    return paused ? in_flight >= kResumeBelow : in_flight > kPauseAbove;
  }
};

}  // namespace tastesync
