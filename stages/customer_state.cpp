#include "stages/customer_state.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <functional>
#include <utility>

namespace tastesync {

namespace {
constexpr std::size_t kFirstCapacity = 16;
// At least 4 slots to every 3 customers: the table then costs 21-43 bytes a customer, about what
// the node-based map's buckets and links did; at most half full it was 7 % more resident memory
// a customer at a million customers (docs/bench.md#issue-17-23).
constexpr bool overfull(std::size_t customers, std::size_t capacity) {
  return 4 * customers > 3 * capacity;
}
}  // namespace

PartitionState::Slot& PartitionState::slot_of(std::string_view customer_id, std::size_t hash) {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    Slot& slot = slots_[i];
    if (!slot.customer || (slot.hash == hash && slot.customer->id == customer_id)) return slot;
  }
}

PartitionState::Customer& PartitionState::add(std::string customer_id, std::size_t hash,
                                              CustomerState state) {
  if (overfull(size_ + 1, slots_.size())) rehash(std::max(kFirstCapacity, 2 * slots_.size()));
  Slot& slot = slot_of(customer_id, hash);
  slot.hash = hash;
  slot.customer = std::make_unique<Customer>(Customer{std::move(customer_id), std::move(state)});
  ++size_;
  return *slot.customer;
}

void PartitionState::rehash(std::size_t capacity) {
  std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(capacity));
  for (Slot& slot : old) {
    if (slot.customer) slot_of(slot.customer->id, slot.hash) = std::move(slot);
  }
}

// Removal in place would have to move later slots of a probe back; removals come many at a
// time (expiry, the cap), so the survivors are put into a fresh table instead.
template <typename Pred>
std::size_t PartitionState::remove_if(Pred&& remove) {
  std::size_t removed = 0;
  for (Slot& slot : slots_) {
    if (slot.customer && remove(slot.customer->state)) {
      slot.customer.reset();
      ++removed;
    }
  }
  if (removed == 0) return 0;
  size_ -= removed;
  std::size_t capacity = kFirstCapacity;
  while (overfull(size_, capacity)) capacity *= 2;
  rehash(std::max(capacity, slots_.size() / 4));
  return removed;
}

CustomerState* PartitionState::find(std::string_view customer_id) {
  if (size_ == 0) return nullptr;
  Slot& slot = slot_of(customer_id, customer_id_hash(customer_id));
  return slot.customer ? &slot.customer->state : nullptr;
}

CustomerState& PartitionState::find_or_create(std::string_view customer_id) {
  return find_or_create_marked(customer_id).state;
}

PartitionState::Found PartitionState::find_or_create_marked(std::string_view customer_id) {
  return find_or_create_marked(customer_id, customer_id_hash(customer_id));
}

PartitionState::Found PartitionState::find_or_create_marked(std::string_view customer_id,
                                                            std::size_t hash) {
  if (size_ > 0) {
    if (Slot& slot = slot_of(customer_id, hash); slot.customer)
      return {slot.customer->state, false};
  }
  return {add(std::string(customer_id), hash, CustomerState{}).state, true};
}

std::size_t PartitionState::evict_older_than(EpochMs horizon_ms, const CustomerState* keep) {
  return remove_if([&](const CustomerState& state) {
    return (state.last_activity_ms < horizon_ms || evicted(state)) &&
           state.durability.pending_offset < 0 && &state != keep;
  });
}

std::size_t PartitionState::limit_live_customers(std::size_t max_customers, EpochMs horizon_ms,
                                                 const CustomerState& touched) {
  if (live_checks_skipped_ > 0) {
    --live_checks_skipped_;
    return 0;
  }
  (void)evict_older_than(horizon_ms, &touched);
  offsets_.clear();
  for_each([&](std::string_view /*id*/, const CustomerState& state) {
    if (state.last_activity_ms >= horizon_ms && !evicted(state)) {
      offsets_.push_back(state.last_offset);
    }
  });
  const std::size_t live = offsets_.size();
  if (live <= max_customers) {
    // The live count grows by at most one per call: no eviction is possible before this many.
    live_checks_skipped_ = max_customers - live;
    return 0;
  }
  // One record touches one customer, so last offsets are distinct and the cut is exact.
  const std::size_t keep = max_customers - max_customers / 64;
  const auto cut = offsets_.begin() + static_cast<std::ptrdiff_t>(live - keep - 1);
  std::nth_element(offsets_.begin(), cut, offsets_.end());
  // The customer just touched has the newest offset; min() keeps it even if a caller's offsets
  // were not increasing (then fewer go, never the one in use).
  progress_.evicted_below_offset =
      std::max(progress_.evicted_below_offset, std::min(*cut + 1, touched.last_offset));
  const auto evicted = static_cast<std::size_t>(
      std::count_if(offsets_.begin(), offsets_.end(),
                    [&](std::int64_t offset) { return offset < progress_.evicted_below_offset; }));
  (void)evict_older_than(horizon_ms, &touched);
  live_checks_skipped_ = max_customers - std::min(max_customers, live - evicted);
  return evicted;
}

void PartitionState::advance_watermark(EpochMs candidate_ms) {
  EpochMs agreed = candidate_ms;
  auto& recent = progress_.recent_candidates_ms;
  for (const EpochMs earlier : recent) agreed = std::min(agreed, earlier);
  std::copy_backward(recent.begin(), recent.end() - 1, recent.end());
  recent.front() = candidate_ms;
  progress_.watermark_ms = std::max(progress_.watermark_ms, agreed);
}

std::pair<std::string_view, CustomerState*> PartitionState::insert(std::string customer_id,
                                                                   CustomerState state) {
  const std::size_t hash = customer_id_hash(customer_id);
  if (size_ > 0) {
    if (Slot& slot = slot_of(customer_id, hash); slot.customer) {
      slot.customer->state = std::move(state);
      return {slot.customer->id, &slot.customer->state};
    }
  }
  Customer& added = add(std::move(customer_id), hash, std::move(state));
  return {added.id, &added.state};
}

}  // namespace tastesync
