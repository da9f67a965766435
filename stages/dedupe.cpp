#include "stages/dedupe.hpp"

#include <algorithm>
#include <cstdlib>

namespace tastesync {

std::optional<SeenSighting> Dedupe::admit_hashed(CustomerState& state, std::uint64_t hash,
                                                 EpochMs t_ms) const {
  const EpochMs oldest_kept = std::max(state.last_activity_ms, t_ms) - options_.duplicate_window_ms;
  // prune()'s cut: oldest_kept when the caller keeps the contract (last activity includes t_ms).
  const EpochMs cut = state.last_activity_ms - options_.duplicate_window_ms;
  // One pass both answers and prunes (docs/bench.md#issue-17-19): in a steady stream every
  // record ages one id out of the window, and a scan then an erase_if read the list twice.
  // Entries past the window never count, whether or not they were pruned yet: a restored list
  // and a live one must answer alike.
  bool seen = false;
  auto kept = state.seen.begin();
  for (auto entry = state.seen.begin(); entry != state.seen.end(); ++entry) {
    if (entry->t_ms < cut) continue;
    seen |= entry->id_hash == hash && entry->t_ms >= oldest_kept &&
            std::abs(entry->t_ms - t_ms) <= options_.duplicate_window_ms;
    if (kept != entry) *kept = *entry;
    ++kept;
  }
  state.seen.erase(kept, state.seen.end());
  if (seen) return std::nullopt;
  const SeenSighting remembered{hash, t_ms};
  state.seen.push_back(remembered);
  // What the pass left to prune(): an id that arrives already past the window, or the cap.
  if (t_ms < cut || state.seen.size() > CustomerState::kMaxSeen) prune(state);
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
