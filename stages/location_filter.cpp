#include "stages/location_filter.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <optional>

namespace tastesync {
namespace {

// The near band of a location runs from its radius in to this distance, the far band from the
// radius out to kFarthestM: a phone is rarely nearer a beacon than a hand above it, and BLE is
// rarely heard across more than a restaurant (docs/scoring.md).
constexpr double kNearestM = 0.25;
constexpr double kFarthestM = 20.0;
// A belief this small is none: it keeps tracks of beacons that say nothing from holding
// denormal floats, and lets a restored state compare equal to the live one.
constexpr float kNoBelief = 1e-9F;
// How much a body between phone and beacon takes off a reading (2.4 GHz through a person:
// 5-20 dB).
constexpr double kBlockingMinDb = 5.0;
constexpr double kBlockingMaxDb = 20.0;
// The reading scatter's running average: each reading's weight, and how far above the current
// estimate one reading may count.
constexpr double kScatterWeight = 1.0 / 32.0;
constexpr double kScatterCap = 4.0;
// Where a customer usually is from the nearest beacon (a seat at a table, the host stand): the
// level the loudest beacon should read for a phone without offset. The offset stays within
// kMaxLevelOffsetDb (phone models differ by up to ~20 dB, UJI).
constexpr double kTypicalNearestM = 0.6;
constexpr double kMaxLevelOffsetDb = 10.0;
// A scan window (learn_from_scan): how long after the scan the customer's readings count, and
// how many readings the track's estimate at the scan is worth.
constexpr EpochMs kScanWindowMs = 30000;
constexpr float kEstimateReadings = 3.0F;
// A reading this far from the window's mean is left out of it (follow_scan_window).
constexpr double kScanOutlierDb = 15.0;

// The location of the customer's track of `beacon_id`, when it holds belief.
std::optional<std::uint32_t> location_of(const CustomerState& state, const Uuid& beacon_id) {
  for (const BeaconTrack& track : state.tracks) {
    if (same_uuid(track.beacon_id, beacon_id) && track.entry != nullptr &&
        track.entry->status == EntryStatus::active) {
      return track.entry->location_index;
    }
  }
  return std::nullopt;
}

double normal_cdf(double z) {
  return 0.5 * std::erfc(-z / std::numbers::sqrt2);
}

// The density of a level uniform in [low, high] seen through N(0, sigma^2) noise, from the
// normal CDF of the reading's distance to each end (taken apart so that an end two bands share
// is computed once: docs/bench.md#issue-17-5).
double band_density(double cdf_above_low, double cdf_above_high, double low, double high) {
  return (cdf_above_low - cdf_above_high) / (high - low);
}

double total_belief(const CustomerState& state) {
  double total = 0.0;
  for (const BeaconTrack& track : state.tracks) total += track.belief;
  return total;
}

bool holds_belief(const BeaconTrack& track) {
  return track.entry != nullptr && track.entry->status == EntryStatus::active;
}

}  // namespace

void LocationBeliefs::add(std::uint32_t location_index, const BeaconTrack& track) {
  LocationBelief* slot = nullptr;
  for (std::size_t i = 0; i < count_ && slot == nullptr; ++i) {
    if (items_[i].location_index == location_index) slot = &items_[i];
  }
  if (slot == nullptr) {
    slot = &items_[count_++];
    slot->location_index = location_index;
  }
  slot->probability += track.belief;
  if (slot->track == nullptr || track.newest_ms > slot->track->newest_ms) slot->track = &track;
}

const LocationBelief* LocationBeliefs::most_likely() const {
  const LocationBelief* best = nullptr;
  for (const LocationBelief& belief : all()) {
    if (best == nullptr || belief.probability > best->probability) best = &belief;
  }
  return best;
}

double LocationFilter::evidence_sigma_db(const CustomerState& state) const {
  // The scatter of this customer's readings (never taken below the configured one, which the
  // first readings could not yet contradict), plus the shadowing no scatter shows.
  const double measurement = options_.measurement_sigma_db * options_.measurement_sigma_db;
  const double scatter = std::max(static_cast<double>(state.reading_variance), measurement);
  return std::sqrt(scatter + options_.shadowing_sigma_db * options_.shadowing_sigma_db + 1e-6);
}

double LocationFilter::likelihood_ratio(double level_db, double radius_m, double sigma_db) const {
  // At the location, the customer is between kNearestM and the radius from its beacon; anywhere
  // else, between the radius and kFarthestM. Both spans, in dB by the log-distance model, are
  // taken as uniform bands seen through a reading's scatter; a blocked near beacon reads like a
  // far one (blocked_share), so no single weak reading can rule its location out.
  const double n10 = 10.0 * options_.path_loss_exponent;
  const double radius = std::clamp(radius_m, 2.0 * kNearestM, kFarthestM / 2.0);
  const double at_radius = -n10 * std::log10(radius);
  const double nearest = -n10 * std::log10(kNearestM);
  const double farthest = -n10 * std::log10(kFarthestM);
  const double sigma = std::max(sigma_db, 0.1);
  const auto cdf_above = [&](double edge) { return normal_cdf((level_db - edge) / sigma); };
  const double at_radius_cdf = cdf_above(at_radius);  // the near band's low end, the far's high
  const double near = band_density(at_radius_cdf, cdf_above(nearest), at_radius, nearest);
  const double far = band_density(cdf_above(farthest), at_radius_cdf, farthest, at_radius);
  // Blocked: the near band lowered by a body's dip, so a reading far below it still rules the
  // location out.
  const double blocked_low = at_radius - kBlockingMaxDb;
  const double blocked_high = nearest - kBlockingMinDb;
  const double blocked =
      band_density(cdf_above(blocked_low), cdf_above(blocked_high), blocked_low, blocked_high);
  const double share = std::clamp(options_.blocked_share, 0.0, 1.0);
  return ((1.0 - share) * near + share * blocked) / std::max(far, 1e-300);
}

LocationBeliefs LocationFilter::location_beliefs(const CustomerState& state) {
  LocationBeliefs beliefs;
  for (const BeaconTrack& track : state.tracks) {
    if (holds_belief(track)) beliefs.add(track.entry->location_index, track);
  }
  return beliefs;
}

Result<Identification, DropReason> LocationFilter::score_beacon(
    CustomerState& state, const Sighting& sighting, const Resolved& resolved,
    const Registry& registry, std::uint64_t registry_generation, Proximity* heard_proximity,
    RoomLevels* room) const {
  const EpochMs now_ms = sighting.detected_at_ms;
  // The filter's clock is the newest reading it has seen: an out-of-order reading is evidence
  // at that time, with no transition for it.
  EpochMs previous_ms = std::numeric_limits<EpochMs>::min();
  for (const BeaconTrack& track : state.tracks)
    previous_ms = std::max(previous_ms, track.newest_ms);
  if (state.tracks.empty()) previous_ms = now_ms;
  const EpochMs newest_ms = std::max(previous_ms, now_ms);
  const EpochMs elapsed_ms = std::max<EpochMs>(0, now_ms - previous_ms);

  double offset_db = 0.0;
  if (sighting.platform == "ios") offset_db = options_.rssi_offset_ios_db;
  if (sighting.platform == "android") offset_db = options_.rssi_offset_android_db;
  const double corrected_rssi = sighting.beacon.rssi_dbm + offset_db;
  const BeaconEntry& beacon = *resolved.beacon;
  const double weight = evidence_weight(state, beacon.beacon_id, now_ms);
  BeaconTrack& heard = record_reading(state, sighting, beacon, corrected_rssi);
  const double tx_power = tx_power_dbm(beacon, heard, registry, room);
  if (heard_proximity != nullptr) {
    // Apple's classes (metrics only), by the calibrated power as the radius model has them.
    *heard_proximity =
        scorer_.proximity_at(heard.rssi_dbm, calibrated_tx_power(beacon, heard, options_));
  }

  // Tracks silent beyond their memory are forgotten: their belief goes to "elsewhere".
  std::erase_if(state.tracks, [&](const BeaconTrack& track) {
    return track.newest_ms < newest_ms - options_.track_memory_ms;
  });
  refresh_entries(state, registry, registry_generation);
  learn_level_offset(state, newest_ms, registry, room);
  predict(state, registry, newest_ms, elapsed_ms);
  const double ratio =
      weigh_evidence(state, weight, tx_power, corrected_rssi, radius_of(beacon, registry));
  update(state, beacon.location_index, ratio);

  const LocationBeliefs beliefs = location_beliefs(state);
  const LocationBelief* best = beliefs.most_likely();
  follow_scan_window(state, beacon.beacon_id, corrected_rssi, now_ms, best, room);
  if (best == nullptr) return Failure{DropReason::low_confidence};
  const Location& location = registry.location(best->location_index);
  const double confidence = round_confidence(best->probability);
  if (confidence < options_.min_confidence ||
      (table_to_table(state, registry, location) && confidence < options_.move_min_confidence)) {
    // Say when the customer looks to be leaving the location last emitted, for operators.
    const auto& current = state.last_emitted;
    if (current && !location.is(current->store_id, current->location)) {
      double held = 0.0;
      for (const LocationBelief& belief : beliefs.all()) {
        if (registry.location(belief.location_index).is(current->store_id, current->location)) {
          held = belief.probability;
        }
      }
      if (best->probability > held) return Failure{DropReason::pending_move};
    }
    return Failure{DropReason::low_confidence};
  }
  // The location last emitted is confirmed (a still_here) only by a reading that speaks for it:
  // just after the customer leaves, the sticky belief holds the old table for a few readings,
  // and a heartbeat then named a table already left (the simulator's quiet room).
  const auto& current = state.last_emitted;
  if (current && location.is(current->store_id, current->location) &&
      (beacon.location_index != best->location_index || ratio <= 1.0)) {
    return Failure{DropReason::suppressed};
  }
  return Identification{best->location_index, &location, best->track->entry,
                        best->track->last_rssi_dbm, confidence};
}

bool LocationFilter::table_to_table(const CustomerState& state, const Registry& registry,
                                    const Location& best) {
  const auto& current = state.last_emitted;
  if (!current || best.is(current->store_id, current->location)) return false;
  for (const BeaconTrack& track : state.tracks) {
    if (!holds_belief(track)) continue;
    const Location& held = registry.location(track.entry->location_index);
    if (held.is(current->store_id, current->location)) {
      return held.type == LocationType::table && best.type == LocationType::table;
    }
  }
  return false;  // its beacons are forgotten: nothing holds the customer there
}

BeaconTrack& LocationFilter::record_reading(CustomerState& state, const Sighting& sighting,
                                            const BeaconEntry& beacon,
                                            double corrected_rssi_dbm) const {
  const EpochMs now_ms = sighting.detected_at_ms;
  BeaconTrack* found = nullptr;
  for (BeaconTrack& track : state.tracks) {
    if (same_uuid(track.beacon_id, beacon.beacon_id)) found = &track;
  }
  if (found == nullptr) {
    if (state.tracks.size() == CustomerState::kMaxTracks) {
      // Give the slot of the beacon heard least recently to the new one (its belief goes to
      // "elsewhere").
      state.tracks.erase(std::min_element(
          state.tracks.begin(), state.tracks.end(),
          [](const BeaconTrack& a, const BeaconTrack& b) { return a.newest_ms < b.newest_ms; }));
    }
    // A newly heard location takes an even share of "elsewhere" with it (one more hypothesis
    // in a uniform prior over what elsewhere could be); its readings decide from there.
    const double elsewhere = std::max(0.0, 1.0 - total_belief(state));
    found = &state.tracks.emplace_back();
    found->beacon_id = beacon.beacon_id;
    found->belief = static_cast<float>(elsewhere / static_cast<double>(state.tracks.size() + 1));
  }
  BeaconTrack& heard = *found;
  if (sighting.beacon.tx_power_dbm) {
    heard.reported_tx_power_dbm = static_cast<std::int8_t>(*sighting.beacon.tx_power_dbm);
  }
  const bool newest_reading = heard.readings == 0 || now_ms >= heard.newest_ms;
  learn_scatter(state, heard, now_ms, corrected_rssi_dbm);
  scorer_.filter(heard, now_ms, corrected_rssi_dbm);
  if (newest_reading) heard.last_rssi_dbm = static_cast<std::int8_t>(sighting.beacon.rssi_dbm);
  return heard;
}

double LocationFilter::evidence_weight(const CustomerState& state, const Uuid& beacon_id,
                                       EpochMs t_ms) const {
  const double corr_s = options_.evidence_corr_s;
  if (corr_s <= 0.0) return options_.evidence_weight;
  for (const BeaconTrack& track : state.tracks) {
    if (!same_uuid(track.beacon_id, beacon_id) || track.readings == 0) continue;
    // A second or more since the track's last reading: the share below is at least 1 (expm1 is
    // monotonic) and capped there, so the answer is known without the expm1, bit for bit.
    if (t_ms - track.newest_ms >= 1000) return options_.evidence_weight;
    const double dt_s = static_cast<double>(std::max<EpochMs>(0, t_ms - track.newest_ms)) / 1000.0;
    const double share = std::expm1(-dt_s / corr_s) / one_second_decay_;
    return options_.evidence_weight * std::min(share, 1.0);
  }
  return options_.evidence_weight;
}

double LocationFilter::weigh_evidence(CustomerState& state, double weight, double tx_power_dbm,
                                      double corrected_rssi_dbm, double radius_m) const {
  const double level = corrected_rssi_dbm - tx_power_dbm - state.level_offset_db;
  const double ratio = likelihood_ratio(level, radius_m, evidence_sigma_db(state));
  // The default weight, for every reading a second or more after its beacon's last: a square
  // root is a fraction of pow's cost (docs/bench.md#issue-17-19).
  if (weight == 0.5) return std::sqrt(ratio);
  return std::pow(ratio, weight);
}

void LocationFilter::learn_scatter(CustomerState& state, const BeaconTrack& track, EpochMs t_ms,
                                   double rssi_dbm) const {
  // A reading's squared distance from its track's prediction, less the prediction's own
  // variance, estimates the reading scatter; averaged over the customer's last few dozen
  // readings. Capped at four times the current estimate, so one body-blocked reading cannot
  // swamp it, while a noisy room still raises it within a minute.
  if (track.readings == 0 || t_ms - track.newest_ms > options_.track_memory_ms) return;
  const double measurement = options_.measurement_sigma_db * options_.measurement_sigma_db;
  const double current = state.reading_variance > 0.0F ? state.reading_variance : measurement;
  const double elapsed_s =
      static_cast<double>(std::max<EpochMs>(0, t_ms - track.newest_ms)) / 1000.0;
  const double predicted = track.variance + options_.process_noise_db2_per_s * elapsed_s;
  const double innovation = rssi_dbm - track.rssi_dbm;
  const double observed =
      std::clamp(innovation * innovation - predicted, 0.0, kScatterCap * current);
  state.reading_variance = static_cast<float>(current + (observed - current) * kScatterWeight);
}

void LocationFilter::learn_level_offset(CustomerState& state, EpochMs newest_ms,
                                        const Registry& registry, const RoomLevels* room) const {
  // Customers spend their visit near some beacon (seated, at the host stand, at the counter),
  // so the loudest filtered level, over time, says how loud this phone reads: the offset moves
  // slowly towards the loudest level's excess over a typical nearest beacon. Evidence is then
  // relative to the customer's own loudest beacon, as the "which location is louder"
  // asks, and a constant offset of one phone moves no location nearer or farther.
  if (options_.level_offset_weight <= 0.0) return;
  double loudest = -std::numeric_limits<double>::infinity();
  for (const BeaconTrack& track : state.tracks) {
    if (!holds_belief(track) || track.newest_ms < newest_ms - options_.window_ms) continue;
    loudest = std::max(loudest, static_cast<double>(track.rssi_dbm) -
                                    tx_power_dbm(*track.entry, track, registry, room));
  }
  if (!std::isfinite(loudest)) return;
  const double typical = -10.0 * options_.path_loss_exponent * std::log10(kTypicalNearestM);
  const double target = std::clamp(loudest - typical, -kMaxLevelOffsetDb, kMaxLevelOffsetDb);
  state.level_offset_db = static_cast<float>(
      state.level_offset_db + (target - state.level_offset_db) * options_.level_offset_weight);
}

void LocationFilter::refresh_entries(CustomerState& state, const Registry& registry,
                                     std::uint64_t registry_generation) const {
  for (BeaconTrack& track : state.tracks) {
    if (track.entry_generation != registry_generation) {
      track.entry = registry.find_beacon_by_id(track.beacon_id);
      track.entry_generation = registry_generation;
    }
    if (!holds_belief(track)) track.belief = 0.0F;
  }
}

void LocationFilter::predict(CustomerState& state, const Registry& registry, EpochMs newest_ms,
                             EpochMs elapsed_ms) const {
  if (elapsed_ms <= 0) return;
  // A continuous-time chain: a stay at a location of type k ends at rate 1 / stay_s[k] (into
  // "elsewhere"), a walk ends at rate 1 / walk_s at one of the store's places, each as likely;
  // the places heard within the window take their share. Both from the beliefs before the step.
  const double elapsed_s = static_cast<double>(elapsed_ms) / 1000.0;
  std::array<double, 3> stays_ending{};
  for (std::size_t k = 0; k < stays_ending.size(); ++k) {
    stays_ending[k] = -std::expm1(-elapsed_s / std::max(options_.stay_s[k], 1e-3));
  }
  const double elsewhere = std::max(0.0, 1.0 - total_belief(state));
  const double arriving = elsewhere * -std::expm1(-elapsed_s / std::max(options_.walk_s, 1e-3));
  std::size_t destinations = 0;
  for (const BeaconTrack& track : state.tracks) {
    if (holds_belief(track) && track.newest_ms >= newest_ms - options_.window_ms) ++destinations;
  }
  for (BeaconTrack& track : state.tracks) {
    if (!holds_belief(track)) continue;
    const Location& location = registry.location(track.entry->location_index);
    double belief = track.belief * (1.0 - stays_ending[static_cast<std::size_t>(location.type)]);
    if (track.newest_ms >= newest_ms - options_.window_ms) {
      // Any place of the store is a walk's end, heard or not: the share of the places not
      // heard stays with "elsewhere", so one faint beacon alone never draws the whole belief.
      const auto places =
          std::max<std::size_t>(destinations, registry.locations_in_store(location));
      belief += arriving / static_cast<double>(places);
    }
    track.belief = static_cast<float>(belief);
  }
}

void LocationFilter::update(CustomerState& state, std::uint32_t location_index, double ratio) {
  // Every hypothesis but "at this location" explains the reading as a far beacon, so only the
  // location's tracks are scaled; normalising against "elsewhere" (1 - the tracks' sum) does the
  // rest.
  double total = 0.0;
  double scaled = 0.0;
  for (BeaconTrack& track : state.tracks) {
    total += track.belief;
    if (holds_belief(track) && track.entry->location_index == location_index) {
      scaled += track.belief * ratio;
    } else {
      scaled += track.belief;
    }
  }
  const double norm = std::max(0.0, 1.0 - total) + scaled;
  if (!(norm > 0.0) || !std::isfinite(norm)) return;
  for (BeaconTrack& track : state.tracks) {
    double belief = track.belief;
    if (holds_belief(track) && track.entry->location_index == location_index) belief *= ratio;
    belief /= norm;
    track.belief = belief < kNoBelief ? 0.0F : static_cast<float>(std::min(belief, 1.0));
  }
}

double LocationFilter::radius_of(const BeaconEntry& beacon, const Registry& registry) const {
  return beacon.radius_m.value_or(
      options_.radius_m[static_cast<std::size_t>(registry.location(beacon.location_index).type)]);
}

double LocationFilter::own_location_level_db(const BeaconEntry& beacon,
                                             const Registry& registry) const {
  const double radius = std::clamp(radius_of(beacon, registry), 2.0 * kNearestM, kFarthestM / 2.0);
  return -10.0 * options_.path_loss_exponent * std::log10(radius);
}

double LocationFilter::taught_tx_power_dbm(const BeaconEntry& beacon, const Registry& registry,
                                           const LearnedLevel& learned) const {
  return learned.level_dbm - own_location_level_db(beacon, registry);
}

double LocationFilter::tx_power_dbm(const BeaconEntry& beacon, const BeaconTrack& track,
                                    const Registry& registry, const RoomLevels* room) const {
  const double installed = calibrated_tx_power(beacon, track, options_);
  const LearnedLevel* learned = room == nullptr ? nullptr : room->find(beacon.beacon_id);
  if (learned == nullptr) return installed;
  // The scans' mean level, taken as read at the location's radius, against the installer's
  // value counted as room_prior_scans scans (docs/scoring.md).
  const double taught = taught_tx_power_dbm(beacon, registry, *learned);
  const double prior = std::max(options_.room_prior_scans, 0.0);
  const double samples = learned->samples;
  return (prior * installed + samples * taught) / std::max(prior + samples, 1e-9);
}

void LocationFilter::learn_from_scan(CustomerState& state, std::uint32_t location_index,
                                     EpochMs t_ms, RoomLevels& room) const {
  if (!options_.learn_from_qr) return;
  close_scan_window(state, t_ms, room);
  // The location's loudest beacon (a table usually has one): its track's estimate, when heard
  // within the window, counts as kEstimateReadings readings; the readings to come add theirs.
  const BeaconTrack* loudest = nullptr;
  for (const BeaconTrack& track : state.tracks) {
    if (!holds_belief(track) || track.entry->location_index != location_index) continue;
    if (loudest == nullptr || track.rssi_dbm > loudest->rssi_dbm) loudest = &track;
  }
  if (loudest == nullptr) return;
  ScanWindow& window = state.scan_window.emplace();
  window.beacon_id = loudest->beacon_id;
  window.until_ms = t_ms + kScanWindowMs;
  const bool fresh = std::abs(static_cast<double>(t_ms - loudest->newest_ms)) <=
                     static_cast<double>(options_.window_ms);
  if (fresh && loudest->readings > 0) {
    const float counted = std::min<float>(loudest->readings, kEstimateReadings);
    window.sum_dbm = loudest->rssi_dbm * counted;
    window.readings = counted;
  }
}

void LocationFilter::follow_scan_window(CustomerState& state, const Uuid& heard_beacon_id,
                                        double corrected_rssi_dbm, EpochMs t_ms,
                                        const LocationBelief* best, RoomLevels* room) const {
  if (!state.scan_window || room == nullptr) return;
  ScanWindow& window = *state.scan_window;
  // A reading far from the window's mean is a body in the way, or the customer walking off
  // before the filter is sure they left: neither is the level at the location.
  const bool consistent =
      window.readings <= 0.0F ||
      std::abs(corrected_rssi_dbm - window.sum_dbm / window.readings) <= kScanOutlierDb;
  if (t_ms <= window.until_ms && same_uuid(heard_beacon_id, window.beacon_id) && consistent) {
    window.sum_dbm += static_cast<float>(corrected_rssi_dbm);
    window.readings += 1.0F;
  }
  // The customer has most likely left the scanned location (or its beacon's track is gone):
  // what follows is not its level.
  const std::optional<std::uint32_t> scanned = location_of(state, window.beacon_id);
  const bool left =
      !scanned || (best != nullptr && best->probability > 0.5 && best->location_index != *scanned);
  if (t_ms > window.until_ms || left) close_scan_window(state, t_ms, *room);
}

void LocationFilter::close_scan_window(CustomerState& state, EpochMs t_ms, RoomLevels& room) {
  if (!state.scan_window) return;
  const ScanWindow window = *state.scan_window;
  state.scan_window.reset();
  if (window.readings <= 0.0F) return;
  // The room's level is every phone's: this customer's own offset is taken off.
  room.learn(window.beacon_id, window.sum_dbm / window.readings - state.level_offset_db, t_ms);
}

Identification LocationFilter::score_qr(CustomerState& state, const Resolved& resolved,
                                        const Registry& registry,
                                        std::uint64_t registry_generation) const {
  // The customer is at the scanned location: its tracks share the whole belief. When none of
  // its beacons has been heard, "elsewhere" keeps it until one is.
  refresh_entries(state, registry, registry_generation);
  std::size_t at_location = 0;
  for (const BeaconTrack& track : state.tracks) {
    if (holds_belief(track) && track.entry->location_index == resolved.location_index) {
      ++at_location;
    }
  }
  for (BeaconTrack& track : state.tracks) {
    const bool here = holds_belief(track) && track.entry->location_index == resolved.location_index;
    track.belief = here ? static_cast<float>(1.0 / static_cast<double>(at_location)) : 0.0F;
  }
  return Identification{resolved.location_index, resolved.location, nullptr, 0, 1.0};
}

}  // namespace tastesync
