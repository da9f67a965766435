#include "stages/dedupe.hpp"

#include <algorithm>
#include <cstdlib>

namespace tastesync {

std::optional<SeenSighting> Dedupe::admit_hashed(CustomerState& state, std::uint64_t hash,
                                                 EpochMs t_ms) const {
  const EpochMs oldest_kept = std::max(state.last_activity_ms, t_ms) - options_.duplicate_window_ms;
  // Entries past the window never count, whether or not they were pruned yet: a restored list
  // and a live one must answer alike.
  const bool seen = std::any_of(state.seen.begin(), state.seen.end(), [&](const SeenSighting& s) {
    return s.id_hash == hash && s.t_ms >= oldest_kept &&
           std::abs(s.t_ms - t_ms) <= options_.duplicate_window_ms;
  });
  if (seen) return std::nullopt;
  const SeenSighting remembered{hash, t_ms};
  state.seen.push_back(remembered);
  prune(state);
  return remembered;
}

namespace {

bool by_time_then_hash(const SeenSighting& a, const SeenSighting& b) {
  return a.t_ms != b.t_ms ? a.t_ms < b.t_ms : a.id_hash < b.id_hash;
}

}  // namespace

void Dedupe::normalize(CustomerState& state) const {
  // A restored list may hold an id twice: stored groups of two checkpoints overlap after a crash
  // re-processed records (docs/design.md#remembered-ids). The live list never does, and a copy
  // would take a place under the cap.
  std::sort(state.seen.begin(), state.seen.end(), by_time_then_hash);
  state.seen.erase(std::unique(state.seen.begin(), state.seen.end(),
                               [](const SeenSighting& a, const SeenSighting& b) {
                                 return a.t_ms == b.t_ms && a.id_hash == b.id_hash;
                               }),
                   state.seen.end());
  prune(state);
}

void Dedupe::prune(CustomerState& state) const {
  const EpochMs oldest_kept = state.last_activity_ms - options_.duplicate_window_ms;
  std::erase_if(state.seen, [&](const SeenSighting& s) { return s.t_ms < oldest_kept; });
  while (state.seen.size() > CustomerState::kMaxSeen) {
    state.seen.erase(std::min_element(state.seen.begin(), state.seen.end(), by_time_then_hash));
  }
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
