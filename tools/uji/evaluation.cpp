#include "tools/uji/evaluation.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>
#include <unordered_map>

namespace tastesync::uji {
namespace {

std::string exponent_text(double n) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", n);
  return text;
}

}  // namespace

Result<Evaluation, std::string> evaluate(const Dataset& dataset, const EvaluationOptions& options) {
  Evaluation evaluation;
  std::unordered_map<std::int64_t, const Scan*> scan_by_id;
  for (const Scan& scan : dataset.scans) scan_by_id.emplace(scan.scan_id, &scan);
  std::map<GroupKey, std::vector<DistanceRssi>> samples;
  std::map<GroupKey, std::vector<DistanceRssi>> pooled_samples;  // phone left empty
  for (const Reading& reading : dataset.readings) {
    const auto found = scan_by_id.find(reading.scan_id);
    if (found == scan_by_id.end()) {
      return Failure{"reading of scan " + std::to_string(reading.scan_id) + ": no such scan"};
    }
    const Scan& scan = *found->second;
    const DistanceRssi sample{reading.dist_m, static_cast<double>(reading.rssi_dbm)};
    samples[GroupKey{scan.zone, scan.phone, scan.tx_dbm}].push_back(sample);
    pooled_samples[GroupKey{scan.zone, "", scan.tx_dbm}].push_back(sample);
  }
  std::map<GroupKey, PathLossFit> fits;
  for (const auto& [group, group_samples] : samples) {
    auto fit = fit_path_loss(group_samples);
    if (!fit) return Failure{group.label() + ": too few readings to calibrate"};
    fits.emplace(group, *fit);
    const auto readme_way = fit_path_loss(group_samples, FitOptions{0.0, 0.3, 1.5});
    evaluation.calibration.push_back(CalibrationRow{group.label(), *fit, readme_way, {}});
  }
  // Residuals around each group's fit per (point visit, beacon): temporal vs persistent scatter.
  using SpotKey = std::tuple<GroupKey, int, int, std::string>;
  std::map<SpotKey, std::vector<double>> residuals;
  for (const Reading& reading : dataset.readings) {
    const Scan& scan = *scan_by_id.at(reading.scan_id);
    if (reading.dist_m <= FitOptions{}.exclude_at_or_below_m) continue;
    GroupKey group{scan.zone, scan.phone, scan.tx_dbm};
    const PathLossFit& fit = fits.at(group);
    const double model = fit.rssi_at_1m_dbm - 10.0 * fit.exponent * std::log10(reading.dist_m);
    residuals[SpotKey{std::move(group), scan.campaign, scan.point, reading.beacon}].push_back(
        reading.rssi_dbm - model);
  }
  for (CalibrationRow& row : evaluation.calibration) {
    std::vector<std::vector<double>> spots;
    for (auto& [key, values] : residuals) {
      if (std::get<0>(key).label() == row.label) spots.push_back(std::move(values));
    }
    row.scatter = split_scatter(spots);
  }
  std::map<GroupKey, PathLossFit> pooled_fits;
  for (const auto& [group, group_samples] : pooled_samples) {
    if (auto fit = fit_path_loss(group_samples)) pooled_fits.emplace(group, *fit);
  }

  const std::vector<PointTrial> trials = point_trials(dataset);
  struct RunSpec {
    std::string name;
    std::string description;
    std::optional<double> exponent;  // nullopt: the group's fitted one
    bool pooled = false;             // tx_power from the pooled fit
  };
  std::vector<RunSpec> specs;
  const double shipped = options.topology.score.path_loss_exponent;
  if (options.default_model) {
    specs.push_back({"default",
                     "n = " + exponent_text(shipped) +
                         " (ScoreOptions), tx_power = the group's fitted A (per phone)",
                     shipped, false});
  }
  if (options.calibrated_model) {
    specs.push_back(
        {"calibrated", "n = the group's fitted n, tx_power = its fitted A (per phone)", {}, false});
  }
  if (options.pooled_model) {
    specs.push_back({"pooled-A",
                     "n = " + exponent_text(shipped) +
                         ", tx_power = A fitted on all phones of the zone and tx setting",
                     shipped, true});
  }
  for (double n : options.fixed_exponents) {
    specs.push_back({"n=" + exponent_text(n),
                     "n = " + exponent_text(n) + " for every group, tx_power = its fitted A", n,
                     false});
  }

  for (const RunSpec& spec : specs) {
    ModelRun run{spec.name, spec.description, {}, {}};
    std::vector<PointOutcome> outcomes;
    outcomes.reserve(trials.size());
    std::map<GroupKey, int> tx_powers;
    std::map<GroupKey, std::shared_ptr<const Registry>> registries;
    for (const PointTrial& trial : trials) {
      const auto fit = fits.find(trial.group);
      if (fit == fits.end()) continue;  // a group with no readings at all
      auto& registry = registries[trial.group];
      if (!registry) {
        const PathLossFit& source =
            spec.pooled ? pooled_fits.at(GroupKey{trial.group.zone, "", trial.group.tx_dbm})
                        : fit->second;
        const int tx_power = static_cast<int>(std::lround(source.rssi_at_1m_dbm));
        tx_powers[trial.group] = tx_power;
        registry = zone_registry(dataset.beacons, trial.group.zone, tx_power);
      }
      TopologyOptions topology = options.topology;
      topology.score.path_loss_exponent = spec.exponent.value_or(fit->second.exponent);
      outcomes.push_back(replay_point(trial, dataset.beacons, registry, topology));
    }
    std::map<GroupKey, std::vector<const PointOutcome*>> by_group;
    std::vector<const PointOutcome*> all, at, off;
    for (const PointOutcome& outcome : outcomes) {
      by_group[outcome.trial->group].push_back(&outcome);
      all.push_back(&outcome);
      (outcome.nearest_m <= kAtBeaconM ? at : off).push_back(&outcome);
    }
    for (const auto& [group, points] : by_group) {
      Summary summary = summarize(group.label(), points);
      summary.tx_power_dbm = tx_powers.at(group);
      summary.exponent = spec.exponent.value_or(fits.at(group).exponent);
      run.groups.push_back(std::move(summary));
    }
    run.totals.push_back(summarize("all", all));
    run.totals.push_back(summarize("at <=1.1 m", at));
    run.totals.push_back(summarize("off >1.1 m", off));
    evaluation.runs.push_back(std::move(run));
  }
  return evaluation;
}

}  // namespace tastesync::uji
