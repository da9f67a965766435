#include "score.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tastesync {
namespace {

void add_sample(BeaconTrack& track, EpochMs t_ms, int rssi_dbm) {
  // Samples stay sorted by time; phones deliver slightly out of order.
  std::size_t pos = track.sample_count;
  if (track.sample_count == BeaconTrack::kMaxSamples) {
    if (t_ms < track.samples[0].t_ms) return;  // older than everything kept
    std::move(track.samples.begin() + 1, track.samples.end(), track.samples.begin());
    pos = --track.sample_count;
  }
  while (pos > 0 && track.samples[pos - 1].t_ms > t_ms) {
    track.samples[pos] = track.samples[pos - 1];
    --pos;
  }
  track.samples[pos] = RssiSample{t_ms, static_cast<std::int8_t>(rssi_dbm)};
  ++track.sample_count;
}

void drop_samples_before(BeaconTrack& track, EpochMs horizon_ms) {
  std::size_t stale = 0;
  while (stale < track.sample_count && track.samples[stale].t_ms < horizon_ms) ++stale;
  if (stale == 0) return;
  std::move(track.samples.begin() + static_cast<std::ptrdiff_t>(stale),
            track.samples.begin() + track.sample_count, track.samples.begin());
  track.sample_count = static_cast<std::uint8_t>(track.sample_count - stale);
}

BeaconTrack& track_for(CustomerState& state, const Uuid& beacon_id) {
  for (BeaconTrack& track : state.tracks) {
    if (track.beacon_id == beacon_id) return track;
  }
  if (state.tracks.size() == CustomerState::kMaxTracks) {
    // Give the slot of the beacon heard least recently to the new one.
    auto stalest = std::min_element(
        state.tracks.begin(), state.tracks.end(),
        [](const BeaconTrack& a, const BeaconTrack& b) { return a.newest_ms() < b.newest_ms(); });
    state.tracks.erase(stalest);
  }
  BeaconTrack& track = state.tracks.emplace_back();
  track.beacon_id = beacon_id;
  return track;
}

struct LocationEstimate {
  std::uint32_t location_index = 0;
  double distance_m = std::numeric_limits<double>::infinity();
  const BeaconEntry* beacon = nullptr;
  int latest_rssi_dbm = 0;
  std::size_t samples = 0;
};

}  // namespace

double round_confidence(double confidence) {
  return std::floor(std::clamp(confidence, 0.0, 1.0) * 1000.0 + 0.5) / 1000.0;
}

double Scorer::distance_m(double rssi_dbm, int tx_power_dbm) const {
  // Log-distance path loss: rssi = tx_power - 10 n log10(d), tx_power being the RSSI at 1 m.
  // 10^x as e^(x ln 10): exp is several times cheaper than pow, and this runs per beacon heard.
  constexpr double kLn10 = 2.302585092994046;
  return std::exp((tx_power_dbm - rssi_dbm) * kLn10 / (10.0 * options_.path_loss_exponent));
}

double Scorer::confidence(double distance_m, double radius_m, double runner_up_m,
                          std::size_t samples) const {
  // Closeness: 1 inside the location's radius, then falling with the square of the overshoot
  // ratio (received power falls with d^2 in free space).
  const double closeness =
      distance_m <= radius_m ? 1.0 : (radius_m / distance_m) * (radius_m / distance_m);
  // Distinctness: how much nearer than the runner-up. Equal distances give 0; twice as near
  // gives 0.875; no runner-up gives 1.
  const double ratio = std::isinf(runner_up_m) ? 0.0 : std::min(1.0, distance_m / runner_up_m);
  const double distinctness = 1.0 - ratio * ratio * ratio;
  // One reading is evidence but not proof: 0.9 for one, approaching 1 as readings agree.
  const double sample_factor =
      1.0 - 0.1 * std::pow(0.5, static_cast<double>(std::max<std::size_t>(samples, 1) - 1));
  return closeness * distinctness * sample_factor;
}

Result<Identification, DropReason> Scorer::score_beacon(CustomerState& state,
                                                        const Sighting& sighting,
                                                        const Resolved& resolved,
                                                        const Registry& registry,
                                                        std::uint64_t registry_generation) const {
  const EpochMs now_ms = sighting.detected_at_ms;
  const EpochMs horizon_ms = now_ms - options_.window_ms;

  BeaconTrack& heard = track_for(state, resolved.beacon->beacon_id);
  if (sighting.beacon.tx_power_dbm) {
    heard.reported_tx_power_dbm = static_cast<std::int8_t>(*sighting.beacon.tx_power_dbm);
  }
  add_sample(heard, now_ms, sighting.beacon.rssi_dbm);

  // Forget what fell out of the window for good; the newest reading defines "now" for a
  // customer, so an out-of-order reading never shrinks the window of later ones.
  const EpochMs newest_ms = std::max(now_ms, state.last_activity_ms);
  for (BeaconTrack& track : state.tracks)
    drop_samples_before(track, newest_ms - options_.window_ms);
  std::erase_if(state.tracks, [](const BeaconTrack& track) { return track.sample_count == 0; });

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
    double rssi_sum = 0.0;
    std::size_t count = 0;
    int latest_rssi = 0;
    for (std::size_t i = 0; i < track.sample_count; ++i) {
      const RssiSample& sample = track.samples[i];
      if (sample.t_ms < horizon_ms || sample.t_ms > now_ms) continue;
      rssi_sum += sample.rssi_dbm;
      latest_rssi = sample.rssi_dbm;
      ++count;
    }
    if (count == 0) continue;
    const int tx_power = beacon->tx_power_dbm               ? *beacon->tx_power_dbm
                         : track.reported_tx_power_dbm != 0 ? track.reported_tx_power_dbm
                                                            : options_.default_tx_power_dbm;
    const double distance = distance_m(rssi_sum / static_cast<double>(count), tx_power);

    LocationEstimate* slot = nullptr;
    for (std::size_t i = 0; i < estimate_count; ++i) {
      if (estimates[i].location_index == beacon->location_index) slot = &estimates[i];
    }
    if (slot == nullptr) {
      slot = &estimates[estimate_count++];
      slot->location_index = beacon->location_index;
    }
    if (distance < slot->distance_m) {
      slot->distance_m = distance;
      slot->beacon = beacon;
      slot->latest_rssi_dbm = latest_rssi;
      slot->samples = count;
    }
  }

  const LocationEstimate* best = nullptr;
  double runner_up_m = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < estimate_count; ++i) {
    const LocationEstimate& estimate = estimates[i];
    if (best == nullptr || estimate.distance_m < best->distance_m) {
      if (best != nullptr) runner_up_m = best->distance_m;
      best = &estimate;
    } else {
      runner_up_m = std::min(runner_up_m, estimate.distance_m);
    }
  }
  if (best == nullptr) return Failure{DropReason::low_confidence};

  const Location& location = registry.location(best->location_index);
  const double radius = options_.radius_m[static_cast<std::size_t>(location.type)];
  const double confidence =
      round_confidence(this->confidence(best->distance_m, radius, runner_up_m, best->samples));
  if (confidence < options_.min_confidence) return Failure{DropReason::low_confidence};
  return Identification{best->location_index, &location, best->beacon, best->latest_rssi_dbm,
                        confidence};
}

Identification Scorer::score_qr(const Resolved& resolved) const {
  return Identification{resolved.location_index, resolved.location, nullptr, 0, 1.0};
}

}  // namespace tastesync
