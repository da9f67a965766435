#include "score.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tastesync {
namespace {

// A reading further than this many standard deviations from the prediction moves the estimate
// only as far as this (a Huber-style clip): one body-blocked reading cannot drag it 15 dB, while
// a real move still gets through within a few readings.
constexpr double kInnovationGate = 2.5;
constexpr double kLn10 = 2.302585092994046;

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

struct LocationEstimate {
  std::uint32_t location_index = 0;
  double distance_m = std::numeric_limits<double>::infinity();
  double variance_db2 = 0.0;
  double radius_m = 0.0;
  int readings = 0;
  const BeaconEntry* beacon = nullptr;
  int latest_rssi_dbm = 0;
};

bool same_location(const Location& location, std::string_view store_id, std::string_view name) {
  return location.store_id == store_id && location.name == name;
}

}  // namespace

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

Proximity Scorer::proximity(double distance_m) const {
  if (distance_m < 0.5) return Proximity::immediate;
  if (distance_m < 3.0) return Proximity::near;
  return Proximity::far;
}

double Scorer::confidence(double distance_m, double radius_m, int readings, double variance_db2,
                          double runner_up_m, double runner_up_variance_db2) const {
  // Closeness: 1 inside the location's radius, then falling with the square of the overshoot
  // ratio (received power falls with d² in free space).
  const double closeness =
      distance_m <= radius_m ? 1.0 : (radius_m / distance_m) * (radius_m / distance_m);
  // Sureness: one reading is evidence, not proof: 0.9 for one, approaching 1 as readings agree.
  const double sureness = 1.0 - 0.1 * std::pow(0.5, static_cast<double>(std::max(readings, 1) - 1));
  // Distinctness: the probability that the nearest location really is nearer than the
  // runner-up, taking both filtered RSSIs as normal with their variances: 2 Phi(z) - 1 with z
  // the dB margin over its standard deviation. 0 when they are equal, 1 without a runner-up.
  double distinctness = 1.0;
  if (!std::isinf(runner_up_m)) {
    const double margin_db =
        10.0 * options_.path_loss_exponent * std::log10(runner_up_m / distance_m);
    const double sigma_db = std::sqrt(std::max(variance_db2 + runner_up_variance_db2, 1e-9));
    distinctness = std::max(0.0, std::erf(margin_db / sigma_db / std::sqrt(2.0)));
  }
  return closeness * sureness * distinctness;
}

