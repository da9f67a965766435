#include "score.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

namespace tastesync {
namespace {

constexpr EpochMs kT0 = 1740916800000;
constexpr double kNone = std::numeric_limits<double>::infinity();

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
                                          std::optional<int> tx_power = std::nullopt,
                                          std::string_view platform = {}) {
    Sighting sighting;
    sighting.sighting_id = "s";
    sighting.customer_id = "cust";
    sighting.beacon.uuid = *parse_uuid("550e8400-e29b-41d4-a716-446655440000");
    sighting.beacon.major = 100;
    sighting.beacon.minor = minor;
    sighting.beacon.rssi_dbm = rssi;
    sighting.beacon.tx_power_dbm = tx_power;
    sighting.detected_at_ms = t_ms;
    sighting.platform = platform;
    const auto resolved = Resolver(registry_).resolve(sighting);
    EXPECT_TRUE(resolved.ok());
    state_.last_activity_ms = std::max(state_.last_activity_ms, t_ms);
    return scorer_.score_beacon(state_, sighting, *resolved, *registry_);
  }

  // What dedupe records when an identification is emitted: the hysteresis' current location.
  void emitted(const Identification& identification, EpochMs t_ms) {
    state_.last_emitted =
        LastIdentification{identification.location->store_id, identification.location->name, t_ms};
  }

  // Readings of two beacons once a second, `seconds` long; returns the identifications.
  std::vector<std::string> alternate(std::uint16_t a, int rssi_a, std::uint16_t b, int rssi_b,
                                     EpochMs start_ms, int seconds) {
    std::vector<std::string> identified;
    for (int s = 0; s < seconds; ++s) {
      for (const auto& [minor, rssi, offset] :
           {std::tuple{a, rssi_a, 0}, std::tuple{b, rssi_b, 300}}) {
        const EpochMs t = start_ms + s * 1000 + offset;
        const auto result = hear(minor, rssi, t);
        if (result.ok()) {
          identified.push_back(result->location->name);
          emitted(*result, t);
        }
      }
    }
    return identified;
  }

  std::shared_ptr<const Registry> registry_ = fixture_registry();
  Scorer scorer_;
  CustomerState state_;
};

TEST_F(ScoreTest, DistanceFollowsTheLogDistanceModel) {
  EXPECT_NEAR(scorer_.distance_m(-59, -59), 1.0, 1e-12);
  EXPECT_NEAR(scorer_.distance_m(-79, -59), 10.0, 1e-9);
  EXPECT_NEAR(Scorer(ScoreOptions{.path_loss_exponent = 4.0}).distance_m(-79, -59), std::sqrt(10.0),
              1e-9);
}

TEST_F(ScoreTest, ProximityClassesFollowApple) {
  EXPECT_EQ(scorer_.proximity(0.3), Proximity::immediate);
  EXPECT_EQ(scorer_.proximity(1.5), Proximity::near);
  EXPECT_EQ(scorer_.proximity(5.0), Proximity::far);
}

TEST_F(ScoreTest, FilterStartsAtTheFirstReadingWithTheMeasurementVariance) {
  BeaconTrack track;
  scorer_.filter(track, kT0, -60);
  EXPECT_FLOAT_EQ(track.rssi_dbm, -60.0F);
  EXPECT_FLOAT_EQ(track.variance, 36.0F);
  EXPECT_EQ(track.readings, 1);
}

TEST_F(ScoreTest, FilterConvergesAndItsVarianceShrinks) {
  BeaconTrack track;
  const int readings[] = {-60, -54, -58, -62, -57, -59, -61, -56};
  double previous_variance = 1e9;
  for (int i = 0; i < 8; ++i) {
    scorer_.filter(track, kT0 + i * 1000, readings[i]);
    EXPECT_LE(track.variance, previous_variance + 2.0 * 1.0);  // drift adds at most q dt
    previous_variance = track.variance;
  }
  EXPECT_NEAR(track.rssi_dbm, -58.4, 2.0);
  EXPECT_LT(track.variance, 12.0F);
}

TEST_F(ScoreTest, FilterClipsAnOutlierInsteadOfFollowingIt) {
  BeaconTrack track;
  for (int i = 0; i < 5; ++i) scorer_.filter(track, kT0 + i * 1000, -58);
  const float before = track.rssi_dbm;
  scorer_.filter(track, kT0 + 5000, -90);  // a body-blocked reading
  EXPECT_GT(track.rssi_dbm, before - 8.0F) << "one outlier moved the estimate too far";
  EXPECT_LT(track.rssi_dbm, before);
}

