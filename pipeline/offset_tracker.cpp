#include "pipeline/offset_tracker.hpp"

#include <algorithm>

namespace tastesync {

void OffsetTracker::offer(std::int64_t offset, std::int64_t consumed_at_ns,
                          const PartitionProgress& progress) {
  entries_.push_back(Entry{offset, consumed_at_ns, progress, false});
}

std::optional<std::int64_t> OffsetTracker::complete(std::int64_t offset) {
  const auto it = std::lower_bound(entries_.begin(), entries_.end(), offset,
                                   [](const Entry& e, std::int64_t o) { return e.offset < o; });
  if (it == entries_.end() || it->offset != offset || it->done) return std::nullopt;
  it->done = true;
  return it->consumed_at_ns;
}

std::optional<OffsetTracker::Position> OffsetTracker::advance() {
  std::optional<Position> position;
  while (!entries_.empty() && entries_.front().done) {
    position = Position{entries_.front().offset + 1, entries_.front().progress};
    entries_.pop_front();
  }
  return position;
}

}  // namespace tastesync
