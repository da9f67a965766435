// What both location models (Scorer, score.model radius; LocationFilter, score.model filter)
// must do alike; each model's own behaviour is tested beside it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stages/location_filter.hpp"
#include "stages/score.hpp"
#include "stages/scoring_test_fixture.hpp"

namespace tastesync {
namespace {

using stage_testing::kT0;

template <typename Model>
using ScoringModelTest = stage_testing::ScoringTest<Model>;
using Models = ::testing::Types<Scorer, LocationFilter>;
TYPED_TEST_SUITE(ScoringModelTest, Models);

TYPED_TEST(ScoringModelTest, SingleStrongUnambiguousReadingIdentifiesAtOnce) {
  const auto identification = this->hear(13, -50, kT0);
  ASSERT_TRUE(identification.ok());
  EXPECT_EQ(identification->location->name, "Table 3");
  EXPECT_GE(identification->confidence, 0.8);
  EXPECT_EQ(identification->rssi_dbm, -50);
}

TYPED_TEST(ScoringModelTest, NearestOfTwoTablesWins) {
  for (int s = 0; s < 4; ++s) {
    (void)this->hear(14, -70, kT0 + s * 1000);
    const auto identification = this->hear(13, -53, kT0 + s * 1000 + 300);
    if (s == 3) {
      ASSERT_TRUE(identification.ok());
      EXPECT_EQ(identification->location->name, "Table 3");
    }
  }
}

TYPED_TEST(ScoringModelTest, CustomerBetweenTwoTablesIsNotIdentified) {
  const auto names = this->alternate(13, -65, 14, -65, kT0, 20);
  EXPECT_TRUE(names.empty());
}

TYPED_TEST(ScoringModelTest, WeakFarSignalNeverIdentifies) {
  for (int s = 0; s < 10; ++s) {
    EXPECT_FALSE(this->hear(13, -88, kT0 + s * 1000).ok());
  }
}

TYPED_TEST(ScoringModelTest, NoiseBetweenNeighbouringTablesNeverFlaps) {
  // Sitting at Table 3 (-51, about 0.4 m), Table 4 two metres away (-65): noise pushes Table 4
  // ahead now and then, for a reading or two.
  const int table_3[] = {-50, -53, -47, -55, -49, -51, -60, -48, -50, -52, -49, -54};
  const int table_4[] = {-66, -59, -68, -57, -65, -69, -58, -67, -64, -59, -68, -66};
  std::vector<std::string> identified;
  for (int round = 0; round < 5; ++round) {
    for (int s = 0; s < 12; ++s) {
      const EpochMs t = kT0 + (round * 12 + s) * 1000;
      for (const auto& [minor, rssi, offset] :
           {std::tuple{13, table_3[s], 0}, std::tuple{14, table_4[s], 400}}) {
        const auto result = this->hear(static_cast<std::uint16_t>(minor), rssi, t + offset);
        if (result.ok()) {
          if (identified.empty() || identified.back() != result->location->name) {
            identified.push_back(result->location->name);
          }
          this->emitted(*result, t + offset);
        }
      }
    }
  }
  ASSERT_FALSE(identified.empty());
  EXPECT_EQ(identified.front(), "Table 3");
  EXPECT_EQ(identified.size(), 1u) << "flapped to " << identified.back();
}

TYPED_TEST(ScoringModelTest, RegistryTxPowerWinsOverThePhones) {
  // The entrance is calibrated at -62 dBm: -60 is closer than 1 m whatever the phone claims.
  const auto identification = this->hear(1, -60, kT0, -30);
  ASSERT_TRUE(identification.ok());
  EXPECT_EQ(identification->location->name, "Entrance");
}

TYPED_TEST(ScoringModelTest, PhoneTxPowerIsUsedWhenTheRegistryHasNone) {
  const auto registry = Registry::from_json(
      R"({"beacons":[{"beacon_id":"16a0a3a7-7a0a-558a-8314-95b5dcb6d404",)"
      R"("uuid":"550e8400-e29b-41d4-a716-446655440000","major":100,"minor":13,)"
      R"("store_id":"store100","location":{"name":"Table 3","type":"table"},"status":"active"}]})");
  ASSERT_TRUE(registry.ok());
  this->registry_ = *registry;
  // -70 dBm is 3.5 m away with the default -59, but 0.35 m away with the phone's -79.
  EXPECT_FALSE(this->hear(13, -70, kT0).ok());
  this->state_ = CustomerState{};
  EXPECT_TRUE(this->hear(13, -70, kT0, -79).ok());
}

TYPED_TEST(ScoringModelTest, TracksSilentBeyondTheirMemoryAreForgotten) {
  (void)this->hear(14, -52, kT0);
  (void)this->hear(13, -52, kT0 + 30001);
  EXPECT_EQ(this->state_.tracks.size(), 1u);
}

}  // namespace
}  // namespace tastesync
