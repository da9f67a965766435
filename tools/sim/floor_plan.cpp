#include "tools/sim/floor_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace tastesync::sim {
namespace {

// A beacon without a calibrated tx_power is assumed to have the iBeacon default.
constexpr int kDefaultTxPowerDbm = -59;

std::optional<std::uint32_t> find_location(const Registry& registry, const std::string& store_id,
                                           const std::string& name) {
  const auto& locations = registry.locations();
  for (std::uint32_t i = 0; i < locations.size(); ++i) {
    if (locations[i].store_id == store_id && locations[i].name == name) return i;
  }
  return std::nullopt;
}

Result<StorePlan, std::string> place_store(const StoreLayout& layout, const Registry& registry) {
  const std::string key = "stores." + layout.store_id;
  StorePlan plan;
  plan.layout = layout;
  for (const auto& [name, point] : layout.locations) {
    const auto index = find_location(registry, layout.store_id, name);
    if (!index) {
      return Failure{fmt::format("{}.locations.{}: the registry has no such location in {}", key,
                                 name, layout.store_id)};
    }
    plan.locations.push_back(PlacedLocation{*index, point, registry.location(*index).type, false});
  }

  std::set<std::string> offsets_used;
  bool store_known = false;
  for (const BeaconEntry& beacon : registry.beacons()) {
    const Location& location = registry.location(beacon.location_index);
    if (location.store_id != layout.store_id) continue;
    store_known = true;
    auto placed = std::find_if(plan.locations.begin(), plan.locations.end(), [&](const auto& l) {
      return l.location_index == beacon.location_index;
    });
    if (placed == plan.locations.end()) {
      if (beacon.status != EntryStatus::active) continue;  // not installed here: not simulated
      return Failure{key + ".locations: '" + location.name +
                     "' is missing (the registry has an active beacon there)"};
    }
    if (beacon.status == EntryStatus::active) placed->identifiable = true;
    const std::string beacon_id = format_uuid_string(beacon.beacon_id);
    Point position = placed->point;
    double height_m = layout.beacon_height_m[static_cast<std::size_t>(location.type)];
    for (const auto& [id, offset] : layout.beacon_offsets) {
      if (id != beacon_id) continue;
      position.x_m += offset.dx_m;
      position.y_m += offset.dy_m;
      height_m += offset.dz_m;
      offsets_used.insert(id);
    }
    plan.beacons.push_back(PlacedBeacon{&beacon, position, std::max(height_m, 0.0),
                                        beacon.tx_power_dbm.value_or(kDefaultTxPowerDbm),
                                        format_uuid_string(beacon.uuid)});
  }
  if (!store_known) return Failure{key + ": the registry has no beacon in this store"};
  for (const auto& [id, offset] : layout.beacon_offsets) {
    if (offsets_used.count(id) == 0) {
      return Failure{fmt::format(
          "{}.beacon_offsets_m.{}: no beacon with this beacon_id at a listed location", key, id)};
    }
  }

  for (std::size_t i = 0; i < plan.locations.size(); ++i) {
    const PlacedLocation& location = plan.locations[i];
    if (!location.identifiable) continue;
    switch (location.type) {
      case LocationType::entrance:
        if (!plan.entrance) plan.entrance = i;
        break;
      case LocationType::table:
        plan.tables.push_back(i);
        break;
      case LocationType::counter:
        if (!plan.counter) plan.counter = i;
        break;
    }
  }
  if (plan.tables.empty()) return Failure{key + ".locations: no table with an active beacon"};
  return plan;
}

}  // namespace

Result<FloorPlan, std::string> FloorPlan::build(const Layout& layout, const Registry& registry) {
  FloorPlan plan;
  for (const StoreLayout& store : layout.stores()) {
    auto placed = place_store(store, registry);
    if (!placed) return Failure{placed.error()};
    plan.stores_.push_back(std::move(*placed));
  }
  return plan;
}

}  // namespace tastesync::sim
