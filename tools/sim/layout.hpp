#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace tastesync::sim {

// A point on a store's floor, in metres: x along the front wall, y into the room.
struct Point {
  double x_m = 0.0;
  double y_m = 0.0;
};

// A beacon mounted away from its location's point (dz: above or below the type's height).
struct BeaconOffset {
  double dx_m = 0.0;
  double dy_m = 0.0;
  double dz_m = 0.0;
};

double distance_m(Point a, Point b);

// One store's floor plan as the layout file gives it. Locations are named as in the registry;
// a location's beacons sit at its point unless beacon_offsets_m moves one of them.
struct StoreLayout {
  std::string store_id;
  double width_m = 0.0;  // the room spans [0, width] x [0, depth]
  double depth_m = 0.0;
  Point door;
  double min_speed_mps = 1.0;  // each customer walks at a speed drawn from this range
  double max_speed_mps = 1.4;
  // Heights above the floor: the phone-beacon distance is 3-D. Beacons by location type
  // (entrance, table, counter): on the host stand, under the table top, on the counter. Phones:
  // in a hand or pocket while standing or walking; on the table or in a hand while seated.
  std::array<double, 3> beacon_height_m = {1.2, 0.7, 1.0};
  double standing_phone_height_m = 1.1;
  double seated_phone_height_m = 0.8;
  std::vector<std::pair<std::string, Point>> locations;  // registry location name, point
  std::vector<std::pair<std::string, BeaconOffset>> beacon_offsets;  // by beacon_id
};

// The layout file (YAML, see deploy/layouts/): stores, each with its size, door, walking speed
// and the coordinates of its locations. Parsing checks the file's own consistency; matching it
// against a registry is FloorPlan's job.
class Layout {
 public:
  // The error names the key at fault and its line, e.g.
  // "stores.store100.locations.Table 1: expected [x, y] in metres (line 12)".
  static Result<Layout, std::string> parse(std::string_view yaml);
  // As parse, the error prefixed with the path.
  static Result<Layout, std::string> load(const std::string& path);

  const std::vector<StoreLayout>& stores() const { return stores_; }

 private:
  std::vector<StoreLayout> stores_;
};

// deploy/layouts/fixture-stores.yaml, compiled in: the floor plans of the built-in registry.
std::string_view builtin_layout_yaml();

}  // namespace tastesync::sim
