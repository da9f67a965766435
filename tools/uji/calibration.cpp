#include "tools/uji/calibration.hpp"

#include <algorithm>
#include <cmath>

namespace tastesync::uji {

std::optional<double> quantile(std::vector<double> values, double q) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const double position = std::clamp(q, 0.0, 1.0) * static_cast<double>(values.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, values.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return values[below] + fraction * (values[above] - values[below]);
}

std::optional<ScatterSplit> split_scatter(const std::vector<std::vector<double>>& residuals) {
  std::vector<double> means;
  double within_sum = 0.0;
  double inverse_k_sum = 0.0;
  for (const std::vector<double>& spot : residuals) {
    if (spot.size() < 3) continue;
    const auto k = static_cast<double>(spot.size());
    double mean = 0.0;
    for (double r : spot) mean += r;
    mean /= k;
    double squares = 0.0;
    for (double r : spot) squares += (r - mean) * (r - mean);
    within_sum += squares / (k - 1.0);
    inverse_k_sum += 1.0 / k;
    means.push_back(mean);
  }
  if (means.size() < 2) return std::nullopt;
  const auto n = static_cast<double>(means.size());
  double grand = 0.0;
  for (double m : means) grand += m;
  grand /= n;
  double spread = 0.0;
  for (double m : means) spread += (m - grand) * (m - grand);
  ScatterSplit split;
  split.spots = means.size();
  const double temporal_variance = within_sum / n;
  split.temporal_sigma_db = std::sqrt(temporal_variance);
  split.persistent_sigma_db =
      std::sqrt(std::max(0.0, spread / n - temporal_variance * inverse_k_sum / n));
  return split;
}

std::optional<PathLossFit> fit_path_loss(const std::vector<DistanceRssi>& samples,
                                         const FitOptions& options) {
  // Ordinary least squares of rssi on x = log10(d), centred for numerical stability.
  std::vector<DistanceRssi> used;
  std::vector<double> near;
  for (const DistanceRssi& s : samples) {
    if (s.distance_m <= options.near_m) near.push_back(s.rssi_dbm);
    if (s.distance_m <= options.exclude_at_or_below_m || s.distance_m <= 0.0) continue;
    used.push_back({std::max(s.distance_m, options.floor_m), s.rssi_dbm});
  }
  const auto count = static_cast<double>(used.size());
  double sum_x = 0.0;
  double sum_y = 0.0;
  for (const DistanceRssi& s : used) {
    sum_x += std::log10(s.distance_m);
    sum_y += s.rssi_dbm;
  }
  if (count < 2.0) return std::nullopt;
  const double mean_x = sum_x / count;
  const double mean_y = sum_y / count;
  double sxx = 0.0;
  double sxy = 0.0;
  for (const DistanceRssi& s : used) {
    const double dx = std::log10(s.distance_m) - mean_x;
    sxx += dx * dx;
    sxy += dx * (s.rssi_dbm - mean_y);
  }
  if (sxx <= 0.0) return std::nullopt;
  const double slope = sxy / sxx;
  PathLossFit fit;
  fit.readings = used.size();
  fit.rssi_at_1m_dbm = mean_y - slope * mean_x;
  fit.exponent = -slope / 10.0;
  double squares = 0.0;
  for (const DistanceRssi& s : used) {
    const double residual = s.rssi_dbm - (fit.rssi_at_1m_dbm + slope * std::log10(s.distance_m));
    squares += residual * residual;
  }
  fit.sigma_db = std::sqrt(squares / count);
  fit.median_near = quantile(std::move(near), 0.5);
  return fit;
}

}  // namespace tastesync::uji