void Scorer::filter(BeaconTrack& track, EpochMs t_ms, double rssi_dbm) const {
  const double measurement_variance = options_.measurement_sigma_db * options_.measurement_sigma_db;
  if (track.readings == 0 || t_ms - track.newest_ms > options_.window_ms) {
    // New, or silent for longer than the window: what it said before no longer applies.
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
  const int raw_rssi = sighting.beacon.rssi_dbm;
  double offset_db = 0.0;
  if (sighting.platform == "ios") offset_db = options_.rssi_offset_ios_db;
  if (sighting.platform == "android") offset_db = options_.rssi_offset_android_db;

  BeaconTrack& heard = track_for(state, resolved.beacon->beacon_id);
  if (sighting.beacon.tx_power_dbm) {
    heard.reported_tx_power_dbm = static_cast<std::int8_t>(*sighting.beacon.tx_power_dbm);
  }
  const bool newest_reading = heard.readings == 0 || now_ms >= heard.newest_ms;
  filter(heard, now_ms, raw_rssi + offset_db);
  if (newest_reading) heard.last_rssi_dbm = static_cast<std::int8_t>(raw_rssi);
  if (heard_proximity != nullptr) {
    const BeaconEntry& beacon = *resolved.beacon;
    const int tx_power = beacon.tx_power_dbm                ? *beacon.tx_power_dbm
                         : heard.reported_tx_power_dbm != 0 ? heard.reported_tx_power_dbm
                                                            : options_.default_tx_power_dbm;
    *heard_proximity = proximity(distance_m(heard.rssi_dbm, tx_power));
  }

  // Beacons silent for the window are forgotten; the newest reading defines "now" for a
  // customer, so an out-of-order reading never shrinks the window of later ones.
  const EpochMs newest_ms = std::max(now_ms, state.last_activity_ms);
  std::erase_if(state.tracks, [&](const BeaconTrack& track) {
    return track.newest_ms < newest_ms - options_.window_ms;
  });

  // Per location, the nearest of its beacons (several beacons may mark one location).
  std::array<LocationEstimate, CustomerState::kMaxTracks> estimates{};
  std::size_t estimate_count = 0;
  for (BeaconTrack& track : state.tracks) {
    if (track.entry_generation != registry_generation) {
      track.entry = registry.find_beacon_by_id(track.beacon_id);
      track.entry_generation = registry_generation;
    }
    const BeaconEntry* beacon = track.entry;
    if (beacon == nullptr || beacon->status != EntryStatus::active) continue;
    const int tx_power = beacon->tx_power_dbm               ? *beacon->tx_power_dbm
                         : track.reported_tx_power_dbm != 0 ? track.reported_tx_power_dbm
                                                            : options_.default_tx_power_dbm;
    const double distance = distance_m(track.rssi_dbm, tx_power);

    LocationEstimate* slot = nullptr;
    for (std::size_t i = 0; i < estimate_count; ++i) {
      if (estimates[i].location_index == beacon->location_index) slot = &estimates[i];
    }
    if (slot == nullptr) {
      slot = &estimates[estimate_count++];
      slot->location_index = beacon->location_index;
    }
    if (distance < slot->distance_m) {
      const Location& location = registry.location(beacon->location_index);
      slot->distance_m = distance;
      slot->variance_db2 = track.variance;
      slot->radius_m =
          beacon->radius_m.value_or(options_.radius_m[static_cast<std::size_t>(location.type)]);
      slot->readings = track.readings;
      slot->beacon = beacon;
      slot->latest_rssi_dbm = track.last_rssi_dbm;
    }
  }

  const LocationEstimate* best = nullptr;
  const LocationEstimate* runner_up = nullptr;
  for (std::size_t i = 0; i < estimate_count; ++i) {
    const LocationEstimate& estimate = estimates[i];
    if (best == nullptr || estimate.distance_m < best->distance_m) {
      runner_up = best;
      best = &estimate;
    } else if (runner_up == nullptr || estimate.distance_m < runner_up->distance_m) {
      runner_up = &estimate;
    }
  }
  if (best == nullptr) return Failure{DropReason::low_confidence};

  const Location& location = registry.location(best->location_index);
  const double confidence = round_confidence(this->confidence(
      best->distance_m, best->radius_m, best->readings, best->variance_db2,
      runner_up != nullptr ? runner_up->distance_m : std::numeric_limits<double>::infinity(),
      runner_up != nullptr ? runner_up->variance_db2 : 0.0));
  const Identification identification{best->location_index, &location, best->beacon,
                                      best->latest_rssi_dbm, confidence};

  // Hysteresis against the location last emitted (dedupe's memory): the first identification
  // is immediate; a move needs the new location clearly nearer, held for a dwell.
  const auto& current = state.last_emitted;
  if (!current || same_location(location, current->store_id, current->location)) {
    state.move_candidate.reset();
    if (confidence < options_.min_confidence) return Failure{DropReason::low_confidence};
    return identification;
  }
  double current_distance_m = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < estimate_count; ++i) {
    if (same_location(registry.location(estimates[i].location_index), current->store_id,
                      current->location)) {
      current_distance_m = estimates[i].distance_m;
    }
  }
  // The dwell runs while the new location stays clearly nearer; it is confirmed once it has
  // lasted and the confidence is there (the filters of a walk catch up within the dwell).
  const bool beats = best->distance_m <= current_distance_m * (1.0 - options_.move_margin);
  if (!beats) {
    state.move_candidate.reset();
    return Failure{DropReason::low_confidence};
  }
  auto& candidate = state.move_candidate;
  if (!candidate || !same_location(location, candidate->store_id, candidate->location)) {
    candidate = MoveCandidate{location.store_id, location.name, now_ms, 1};
  } else if (candidate->readings < 255) {
    ++candidate->readings;
  }
  if (now_ms - candidate->since_ms < options_.move_dwell_ms ||
      candidate->readings < options_.move_dwell_readings || confidence < options_.min_confidence) {
    return Failure{DropReason::pending_move};
  }
  candidate.reset();
  return identification;
}

Identification Scorer::score_qr(CustomerState& state, const Resolved& resolved) const {
  state.move_candidate.reset();
  return Identification{resolved.location_index, resolved.location, nullptr, 0, 1.0};
}

}  // namespace tastesync
