#include <gtest/gtest.h>

#include <cmath>

#include "tools/uji/calibration.hpp"
#include "tools/uji/evaluation.hpp"
#include "tools/uji/replay.hpp"
#include "tools/uji/uji_data.hpp"

namespace tastesync::uji {
namespace {

TEST(PathLossFit, RecoversTheModelFromSymmetricScatter) {
  // RSSI = -60 - 25 log10(d) exactly, each distance read once 3 dB above and once 3 dB below:
  // least squares gives A = -60, n = 2.5 and a 3 dB residual.
  std::vector<DistanceRssi> samples;
  for (int half_metres = 2; half_metres <= 20; ++half_metres) {
    const double d = half_metres / 2.0;
    const double rssi = -60.0 - 25.0 * std::log10(d);
    samples.push_back({d, rssi + 3.0});
    samples.push_back({d, rssi - 3.0});
  }
  samples.push_back({0.3, -20.0});  // at or below 0.5 m: not fitted, but "near"
  const auto fit = fit_path_loss(samples);
  ASSERT_TRUE(fit);
  EXPECT_EQ(fit->readings, 38u);
  EXPECT_NEAR(fit->rssi_at_1m_dbm, -60.0, 1e-9);
  EXPECT_NEAR(fit->exponent, 2.5, 1e-9);
  EXPECT_NEAR(fit->sigma_db, 3.0, 1e-9);
  // Within 1.5 m: -20, -57, -63 and 1.5 m's -64.4 +- 3: the median is 1.5 m's upper reading.
  ASSERT_TRUE(fit->median_near);
  EXPECT_NEAR(*fit->median_near, -60.0 - 25.0 * std::log10(1.5) + 3.0, 1e-9);
}

TEST(PathLossFit, NeedsTwoDistances) {
  EXPECT_FALSE(fit_path_loss({{2.0, -70.0}, {2.0, -72.0}}));
  EXPECT_FALSE(fit_path_loss({{0.2, -50.0}, {0.4, -52.0}}));
}

TEST(ScatterSplit, SeparatesTemporalFromPersistentScatter) {
  // Spot means +2, -2, +2, -2 (sd 2); each spot's four readings at mean +-1 (sample variance
  // 4/3). Persistent^2 = 4 - (4/3) / 4.
  std::vector<std::vector<double>> spots;
  for (double mean : {2.0, -2.0, 2.0, -2.0}) {
    spots.push_back({mean + 1.0, mean - 1.0, mean + 1.0, mean - 1.0});
  }
  spots.push_back({50.0, -50.0});  // fewer than three readings: left out
  const auto split = split_scatter(spots);
  ASSERT_TRUE(split);
  EXPECT_EQ(split->spots, 4u);
  EXPECT_NEAR(split->temporal_sigma_db, std::sqrt(4.0 / 3.0), 1e-12);
  EXPECT_NEAR(split->persistent_sigma_db, std::sqrt(4.0 - 1.0 / 3.0), 1e-12);
  EXPECT_FALSE(split_scatter({{1.0, 2.0, 3.0}}));
}

TEST(Quantile, InterpolatesBetweenOrderStatistics) {
  EXPECT_FALSE(quantile({}, 0.5));
  EXPECT_DOUBLE_EQ(*quantile({3.0, 1.0, 2.0, 4.0}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(*quantile({3.0, 1.0, 2.0, 4.0}, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(*quantile({3.0, 1.0, 2.0, 4.0}, 1.0), 4.0);
}

TEST(Csv, ParsesColumnsByNameWithEmptyTimesAndCrlf) {
  const auto scans = parse_scans(
      "zone,scan_id,phone,beacon_tx_dbm,campaign,point,sample,x_m,y_m,t_ms,beacons_seen\r\n"
      "lib,12200101,A5,-12,2,1,1,29.22,12.91,,0\r\n"
      "\r\n"
      "geo,11100102,S6,-4,1,1,2,1.5,2,1259,11\r\n");
  ASSERT_TRUE(scans) << scans.error();
  ASSERT_EQ(scans->size(), 2u);
  EXPECT_EQ((*scans)[0].scan_id, 12200101);
  EXPECT_EQ((*scans)[0].zone, "lib");
  EXPECT_EQ((*scans)[0].tx_dbm, -12);
  EXPECT_DOUBLE_EQ((*scans)[0].y_m, 12.91);
  EXPECT_FALSE((*scans)[0].t_ms);
  EXPECT_EQ((*scans)[1].phone, "S6");
  EXPECT_EQ((*scans)[1].t_ms, 1259);
  EXPECT_EQ((*scans)[1].beacons_seen, 11);

  const auto readings =
      parse_readings("scan_id,zone,beacon,t_ms,rssi,dist_m\n12200102,lib,23,116,-57,1.85\n");
  ASSERT_TRUE(readings) << readings.error();
  EXPECT_EQ((*readings)[0].beacon, "23");
  EXPECT_EQ((*readings)[0].rssi_dbm, -57);
  EXPECT_DOUBLE_EQ((*readings)[0].dist_m, 1.85);

  const auto beacons = parse_beacons("zone,beacon,x_m,y_m\nlib,23,30.5,14.25\ngeo,B7,12.145,0.6");
  ASSERT_TRUE(beacons) << beacons.error();
  EXPECT_DOUBLE_EQ((*beacons)[0].x_m, 30.5);
  EXPECT_EQ((*beacons)[1].beacon, "B7");
  EXPECT_EQ(location_name((*beacons)[0].beacon), "B23");
  EXPECT_EQ(location_name((*beacons)[1].beacon), "B7");
}

TEST(Csv, ErrorsNameTheLineAndColumn) {
  const auto bad = parse_readings("scan_id,zone,beacon,t_ms,rssi,dist_m\n1,lib,23,116,x,1\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), "line 2: rssi 'x' is not a number");
  const auto missing = parse_beacons("zone,beacon,x_m\nlib,1,2\n");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), "no column 'y_m'");
  const auto short_row = parse_beacons("zone,beacon,x_m,y_m\nlib,1,2\n");
  ASSERT_FALSE(short_row);
  EXPECT_EQ(short_row.error(), "line 2: 3 fields, the header has 4");
}

// Two beacons 4 m apart, RSSI = -55 - 20 log10(d) give or take 1 dB; a phone sits 0.5 m from the
// first for 6 scans (the first one empty), hearing it at -49/-50 dBm and the other at -65/-67.
Dataset two_tables() {
  Dataset d;
  d.beacons = {{"z", "1", 0.0, 0.0}, {"z", "B2", 4.0, 0.0}, {"other", "1", 9.0, 9.0}};
  std::int64_t id = 100;
  // Calibration walk of another "point" (campaign 9): exact readings at 1..8 m from beacon 1.
  for (int m = 1; m <= 8; ++m) {
    const std::int64_t t = std::int64_t{1000} * m;
    d.scans.push_back({id, "z", "P", -12, 9, 1, m, 0.0, 0.0, t, 1});
    d.readings.push_back({id, "z", "1", t,
                          static_cast<int>(std::lround(-55.0 - 20.0 * std::log10(m))),
                          static_cast<double>(m)});
    ++id;
  }
  d.scans.push_back({id++, "z", "P", -12, 1, 7, 1, 0.5, 0.0, std::nullopt, 0});
  for (int s = 2; s <= 6; ++s) {
    const std::int64_t t = 20000 + s * 1000;
    d.scans.push_back({id, "z", "P", -12, 1, 7, s, 0.5, 0.0, t, 2});
    d.readings.push_back({id, "z", "B2", t + 40, -65 - 2 * (s % 2), 3.5});
    d.readings.push_back({id, "z", "1", t + 10, -49 - (s % 2), 0.5});
    ++id;
  }
  return d;
}

TEST(PointTrials, GroupsAndOrdersTheReadingsOfAPoint) {
  const auto trials = point_trials(two_tables());
  ASSERT_EQ(trials.size(), 2u);                // the calibration walk + the sitting customer
  const PointTrial& sitting = trials.front();  // campaign 1 sorts first
  EXPECT_EQ(sitting.campaign, 1);
  EXPECT_EQ(sitting.point, 7);
  EXPECT_EQ(sitting.scans, 6);
  EXPECT_EQ(sitting.leading_empty_scans, 1);
  ASSERT_EQ(sitting.readings.size(), 10u);
  EXPECT_EQ(sitting.readings[0].beacon, "1");  // t + 10 before t + 40
  EXPECT_EQ(sitting.readings[0].t_ms, 22010);
}

TEST(Replay, TheNearestOfTwoTablesIsIdentifiedAtOnce) {
  const Dataset d = two_tables();
  const auto trials = point_trials(d);
  const auto registry = zone_registry(d.beacons, "z", -55);
  ASSERT_EQ(registry->beacons().size(), 2u);
  TopologyOptions radius;  // the model before issue 14: its first reading decides
  radius.score.model = ScoreModel::radius;
  const PointOutcome out = replay_point(trials.front(), d.beacons, registry, radius);
  EXPECT_EQ(out.nearest_beacon, "1");
  EXPECT_DOUBLE_EQ(out.nearest_m, 0.5);
  EXPECT_EQ(out.records, 10u);
  EXPECT_TRUE(out.dead_letters.empty());
  EXPECT_EQ(out.start_ms, 22010 - 1000);
  ASSERT_EQ(out.identifications.size(), 1u);  // no flapping, and no still_here within 60 s
  EXPECT_EQ(out.identifications[0].beacon, "1");
  EXPECT_EQ(out.identifications[0].t_ms, 22010);  // the first reading: strong and alone
  EXPECT_GE(out.identifications[0].confidence, 0.8);
  ASSERT_EQ(out.scored.size(), 10u);
  for (const Scored& s : out.scored) EXPECT_EQ(s.beacon, "1");
  EXPECT_TRUE(out.beliefs.empty()) << "only the location filter reports beliefs";
}

TEST(Replay, TheFilterNamesTheNearestOfTwoTablesAfterEveryReading) {
  const Dataset d = two_tables();
  const auto trials = point_trials(d);
  const auto registry = zone_registry(d.beacons, "z", -55);
  const PointOutcome out = replay_point(trials.front(), d.beacons, registry, TopologyOptions{});
  ASSERT_EQ(out.identifications.size(), 1u);  // no flapping, and no still_here within 60 s
  EXPECT_EQ(out.identifications[0].beacon, "1");
  EXPECT_LE(out.identifications[0].t_ms, 23010);  // within its second reading
  ASSERT_EQ(out.beliefs.size(), 10u);             // one per reading, emitted or not
  for (const Believed& b : out.beliefs) {
    EXPECT_EQ(b.beacon, "1");
    EXPECT_DOUBLE_EQ(b.distance_m, 0.5);
  }
  EXPECT_GE(out.beliefs.back().probability, 0.8);
}

TEST(Evaluate, CalibratesAndReportsTheKnownAnswer) {
  const auto evaluation = evaluate(two_tables(), EvaluationOptions{});
  ASSERT_TRUE(evaluation) << evaluation.error();
  ASSERT_EQ(evaluation->calibration.size(), 1u);
  EXPECT_EQ(evaluation->calibration[0].label, "z P -12");
  ASSERT_EQ(evaluation->runs.size(), 3u);
  EXPECT_EQ(evaluation->runs[0].name, "default");
  EXPECT_EQ(evaluation->runs[1].name, "calibrated");
  EXPECT_EQ(evaluation->runs[2].name, "pooled-A");
  for (const ModelRun& run : evaluation->runs) {
    ASSERT_EQ(run.totals.size(), 3u);
    const Summary& all = run.totals[0];
    EXPECT_EQ(all.points, 2u);
    EXPECT_TRUE(all.dead_letters.empty());
    EXPECT_GE(all.identified, 1u);
    EXPECT_EQ(all.flaps, 0u);
    ASSERT_EQ(run.groups.size(), 1u);
    EXPECT_EQ(run.groups[0].tx_power_dbm, -55);
  }
  // The calibration walk is exact except for rounding to whole dB.
  EXPECT_NEAR(evaluation->calibration[0].fit.exponent, 2.0, 0.05);
  EXPECT_NEAR(*evaluation->runs[1].groups[0].exponent, 2.0, 0.05);
  const std::string json = format_json(evaluation->calibration, evaluation->runs);
  EXPECT_NE(json.find(R"("model":"calibrated")"), std::string::npos);
  EXPECT_NE(format_text(evaluation->calibration, evaluation->runs).find("Model 'default'"),
            std::string::npos);
}

}  // namespace
}  // namespace tastesync::uji
