#include "tools/sim/nearest_beacon.hpp"

#include <gtest/gtest.h>

namespace tastesync::sim {
namespace {

TEST(NearestBeaconBaseline, FirstScanIsAnArrival) {
  NearestBeaconBaseline baseline(2);
  const auto event = baseline.on_scan(1, 1000, 7);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->customer, 1u);
  EXPECT_EQ(event->detected_at_ms, 1000);
  EXPECT_EQ(event->location_index, 7u);
  EXPECT_EQ(event->kind, IdentificationKind::arrival);
}

TEST(NearestBeaconBaseline, SameLoudestLocationEmitsNothing) {
  NearestBeaconBaseline baseline(1);
  baseline.on_scan(0, 1000, 7);
  EXPECT_FALSE(baseline.on_scan(0, 2000, 7).has_value());
}

TEST(NearestBeaconBaseline, EveryChangeIsAMoveEvenBackAgain) {
  NearestBeaconBaseline baseline(1);
  baseline.on_scan(0, 1000, 7);
  const auto away = baseline.on_scan(0, 2000, 8);
  const auto back = baseline.on_scan(0, 3000, 7);
  ASSERT_TRUE(away && back);
  EXPECT_EQ(away->kind, IdentificationKind::move);
  EXPECT_EQ(back->location_index, 7u);
}

TEST(NearestBeaconBaseline, CustomersAreIndependent) {
  NearestBeaconBaseline baseline(2);
  baseline.on_scan(0, 1000, 7);
  const auto other = baseline.on_scan(1, 1000, 7);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->kind, IdentificationKind::arrival);
}

}  // namespace
}  // namespace tastesync::sim
