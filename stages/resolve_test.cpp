#include "stages/resolve.hpp"

#include <gtest/gtest.h>

#include "stages/stages_test_support.hpp"

namespace tastesync {
namespace {

using stage_testing::fixture_registry;

Sighting beacon_sighting(std::uint16_t major, std::uint16_t minor) {
  Sighting sighting;
  sighting.source = Source::beacon;
  sighting.beacon.uuid = *parse_uuid("550e8400-e29b-41d4-a716-446655440000");
  sighting.beacon.major = major;
  sighting.beacon.minor = minor;
  return sighting;
}

const BeaconEntry* find_by_status(const Registry& registry, EntryStatus status) {
  for (const BeaconEntry& beacon : registry.beacons()) {
    if (beacon.status == status) return &beacon;
  }
  return nullptr;
}

TEST(Resolve, ActiveBeaconResolvesToItsLocation) {
  const Resolver resolver(fixture_registry());
  const auto resolved = resolver.resolve(beacon_sighting(100, 13));
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->location->name, "Table 3");
  EXPECT_EQ(resolved->location->store_id, "store100");
  ASSERT_NE(resolved->beacon, nullptr);
  EXPECT_EQ(format_uuid_string(resolved->beacon->beacon_id),
            "bc0c82d4-d881-5fe0-a68c-3ed7c3562715");
}

TEST(Resolve, UnknownBeaconIsACountedDrop) {
  const Resolver resolver(fixture_registry());
  const auto resolved = resolver.resolve(beacon_sighting(999, 1));
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(resolved.error(), DropReason::unknown_beacon);
}

TEST(Resolve, InactiveAndMaintenanceBeaconsAreDrops) {
  const auto registry = fixture_registry();
  const Resolver resolver(registry);
  for (const auto& [status, reason] :
       {std::pair{EntryStatus::inactive, DropReason::inactive_beacon},
        std::pair{EntryStatus::maintenance, DropReason::maintenance_beacon}}) {
    const BeaconEntry* beacon = find_by_status(*registry, status);
    ASSERT_NE(beacon, nullptr);
    Sighting sighting = beacon_sighting(beacon->major, beacon->minor);
    sighting.beacon.uuid = beacon->uuid;
    const auto resolved = resolver.resolve(sighting);
    ASSERT_FALSE(resolved.ok());
    EXPECT_EQ(resolved.error(), reason);
  }
}

TEST(Resolve, RegisteredQrCodeResolves) {
  const Resolver resolver(fixture_registry());
  Sighting sighting;
  sighting.source = Source::qr;
  sighting.qr_code = "TS-store100-T3";
  const auto resolved = resolver.resolve(sighting);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->location->name, "Table 3");
  EXPECT_EQ(resolved->beacon, nullptr);
  sighting.qr_code = "TS-unknown";
  const auto unknown = resolver.resolve(sighting);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error(), DropReason::unknown_qr);
}

TEST(Resolve, RegistryCanBeReplaced) {
  Resolver resolver(fixture_registry());
  const auto empty = Registry::from_json(R"({"beacons":[]})").value();
  resolver.set_registry(empty);
  EXPECT_EQ(resolver.resolve(beacon_sighting(100, 13)).error(), DropReason::unknown_beacon);
}

}  // namespace
}  // namespace tastesync
