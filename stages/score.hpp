#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "common/result.hpp"
#include "stages/customer_state.hpp"
#include "stages/outcome.hpp"
#include "stages/registry.hpp"
#include "stages/resolve.hpp"
#include "stages/sighting.hpp"

namespace tastesync {

// Which location model scores beacon readings (docs/scoring.md, "Choosing the model"): `filter`,
// the default, a Bayesian filter over the locations heard; `radius`, the model before issue 14,
// the probability of being within each location's radius with a dwell for moves.
enum class ScoreModel : std::uint8_t { radius, filter };

// Defaults are explained, with the measurements behind them, in docs/scoring.md.
struct ScoreOptions {
  ScoreModel model = ScoreModel::filter;
  std::int64_t window_ms = 6000;  // a beacon not heard for this long no longer counts
  // ...and one silent this long is forgotten; heard again before that, its filter continues.
  std::int64_t track_memory_ms = 30000;
  double path_loss_exponent = 2.0;  // n in the log-distance model
  int default_tx_power_dbm = -59;   // when neither the registry nor the phone gives one
  double min_confidence = 0.8;      // below: no identification (counted)
  // How close counts as "at" a location, by LocationType (entrance, table, counter); a beacon's
  // own radius in the registry wins.
  std::array<double, 3> radius_m = {3.0, 1.0, 1.5};
  // Added to a reading before filtering, by platform (phones differ by several dB).
  double rssi_offset_ios_db = 0.0;
  double rssi_offset_android_db = 0.0;
  // The Kalman filter: one reading's scatter, and how fast the true RSSI may drift.
  double measurement_sigma_db = 3.5;
  double process_noise_db2_per_s = 2.0;
  // The error no filtering removes: a beacon's mean RSSI at one spot differs from the
  // log-distance model by this much (walls, furniture, the body; UJI: 3.6-7.2 dB).
  double shadowing_sigma_db = 5.0;
  // Hysteresis: another location replaces the current one only once its probability of being
  // the customer's location has exceeded the current one's by move_margin for move_dwell_ms
  // and move_dwell_readings, and it is confidently identified.
  double move_margin = 0.3;
  std::int64_t move_dwell_ms = 4000;
  int move_dwell_readings = 5;
  // The filter's transition prior: how long people stay, by LocationType (entrance, table,
  // counter), and how long they walk between locations. Stays much longer than the reading
  // interval make the filter sticky: a move needs sustained evidence.
  std::array<double, 3> stay_s = {3.0, 3600.0, 60.0};
  double walk_s = 1.0;
  // Share of a near beacon's readings that look far (a body in the way): bounds how much one
  // weak reading can say against the location it belongs to.
  double blocked_share = 0.2;
  // Each reading's evidence counts this much (a power of its likelihood ratio): readings of one
  // beacon a second apart are not independent (a body in the way stays for seconds), and
  // counting them as such makes the filter swing between neighbouring tables.
  double evidence_weight = 0.5;
  // Readings of one beacon closer together than this (s) repeat much of each other's error (a
  // body in the way for seconds): a reading dt after the previous one counts
  // (1 - exp(-dt / c)) / (1 - exp(-1 s / c)) of evidence_weight, so one reading a second counts
  // as evidence_weight whatever c, and three a second count less each (0 or less: every reading
  // alike).
  double evidence_corr_s = 1.0;
  // The filter's confidence for a move from the table last emitted to another table: its
  // posterior between 0.8 and 0.9 is right only about 70 % of the time, and a wrong move
  // between neighbouring tables is a flap (docs/scoring.md).
  double move_min_confidence = 0.95;
  // How fast the filter learns a customer's level offset from their loudest beacon (a running
  // mean's weight per reading; 0 or less: off). Off by default: it cost precision
  // (docs/scoring.md).
  double level_offset_weight = 0.0;
  // Learning the room (docs/scoring.md, "Learning the room from QR scans"): a registered QR scan
  // teaches the filter how loud its location's beacons read there; the installer's tx_power
  // counts as room_prior_scans scans of it.
  bool learn_from_qr = true;
  double room_prior_scans = 8.0;
};

// The beacon's calibrated power at 1 m: the registry's, else what the phone reported, else the
// default (docs/scoring.md).
int calibrated_tx_power(const BeaconEntry& beacon, const BeaconTrack& track,
                        const ScoreOptions& options);

// Apple's proximity classes, of a beacon's filtered distance (metrics only).
enum class Proximity : std::uint8_t { immediate, near, far };
inline constexpr std::size_t kProximityCount = 3;
std::string_view proximity_name(Proximity proximity);

struct Identification {
  std::uint32_t location_index = 0;
  const Location* location = nullptr;
  const BeaconEntry* beacon = nullptr;  // the identified location's nearest beacon (null: QR)
  int rssi_dbm = 0;                     // that beacon's latest raw reading
  double confidence = 0.0;              // rounded half-up to 3 decimals
};

// One location's evidence while scoring a reading: the at-probability of its most likely beacon.
struct LocationEstimate {
  std::uint32_t location_index = 0;
  double at_probability = -1.0;
  const BeaconEntry* beacon = nullptr;
  int latest_rssi_dbm = 0;
};

// The locations heard within the window, at most one per track (no allocation on the hot path).
class LocationEstimates {
 public:
  // The estimate of a location, added (at_probability -1) when it is not there yet.
  LocationEstimate& of(std::uint32_t location_index);
  const LocationEstimate* most_likely() const;  // null when none
  std::span<const LocationEstimate> all() const { return {items_.data(), count_}; }

