#include "stages/registry.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace tastesync {
namespace {

std::string fixture_registry_json() {
  std::ifstream file(std::string(TASTESYNC_FIXTURES_DIR) + "/registry.json");
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string one_beacon(const std::string& fields) {
  return R"({"beacons":[{"beacon_id":"16a0a3a7-7a0a-558a-8314-95b5dcb6d404",)"
         R"("uuid":"550e8400-e29b-41d4-a716-446655440000","major":100,"minor":1,)"
         R"("store_id":"store100","location":{"name":"Entrance","type":"entrance"},)"
         R"("status":"active")" +
         fields + "}]}";
}

TEST(Registry, LoadsTheFixture) {
  const auto registry = Registry::from_json(fixture_registry_json());
  ASSERT_TRUE(registry.ok()) << registry.error();
  EXPECT_EQ((*registry)->beacons().size(), 26u);
  const BeaconEntry* table3 =
      (*registry)->find_beacon(*parse_uuid("550e8400-e29b-41d4-a716-446655440000"), 100, 13);
  ASSERT_NE(table3, nullptr);
  EXPECT_EQ(format_uuid_string(table3->beacon_id), "bc0c82d4-d881-5fe0-a68c-3ed7c3562715");
  const Location& location = (*registry)->location(table3->location_index);
  EXPECT_EQ(location.store_id, "store100");
  EXPECT_EQ(location.name, "Table 3");
  EXPECT_EQ(location.type, LocationType::table);
  EXPECT_EQ(table3->tx_power_dbm, std::optional<int>(-59));
}

// The entrance beacon (minor 1) of the fixtures' store with this major, on the shared UUID.
const BeaconEntry* entrance_beacon(const Registry& registry, std::uint16_t major) {
  return registry.find_beacon(*parse_uuid("550e8400-e29b-41d4-a716-446655440000"), major, 1);
}

TEST(Registry, StoresSharingAUuidAreToldApartByMajor) {
  const auto registry = Registry::from_json(fixture_registry_json());
  ASSERT_TRUE(registry.ok());
  const BeaconEntry* store100 = entrance_beacon(**registry, 100);
  const BeaconEntry* store200 = entrance_beacon(**registry, 200);
  ASSERT_NE(store100, nullptr);
  ASSERT_NE(store200, nullptr);
  EXPECT_EQ((*registry)->location(store100->location_index).store_id, "store100");
  EXPECT_EQ((*registry)->location(store200->location_index).store_id, "store200");
}

TEST(Registry, CountsTheLocationsOfEachStore) {
  const auto registry = Registry::from_json(fixture_registry_json());
  ASSERT_TRUE(registry.ok());
  // store100: the entrance, Tables 1-8 (7 in maintenance, 8 inactive) and the counter;
  // store200: the entrance, Tables 1-6 and the counter.
  const BeaconEntry* store100 = entrance_beacon(**registry, 100);
  const BeaconEntry* store200 = entrance_beacon(**registry, 200);
  ASSERT_NE(store100, nullptr);
  ASSERT_NE(store200, nullptr);
  EXPECT_EQ((*registry)->locations_in_store((*registry)->location(store100->location_index)), 10u);
  EXPECT_EQ((*registry)->locations_in_store((*registry)->location(store200->location_index)), 8u);
}

TEST(Registry, FindsQrCodesAndUnknownsAreAbsent) {
  const auto registry = Registry::from_json(fixture_registry_json());
  ASSERT_TRUE(registry.ok());
  const QrEntry* qr = (*registry)->find_qr("TS-store100-T3");
  ASSERT_NE(qr, nullptr);
  EXPECT_EQ((*registry)->location(qr->location_index).name, "Table 3");
  EXPECT_EQ((*registry)->find_qr("nope"), nullptr);
  EXPECT_EQ((*registry)->find_beacon(Uuid{}, 1, 1), nullptr);
}

TEST(Registry, RejectsDuplicateIdentity) {
  const std::string text =
      R"({"beacons":[)"
      R"({"beacon_id":"16a0a3a7-7a0a-558a-8314-95b5dcb6d404","uuid":"550e8400-e29b-41d4-a716-446655440000","major":1,"minor":1,"store_id":"s","location":{"name":"A","type":"table"},"status":"active"},)"
      R"({"beacon_id":"26a0a3a7-7a0a-558a-8314-95b5dcb6d404","uuid":"550e8400-e29b-41d4-a716-446655440000","major":1,"minor":1,"store_id":"s","location":{"name":"B","type":"table"},"status":"active"}]})";
  const auto registry = Registry::from_json(text);
  ASSERT_FALSE(registry.ok());
  EXPECT_NE(registry.error().find("beacons[1]"), std::string::npos) << registry.error();
  EXPECT_NE(registry.error().find("registered twice"), std::string::npos) << registry.error();
}

TEST(Registry, ErrorsNameTheEntryAndField) {
  const auto bad_major = Registry::from_json(
      one_beacon("").replace(one_beacon("").find("\"major\":100"), 11, "\"major\":70000"));
  ASSERT_FALSE(bad_major.ok());
  EXPECT_NE(bad_major.error().find("beacons[0]: 'major'"), std::string::npos) << bad_major.error();

  const auto bad_tx = Registry::from_json(one_beacon(R"(,"tx_power":0)"));
  ASSERT_FALSE(bad_tx.ok());
  EXPECT_NE(bad_tx.error().find("tx_power"), std::string::npos) << bad_tx.error();

  const auto bad_status = Registry::from_json(
      one_beacon("").replace(one_beacon("").find("\"active\""), 8, "\"broken\""));
  ASSERT_FALSE(bad_status.ok());
  EXPECT_NE(bad_status.error().find("status"), std::string::npos) << bad_status.error();

  EXPECT_FALSE(Registry::from_json("[]").ok());
  EXPECT_FALSE(Registry::from_json("{}").ok());
}

TEST(Registry, OneLocationMayHaveSeveralBeaconsButOnlyOneType) {
  const std::string same_type =
      R"({"beacons":[)"
      R"({"beacon_id":"16a0a3a7-7a0a-558a-8314-95b5dcb6d404","uuid":"550e8400-e29b-41d4-a716-446655440000","major":1,"minor":1,"store_id":"s","location":{"name":"A","type":"table"},"status":"active"},)"
      R"({"beacon_id":"26a0a3a7-7a0a-558a-8314-95b5dcb6d404","uuid":"550e8400-e29b-41d4-a716-446655440000","major":1,"minor":2,"store_id":"s","location":{"name":"A","type":"table"},"status":"active"}]})";
  const auto registry = Registry::from_json(same_type);
  ASSERT_TRUE(registry.ok()) << registry.error();
  EXPECT_EQ((*registry)->locations().size(), 1u);

  std::string other_type = same_type;
  other_type.replace(other_type.rfind("\"table\""), 7, "\"counter\"");
  EXPECT_FALSE(Registry::from_json(other_type).ok());
}

}  // namespace
}  // namespace tastesync
