#include "tools/sim/radio_model.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace tastesync::sim {
namespace {

constexpr int kTxPowerDbm = -59;
constexpr int kSamples = 20000;

struct Stats {
  double mean = 0.0;
  double sd = 0.0;
  double heard_share = 0.0;
};

// Scans `kSamples` independent links at `distance_m` (a fresh link each time, so the
// position-dependent part is drawn anew too).
Stats sample(const RadioModel& radio, double distance_m, std::uint64_t seed = 7) {
  Rng rng(seed);
  std::vector<double> values;
  for (int i = 0; i < kSamples; ++i) {
    LinkState link;
    const auto rssi = radio.scan(link, kTxPowerDbm, distance_m, Point{}, 1000 * i, {}, rng);
    if (rssi) values.push_back(*rssi);
  }
  Stats stats;
  stats.heard_share = static_cast<double>(values.size()) / kSamples;
  for (const double v : values) stats.mean += v / static_cast<double>(values.size());
  for (const double v : values) {
    stats.sd += (v - stats.mean) * (v - stats.mean) / static_cast<double>(values.size() - 1);
  }
  stats.sd = std::sqrt(stats.sd);
  return stats;
}

RadioOptions always_heard(double sigma_db) {
  RadioOptions options;
  options.sigma_db = sigma_db;
  options.detect_near = 1.0;
  options.detect_half_m = 1e6;
  return options;
}

TEST(RadioModel, MeanFollowsTheLogDistanceModel) {
  const RadioModel radio(always_heard(0.0));
  EXPECT_DOUBLE_EQ(radio.mean_rssi_dbm(kTxPowerDbm, 1.0), -59.0);
  EXPECT_DOUBLE_EQ(radio.mean_rssi_dbm(kTxPowerDbm, 10.0), -79.0);
}

TEST(RadioModel, SampleMeanFallsSixDbPerDoublingOfDistance) {
  const RadioModel radio(always_heard(6.0));
  double previous = sample(radio, 1.0).mean;
  EXPECT_NEAR(previous, -59.0, 0.2);
  for (const double d : {2.0, 4.0, 8.0}) {
    const double mean = sample(radio, d).mean;
    EXPECT_NEAR(previous - mean, 6.02, 0.25) << "at " << d << " m";
    previous = mean;
  }
}

TEST(RadioModel, ReadingsScatterWithSigma) {
  for (const double sigma : {4.0, 8.0}) {
    // Rounding to whole dBm adds 1/12 dB^2 of variance.
    EXPECT_NEAR(sample(RadioModel(always_heard(sigma)), 2.0).sd,
                std::sqrt(sigma * sigma + 1.0 / 12.0), 0.12)
        << "sigma " << sigma;
  }
}

TEST(RadioModel, SlowShareSplitsTheVarianceWithoutChangingIt) {
  RadioOptions options = always_heard(6.0);
  options.slow_share = 0.6;
  EXPECT_NEAR(sample(RadioModel(options), 2.0).sd, 6.0, 0.15);
}

TEST(RadioModel, SlowShadowingStaysWhileThePhoneStays) {
  RadioOptions options = always_heard(6.0);
  options.slow_share = 1.0;
  options.slow_corr_s = 1e9;
  const RadioModel radio(options);
  Rng rng(3);
  LinkState link;
  const int first = *radio.scan(link, kTxPowerDbm, 2.0, Point{1, 1}, 0, {}, rng);
  for (int i = 1; i < 30; ++i) {
    // Equal but for rounding: a fresh draw would scatter by 6 dB.
    EXPECT_NEAR(*radio.scan(link, kTxPowerDbm, 2.0, Point{1, 1}, 1000 * i, {}, rng), first, 1);
  }
}

TEST(RadioModel, NearBeaconIsHeardInTheConfiguredShareOfScans) {
  RadioOptions options = always_heard(4.0);
  options.detect_near = 0.6;
  options.detect_half_m = 10.0;
  const RadioModel radio(options);
  EXPECT_NEAR(sample(radio, 1.5).heard_share, 0.6, 0.015);
  EXPECT_NEAR(sample(radio, 10.0).heard_share, 0.3, 0.015);
  EXPECT_LT(sample(radio, 14.0).heard_share, 0.1);
}

TEST(RadioModel, PhoneHearsInItsOwnShareOfScans) {
  RadioOptions options = always_heard(4.0);
  options.detect_near = 0.6;
  const RadioModel radio(options);
  Rng rng(9);
  int heard = 0;
  for (int i = 0; i < kSamples; ++i) {
    LinkState link;
    heard += radio.scan(link, kTxPowerDbm, 1.5, Point{}, 1000 * i, PhoneRadio{0.0, 0.5}, rng)
                 .has_value();
  }
  EXPECT_NEAR(static_cast<double>(heard) / kSamples, 0.5, 0.015);
}

TEST(RadioModel, RealTxPowerNeedNotBeWhole) {
  const RadioModel radio(always_heard(0.0));
  EXPECT_DOUBLE_EQ(radio.mean_rssi_dbm(-61.5, 1.0), -61.5);
}

TEST(RadioModel, ReadingsBelowTheFloorAreNotReported) {
  const RadioModel radio(always_heard(0.0));
  Rng rng(1);
  LinkState link;
  // -59 - 20 log10(200) = -105 dBm
  EXPECT_FALSE(radio.scan(link, kTxPowerDbm, 200.0, Point{}, 0, {}, rng).has_value());
  EXPECT_EQ(radio.scan(link, kTxPowerDbm, 10.0, Point{}, 1000, {}, rng), -79);
}

TEST(RadioModel, PhoneOffsetShiftsEveryReading) {
  const RadioModel radio(always_heard(0.0));
  Rng rng(1);
  LinkState link;
  EXPECT_EQ(radio.scan(link, kTxPowerDbm, 1.0, Point{}, 0, PhoneRadio{-4.0, std::nullopt}, rng),
            -63);
}

TEST(RadioModel, BodyBlockingLowersTheSignalForAWhile) {
  RadioOptions options = always_heard(0.0);
  options.blocking_per_min = 6.0;  // an episode every 10 s on average, 2-6 s long
  const RadioModel radio(options);
  Rng rng(5);
  LinkState link;
  int blocked = 0;
  int deepest = 0;
  for (int i = 0; i < 6000; ++i) {
    const int rssi = *radio.scan(link, kTxPowerDbm, 1.0, Point{}, 1000 * i, {}, rng);
    blocked += rssi < -59;
    deepest = std::max(deepest, -59 - rssi);
  }
  // Blocked about 4 s of every 14: ~29 % of scans, never deeper than 15 dB.
  EXPECT_NEAR(blocked / 6000.0, 0.29, 0.05);
  EXPECT_LE(deepest, 15);
  EXPECT_GE(deepest, 13);
}

}  // namespace
}  // namespace tastesync::sim