 private:
  std::array<LocationEstimate, CustomerState::kMaxTracks> items_{};
  std::size_t count_ = 0;
};

// The confidence model (docs/scoring.md): per beacon a Kalman-filtered RSSI gives a distance by
// the log-distance model and, with the filter's variance, the probability of being within the
// location's radius; the most likely location wins, with confidence = its share of the odds of
// being at one of the locations heard or at none; a customer's location changes only when another
// one has held for a dwell (hysteresis), except for the first identification, which is immediate.
class Scorer {
 public:
  explicit Scorer(ScoreOptions options = {});

  // Filters the reading into the customer's tracks, then scores them at the reading's time.
  // `registry_generation` changes whenever `registry` is replaced (tracks cache their entries).
  // `heard`, when given, receives the proximity class of the beacon just heard.
  Result<Identification, DropReason> score_beacon(CustomerState& state, const Sighting& sighting,
                                                  const Resolved& resolved,
                                                  const Registry& registry,
                                                  std::uint64_t registry_generation = 1,
                                                  Proximity* heard = nullptr) const;

  // A registered QR scan is a deliberate act: confidence 1, and it settles any pending move.
  Identification score_qr(CustomerState& state, const Resolved& resolved) const;

  double distance_m(double rssi_dbm, int tx_power_dbm) const;
  // P(the customer is within `radius_m` of the beacon), from its filtered distance, the filter's
  // variance and the persistent shadowing (docs/scoring.md).
  double at_probability(double distance_m, double radius_m, double variance_db2) const;
  // Confidence in the most likely location, given that a customer is at one location or none:
  // odds(best) / (1 + the sum of every location's odds).
  static double confidence(double best_at_probability,
                           std::span<const double> other_at_probabilities);
  Proximity proximity(double distance_m) const;
  // proximity(distance_m(rssi_dbm, tx_power_dbm)) without the exp: the classes' bounds as path
  // losses, computed once. Every beacon reading asks it, for a metric (docs/bench.md#issue-17-15).
  Proximity proximity_at(double rssi_dbm, int tx_power_dbm) const;
  // One Kalman step on a track (public for tests).
  void filter(BeaconTrack& track, EpochMs t_ms, double rssi_dbm) const;

 private:
  // The reading filtered into its beacon's track (created, or taking the stalest one's slot).
  const BeaconTrack& record_reading(CustomerState& state, const Sighting& sighting,
                                    const BeaconEntry& beacon) const;
  LocationEstimates estimate_locations(CustomerState& state, const Registry& registry,
                                       std::uint64_t registry_generation, EpochMs newest_ms) const;
  // Why the best location is not emitted yet (hysteresis and the confidence floor), or nothing.
  std::optional<DropReason> hold_move(CustomerState& state, const Location& location,
                                      EpochMs now_ms, double confidence, double best_at_probability,
                                      double current_at_probability) const;

  ScoreOptions options_;
  // The path losses at proximity()'s bounds, by the log-distance model of distance_m.
  double immediate_loss_db_;
  double near_loss_db_;
};

// Half-up to 3 decimals (docs/contract.md#score), applied before the threshold test.
double round_confidence(double confidence);

}  // namespace tastesync
