#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "stages/registry.hpp"
#include "tools/sim/layout.hpp"

namespace tastesync::sim {

struct PlacedBeacon {
  const BeaconEntry* entry = nullptr;
  Point position;
  double height_m = 0.0;   // above the floor
  int tx_power_dbm = -59;  // the RSSI at 1 m the beacon really has (its registry calibration)
  std::string uuid_text;   // canonical form, as a phone reports it
};

struct PlacedLocation {
  std::uint32_t location_index = 0;  // in the registry
  Point point;
  LocationType type = LocationType::table;
  bool identifiable = false;  // has an active beacon: customers only choose these
};

// One store with everything placed: what the simulator walks customers through.
struct StorePlan {
  StoreLayout layout;
  std::vector<PlacedLocation> locations;
  std::vector<PlacedBeacon> beacons;    // every beacon of a listed location, whatever its status
  std::optional<std::size_t> entrance;  // indexes into `locations`, identifiable ones only
  std::vector<std::size_t> tables;
  std::optional<std::size_t> counter;
};

// A layout matched against a registry: each layout location is a registry location of that
// store, each active beacon of a listed store has its location in the layout. It points into
// the registry, which must outlive it.
class FloorPlan {
 public:
  // The error names the layout key at fault ("stores.store100.locations: ...").
  static Result<FloorPlan, std::string> build(const Layout& layout, const Registry& registry);

  const std::vector<StorePlan>& stores() const { return stores_; }

 private:
  std::vector<StorePlan> stores_;
};

}  // namespace tastesync::sim
