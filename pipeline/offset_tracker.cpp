#include "pipeline/offset_tracker.hpp"

#include <algorithm>

namespace tastesync {
namespace {

constexpr std::size_t kCompactAfter = 1024;  // dropped entries before the vector is compacted

}  // namespace

void OffsetTracker::offer(std::int64_t offset, std::int64_t consumed_at_ns,
                          const PartitionProgress& progress) {
  entries_.push_back(Entry{offset, consumed_at_ns, progress, false});
}

std::optional<std::int64_t> OffsetTracker::complete(std::int64_t offset) {
  const auto begin = entries_.begin() + static_cast<std::ptrdiff_t>(head_);
  const auto it = std::lower_bound(begin, entries_.end(), offset,
                                   [](const Entry& e, std::int64_t o) { return e.offset < o; });
  if (it == entries_.end() || it->offset != offset || it->done) return std::nullopt;
  it->done = true;
  return it->consumed_at_ns;
}

std::optional<OffsetTracker::Position> OffsetTracker::advance() {
  std::optional<Position> position;
  while (head_ < entries_.size() && entries_[head_].done) {
    position = Position{entries_[head_].offset + 1, entries_[head_].progress};
    ++head_;
  }
  if (head_ == entries_.size()) {
    entries_.clear();
    head_ = 0;
  } else if (head_ >= kCompactAfter && head_ * 2 >= entries_.size()) {
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  return position;
}

}  // namespace tastesync
