#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"
#include "stages/topology.hpp"
#include "tools/uji/report.hpp"
#include "tools/uji/uji_data.hpp"

namespace tastesync::uji {

struct EvaluationOptions {
  // The stages' options for every run (TopologyOptions{}: the shipped defaults); each run sets
  // only score.path_loss_exponent.
  TopologyOptions topology;
  bool default_model = true;     // n as in `topology` (2.0 by default)
  bool calibrated_model = true;  // n = the group's fitted exponent
  // n as the default model, but one tx_power for all phones (A fitted on the zone's readings
  // of every phone at that tx setting): what a registry that cannot know the phone gives.
  bool pooled_model = true;
  std::vector<double> fixed_exponents;  // more runs, each with this n for every group
};

struct Evaluation {
  std::vector<CalibrationRow> calibration;
  std::vector<ModelRun> runs;
};

// Calibrates each (zone, phone, tx setting) group, then replays every point of it under each
// model, with the group's fitted A as every beacon's registry tx_power.
Result<Evaluation, std::string> evaluate(const Dataset& dataset, const EvaluationOptions& options);

}  // namespace tastesync::uji
