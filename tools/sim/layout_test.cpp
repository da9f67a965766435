#include "tools/sim/layout.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "registry/registry_source.hpp"
#include "tools/sim/floor_plan.hpp"

namespace tastesync::sim {
namespace {

const std::string kSourceDir = TASTESYNC_SOURCE_DIR;

std::shared_ptr<const Registry> fixture_registry() {
  return load_registry(kSourceDir + "/tests/fixtures/registry.json");
}

std::string parse_error(const std::string& yaml) {
  auto layout = Layout::parse(yaml);
  EXPECT_FALSE(layout.ok()) << yaml;
  return layout.ok() ? std::string() : layout.error();
}

const std::string kMinimal = R"(
stores:
  store100:
    size_m: [10, 8]
    door: [5, 0]
    locations:
      Table 1: [2, 3.5]
)";

TEST(Layout, ParsesTheFixtureStores) {
  auto layout = Layout::load(kSourceDir + "/deploy/layouts/fixture-stores.yaml");
  ASSERT_TRUE(layout.ok()) << layout.error();
  ASSERT_EQ(layout->stores().size(), 3u);
  const StoreLayout& store = layout->stores()[0];
  EXPECT_EQ(store.store_id, "store100");
  EXPECT_DOUBLE_EQ(store.width_m, 10.0);
  EXPECT_DOUBLE_EQ(store.door.x_m, 5.0);
  EXPECT_EQ(store.locations[1].first, "Table 1");
  EXPECT_DOUBLE_EQ(store.locations[1].second.x_m, 2.0);
  EXPECT_DOUBLE_EQ(store.locations[1].second.y_m, 3.5);
  EXPECT_EQ(layout->stores()[2].beacon_offsets.size(), 1u);
}

TEST(Layout, BuiltInLayoutIsTheDeployFile) {
  std::ifstream file(kSourceDir + "/deploy/layouts/fixture-stores.yaml");
  std::ostringstream text;
  text << file.rdbuf();
  EXPECT_EQ(builtin_layout_yaml(), text.str());
}

TEST(Layout, SpeedAndHeightsHaveDefaults) {
  auto layout = Layout::parse(kMinimal);
  ASSERT_TRUE(layout.ok()) << layout.error();
  const StoreLayout& store = layout->stores()[0];
  EXPECT_DOUBLE_EQ(store.min_speed_mps, 1.0);
  EXPECT_DOUBLE_EQ(store.max_speed_mps, 1.4);
  EXPECT_DOUBLE_EQ(store.beacon_height_m[1], 0.7);
  EXPECT_DOUBLE_EQ(store.seated_phone_height_m, 0.8);
}

TEST(Layout, HeightsCanBeGivenPerTypeAndPosture) {
  auto layout = Layout::parse(kMinimal +
                              "    beacon_height_m: {table: 2.8}\n"
                              "    phone_height_m: {standing: 1.3}\n");
  ASSERT_TRUE(layout.ok()) << layout.error();
  const StoreLayout& store = layout->stores()[0];
  EXPECT_DOUBLE_EQ(store.beacon_height_m[1], 2.8);
  EXPECT_DOUBLE_EQ(store.beacon_height_m[0], 1.2);
  EXPECT_DOUBLE_EQ(store.standing_phone_height_m, 1.3);
}

TEST(Layout, UnknownHeightKeyNamesIt) {
  EXPECT_NE(parse_error(kMinimal + "    beacon_height_m: {tabel: 0.7}\n")
                .find("stores.store100.beacon_height_m.tabel: unknown key"),
            std::string::npos);
}

TEST(Layout, MissingDoorNamesTheKey) {
  EXPECT_NE(parse_error("stores:\n  s1:\n    size_m: [4, 4]\n    locations: {T: [1, 1]}\n")
                .find("stores.s1.door: missing"),
            std::string::npos);
}

TEST(Layout, BadPointNamesTheLocationAndLine) {
  const std::string error = parse_error(
      "stores:\n  s1:\n    size_m: [4, 4]\n    door: [0, 0]\n    locations:\n"
      "      Table 1: [1]\n");
  EXPECT_NE(error.find("stores.s1.locations.Table 1: expected [x, y] in metres"), std::string::npos)
      << error;
  EXPECT_NE(error.find("line 6"), std::string::npos) << error;
}

TEST(Layout, PointOutsideTheRoomIsRejected) {
  EXPECT_NE(parse_error("stores:\n  s1:\n    size_m: [4, 4]\n    door: [0, 0]\n"
                        "    locations: {Table 1: [5, 1]}\n")
                .find("stores.s1.locations.Table 1: outside the room"),
            std::string::npos);
}

TEST(Layout, UnknownKeyIsRejected) {
  EXPECT_NE(parse_error(kMinimal + "    tables: 3\n").find("stores.store100.tables: unknown key"),
            std::string::npos);
}

TEST(Layout, NonNumberNamesTheKey) {
  EXPECT_NE(parse_error(kMinimal + "    phone_height_m: {seated: low}\n")
                .find("stores.store100.phone_height_m.seated: expected a number"),
            std::string::npos);
}

TEST(Layout, SlowerMaximumSpeedIsRejected) {
  EXPECT_NE(parse_error(kMinimal + "    walking_speed_mps: [1.4, 1.0]\n")
                .find("stores.store100.walking_speed_mps: expected 0 < min <= max"),
            std::string::npos);
}

TEST(Layout, StoreListedTwiceIsRejected) {
  EXPECT_NE(parse_error(kMinimal + "  store100:\n    size_m: [1, 1]\n")
                .find("stores.store100: listed twice"),
            std::string::npos);
}

TEST(Layout, InvalidYamlIsAnError) {
  EXPECT_NE(parse_error("stores: [unclosed").find("not valid YAML"), std::string::npos);
}

TEST(FloorPlan, FixtureLayoutPlacesEveryBeaconOfTheFixtureRegistry) {
  auto layout = Layout::parse(builtin_layout_yaml());
  ASSERT_TRUE(layout.ok()) << layout.error();
  const auto registry = fixture_registry();
  auto plan = FloorPlan::build(*layout, *registry);
  ASSERT_TRUE(plan.ok()) << plan.error();
  ASSERT_EQ(plan->stores().size(), 3u);
  const StorePlan& store100 = plan->stores()[0];
  EXPECT_EQ(store100.tables.size(), 6u);  // Table 7 and 8 have no active beacon
  EXPECT_TRUE(store100.entrance.has_value());
  EXPECT_TRUE(store100.counter.has_value());
  EXPECT_EQ(store100.beacons.size(), 10u);  // maintenance and inactive ones transmit too
  std::size_t beacons = 0;
  for (const StorePlan& store : plan->stores()) beacons += store.beacons.size();
  EXPECT_EQ(beacons, registry->beacons().size());
}

TEST(FloorPlan, BeaconOffsetMovesOnlyThatBeacon) {
  auto layout = Layout::parse(builtin_layout_yaml());
  const auto registry = fixture_registry();
  auto plan = FloorPlan::build(*layout, *registry);
  ASSERT_TRUE(plan.ok()) << plan.error();
  const StorePlan& store300 = plan->stores()[2];
  const PlacedLocation& counter = store300.locations[*store300.counter];
  for (const PlacedBeacon& beacon : store300.beacons) {
    const bool at_counter = beacon.entry->location_index == counter.location_index;
    const double expected_x = at_counter ? counter.point.x_m + 0.6 : beacon.position.x_m;
    EXPECT_DOUBLE_EQ(beacon.position.x_m, expected_x);
    if (at_counter) {
      EXPECT_DOUBLE_EQ(beacon.height_m, 1.2);  // 0.2 m above the counter top
    }
  }
}

TEST(FloorPlan, LocationUnknownToTheRegistryNamesIt) {
  auto layout = Layout::parse(kMinimal + "      Table 9: [3, 3]\n");
  ASSERT_TRUE(layout.ok()) << layout.error();
  auto plan = FloorPlan::build(*layout, *fixture_registry());
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().find("stores.store100.locations.Table 9: the registry has no such"),
            std::string::npos)
      << plan.error();
}

TEST(FloorPlan, MissingActiveLocationNamesIt) {
  auto layout = Layout::parse(kMinimal);
  auto plan = FloorPlan::build(*layout, *fixture_registry());
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().find("stores.store100.locations: 'Entrance' is missing"),
            std::string::npos)
      << plan.error();
}

}  // namespace
}  // namespace tastesync::sim
