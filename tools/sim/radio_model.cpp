#include "tools/sim/radio_model.hpp"

#include <algorithm>
#include <cmath>

namespace tastesync::sim {
namespace {

// Below this a reading is physically implausible (the phone is on the beacon): the log-distance
// model is not meant for the near field.
constexpr double kMinDistanceM = 0.1;
// Steepness of the detection fall-off around detect_half_m (UJI: ~0.95 of the near share at
// 6 m, ~0.5 at 10 m, ~0.25 at 12 m for the two better phones).
constexpr double kDetectionFalloffPower = 6.0;

}  // namespace

double RadioModel::mean_rssi_dbm(double tx_power_dbm, double distance_m) const {
  return tx_power_dbm -
         10.0 * options_.path_loss_exponent * std::log10(std::max(distance_m, kMinDistanceM));
}

double RadioModel::detection_probability(double distance_m) const {
  return detection_probability(distance_m, options_.detect_near);
}

double RadioModel::detection_probability(double distance_m, double detect_near) const {
  return detect_near /
         (1.0 + std::pow(distance_m / options_.detect_half_m, kDetectionFalloffPower));
}

void RadioModel::update_slow_fading(LinkState& link, Point position, EpochMs t_ms, Rng& rng) const {
  const double sigma = options_.sigma_db * std::sqrt(options_.slow_share);
  if (!link.started) {
    link.slow_db = rng.normal(0.0, sigma);
  } else {
    // Gudmundson (1991): correlation exp(-moved / d_corr), here also decaying with time (people
    // move around a seated customer, who shifts on the chair).
    const double moved_m = distance_m(position, link.last_position);
    const double elapsed_s = static_cast<double>(t_ms - link.last_ms) / 1000.0;
    const double rho = std::exp(-moved_m / options_.slow_corr_m - elapsed_s / options_.slow_corr_s);
    link.slow_db = rho * link.slow_db + std::sqrt(1.0 - rho * rho) * rng.normal(0.0, sigma);
  }
  link.last_position = position;
  link.last_ms = t_ms;
}

void RadioModel::update_blocking(LinkState& link, EpochMs t_ms, Rng& rng) const {
  if (options_.blocking_per_min <= 0.0 || t_ms < link.blocked_until_ms) return;
  const double elapsed_s =
      link.started
          ? static_cast<double>(t_ms - std::max(link.last_ms, link.blocked_until_ms)) / 1000.0
          : 1.0;
  const double start_probability = 1.0 - std::exp(-options_.blocking_per_min / 60.0 * elapsed_s);
  if (!rng.chance(start_probability)) return;
  link.dip_db = rng.uniform(options_.blocking_min_db, options_.blocking_max_db);
  link.blocked_until_ms =
      t_ms +
      static_cast<EpochMs>(1000.0 * rng.uniform(options_.blocking_min_s, options_.blocking_max_s));
}

std::optional<int> RadioModel::scan(LinkState& link, double tx_power_dbm, double distance_m,
                                    Point position, EpochMs t_ms, const PhoneRadio& phone,
                                    Rng& rng) const {
  // Every draw is made whether or not the beacon is heard, so a missed scan does not shift the
  // random stream of the next one.
  update_blocking(link, t_ms, rng);
  update_slow_fading(link, position, t_ms, rng);
  link.started = true;
  const bool heard = rng.chance(
      detection_probability(distance_m, phone.detect_near.value_or(options_.detect_near)));
  const double fast_db = rng.normal(0.0, options_.sigma_db * std::sqrt(1.0 - options_.slow_share));
  if (!heard) return std::nullopt;
  const double dip_db = t_ms < link.blocked_until_ms ? link.dip_db : 0.0;
  const double rssi =
      mean_rssi_dbm(tx_power_dbm, distance_m) + link.slow_db + fast_db + phone.offset_db - dip_db;
  const long rounded = std::lround(rssi);
  if (static_cast<double>(rounded) < options_.floor_dbm) return std::nullopt;
  return static_cast<int>(std::min(rounded, -1L));  // 0 means "unknown" to a phone
}

}  // namespace tastesync::sim
