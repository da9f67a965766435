#include "tools/sim/ground_truth.hpp"

#include <algorithm>

namespace tastesync::sim {

void TruthTimeline::append(EpochMs begin_ms, EpochMs end_ms, Place place) {
  if (end_ms <= begin_ms) return;
  if (!spans_.empty() && spans_.back().place == place && spans_.back().end_ms == begin_ms) {
    spans_.back().end_ms = end_ms;
    return;
  }
  spans_.push_back(TruthSpan{begin_ms, end_ms, place});
}

std::size_t TruthTimeline::span_index_at(EpochMs t_ms) const {
  const auto after = std::upper_bound(spans_.begin(), spans_.end(), t_ms,
                                      [](EpochMs t, const TruthSpan& s) { return t < s.begin_ms; });
  if (after == spans_.begin()) return npos;
  const auto index = static_cast<std::size_t>(after - spans_.begin()) - 1;
  return t_ms < spans_[index].end_ms ? index : npos;
}

Place TruthTimeline::place_at(EpochMs t_ms) const {
  const std::size_t index = span_index_at(t_ms);
  return index == npos ? Place::outside() : spans_[index].place;
}

}  // namespace tastesync::sim
