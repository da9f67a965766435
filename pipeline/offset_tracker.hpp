#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "stages/customer_state.hpp"

namespace tastesync {

// Offsets complete out of order (delivery reports), but a partition may only be checkpointed up
// to its lowest record that is not done: this keeps that frontier. One per assigned partition.
class OffsetTracker {
 public:
  struct Position {
    std::int64_t next_offset = 0;  // the first offset not yet done
    PartitionProgress progress;    // the partition's progress after the last done record
  };

  // Records arrive in increasing offset order (gaps allowed: compaction, transaction markers).
  void offer(std::int64_t offset, std::int64_t consumed_at_ns, const PartitionProgress& progress);

  // Marks a record done; returns when it was consumed, or nullopt for an offset not in flight.
  std::optional<std::int64_t> complete(std::int64_t offset);

  // The first offset not done (what advance() would move to), or nullopt when the head is not
  // done.
  std::optional<std::int64_t> done_frontier() const;
  // Drops every done record at the head below `limit`; returns the new position when it moved.
  std::optional<Position> advance(std::int64_t limit = std::numeric_limits<std::int64_t>::max());

  std::size_t in_flight() const { return entries_.size() - head_; }

 private:
  struct Entry {
    std::int64_t offset;
    std::int64_t consumed_at_ns;
    PartitionProgress progress;
    bool done;
  };
  // Entries before head_ are done and dropped; they are erased once they are half the vector,
  // so each is moved at most about once. A deque allocated and freed a block every eight
  // records on the pipeline thread (docs/bench.md#issue-17-4).
  std::vector<Entry> entries_;
  std::size_t head_ = 0;
  std::size_t next_hint_ = 0;  // the entry after the last one completed
};

}  // namespace tastesync
