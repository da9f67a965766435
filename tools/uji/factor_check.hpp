#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "stages/score.hpp"
#include "tools/uji/replay.hpp"

namespace tastesync::uji {

// One bin of a reliability check: what the model said on average, and how often two claims
// about the truth held.
struct FactorBin {
  std::string label;
  std::size_t count = 0;
  double model_sum = 0.0;
  std::size_t hits = 0;
  std::size_t hits2 = 0;
};

// What if score.shadowing_sigma_db (a spot's mean RSSI is off the model by that much and does
// not average out while the customer sits) were another value? Before a customer's first event
// the stages score exactly like the shadow, so the first identification is the first reading
// whose recomputed confidence reaches min_confidence. At the replay's own value it must
// reproduce the replay's first identifications (the accuracy test checks it).
struct WhatIf {
  double shadowing_db = 0.0;
  std::size_t points = 0;
  std::size_t identified = 0;
  std::size_t first_nearest = 0;
  std::size_t first_within_1m = 0;
  std::optional<double> first_seconds_p50, first_seconds_p95;
  std::size_t reached = 0;  // readings at or above min_confidence
  std::size_t reached_nearest = 0;
  std::size_t reached_at = 0;  // ... whose choice is truly within kAtBeaconM of the phone
};

// Does the confidence mean what it says, and what limits it? Over the shadow's readings:
// - confidence (by value): how often the chosen beacon is truly within kAtBeaconM of the phone
//   (what "identified at that table" claims) / is the nearest beacon;
// - the chosen track's estimated distance: truly within kAtBeaconM / the nearest;
// - the chosen track's readings: the nearest / within 1 m of it;
// - the dB margin of the chosen track over the loudest other (path losses): how often the
//   chosen beacon is truly the nearer of the two, against Phi(margin / sqrt(var1 + var2 +
//   2 shadowing^2)), what the model implies.
//
// With score.model filter, `posterior`: after every beacon reading, the filter's most likely
// location by its posterior (0.1 wide bins): truly within kAtBeaconM / the nearest beacon.
struct FactorCheck {
  std::vector<FactorBin> posterior;
  std::vector<FactorBin> confidence;
  std::vector<FactorBin> distance;
  std::vector<FactorBin> readings;
  std::vector<FactorBin> margin;
  // Probit fit of "truly nearer" on the margin: the margin's standard deviation the data show,
  // and the mean one the filters' variances give.
  std::optional<double> fitted_margin_sigma_db;
  std::optional<double> assumed_margin_sigma_db;
  std::optional<double> model_margin_sigma_db;  // with 2 score.shadowing_sigma_db^2 added
  std::vector<WhatIf> what_ifs;
};

inline constexpr double kShadowingWhatIfsDb[] = {0.0, 2.0, 3.0, 4.0, 5.0, 6.0};

// What-ifs score each point with the options it was replayed with.
FactorCheck check_factors(const std::vector<const PointOutcome*>& points);

std::string format_factor_text(const FactorCheck& check);
std::string format_what_if_text(const FactorCheck& check, const std::string& label);
std::string format_factor_json(const FactorCheck& check);

}  // namespace tastesync::uji
