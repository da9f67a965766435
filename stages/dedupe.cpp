#include "dedupe.hpp"

#include <algorithm>

namespace tastesync {

bool Dedupe::is_duplicate(CustomerState& state, std::string_view sighting_id, EpochMs t_ms) const {
  const std::uint64_t hash = sighting_id_hash(sighting_id);
  const bool seen = std::any_of(state.seen.begin(), state.seen.end(), [&](const SeenSighting& s) {
    return s.id_hash == hash && s.t_ms >= t_ms - options_.duplicate_window_ms &&
           s.t_ms <= t_ms + options_.duplicate_window_ms;
  });
  if (seen) return true;

  // Kept in arrival order; pruned against the newest time so out-of-order arrivals stay.
  EpochMs newest = t_ms;
  for (const SeenSighting& s : state.seen) newest = std::max(newest, s.t_ms);
  std::erase_if(state.seen, [&](const SeenSighting& s) {
    return s.t_ms < newest - options_.duplicate_window_ms;
  });
  if (state.seen.size() >= CustomerState::kMaxSeen) state.seen.erase(state.seen.begin());
  state.seen.push_back(SeenSighting{hash, t_ms});
  return false;
}

Dedupe::Decision Dedupe::decide(const CustomerState& state, const Location& location,
                                EpochMs t_ms) const {
  if (!state.last_emitted) return {true, DropReason::suppressed, IdentificationKind::arrival};
  const LastIdentification& last = *state.last_emitted;
  if (t_ms <= last.detected_at_ms) return {false, DropReason::late, IdentificationKind::arrival};
  if (last.store_id != location.store_id) {
    return {true, DropReason::suppressed, IdentificationKind::arrival};
  }
  if (last.location != location.name) {
    return {true, DropReason::suppressed, IdentificationKind::move};
  }
  if (t_ms - last.detected_at_ms >= options_.interval_ms) {
    return {true, DropReason::suppressed, IdentificationKind::still_here};
  }
  return {false, DropReason::suppressed, IdentificationKind::still_here};
}

void Dedupe::record_emitted(CustomerState& state, const Location& location, EpochMs t_ms) const {
  if (!state.last_emitted) state.last_emitted.emplace();
  state.last_emitted->store_id = location.store_id;
  state.last_emitted->location = location.name;
  state.last_emitted->detected_at_ms = t_ms;
}

}  // namespace tastesync
