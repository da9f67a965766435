#include "pipeline/offset_tracker.hpp"

#include <algorithm>

namespace tastesync {
namespace {

constexpr std::size_t kCompactAfter = 1024;    // dropped entries before the vector is compacted
constexpr std::size_t kScanBeforeSearch = 16;  // entries after the hint read before a search

}  // namespace

void OffsetTracker::offer(std::int64_t offset, std::int64_t consumed_at_ns,
                          const PartitionProgress& progress) {
  entries_.push_back(Entry{offset, consumed_at_ns, progress, false});
}

std::optional<std::int64_t> OffsetTracker::complete(std::int64_t offset) {
  // Two orders are common, and tried before a binary search (~2 % of the pipeline thread:
  // docs/bench.md#issue-17-9): a record dropped by the stages is done as soon as it is offered,
  // and delivery reports come in offset order, a few entries after the last one they completed.
  std::size_t at = entries_.size();
  if (!entries_.empty() && entries_.back().offset == offset) {
    at = entries_.size() - 1;
  } else {
    const std::size_t from = std::max(next_hint_, head_);
    const std::size_t to = std::min(from + kScanBeforeSearch, entries_.size());
    for (std::size_t i = from; i < to && entries_[i].offset <= offset; ++i) {
      if (entries_[i].offset == offset) at = i;
    }
    if (at == entries_.size()) {
      const auto begin = entries_.begin() + static_cast<std::ptrdiff_t>(head_);
      const auto it = std::lower_bound(begin, entries_.end(), offset,
                                       [](const Entry& e, std::int64_t o) { return e.offset < o; });
      if (it == entries_.end() || it->offset != offset) return std::nullopt;
      at = static_cast<std::size_t>(it - entries_.begin());
    }
    next_hint_ = at + 1;
  }
  if (at < head_) return std::nullopt;
  Entry& entry = entries_[at];
  if (entry.done) return std::nullopt;
  entry.done = true;
  return entry.consumed_at_ns;
}

std::optional<std::int64_t> OffsetTracker::done_frontier() const {
  std::optional<std::int64_t> frontier;
  for (std::size_t i = head_; i < entries_.size() && entries_[i].done; ++i) {
    frontier = entries_[i].offset + 1;
  }
  return frontier;
}

std::optional<OffsetTracker::Position> OffsetTracker::advance(std::int64_t limit) {
  std::optional<Position> position;
  while (head_ < entries_.size() && entries_[head_].done && entries_[head_].offset < limit) {
    position = Position{entries_[head_].offset + 1, entries_[head_].progress};
    ++head_;
  }
  if (head_ == entries_.size()) {
    entries_.clear();
    head_ = 0;
    next_hint_ = 0;
  } else if (head_ >= kCompactAfter && head_ * 2 >= entries_.size()) {
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(head_));
    next_hint_ = next_hint_ >= head_ ? next_hint_ - head_ : 0;
    head_ = 0;
  }
  return position;
}

}  // namespace tastesync
