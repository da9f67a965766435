#include "tools/sim/nearest_beacon.hpp"

namespace tastesync::sim {

std::optional<EmittedEvent> NearestBeaconBaseline::on_scan(std::size_t customer,
                                                           EpochMs detected_at_ms,
                                                           std::uint32_t loudest_location_index) {
  std::optional<std::uint32_t>& last = last_location_.at(customer);
  if (last == loudest_location_index) return std::nullopt;
  const IdentificationKind kind = last ? IdentificationKind::move : IdentificationKind::arrival;
  last = loudest_location_index;
  return EmittedEvent{customer, detected_at_ms, loudest_location_index, kind, 1.0};
}

}  // namespace tastesync::sim
