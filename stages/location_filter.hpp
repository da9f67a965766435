#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "common/result.hpp"
#include "stages/customer_state.hpp"
#include "stages/outcome.hpp"
#include "stages/registry.hpp"
#include "stages/resolve.hpp"
#include "stages/room_levels.hpp"
#include "stages/score.hpp"
#include "stages/sighting.hpp"

namespace tastesync {

// One location's share of the customer's belief.
struct LocationBelief {
  std::uint32_t location_index = 0;
  double probability = 0.0;
  const BeaconTrack* track = nullptr;  // its beacon heard most recently
};

// The locations of the customer's tracks, at most one per track (no allocation on the hot path).
class LocationBeliefs {
 public:
  void add(std::uint32_t location_index, const BeaconTrack& track);
  const LocationBelief* most_likely() const;  // null when none
  std::span<const LocationBelief> all() const { return {items_.data(), count_}; }

 private:
  std::array<LocationBelief, CustomerState::kMaxTracks> items_{};
  std::size_t count_ = 0;
};

// score.model filter (docs/scoring.md, "The location filter"): a discrete Bayesian filter per
// customer over "at the location of each beacon heard recently" and "elsewhere". Each reading is
// evidence for its beacon's location against every other hypothesis (near or far, by the
// log-distance model, relative to the customer's own level offset and weighed by their reading
// scatter); between readings belief drifts by a sticky transition prior (people stay for
// minutes). The confidence is the posterior probability of the most likely location. The
// per-beacon Kalman filter and the proximity classes are the Scorer's.
class LocationFilter {
 public:
  explicit LocationFilter(ScoreOptions options = {})
      : options_(options),
        scorer_(options),
        one_second_decay_(options.evidence_corr_s > 0.0 ? std::expm1(-1.0 / options.evidence_corr_s)
                                                        : -1.0) {}

  // Filters the reading into the customer's tracks and beliefs, then names the most likely
  // location. `registry_generation` changes whenever `registry` is replaced (tracks cache their
  // entries). `heard`, when given, receives the proximity class of the beacon just heard.
  // `room`, when given, holds the levels the partition's QR scans taught, and learns from the
  // readings after a scan (learn_from_scan).
  Result<Identification, DropReason> score_beacon(CustomerState& state, const Sighting& sighting,
                                                  const Resolved& resolved,
                                                  const Registry& registry,
                                                  std::uint64_t registry_generation = 1,
                                                  Proximity* heard = nullptr,
                                                  RoomLevels* room = nullptr) const;

  // A registered QR scan is a deliberate act: confidence 1, and the belief moves to its location.
  Identification score_qr(CustomerState& state, const Resolved& resolved, const Registry& registry,
                          std::uint64_t registry_generation = 1) const;

  // A registered QR scan at `location_index` at `t_ms` says where the customer is, so the
  // location's loudest beacon heard within the window reads there what its track holds and
  // what the customer's next readings of it say: a scan window opens (closing the one before
  // into `room`), and score_beacon folds it into `room` when it ends (when
  // score.learn_from_qr). Call after score_qr, which refreshes the tracks' entries.
  void learn_from_scan(CustomerState& state, std::uint32_t location_index, EpochMs t_ms,
                       RoomLevels& room) const;
  // The beacon's power at 1 m as the filter uses it: the calibrated one, moved towards what the
  // room taught by as much as the scans outweigh score.room_prior_scans.
  // A learnt level as a power at 1 m: the level is read at the location's radius.
  double taught_tx_power_dbm(const BeaconEntry& beacon, const Registry& registry,
                             const LearnedLevel& learned) const;
  // `track` gives the phone's reported power, when the registry has none.
  double tx_power_dbm(const BeaconEntry& beacon, const BeaconTrack& track, const Registry& registry,
                      const RoomLevels* room) const;

  // How much more likely a reading `level_db` above the beacon's 1 m level is when the customer
  // is within `radius_m` of the beacon than when farther, for readings scattering by `sigma_db`
  // around their level.
  double likelihood_ratio(double level_db, double radius_m, double sigma_db) const;
  // A reading's scatter around the level its distance gives, for this customer.
  double evidence_sigma_db(const CustomerState& state) const;
  // The belief in each location of the customer's tracks (their registry entries refreshed by
  // the last score_beacon or score_qr).
  static LocationBeliefs location_beliefs(const CustomerState& state);

 private:
  // The reading filtered into its beacon's track (created with its share of "elsewhere", or
  // taking the stalest one's slot).
  BeaconTrack& record_reading(CustomerState& state, const Sighting& sighting,
                              const BeaconEntry& beacon, double corrected_rssi_dbm) const;
  // The likelihood ratio a reading contributes, relative to the customer's level offset and
  // weighted by score.evidence_weight.
  double weigh_evidence(CustomerState& state, double weight, double tx_power_dbm,
                        double corrected_rssi_dbm, double radius_m) const;
  // The power a reading of `beacon_id` at `t_ms` gives its likelihood ratio: evidence_weight,
  // less when the beacon was heard just before (score.evidence_corr_s).
  double evidence_weight(const CustomerState& state, const Uuid& beacon_id, EpochMs t_ms) const;
  // Folds the reading's distance from its track's prediction into the customer's scatter.
  void learn_scatter(CustomerState& state, const BeaconTrack& track, EpochMs t_ms,
                     double rssi_dbm) const;
  // Moves the customer's level offset towards what their loudest beacon says.
  void learn_level_offset(CustomerState& state, EpochMs newest_ms, const Registry& registry,
                          const RoomLevels* room) const;
  // Looks up the tracks' registry entries once per registry version; a track whose beacon is no
  // longer active holds no belief.
  void refresh_entries(CustomerState& state, const Registry& registry,
                       std::uint64_t registry_generation) const;
  // The transition prior over `elapsed_ms`: stays end, walks arrive at locations heard recently.
  void predict(CustomerState& state, const Registry& registry, EpochMs newest_ms,
               EpochMs elapsed_ms) const;
  // Bayes' rule with the likelihood ratio of a reading from a beacon at `location_index`.
  static void update(CustomerState& state, std::uint32_t location_index, double ratio);
  double radius_of(const BeaconEntry& beacon, const Registry& registry) const;
  // Whether `best` is another table than the table last emitted (whose beacons are still
  // tracked).
  static bool table_to_table(const CustomerState& state, const Registry& registry,
                             const Location& best);
  // The scan window's part of a reading (learn_from_scan): counted when it is of the window's
  // beacon; the window closes into `room` when its time is up or `best`, the customer's most
  // likely location after the reading, is elsewhere.
  void follow_scan_window(CustomerState& state, const Uuid& heard_beacon_id,
                          double corrected_rssi_dbm, EpochMs t_ms, const LocationBelief* best,
                          RoomLevels* room) const;
  static void close_scan_window(CustomerState& state, EpochMs t_ms, RoomLevels& room);
  // A beacon's level at a typical spot of its own location (the centre, in dB, of the location's
  // near band) above its 1 m power, by the log-distance model, dB.
  double own_location_level_db(const BeaconEntry& beacon, const Registry& registry) const;

  ScoreOptions options_;
  Scorer scorer_;
  // expm1(-1 s / evidence_corr_s), the denominator of evidence_weight's share, computed once.
  double one_second_decay_;
};

}  // namespace tastesync
