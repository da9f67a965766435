#include "stages/score.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <span>

namespace tastesync {
namespace {

// A reading further than this many standard deviations from the prediction moves the estimate
// only as far as this (a Huber-style clip): one body-blocked reading cannot drag it 15 dB, while
// a real move still gets through within a few readings.
constexpr double kInnovationGate = 2.5;
constexpr double kLn10 = 2.302585092994046;
// Apple's proximity classes: immediate nearer than kImmediateM, near nearer than kNearM, far
// beyond.
constexpr double kImmediateM = 0.5;
constexpr double kNearM = 3.0;

BeaconTrack& track_for(CustomerState& state, const Uuid& beacon_id) {
  for (BeaconTrack& track : state.tracks) {
    if (track.beacon_id == beacon_id) return track;
  }
  if (state.tracks.size() == CustomerState::kMaxTracks) {
    // Give the slot of the beacon heard least recently to the new one.
    auto stalest = std::min_element(
        state.tracks.begin(), state.tracks.end(),
        [](const BeaconTrack& a, const BeaconTrack& b) { return a.newest_ms < b.newest_ms; });
    state.tracks.erase(stalest);
  }
  BeaconTrack& track = state.tracks.emplace_back();
  track.beacon_id = beacon_id;
  return track;
}

}  // namespace

LocationEstimate& LocationEstimates::of(std::uint32_t location_index) {
  for (std::size_t i = 0; i < count_; ++i) {
    if (items_[i].location_index == location_index) return items_[i];
  }
  LocationEstimate& added = items_[count_++];
  added.location_index = location_index;
  return added;
}

const LocationEstimate* LocationEstimates::most_likely() const {
  const LocationEstimate* best = nullptr;
  for (const LocationEstimate& estimate : all()) {
    if (best == nullptr || estimate.at_probability > best->at_probability) best = &estimate;
  }
  return best;
}

int calibrated_tx_power(const BeaconEntry& beacon, const BeaconTrack& track,
                        const ScoreOptions& options) {
  if (beacon.tx_power_dbm) return *beacon.tx_power_dbm;
  if (track.reported_tx_power_dbm != 0) return track.reported_tx_power_dbm;
  return options.default_tx_power_dbm;
}

double round_confidence(double confidence) {
  return std::floor(std::clamp(confidence, 0.0, 1.0) * 1000.0 + 0.5) / 1000.0;
}

std::string_view proximity_name(Proximity proximity) {
  switch (proximity) {
    case Proximity::immediate:
      return "immediate";
    case Proximity::near:
      return "near";
    case Proximity::far:
      return "far";
  }
  return "far";
}

double Scorer::distance_m(double rssi_dbm, int tx_power_dbm) const {
  // Log-distance path loss: rssi = tx_power - 10 n log10(d), tx_power being the RSSI at 1 m.
  // 10^x as e^(x ln 10): exp is several times cheaper than pow, and this runs per beacon heard.
  return std::exp((tx_power_dbm - rssi_dbm) * kLn10 / (10.0 * options_.path_loss_exponent));
}

Scorer::Scorer(ScoreOptions options)
    : options_(options),
      immediate_loss_db_(10.0 * options_.path_loss_exponent * std::log10(kImmediateM)),
      near_loss_db_(10.0 * options_.path_loss_exponent * std::log10(kNearM)) {}

Proximity Scorer::proximity(double distance_m) const {
  if (distance_m < kImmediateM) return Proximity::immediate;
  if (distance_m < kNearM) return Proximity::near;
  return Proximity::far;
}

Proximity Scorer::proximity_at(double rssi_dbm, int tx_power_dbm) const {
  // distance_m < bound  <=>  tx_power - rssi < 10 n log10(bound), n > 0: exp is increasing.
  const double loss_db = tx_power_dbm - rssi_dbm;
  if (loss_db < immediate_loss_db_) return Proximity::immediate;
  if (loss_db < near_loss_db_) return Proximity::near;
  return Proximity::far;
}

double Scorer::at_probability(double distance_m, double radius_m, double variance_db2) const {
  // The filtered RSSI's margin over the RSSI at the radius, in units of its standard deviation,
  // through the normal CDF: P(true distance <= radius). The filter's variance shrinks with every
  // reading but the shadowing does not, so many readings never make a weak margin certain.
  const double margin_db = 10.0 * options_.path_loss_exponent * std::log10(radius_m / distance_m);
  const double shadowing = options_.shadowing_sigma_db * options_.shadowing_sigma_db;
  const double sigma_db = std::sqrt(std::max(variance_db2 + shadowing, 1e-9));
  return 0.5 * std::erfc(-margin_db / (sigma_db * std::sqrt(2.0)));
}

double Scorer::confidence(double best_at_probability,
                          std::span<const double> other_at_probabilities) {
  // A customer is at one location or none, so the locations' at-probabilities, each from its
  // own beacons, are combined as evidence for mutually exclusive outcomes: P(at best | at most
  // one) = odds(best) / (1 + sum of all odds). One location heard: its at-probability. Clamped
  // below 1 so that a certain runner-up still counts against a certain best.
  static constexpr double kMaxProbability = 1.0 - 1e-9;
  const auto odds = [](double p) {
    p = std::clamp(p, 0.0, kMaxProbability);
    return p / (1.0 - p);
  };
  const double best = odds(best_at_probability);
  double total = 1.0 + best;
  for (const double other : other_at_probabilities) total += odds(other);
  return best / total;
}

void Scorer::filter(BeaconTrack& track, EpochMs t_ms, double rssi_dbm) const {
  const double measurement_variance = options_.measurement_sigma_db * options_.measurement_sigma_db;
  // A track silent for less than its memory keeps its estimate (the variance grown by the drift)
  // when the beacon is heard again: with a third to half of scans missing a near beacon,
  // restarting after a few silent seconds gave one noisy reading the weight of many (the
  // simulator's flaps). Only tracks heard within the window count for locations.
  if (track.readings == 0 || t_ms - track.newest_ms > options_.track_memory_ms) {
    // New, or silent for so long that what it said no longer applies.
    track.rssi_dbm = static_cast<float>(rssi_dbm);
    track.variance = static_cast<float>(measurement_variance);
    track.readings = 1;
    track.newest_ms = t_ms;
    return;
  }
  // A reading older than the newest (phones deliver a little out of order) is folded in as if
  // it were current: no drift is added for it.
  const double elapsed_s =
      static_cast<double>(std::max<EpochMs>(0, t_ms - track.newest_ms)) / 1000.0;
  const double predicted = track.variance + options_.process_noise_db2_per_s * elapsed_s;
  const double innovation_variance = predicted + measurement_variance;
  const double limit = kInnovationGate * std::sqrt(innovation_variance);
  const double innovation = std::clamp(rssi_dbm - track.rssi_dbm, -limit, limit);
  const double gain = predicted / innovation_variance;
  track.rssi_dbm = static_cast<float>(track.rssi_dbm + gain * innovation);
  track.variance = static_cast<float>((1.0 - gain) * predicted);
  if (track.readings < 255) ++track.readings;
  track.newest_ms = std::max(track.newest_ms, t_ms);
}

Result<Identification, DropReason> Scorer::score_beacon(
    CustomerState& state, const Sighting& sighting, const Resolved& resolved,
    const Registry& registry, std::uint64_t registry_generation, Proximity* heard_proximity) const {
  const EpochMs now_ms = sighting.detected_at_ms;
  const BeaconTrack& heard = record_reading(state, sighting, *resolved.beacon);
  if (heard_proximity != nullptr) {
    *heard_proximity =
        proximity_at(heard.rssi_dbm, calibrated_tx_power(*resolved.beacon, heard, options_));
  }

  // Tracks silent beyond their memory are forgotten; those silent for the window do not count.
  // The newest reading defines "now" for a customer, so an out-of-order reading never shrinks
  // the window of later ones.
  const EpochMs newest_ms = std::max(now_ms, state.last_activity_ms);
  std::erase_if(state.tracks, [&](const BeaconTrack& track) {
    return track.newest_ms < newest_ms - options_.track_memory_ms;
  });

  const LocationEstimates estimates =
      estimate_locations(state, registry, registry_generation, newest_ms);
  const LocationEstimate* best = estimates.most_likely();
  if (best == nullptr) return Failure{DropReason::low_confidence};
  std::array<double, CustomerState::kMaxTracks> others{};
  std::size_t other_count = 0;
  double current_at_probability = 0.0;
  const auto& current = state.last_emitted;
  for (const LocationEstimate& estimate : estimates.all()) {
    if (&estimate == best) continue;
    others[other_count++] = estimate.at_probability;
    if (current &&
        registry.location(estimate.location_index).is(current->store_id, current->location)) {
      current_at_probability = estimate.at_probability;
    }
  }

  const Location& location = registry.location(best->location_index);
  const double confidence = round_confidence(Scorer::confidence(
      best->at_probability, std::span<const double>(others.data(), other_count)));
  const Identification identification{best->location_index, &location, best->beacon,
                                      best->latest_rssi_dbm, confidence};
  if (const auto held = hold_move(state, location, now_ms, confidence, best->at_probability,
                                  current_at_probability)) {
    return Failure{*held};
  }
  return identification;
}

const BeaconTrack& Scorer::record_reading(CustomerState& state, const Sighting& sighting,
                                          const BeaconEntry& beacon) const {
  const EpochMs now_ms = sighting.detected_at_ms;
  const int raw_rssi = sighting.beacon.rssi_dbm;
  double offset_db = 0.0;
  if (sighting.platform == "ios") offset_db = options_.rssi_offset_ios_db;
  if (sighting.platform == "android") offset_db = options_.rssi_offset_android_db;

  BeaconTrack& heard = track_for(state, beacon.beacon_id);
  if (sighting.beacon.tx_power_dbm) {
    heard.reported_tx_power_dbm = static_cast<std::int8_t>(*sighting.beacon.tx_power_dbm);
  }
  const bool newest_reading = heard.readings == 0 || now_ms >= heard.newest_ms;
  filter(heard, now_ms, raw_rssi + offset_db);
  if (newest_reading) heard.last_rssi_dbm = static_cast<std::int8_t>(raw_rssi);
  return heard;
}

LocationEstimates Scorer::estimate_locations(CustomerState& state, const Registry& registry,
                                             std::uint64_t registry_generation,
                                             EpochMs newest_ms) const {
  // Per location, the nearest of its beacons (several beacons may mark one location).
  LocationEstimates estimates;
  for (BeaconTrack& track : state.tracks) {
    if (track.newest_ms < newest_ms - options_.window_ms) continue;
    if (track.entry_generation != registry_generation) {
      track.entry = registry.find_beacon_by_id(track.beacon_id);
      track.entry_generation = registry_generation;
    }
    const BeaconEntry* beacon = track.entry;
    if (beacon == nullptr || beacon->status != EntryStatus::active) continue;
    const Location& location = registry.location(beacon->location_index);
    const double radius =
        beacon->radius_m.value_or(options_.radius_m[static_cast<std::size_t>(location.type)]);
    const double probability =
        at_probability(distance_m(track.rssi_dbm, calibrated_tx_power(*beacon, track, options_)),
                       radius, track.variance);
    LocationEstimate& slot = estimates.of(beacon->location_index);
    if (probability > slot.at_probability) {
      slot.at_probability = probability;
      slot.beacon = beacon;
      slot.latest_rssi_dbm = track.last_rssi_dbm;
    }
  }
  return estimates;
}

std::optional<DropReason> Scorer::hold_move(CustomerState& state, const Location& location,
                                            EpochMs now_ms, double confidence,
                                            double best_at_probability,
                                            double current_at_probability) const {
  // Hysteresis against the location last emitted (dedupe's memory): the first identification
  // is immediate; a move needs the new location to stay more likely than the current one by
  // score.move_margin for the dwell, and the confidence at the end of it (which requires the
  // current location to look unlikely).
  const auto& current = state.last_emitted;
  if (!current || location.is(current->store_id, current->location)) {
    state.move_candidate.reset();
    if (confidence < options_.min_confidence) return DropReason::low_confidence;
    return std::nullopt;
  }
  if (best_at_probability < current_at_probability + options_.move_margin) {
    state.move_candidate.reset();
    return DropReason::low_confidence;
  }
  auto& candidate = state.move_candidate;
  if (!candidate || !location.is(candidate->store_id, candidate->location)) {
    candidate = MoveCandidate{location.store_id, location.name, now_ms, 1};
  } else if (candidate->readings < 255) {
    ++candidate->readings;
  }
  if (now_ms - candidate->since_ms < options_.move_dwell_ms ||
      candidate->readings < options_.move_dwell_readings || confidence < options_.min_confidence) {
    return DropReason::pending_move;
  }
  candidate.reset();
  return std::nullopt;
}

Identification Scorer::score_qr(CustomerState& state, const Resolved& resolved) const {
  state.move_candidate.reset();
  return Identification{resolved.location_index, resolved.location, nullptr, 0, 1.0};
}

}  // namespace tastesync
