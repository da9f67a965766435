#include "pending_writes.hpp"

#include <algorithm>

namespace tastesync {

void PendingWrites::add(std::int64_t offset, std::string_view customer_id,
                        std::string_view encoded_state) {
  entries_.push_back(Entry{offset, arena_.size(), static_cast<std::uint32_t>(customer_id.size()),
                           static_cast<std::uint32_t>(encoded_state.size())});
  arena_.append(customer_id);
  arena_.append(encoded_state);
}

void PendingWrites::drain_before(std::int64_t next_offset, std::int32_t partition,
                                 StateStore::Batch& batch) {
  std::size_t drained = 0;
  while (drained < entries_.size() && entries_[drained].offset < next_offset) {
    const Entry& entry = entries_[drained];
    const std::string_view key(arena_.data() + entry.begin, entry.key_size);
    const std::string_view value(arena_.data() + entry.begin + entry.key_size, entry.value_size);
    batch.put_customer(partition, key, value);
    ++drained;
  }
  if (drained == 0) return;
  if (drained == entries_.size()) {
    entries_.clear();
    arena_.clear();
    return;
  }
  // Keep the undelivered tail, moved to the front of the arena.
  const std::size_t shift = entries_[drained].begin;
  arena_.erase(0, shift);
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(drained));
  for (Entry& entry : entries_) entry.begin -= shift;
}

}  // namespace tastesync
