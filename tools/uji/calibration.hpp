#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace tastesync::uji {

struct DistanceRssi {
  double distance_m = 0.0;
  double rssi_dbm = 0.0;
};

// The log-distance model RSSI = A - 10 n log10(d) fitted by least squares.
struct PathLossFit {
  std::size_t readings = 0;           // used by the fit (distance above the floor)
  double rssi_at_1m_dbm = 0.0;        // A
  double exponent = 0.0;              // n
  double sigma_db = 0.0;              // RMS residual around the fit
  std::optional<double> median_near;  // median RSSI of all readings within `near_m`
};

struct FitOptions {
  // Readings at or below this distance are left out: there the beacon's height, which the
  // horizontal distance ignores, dominates.
  double exclude_at_or_below_m = 0.5;
  double floor_m = 0.0;  // distances below this count as this (the dataset README's fit: 0.3)
  double near_m = 1.5;   // for median_near
};

// Nullopt when fewer than two distinct distances remain.
std::optional<PathLossFit> fit_path_loss(const std::vector<DistanceRssi>& samples,
                                         const FitOptions& options = {});

// The scatter around a fit, split in two: readings of one beacon at one spot around their own
// mean (temporal: what a filter averages away) and those means around the fit (persistent: a
// customer sitting still keeps it). From the residuals of each (spot, beacon) with at least
// three readings; persistent^2 = var(means) - temporal^2 * mean(1/k).
struct ScatterSplit {
  std::size_t spots = 0;
  double temporal_sigma_db = 0.0;
  double persistent_sigma_db = 0.0;
};
std::optional<ScatterSplit> split_scatter(const std::vector<std::vector<double>>& residuals);

// The q-quantile (0..1) by linear interpolation between order statistics; nullopt when empty.
std::optional<double> quantile(std::vector<double> values, double q);

}  // namespace tastesync::uji
