#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tools/uji/calibration.hpp"
#include "tools/uji/factor_check.hpp"
#include "tools/uji/replay.hpp"

namespace tastesync::uji {

struct ConfidenceStats {
  std::size_t count = 0;
  std::optional<double> mean, p10, p50, p90;
};

// Of the shadow scorer's per-reading choices: how many reach `threshold`, and how many of
// those name the nearest beacon, or one within 1 m of its distance.
struct ThresholdRow {
  double threshold = 0.0;
  std::size_t reached = 0;
  std::size_t nearest = 0;
  std::size_t within_1m = 0;
};

// The figures of one set of points (a group, or all of them) under one model.
struct Summary {
  std::string label;
  std::optional<int> tx_power_dbm;  // the registry's, for a group
  std::optional<double> exponent;   // the model's n, for a group
  std::size_t points = 0;
  std::size_t identified = 0;       // points with at least one identification
  std::size_t first_nearest = 0;    // ... whose first one is the nearest beacon
  std::size_t first_within_1m = 0;  // ... within 1 m of the nearest beacon's distance
  std::size_t events = 0;
  ConfidenceStats correct, incorrect;  // events naming the nearest beacon, or another
  std::optional<double> first_seconds_p50, first_seconds_p95;  // first scan -> first event
  std::size_t multi_location = 0;  // identified points that named more than one location
  std::size_t flaps = 0;           // A -> B -> A within a point
  std::size_t max_events = 0;      // most events at one point
  // Hindsight: the beacon with the highest mean RSSI over all of a point's readings, the best
  // a per-beacon average can do. Of the points with readings.
  std::size_t heard = 0;
  std::size_t oracle_nearest = 0;
  std::size_t oracle_within_1m = 0;
  // The shadow scorer (every reading, no threshold, no hysteresis).
  std::size_t scored = 0;
  std::size_t scored_nearest = 0;
  std::size_t scored_within_1m = 0;
  ConfidenceStats scored_correct, scored_incorrect;
  std::optional<double> auc;  // P(conf of a correct choice > conf of a wrong one)
  std::vector<ThresholdRow> thresholds;
  std::map<std::string, std::size_t> dead_letters;  // by error code
  FactorCheck factors;
};

Summary summarize(std::string label, const std::vector<const PointOutcome*>& points);

struct CalibrationRow {
  std::string label;
  PathLossFit fit;                        // readings with d > 0.5 m: what the model uses
  std::optional<PathLossFit> readme_way;  // all readings, d floored at 0.3 m (the README's table)
  std::optional<ScatterSplit> scatter;    // around `fit`, per (point visit, beacon)
};

struct ModelRun {
  std::string name;         // "default", "calibrated"
  std::string description;  // what differs
  std::vector<Summary> groups;
  std::vector<Summary> totals;  // all points; those at a beacon (<= kAtBeaconM); the others
};

std::string format_text(const std::vector<CalibrationRow>& calibration,
                        const std::vector<ModelRun>& runs);
std::string format_json(const std::vector<CalibrationRow>& calibration,
                        const std::vector<ModelRun>& runs);

}  // namespace tastesync::uji
