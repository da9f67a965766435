#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "tools/sim/identification_metrics.hpp"

namespace tastesync::sim {

// The reference point, not product code: a customer is wherever the loudest beacon of
// their phone's latest scan is, announced whenever that changes. No smoothing, no hysteresis, no
// radius: what the stages' scorer must beat on precision and flaps.
class NearestBeaconBaseline {
 public:
  explicit NearestBeaconBaseline(std::size_t customers) : last_location_(customers) {}

  // The location of the loudest active beacon a customer's scan heard: an event when it differs
  // from the customer's last event (the first is an arrival, later ones moves).
  std::optional<EmittedEvent> on_scan(std::size_t customer, EpochMs detected_at_ms,
                                      std::uint32_t loudest_location_index);

 private:
  std::vector<std::optional<std::uint32_t>> last_location_;
};

}  // namespace tastesync::sim
