#include "stages/score.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "stages/scoring_test_fixture.hpp"

namespace tastesync {
namespace {

using ScoreTest = stage_testing::ScoringTest<Scorer>;
using stage_testing::kT0;

TEST_F(ScoreTest, DistanceFollowsTheLogDistanceModel) {
  EXPECT_NEAR(model_.distance_m(-59, -59), 1.0, 1e-12);
  EXPECT_NEAR(model_.distance_m(-79, -59), 10.0, 1e-9);
  EXPECT_NEAR(Scorer(ScoreOptions{.path_loss_exponent = 4.0}).distance_m(-79, -59), std::sqrt(10.0),
              1e-9);
}

TEST_F(ScoreTest, ProximityClassesFollowApple) {
  EXPECT_EQ(model_.proximity(0.3), Proximity::immediate);
  EXPECT_EQ(model_.proximity(1.5), Proximity::near);
  EXPECT_EQ(model_.proximity(5.0), Proximity::far);
}

// proximity_at is the classes of the distance without computing it: the same class for every
// reading a phone reports (filtered, so in steps finer than a dB) and every power, whatever the
// path-loss exponent, including the degenerate 0.
TEST_F(ScoreTest, ProximityAtGivesTheClassOfTheDistance) {
  for (const double exponent : {0.0, 1.6, 2.0, 3.5}) {
    const Scorer scorer(ScoreOptions{.path_loss_exponent = exponent});
    int checked = 0;
    for (int tx_power = -100; tx_power <= -1; ++tx_power) {
      for (double rssi = -100.0; rssi <= -1.0; rssi += 0.125) {
        ASSERT_EQ(scorer.proximity_at(rssi, tx_power),
                  scorer.proximity(scorer.distance_m(rssi, tx_power)))
            << "n " << exponent << ", rssi " << rssi << ", tx_power " << tx_power;
        ++checked;
      }
    }
    EXPECT_EQ(checked, 100 * 793);
  }
  // Each class is reached (n = 2: immediate more than 6 dB above the 1 m power, near down to
  // 9.5 dB below it).
  EXPECT_EQ(model_.proximity_at(-52.0, -59), Proximity::immediate);
  EXPECT_EQ(model_.proximity_at(-60.0, -59), Proximity::near);
  EXPECT_EQ(model_.proximity_at(-70.0, -59), Proximity::far);
}

TEST_F(ScoreTest, FilterStartsAtTheFirstReadingWithTheMeasurementVariance) {
  BeaconTrack track;
  model_.filter(track, kT0, -60);
  EXPECT_FLOAT_EQ(track.rssi_dbm, -60.0F);
  const double sigma = ScoreOptions{}.measurement_sigma_db;
  EXPECT_FLOAT_EQ(track.variance, static_cast<float>(sigma * sigma));
  EXPECT_EQ(track.readings, 1);
}

TEST_F(ScoreTest, FilterConvergesAndItsVarianceShrinks) {
  BeaconTrack track;
  const int readings[] = {-60, -54, -58, -62, -57, -59, -61, -56};
  double previous_variance = 1e9;
  for (int i = 0; i < 8; ++i) {
    model_.filter(track, kT0 + i * 1000, readings[i]);
    EXPECT_LE(track.variance, previous_variance + 2.0 * 1.0);  // drift adds at most q dt
    previous_variance = track.variance;
  }
  EXPECT_NEAR(track.rssi_dbm, -58.4, 2.0);
  EXPECT_LT(track.variance, 12.0F);
}

TEST_F(ScoreTest, FilterClipsAnOutlierInsteadOfFollowingIt) {
  BeaconTrack track;
  for (int i = 0; i < 5; ++i) model_.filter(track, kT0 + i * 1000, -58);
  const float before = track.rssi_dbm;
  model_.filter(track, kT0 + 5000, -90);  // a body-blocked reading
  EXPECT_GT(track.rssi_dbm, before - 8.0F) << "one outlier moved the estimate too far";
  EXPECT_LT(track.rssi_dbm, before);
}

TEST_F(ScoreTest, FilterFollowsARealChangeWithinAFewReadings) {
  BeaconTrack track;
  for (int i = 0; i < 5; ++i) model_.filter(track, kT0 + i * 1000, -75);
  for (int i = 5; i < 10; ++i) model_.filter(track, kT0 + i * 1000, -55);
  EXPECT_GT(track.rssi_dbm, -62.0F);
}

TEST_F(ScoreTest, FilterToleratesOutOfOrderReadingsWithoutDrift) {
  BeaconTrack track;
  model_.filter(track, kT0 + 2000, -60);
  const float variance = track.variance;
  model_.filter(track, kT0 + 1000, -60);  // older: folded in, no process noise
  EXPECT_LT(track.variance, variance);
  EXPECT_EQ(track.newest_ms, kT0 + 2000);
}

TEST_F(ScoreTest, FilterContinuesAcrossAShortSilenceWithItsVarianceGrown) {
  BeaconTrack track;
  for (int i = 0; i < 5; ++i) model_.filter(track, kT0 + i * 1000, -70);
  model_.filter(track, kT0 + 4000 + 10000, -50);  // ten silent seconds, then a jump
  EXPECT_LT(track.rssi_dbm, -55.0F) << "one reading after a gap must not weigh like many";
  EXPECT_GT(track.rssi_dbm, -70.0F);
  EXPECT_EQ(track.readings, 6);
}

TEST_F(ScoreTest, FilterRestartsAfterASilenceLongerThanItsMemory) {
  BeaconTrack track;
  for (int i = 0; i < 5; ++i) model_.filter(track, kT0 + i * 1000, -70);
  model_.filter(track, kT0 + 4000 + 30001, -50);
  EXPECT_FLOAT_EQ(track.rssi_dbm, -50.0F);
  EXPECT_EQ(track.readings, 1);
}

TEST_F(ScoreTest, AtProbabilityIsBoundedAndMonotone) {
  double previous = 2.0;
  for (double distance = 0.1; distance < 30; distance *= 1.3) {
    const double p = model_.at_probability(distance, 1.0, 10.0);
    EXPECT_GE(p, 0.0);
    EXPECT_LE(p, 1.0);
    EXPECT_LE(p, previous) << "farther must never be more likely at, at " << distance;
    previous = p;
  }
  EXPECT_NEAR(model_.at_probability(1.0, 1.0, 10.0), 0.5, 1e-12) << "on the radius: even odds";
  EXPECT_GT(model_.at_probability(2.0, 3.0, 10.0), model_.at_probability(2.0, 1.0, 10.0))
      << "a larger location holds the same distance more surely";
  previous = 2.0;
  for (double variance = 1.0; variance < 100; variance *= 1.5) {
    const double p = model_.at_probability(0.5, 1.0, variance);
    EXPECT_LE(p, previous) << "inside the radius, a noisier estimate must never be surer";
    previous = p;
  }
}

TEST_F(ScoreTest, MoreAgreeingReadingsNeverLowerTheConfidenceInside) {
  BeaconTrack track;
  double previous = -1.0;
  for (int i = 0; i < 8; ++i) {
    model_.filter(track, kT0 + i * 1000, -48);  // 0.28 m from a table's beacon
    const double p =
        model_.at_probability(model_.distance_m(track.rssi_dbm, -59), 1.0, track.variance);
    EXPECT_GE(p, previous) << "after " << i + 1 << " readings";
    previous = p;
  }
  EXPECT_GT(previous, 0.95);
}

TEST_F(ScoreTest, ConfidenceIsBoundedAndFallsWithEveryLikelyAlternative) {
  const double alone = Scorer::confidence(0.9, {});
  EXPECT_DOUBLE_EQ(alone, 0.9);
  const double one_unlikely[] = {0.05};
  const double one_likely[] = {0.6};
  const double two[] = {0.05, 0.6};
  EXPECT_LT(Scorer::confidence(0.9, one_unlikely), alone);
  EXPECT_LT(Scorer::confidence(0.9, one_likely), Scorer::confidence(0.9, one_unlikely));
  EXPECT_LT(Scorer::confidence(0.9, two), Scorer::confidence(0.9, one_likely));
  EXPECT_GE(Scorer::confidence(0.0, two), 0.0);
  EXPECT_LE(Scorer::confidence(1.0, {}), 1.0);
}

TEST_F(ScoreTest, ConfidenceRisesWithTheBestLocationsProbability) {
  const double others[] = {0.1, 0.3};
  double previous = -1.0;
  for (double p = 0.0; p <= 1.0; p += 0.05) {
    const double confidence = Scorer::confidence(p, others);
    EXPECT_GE(confidence, previous) << "at " << p;
    EXPECT_LE(confidence, p) << "alternatives never add to it";
    previous = confidence;
  }
  const double certain[] = {1.0};
  EXPECT_LT(Scorer::confidence(1.0, certain), 0.51) << "two certain locations: a coin toss";
}

TEST_F(ScoreTest, ConfidenceOfTwoEquallyLikelyLocationsIsLow) {
  const double same[] = {0.6};
  EXPECT_LT(Scorer::confidence(0.6, same), 0.5);
}

TEST_F(ScoreTest, AMoveNeedsTheDwellButTheFirstIdentificationDoesNot) {
  const auto first = hear(1, -55, kT0);  // the entrance, at once
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->location->name, "Entrance");
  emitted(*first, kT0);
  // Then Table 3 is clearly nearest: pending for the dwell, then a move.
  const ScoreOptions options;
  std::optional<EpochMs> moved_at;
  for (int s = 1; s <= 12 && !moved_at; ++s) {
    // Either reading may complete the move.
    for (const auto& [minor, rssi, offset] : {std::tuple{1, -80, 0}, std::tuple{13, -52, 200}}) {
      const EpochMs t = kT0 + s * 1000 + offset;
      const auto result = hear(static_cast<std::uint16_t>(minor), rssi, t);
      // (An entrance result is the customer still there, which dedupe suppresses.)
      if (result.ok() && result->location->name == "Table 3" && !moved_at) moved_at = t;
    }
  }
  ASSERT_TRUE(moved_at.has_value()) << "entrance to table never became a move";
  EXPECT_GE(*moved_at - kT0 - 1200, options.move_dwell_ms) << "moved before the dwell";
  // The entrance's filter needs a few readings to let go of -55 (a walk away fades the same
  // way); the move follows within the dwell of that.
  EXPECT_LE(*moved_at - kT0, 3000 + options.move_dwell_ms) << "entrance to table must be quick";
}

TEST_F(ScoreTest, PlatformOffsetCorrectsAPhoneThatReadsLow) {
  model_ = Scorer(ScoreOptions{.rssi_offset_android_db = 12.0});
  EXPECT_FALSE(hear(13, -62, kT0, std::nullopt, "ios").ok());  // 1.4 m: not at the table
  state_ = CustomerState{};
  const auto android = hear(13, -62, kT0, std::nullopt, "android");  // -50 once corrected
  ASSERT_TRUE(android.ok());
  EXPECT_EQ(android->rssi_dbm, -62) << "the event reports the raw reading";
}

TEST_F(ScoreTest, ABeaconsOwnRadiusWinsOverItsLocationType) {
  auto registry = Registry::from_json(
      R"({"beacons":[{"beacon_id":"16a0a3a7-7a0a-558a-8314-95b5dcb6d404",)"
      R"("uuid":"550e8400-e29b-41d4-a716-446655440000","major":100,"minor":13,"tx_power":-59,)"
      R"("radius_m":4.0,"store_id":"store100","location":{"name":"Big table","type":"table"},)"
      R"("status":"active"}]})");
  ASSERT_TRUE(registry.ok()) << registry.error();
  registry_ = *registry;
  EXPECT_TRUE(hear(13, -62, kT0).ok()) << "1.4 m is well inside a 4 m radius";
}

TEST_F(ScoreTest, ABeaconSilentForTheWindowNoLongerCounts) {
  (void)hear(14, -52, kT0);
  const auto identification = hear(13, -52, kT0 + 6001);
  ASSERT_TRUE(identification.ok()) << "Table 4, silent for the window, still competed";
  EXPECT_EQ(identification->location->name, "Table 3");
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
