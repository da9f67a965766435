#include "tools/sim/layout.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <initializer_list>
#include <sstream>

namespace tastesync::sim {
namespace {

// Thrown inside the parser only; parse() turns it into its error value.
struct LayoutError {
  std::string message;
};

[[noreturn]] void fail(const std::string& key, const YAML::Node& node, const std::string& what) {
  const YAML::Mark mark = node.Mark();
  std::string message = key + ": " + what;
  if (mark.line >= 0) message += " (line " + std::to_string(mark.line + 1) + ")";
  throw LayoutError{std::move(message)};
}

YAML::Node required(const YAML::Node& map, const std::string& key, const std::string& name) {
  const YAML::Node node = map[name];
  if (!node) fail(key + "." + name, map, "missing");
  return node;
}

void reject_unknown_keys(const YAML::Node& map, const std::string& key,
                         std::initializer_list<std::string_view> known) {
  for (const auto& item : map) {
    const auto name = item.first.as<std::string>();
    bool found = false;
    for (const std::string_view k : known) found = found || name == k;
    if (!found) fail(fmt::format("{}.{}", key, name), item.first, "unknown key");
  }
}

double number(const YAML::Node& node, const std::string& key) {
  double value = 0.0;
  if (!node.IsScalar() || !YAML::convert<double>::decode(node, value) || !std::isfinite(value)) {
    fail(key, node, "expected a number");
  }
  return value;
}

std::pair<double, double> pair(const YAML::Node& node, const std::string& key,
                               const char* expected) {
  if (!node.IsSequence() || node.size() != 2) fail(key, node, std::string("expected ") + expected);
  return {number(node[0], key), number(node[1], key)};
}

Point point(const YAML::Node& node, const std::string& key) {
  const auto [x, y] = pair(node, key, "[x, y] in metres");
  return Point{x, y};
}

double height(const YAML::Node& node, const std::string& key) {
  const double value = number(node, key);
  if (value < 0.0 || value > 10.0) fail(key, node, "must be in 0..10 m");
  return value;
}

Point point_in_room(const YAML::Node& node, const std::string& key, const StoreLayout& store) {
  const Point p = point(node, key);
  if (p.x_m < 0.0 || p.x_m > store.width_m || p.y_m < 0.0 || p.y_m > store.depth_m) {
    fail(key, node, "outside the room (size_m)");
  }
  return p;
}

StoreLayout parse_store(const std::string& store_id, const YAML::Node& node) {
  const std::string key = "stores." + store_id;
  if (!node.IsMap()) fail(key, node, "expected a map");
  reject_unknown_keys(node, key,
                      {"size_m", "door", "walking_speed_mps", "beacon_height_m", "phone_height_m",
                       "locations", "beacon_offsets_m"});
  StoreLayout store;
  store.store_id = store_id;
  const auto [width, depth] =
      pair(required(node, key, "size_m"), key + ".size_m", "[width, depth] in metres");
  if (width <= 0.0 || depth <= 0.0) fail(key + ".size_m", node["size_m"], "must be positive");
  store.width_m = width;
  store.depth_m = depth;
  store.door = point_in_room(required(node, key, "door"), key + ".door", store);
  if (const YAML::Node speed = node["walking_speed_mps"]) {
    const auto [low, high] = pair(speed, key + ".walking_speed_mps", "[min, max] in m/s");
    if (low <= 0.0 || high < low) {
      fail(key + ".walking_speed_mps", speed, "expected 0 < min <= max");
    }
    store.min_speed_mps = low;
    store.max_speed_mps = high;
  }
  if (const YAML::Node heights = node["beacon_height_m"]) {
    const std::string where = key + ".beacon_height_m";
    if (!heights.IsMap()) fail(where, heights, "expected {entrance: m, table: m, counter: m}");
    reject_unknown_keys(heights, where, {"entrance", "table", "counter"});
    const char* types[] = {"entrance", "table", "counter"};
    for (std::size_t t = 0; t < 3; ++t) {
      if (heights[types[t]]) {
        store.beacon_height_m[t] = height(heights[types[t]], where + "." + types[t]);
      }
    }
  }
  if (const YAML::Node heights = node["phone_height_m"]) {
    const std::string where = key + ".phone_height_m";
    if (!heights.IsMap()) fail(where, heights, "expected {standing: m, seated: m}");
    reject_unknown_keys(heights, where, {"standing", "seated"});
    if (heights["standing"]) {
      store.standing_phone_height_m = height(heights["standing"], where + ".standing");
    }
    if (heights["seated"]) {
      store.seated_phone_height_m = height(heights["seated"], where + ".seated");
    }
  }
  const YAML::Node locations = required(node, key, "locations");
  if (!locations.IsMap() || locations.size() == 0) {
    fail(key + ".locations", locations, "expected a map of location name to [x, y]");
  }
  for (const auto& item : locations) {
    const auto name = item.first.as<std::string>();
    for (const auto& [known, unused] : store.locations) {
      if (known == name)
        fail(fmt::format("{}.locations.{}", key, name), item.first, "listed twice");
    }
    store.locations.emplace_back(
        name, point_in_room(item.second, fmt::format("{}.locations.{}", key, name), store));
  }
  if (const YAML::Node offsets = node["beacon_offsets_m"]) {
    if (!offsets.IsMap()) fail(key + ".beacon_offsets_m", offsets, "expected a map");
    for (const auto& item : offsets) {
      const auto beacon_id = item.first.as<std::string>();
      const YAML::Node offset = item.second;
      const std::string where = fmt::format("{}.beacon_offsets_m.{}", key, beacon_id);
      if (!offset.IsSequence() || (offset.size() != 2 && offset.size() != 3)) {
        fail(where, offset, "expected [dx, dy] or [dx, dy, dz] in metres");
      }
      store.beacon_offsets.emplace_back(
          beacon_id, BeaconOffset{number(offset[0], where), number(offset[1], where),
                                  offset.size() == 3 ? number(offset[2], where) : 0.0});
    }
  }
  return store;
}

}  // namespace

double distance_m(Point a, Point b) {
  return std::hypot(a.x_m - b.x_m, a.y_m - b.y_m);
}

Result<Layout, std::string> Layout::parse(std::string_view yaml) {
  Layout layout;
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    if (!root.IsMap()) fail("layout", root, "expected a map with a 'stores' key");
    reject_unknown_keys(root, "layout", {"stores"});
    const YAML::Node stores = required(root, "layout", "stores");
    if (!stores.IsMap() || stores.size() == 0) fail("stores", stores, "expected a map of stores");
    for (const auto& item : stores) {
      const auto store_id = item.first.as<std::string>();
      for (const StoreLayout& known : layout.stores_) {
        if (known.store_id == store_id) fail("stores." + store_id, item.first, "listed twice");
      }
      layout.stores_.push_back(parse_store(store_id, item.second));
    }
  } catch (const LayoutError& e) {
    return Failure{e.message};
  } catch (const YAML::Exception& e) {
    return Failure{std::string("not valid YAML: ") + e.what()};
  }
  return layout;
}

Result<Layout, std::string> Layout::load(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Failure{"layout '" + path + "': cannot read the file"};
  std::ostringstream text;
  text << file.rdbuf();
  auto layout = parse(text.str());
  if (!layout) return Failure{"layout '" + path + "': " + layout.error()};
  return layout;
}

}  // namespace tastesync::sim