TEST_F(ScoreTest, FilterFollowsARealChangeWithinAFewReadings) {
  BeaconTrack track;
  for (int i = 0; i < 5; ++i) scorer_.filter(track, kT0 + i * 1000, -75);
  for (int i = 5; i < 10; ++i) scorer_.filter(track, kT0 + i * 1000, -55);
  EXPECT_GT(track.rssi_dbm, -62.0F);
}

TEST_F(ScoreTest, FilterToleratesOutOfOrderReadingsWithoutDrift) {
  BeaconTrack track;
  scorer_.filter(track, kT0 + 2000, -60);
  const float variance = track.variance;
  scorer_.filter(track, kT0 + 1000, -60);  // older: folded in, no process noise
  EXPECT_LT(track.variance, variance);
  EXPECT_EQ(track.newest_ms, kT0 + 2000);
}

TEST_F(ScoreTest, FilterRestartsAfterASilenceLongerThanTheWindow) {
  BeaconTrack track;
  for (int i = 0; i < 5; ++i) scorer_.filter(track, kT0 + i * 1000, -70);
  scorer_.filter(track, kT0 + 4000 + 6001, -50);
  EXPECT_FLOAT_EQ(track.rssi_dbm, -50.0F);
  EXPECT_EQ(track.readings, 1);
}

TEST_F(ScoreTest, ConfidenceIsBoundedAndMonotone) {
  double previous = 2.0;
  for (double distance = 0.1; distance < 30; distance *= 1.3) {
    const double c = scorer_.confidence(distance, 1.0, 3, 10.0, kNone, 0.0);
    EXPECT_GE(c, 0.0);
    EXPECT_LE(c, 1.0);
    EXPECT_LE(c, previous) << "farther must never be more confident, at " << distance;
    previous = c;
  }
  previous = -1.0;
  for (double runner_up = 1.0; runner_up < 50; runner_up *= 1.3) {
    const double c = scorer_.confidence(1.0, 1.0, 3, 10.0, runner_up, 10.0);
    EXPECT_GE(c, previous) << "a farther runner-up must never lower confidence";
    previous = c;
  }
  previous = -1.0;
  for (int readings = 1; readings < 10; ++readings) {
    const double c = scorer_.confidence(0.8, 1.0, readings, 10.0, 3.0, 10.0);
    EXPECT_GE(c, previous) << "more readings must never lower confidence";
    previous = c;
  }
  previous = 2.0;
  for (double variance = 1.0; variance < 100; variance *= 1.5) {
    const double c = scorer_.confidence(0.8, 1.0, 5, variance, 2.0, variance);
    EXPECT_LE(c, previous) << "noisier estimates must never raise confidence";
    previous = c;
  }
}

TEST_F(ScoreTest, ConfidenceOfIndistinguishableLocationsIsZero) {
  EXPECT_DOUBLE_EQ(scorer_.confidence(1.0, 1.0, 5, 10.0, 1.0, 10.0), 0.0);
}

TEST_F(ScoreTest, ConfidenceWithoutARunnerUpDependsOnCloseAndSureOnly) {
  EXPECT_DOUBLE_EQ(scorer_.confidence(0.5, 1.0, 1, 36.0, kNone, 0.0), 0.9);
  EXPECT_DOUBLE_EQ(scorer_.confidence(2.0, 1.0, 1, 36.0, kNone, 0.0), 0.9 * 0.25);
}

TEST_F(ScoreTest, SingleStrongUnambiguousReadingIdentifiesAtOnce) {
  const auto identification = hear(13, -50, kT0);
  ASSERT_TRUE(identification.ok());
  EXPECT_EQ(identification->location->name, "Table 3");
  EXPECT_GE(identification->confidence, 0.8);
  EXPECT_EQ(identification->rssi_dbm, -50);
}

TEST_F(ScoreTest, NearestOfTwoTablesWins) {
  for (int s = 0; s < 4; ++s) {
    (void)hear(14, -70, kT0 + s * 1000);
    const auto identification = hear(13, -53, kT0 + s * 1000 + 300);
    if (s == 3) {
      ASSERT_TRUE(identification.ok());
      EXPECT_EQ(identification->location->name, "Table 3");
    }
  }
}

