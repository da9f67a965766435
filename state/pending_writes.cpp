#include "state/pending_writes.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "state/customer_state_codec.hpp"

namespace tastesync {

void PendingWrites::before_change(const CustomerState& state) {
  if (state.durability.pending_offset < 0) return;
  const std::uint64_t sequence = state.durability.pending_sequence;
  if (sequence < first_sequence_ || sequence - first_sequence_ >= entries_.size()) {
    throw std::logic_error("a customer's pending change points outside the pending entries");
  }
  Entry& entry = entries_[sequence - first_sequence_];
  // A change of this same batch: checkpointable_before() keeps the two together instead. Its
  // entry, anywhere among up to a checkpoint's records, is marked superseded when changed()
  // follows: fetched now, it is no cache miss after the stages (docs/bench.md#issue-17-16).
  if (sequence >= batch_first_sequence_) {
    __builtin_prefetch(&entry.superseded_by, 1);
    return;
  }
  if (entry.has_snapshot) return;
  entry.has_snapshot = true;
  entry.snapshot_begin = arena_.size();
  entry.snapshot_size = static_cast<std::uint32_t>(append_customer_state(state, arena_));
}

void PendingWrites::supersede_pending(const CustomerState& state) {
  if (state.durability.pending_offset < 0) return;
  const std::uint64_t sequence = state.durability.pending_sequence;
  if (sequence < first_sequence_ || sequence - first_sequence_ >= entries_.size()) return;
  entries_[sequence - first_sequence_].superseded_by = first_sequence_ + entries_.size();
}

void PendingWrites::changed(std::int64_t offset, std::string_view customer_id, CustomerState& state,
                            const std::optional<SeenSighting>& remembered,
                            std::span<const Uuid> learnt, const RoomLevels* room) {
  if (room != nullptr) {
    for (const Uuid& beacon_id : learnt) {
      if (const LearnedLevel* level = room->find(beacon_id)) levels_.push_back({beacon_id, *level});
    }
  }
  supersede_pending(state);
  entries_.push_back(Entry{.offset = offset,
                           .key_begin = arena_.size(),
                           .state = &state,
                           .snapshot_begin = 0,
                           .remembered = remembered,
                           .levels_end = levels_.size(),
                           .key_size = static_cast<std::uint32_t>(customer_id.size()),
                           .snapshot_size = 0,
                           .has_snapshot = false});
  arena_.append(customer_id);
  state.durability.pending_offset = offset;
  state.durability.pending_sequence = first_sequence_ + entries_.size() - 1;
}

void PendingWrites::erased(std::int64_t offset, std::string_view customer_id,
                           CustomerState* state) {
  const Entry entry{.offset = offset,
                    .key_begin = arena_.size(),
                    .state = state,
                    .snapshot_begin = 0,
                    .remembered = std::nullopt,
                    .levels_end = levels_.size(),
                    .key_size = static_cast<std::uint32_t>(customer_id.size()),
                    .snapshot_size = 0,
                    .has_snapshot = false,
                    .erase = true};
  arena_.append(customer_id);
  if (state != nullptr) supersede_pending(*state);
  entries_.push_back(entry);
  if (state != nullptr) {
    state->durability.pending_offset = offset;
    state->durability.pending_sequence = first_sequence_ + entries_.size() - 1;
  }
}

std::int64_t PendingWrites::checkpointable_before(std::int64_t next_offset) const {
  // A cut before entry `i` is allowed when no earlier entry without a snapshot has its next
  // change at or after `i`: memory holds only the customer's latest state.
  std::size_t reach = 0;       // no cut falls below this index, as far as the entries seen say
  std::size_t last_valid = 0;  // the latest allowed cut seen
  std::size_t i = 0;
  for (; i < entries_.size() && entries_[i].offset < next_offset; ++i) {
    if (reach <= i) last_valid = i;
    const Entry& entry = entries_[i];
    if (!entry.erase && !entry.has_snapshot &&
        entry.superseded_by != std::numeric_limits<std::uint64_t>::max()) {
      reach = std::max(reach, static_cast<std::size_t>(entry.superseded_by - first_sequence_) + 1);
    }
  }
  return reach <= i ? next_offset : entries_[last_valid].offset;
}

void PendingWrites::drain_before(std::int64_t next_offset, std::int32_t partition,
                                 PartitionState& states, StateStore::Batch& batch) {
  std::size_t end = 0;
  while (end < entries_.size() && entries_[end].offset < next_offset) ++end;
  // The sequence numbers this drain covers: a customer changed more than once among them is
  // written once, as the last change left it; the earlier puts would be overwritten in the same
  // atomic batch (docs/contract.md#state), so they are not made.
  const std::uint64_t end_sequence = first_sequence_ + end;
  constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
  carried_.clear();
  carried_last_.assign(end, kNone);
  std::size_t drained = 0;
  std::size_t level = 0;
  for (; drained < end; ++drained) {
    const Entry& entry = entries_[drained];
    for (; level < entry.levels_end; ++level) {
      batch.put_room_level(partition, levels_[level].beacon_id, levels_[level].level);
    }
    const std::string_view customer_id(arena_.data() + entry.key_begin, entry.key_size);
    // The customer's ids remembered so far in this drain (none after an erasure: it deletes
    // them), this entry's own last: one key per customer per checkpoint
    // (docs/design.md#remembered-ids).
    std::size_t last = entry.erase ? kNone : carried_last_[drained];
    if (entry.remembered) {
      carried_.push_back({{entry.remembered->id_hash, entry.remembered->t_ms, entry.offset}, last});
      last = carried_.size() - 1;
    }
    // Superseded within this drain: the customer's latest change is a later entry, which takes
    // the ids along, so its state (a cache miss per entry in a busy partition) is not even
    // looked at.
    if (!entry.erase && entry.superseded_by < end_sequence) {
      carried_last_[entry.superseded_by - first_sequence_] = last;
      continue;
    }
    if (last != kNone) {
      group_.clear();
      for (std::size_t at = last; at != kNone; at = carried_[at].previous) {
        group_.push_back(carried_[at].id);
      }
      std::reverse(group_.begin(), group_.end());  // in offset order: the key names the first
      batch.put_seen(partition, customer_id, group_);
    }
    CustomerState* state = entry.state != nullptr ? entry.state : states.find(customer_id);
    const bool latest_change = state != nullptr && state->durability.pending_offset >= 0 &&
                               state->durability.pending_sequence == first_sequence_ + drained;
    if (latest_change) state->durability.pending_offset = -1;
    if (entry.erase) {
      batch.erase_customer(partition, customer_id);
      continue;
    }
    if (entry.has_snapshot) {
      batch.put_customer(
          partition, customer_id,
          std::string_view(arena_.data() + entry.snapshot_begin, entry.snapshot_size));
      continue;
    }
    // No snapshot: no later record changed this customer, so memory holds exactly the state
    // this record left. Eviction spares customers with pending changes, so it is there.
    if (!latest_change) {
      throw std::logic_error("pending state of customer '" + std::string(customer_id) +
                             "' lost its bookkeeping");
    }
    encode_customer_state(*state, encoded_);
    batch.put_customer(partition, customer_id, encoded_);
  }
  if (drained == 0) return;
  first_sequence_ += drained;
  if (drained == entries_.size()) {
    entries_.clear();
    arena_.clear();
    levels_.clear();
    return;
  }
  levels_.erase(levels_.begin(), levels_.begin() + static_cast<std::ptrdiff_t>(level));
  // Keep the undelivered tail. Its bytes all sit after its first key (snapshots are appended
  // after the key they belong to), so the arena's prefix can go.
  const std::size_t shift = entries_[drained].key_begin;
  arena_.erase(0, shift);
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(drained));
  for (Entry& entry : entries_) {
    entry.levels_end -= level;
    entry.key_begin -= shift;
    if (entry.has_snapshot) entry.snapshot_begin -= shift;
  }
}

}  // namespace tastesync
