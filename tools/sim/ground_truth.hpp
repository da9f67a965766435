#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/event_time.hpp"

namespace tastesync::sim {

// Where a customer really is. `at` a location means they reached the location they were heading
// for and are within its radius (or have not yet left the radius of the one they just left).
struct Place {
  enum class Kind : std::uint8_t { outside, walking, at };
  Kind kind = Kind::outside;
  std::uint32_t location_index = 0;  // in the registry, when `at`

  static Place outside() { return {}; }
  static Place walking() { return {Kind::walking, 0}; }
  static Place at(std::uint32_t location_index) { return {Kind::at, location_index}; }

  friend bool operator==(const Place&, const Place&) = default;
};

struct TruthSpan {
  EpochMs begin_ms = 0;  // inclusive
  EpochMs end_ms = 0;    // exclusive
  Place place;
};

// A customer sitting at a table: the moment that matters to a waiter. The approach within the
// table's radius (entered_ms..seated_ms) already counts as being at the table.
struct SeatedStay {
  std::uint32_t location_index = 0;  // in the registry
  EpochMs entered_ms = 0;            // entered the table's radius on the way to the seat
  EpochMs seated_ms = 0;             // sat down
  EpochMs stood_up_ms = 0;
};

// One customer's ground truth: consecutive spans, each a maximal run of one place, covering the
// visit; outside them the customer is outside. Exact to the millisecond (the truth "per second"
// of the issue is this sampled at whole seconds).
class TruthTimeline {
 public:
  // Appends [begin, end) at `place`, merging with the last span when the place is the same.
  // Spans must come in time order and touch.
  void append(EpochMs begin_ms, EpochMs end_ms, Place place);

  Place place_at(EpochMs t_ms) const;
  // The index of the span holding t_ms, or npos when outside every span.
  std::size_t span_index_at(EpochMs t_ms) const;
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  const std::vector<TruthSpan>& spans() const { return spans_; }
  // The first time the customer is at an entrance-type location is the arrival; the caller
  // knows the types, so it passes a predicate.
  template <typename IsEntrance>
  std::optional<EpochMs> first_time_at(IsEntrance&& is_entrance) const {
    for (const TruthSpan& span : spans_) {
      if (span.place.kind == Place::Kind::at && is_entrance(span.place.location_index)) {
        return span.begin_ms;
      }
    }
    return std::nullopt;
  }

 private:
  std::vector<TruthSpan> spans_;
};

}  // namespace tastesync::sim
