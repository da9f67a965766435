#include "score.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

namespace tastesync {
namespace {

constexpr EpochMs kT0 = 1740916800000;

std::shared_ptr<const Registry> fixture_registry() {
  std::ifstream file(std::string(TASTESYNC_FIXTURES_DIR) + "/registry.json");
  std::ostringstream text;
  text << file.rdbuf();
  return Registry::from_json(text.str()).value();
}

class ScoreTest : public ::testing::Test {
 protected:
  // A reading of store100's beacon with this minor (1 entrance, 11..16 tables, 20 counter).
  Result<Identification, DropReason> hear(std::uint16_t minor, int rssi, EpochMs t_ms,
                                          std::optional<int> tx_power = std::nullopt) {
    Sighting sighting;
    sighting.sighting_id = "s";
    sighting.customer_id = "cust";
    sighting.beacon.uuid = *parse_uuid("550e8400-e29b-41d4-a716-446655440000");
    sighting.beacon.major = 100;
    sighting.beacon.minor = minor;
    sighting.beacon.rssi_dbm = rssi;
    sighting.beacon.tx_power_dbm = tx_power;
    sighting.detected_at_ms = t_ms;
    const auto resolved = Resolver(registry_).resolve(sighting);
    EXPECT_TRUE(resolved.ok());
    state_.last_activity_ms = std::max(state_.last_activity_ms, t_ms);
    return scorer_.score_beacon(state_, sighting, *resolved, *registry_);
  }