TEST_F(ScoreTest, CustomerBetweenTwoTablesIsNotIdentified) {
  const auto names = alternate(13, -65, 14, -65, kT0, 20);
  EXPECT_TRUE(names.empty());
}

TEST_F(ScoreTest, WeakFarSignalNeverIdentifies) {
  for (int s = 0; s < 10; ++s) {
    EXPECT_FALSE(hear(13, -88, kT0 + s * 1000).ok());
  }
}

TEST_F(ScoreTest, AMoveNeedsTheDwellButTheFirstIdentificationDoesNot) {
  const auto first = hear(1, -55, kT0);  // the entrance, at once
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->location->name, "Entrance");
  emitted(*first, kT0);
  // Then Table 3 is clearly nearest: pending for the dwell, then a move.
  std::vector<std::string> identified;
  std::optional<EpochMs> moved_at;
  for (int s = 1; s <= 6 && !moved_at; ++s) {
    (void)hear(1, -80, kT0 + s * 1000);
    const auto result = hear(13, -52, kT0 + s * 1000 + 200);
    if (result.ok() && result->location->name == "Table 3") moved_at = kT0 + s * 1000 + 200;
  }
  ASSERT_TRUE(moved_at.has_value()) << "entrance to table never became a move";
  EXPECT_GE(*moved_at - kT0 - 1200, 2000) << "moved before the dwell";
  EXPECT_LE(*moved_at - kT0, 5000) << "entrance to table must still be quick";
}

TEST_F(ScoreTest, NoiseBetweenNeighbouringTablesNeverFlaps) {
  // Sitting at Table 3 (-58 at ~1 m), Table 4 two metres away (-64 at 2 m): noise pushes Table 4
  // ahead now and then, for a reading or two.
  const int table_3[] = {-58, -61, -55, -63, -57, -59, -66, -56, -58, -60, -57, -62};
  const int table_4[] = {-64, -58, -66, -59, -63, -67, -60, -65, -62, -57, -66, -64};
  std::vector<std::string> identified;
  for (int round = 0; round < 5; ++round) {
    for (int s = 0; s < 12; ++s) {
      const EpochMs t = kT0 + (round * 12 + s) * 1000;
      for (const auto& [minor, rssi, offset] :
           {std::tuple{13, table_3[s], 0}, std::tuple{14, table_4[s], 400}}) {
        const auto result = hear(static_cast<std::uint16_t>(minor), rssi, t + offset);
        if (result.ok()) {
          if (identified.empty() || identified.back() != result->location->name) {
            identified.push_back(result->location->name);
          }
          emitted(*result, t + offset);
        }
      }
    }
  }
  ASSERT_FALSE(identified.empty());
  EXPECT_EQ(identified.front(), "Table 3");
  EXPECT_EQ(identified.size(), 1u) << "flapped to " << identified.back();
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

TEST_F(ScoreTest, PlatformOffsetCorrectsAPhoneThatReadsLow) {
  scorer_ = Scorer(ScoreOptions{.rssi_offset_android_db = 12.0});
  EXPECT_FALSE(hear(13, -70, kT0, std::nullopt, "ios").ok());  // 3.5 m: not at the table
  state_ = CustomerState{};
  const auto android = hear(13, -70, kT0, std::nullopt, "android");  // -58 once corrected
  ASSERT_TRUE(android.ok());
  EXPECT_EQ(android->rssi_dbm, -70) << "the event reports the raw reading";
}

TEST_F(ScoreTest, ABeaconsOwnRadiusWinsOverItsLocationType) {
  auto registry = Registry::from_json(
      R"({"beacons":[{"beacon_id":"16a0a3a7-7a0a-558a-8314-95b5dcb6d404",)"
      R"("uuid":"550e8400-e29b-41d4-a716-446655440000","major":100,"minor":13,"tx_power":-59,)"
      R"("radius_m":4.0,"store_id":"store100","location":{"name":"Big table","type":"table"},)"
      R"("status":"active"}]})");
  ASSERT_TRUE(registry.ok()) << registry.error();
  registry_ = *registry;
  EXPECT_TRUE(hear(13, -70, kT0).ok()) << "3.5 m is inside a 4 m radius";
}

TEST_F(ScoreTest, TracksOfSilentBeaconsAreForgotten) {
  (void)hear(14, -52, kT0);
  (void)hear(13, -52, kT0 + 6001);
  EXPECT_EQ(state_.tracks.size(), 1u);
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
