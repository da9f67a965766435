#include "stages/room_levels.hpp"

#include <gtest/gtest.h>

namespace tastesync {
namespace {

Uuid beacon(std::uint8_t n) {
  Uuid id{};
  id[15] = n;
  id[0] = static_cast<std::uint8_t>(n * 7);
  return id;
}

TEST(RoomLevels, TheFirstScanSetsTheLevelAndLaterOnesAverage) {
  RoomLevels room;
  EXPECT_EQ(room.find(beacon(1)), nullptr);
  room.learn(beacon(1), -60.0, 1000);
  ASSERT_NE(room.find(beacon(1)), nullptr);
  EXPECT_FLOAT_EQ(room.find(beacon(1))->level_dbm, -60.0F);
  room.learn(beacon(1), -64.0, 2000);
  room.learn(beacon(1), -62.0, 3000);
  EXPECT_FLOAT_EQ(room.find(beacon(1))->level_dbm, -62.0F);
  EXPECT_FLOAT_EQ(room.find(beacon(1))->samples, 3.0F);
  EXPECT_EQ(room.find(beacon(1))->updated_ms, 3000);
}

TEST(RoomLevels, ABeaconMovedIsRelearntBecauseOldScansStopCountingInFull) {
  RoomLevels room;
  for (int i = 0; i < 1000; ++i) room.learn(beacon(1), -60.0, i);
  EXPECT_FLOAT_EQ(room.find(beacon(1))->samples, RoomLevels::kMaxSamples);
  // Ten times the cap's worth of scans at the new level bring it within a tenth of a dB.
  for (int i = 0; i < 10 * static_cast<int>(RoomLevels::kMaxSamples); ++i) {
    room.learn(beacon(1), -70.0, 1000 + i);
  }
  EXPECT_NEAR(room.find(beacon(1))->level_dbm, -70.0, 0.1);
}

TEST(RoomLevels, AnOutOfOrderScanNeverMovesTheLastUpdateBack) {
  RoomLevels room;
  room.learn(beacon(1), -60.0, 5000);
  room.learn(beacon(1), -60.0, 4000);
  EXPECT_EQ(room.find(beacon(1))->updated_ms, 5000);
}

TEST(RoomLevels, BeyondTheCapTheBeaconUpdatedLongestAgoGivesWay) {
  RoomLevels room;
  for (std::size_t i = 0; i < RoomLevels::kMaxBeacons; ++i) {
    Uuid id{};
    id[0] = static_cast<std::uint8_t>(i >> 8);
    id[1] = static_cast<std::uint8_t>(i);
    id[2] = 1;
    room.learn(id, -60.0, 10000 + static_cast<EpochMs>(i));
  }
  Uuid first{};
  first[2] = 1;
  ASSERT_NE(room.find(first), nullptr);
  room.learn(beacon(200), -61.0, 1'000'000);
  EXPECT_EQ(room.size(), RoomLevels::kMaxBeacons);
  EXPECT_EQ(room.find(first), nullptr);
  EXPECT_NE(room.find(beacon(200)), nullptr);
}

TEST(RoomLevels, AStoredLevelIsRestoredAsItWas) {
  RoomLevels room;
  const LearnedLevel stored{-58.5F, 12.0F, 777};
  room.insert(beacon(3), stored);
  ASSERT_NE(room.find(beacon(3)), nullptr);
  EXPECT_EQ(*room.find(beacon(3)), stored);
}

}  // namespace
}  // namespace tastesync