  std::shared_ptr<const Registry> registry_ = fixture_registry();
  Scorer scorer_;
  CustomerState state_;
};

TEST_F(ScoreTest, DistanceFollowsTheLogDistanceModel) {
  EXPECT_DOUBLE_EQ(scorer_.distance_m(-59, -59), 1.0);
  EXPECT_NEAR(scorer_.distance_m(-79, -59), 10.0, 1e-9);
  EXPECT_NEAR(Scorer(ScoreOptions{.path_loss_exponent = 4.0}).distance_m(-79, -59), std::sqrt(10.0),
              1e-9);
}

TEST_F(ScoreTest, ConfidenceIsBoundedAndMonotone) {
  double previous = 2.0;
  for (double distance = 0.1; distance < 30; distance *= 1.3) {
    const double c = scorer_.confidence(distance, 1.0, INFINITY, 3);
    EXPECT_GE(c, 0.0);
    EXPECT_LE(c, 1.0);
    EXPECT_LE(c, previous) << "farther must never be more confident, at " << distance;
    previous = c;
  }
  previous = -1.0;
  for (double runner_up = 1.0; runner_up < 50; runner_up *= 1.3) {
    const double c = scorer_.confidence(1.0, 1.0, runner_up, 3);
    EXPECT_GE(c, previous) << "a farther runner-up must never lower confidence";
    previous = c;
  }
  previous = -1.0;
  for (std::size_t samples = 1; samples < 10; ++samples) {
    const double c = scorer_.confidence(0.8, 1.0, 3.0, samples);
    EXPECT_GE(c, previous) << "more agreeing readings must never lower confidence";
    previous = c;
  }
  EXPECT_DOUBLE_EQ(scorer_.confidence(1.0, 1.0, 1.0, 5), 0.0);  // indistinguishable locations
}

TEST_F(ScoreTest, SingleStrongUnambiguousReadingIdentifiesAtOnce) {
  const auto identification = hear(13, -50, kT0);
  ASSERT_TRUE(identification.ok());
  EXPECT_EQ(identification->location->name, "Table 3");
  EXPECT_GE(identification->confidence, 0.8);
  EXPECT_EQ(identification->rssi_dbm, -50);
}

TEST_F(ScoreTest, NearestOfTwoTablesWins) {
  (void)hear(14, -72, kT0);
  const auto identification = hear(13, -52, kT0 + 500);
  ASSERT_TRUE(identification.ok());
  EXPECT_EQ(identification->location->name, "Table 3");
}

TEST_F(ScoreTest, CustomerBetweenTwoTablesIsNotIdentified) {
  (void)hear(13, -65, kT0);
  const auto identification = hear(14, -65, kT0 + 200);
  ASSERT_FALSE(identification.ok());
  EXPECT_EQ(identification.error(), DropReason::low_confidence);
}

TEST_F(ScoreTest, WeakFarSignalNeverIdentifies) {
  const auto identification = hear(13, -85, kT0);
  ASSERT_FALSE(identification.ok());
  EXPECT_EQ(identification.error(), DropReason::low_confidence);
}

TEST_F(ScoreTest, ReadingsOlderThanTheWindowNoLongerCount) {
  (void)hear(14, -52, kT0);
  const auto identification = hear(13, -52, kT0 + 5001);
  ASSERT_TRUE(identification.ok());
  EXPECT_EQ(identification->location->name, "Table 3");
  EXPECT_EQ(state_.tracks.size(), 1u);
}

TEST_F(ScoreTest, EventDescribesTheIdentifiedBeaconNotTheTriggeringOne) {
  (void)hear(13, -48, kT0);
  const auto identification = hear(14, -80, kT0 + 100);  // a faint neighbour triggers scoring
  ASSERT_TRUE(identification.ok());
  EXPECT_EQ(identification->location->name, "Table 3");
  EXPECT_EQ(identification->beacon->minor, 13);
  EXPECT_EQ(identification->rssi_dbm, -48);
}

TEST_F(ScoreTest, RegistryTxPowerWinsOverThePhones) {
  // The entrance is calibrated at -62 dBm: -60 is closer than 1 m whatever the phone claims.
  const auto identification = hear(1, -60, kT0, -30);
  ASSERT_TRUE(identification.ok());
  EXPECT_EQ(identification->location->name, "Entrance");
}

TEST_F(ScoreTest, PhoneTxPowerIsUsedWhenTheRegistryHasNone) {
  const auto registry = Registry::from_json(
      R"({"beacons":[{"beacon_id":"16a0a3a7-7a0a-558a-8314-95b5dcb6d404",)"
      R"("uuid":"550e8400-e29b-41d4-a716-446655440000","major":100,"minor":13,)"
      R"("store_id":"store100","location":{"name":"Table 3","type":"table"},"status":"active"}]})");
  ASSERT_TRUE(registry.ok());
  registry_ = *registry;
  // -70 dBm is 3.5 m away with the default -59, but 0.35 m away with the phone's -79.
  EXPECT_FALSE(hear(13, -70, kT0).ok());
  state_ = CustomerState{};
  EXPECT_TRUE(hear(13, -70, kT0, -79).ok());
}

TEST_F(ScoreTest, OutOfOrderReadingsAreKeptSorted) {
  (void)hear(13, -50, kT0 + 1000);
  (void)hear(13, -52, kT0);
  ASSERT_EQ(state_.tracks.size(), 1u);
  ASSERT_EQ(state_.tracks[0].sample_count, 2);
  EXPECT_LT(state_.tracks[0].samples[0].t_ms, state_.tracks[0].samples[1].t_ms);
}

TEST_F(ScoreTest, SamplesPerTrackAreBounded) {
  for (int i = 0; i < 40; ++i) (void)hear(13, -50, kT0 + i * 10);
  EXPECT_EQ(state_.tracks[0].sample_count, BeaconTrack::kMaxSamples);
}

TEST(RoundConfidence, RoundsHalfUpToThreeDecimals) {
  EXPECT_DOUBLE_EQ(round_confidence(0.8125), 0.813);
  EXPECT_DOUBLE_EQ(round_confidence(0.7995), 0.8);
  EXPECT_DOUBLE_EQ(round_confidence(0.79949), 0.799);
  EXPECT_DOUBLE_EQ(round_confidence(1.5), 1.0);
  EXPECT_DOUBLE_EQ(round_confidence(-0.1), 0.0);
}

}  // namespace
}  // namespace tastesync
