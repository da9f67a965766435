#pragma once

#include <cstddef>
#include <cstdint>

#include "pipeline/backpressure.hpp"

// How much the pipeline takes per poll and how often it checkpoints. Shared with the stage bench,
// which models the same cadence (docs/bench.md#issue-17-17).
namespace tastesync::cadence {

// Records taken per poll at most (a live trickle takes what is there). Large enough that the
// parse thread's wake-up, a millisecond or more on a busy VM, is a small part of a batch's time
// (docs/design.md#parse-ahead); outputs wait at most one batch (~10 ms in a backlog).
inline constexpr std::size_t kMaxBatch = 4000;

// While records keep coming, a checkpoint every this often (docs/contract.md#state): one
// WriteBatch for ~this many ms of records writes a customer changed again meanwhile once, and
// encodes them once (docs/design.md#checkpoint-cuts).
inline constexpr std::int64_t kCheckpointIntervalNs = 100'000'000;

// Sooner when a partition holds this many records not yet checkpointed: a checkpoint cuts only
// where a batch of the pending writes begins, so one busy partition could otherwise reach
// Backpressure::kPauseAbove between two checkpoints and be paused.
inline constexpr std::size_t kCheckpointRecords = Backpressure::kResumeBelow;
static_assert(2 * kCheckpointRecords <= Backpressure::kPauseAbove,
              "two batches of one partition stay under the pause");

// Whether a checkpoint follows the poll just handled: at once when it took nothing (an idle input
// never holds back the offsets of its last records), else once `now_ns` reaches `due_ns` (the
// last checkpoint's time + kCheckpointIntervalNs) or a partition holds kCheckpointRecords records
// not yet checkpointed (`most_in_flight`, the largest partition's count).
constexpr bool checkpoint_due(bool idle, std::int64_t now_ns, std::int64_t due_ns,
                              std::size_t most_in_flight) {
  return idle || now_ns >= due_ns || most_in_flight >= kCheckpointRecords;
}

}  // namespace tastesync::cadence
