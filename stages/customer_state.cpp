#include "stages/customer_state.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <functional>

namespace tastesync {

std::size_t PartitionState::StringHash::operator()(std::string_view text) const {
  return customer_id_hash(text);
}

CustomerState* PartitionState::find(std::string_view customer_id) {
  const auto it = customers_.find(customer_id);
  return it == customers_.end() ? nullptr : &it->second;
}

CustomerState& PartitionState::find_or_create(std::string_view customer_id) {
  return find_or_create_marked(customer_id).state;
}

PartitionState::Found PartitionState::find_or_create_marked(std::string_view customer_id) {
  return find_or_create_marked(customer_id, customer_id_hash(customer_id));
}

PartitionState::Found PartitionState::find_or_create_marked(std::string_view customer_id,
                                                            std::size_t hash) {
  if (const auto it = customers_.find(HashedId{customer_id, hash}); it != customers_.end()) {
    return {it->second, false};
  }
  return {customers_.emplace(std::string(customer_id), CustomerState{}).first->second, true};
}

std::size_t PartitionState::evict_older_than(EpochMs horizon_ms, const CustomerState* keep) {
  return std::erase_if(customers_, [&](const auto& entry) {
    const CustomerState& state = entry.second;
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
  for (const auto& [id, state] : customers_) {
    if (state.last_activity_ms >= horizon_ms && !evicted(state)) {
      offsets_.push_back(state.last_offset);
    }
  }
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
  const auto entry = customers_.insert_or_assign(std::move(customer_id), std::move(state)).first;
  return {entry->first, &entry->second};
}

}  // namespace tastesync
