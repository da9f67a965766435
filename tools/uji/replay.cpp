#include "tools/uji/replay.hpp"

#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <stdexcept>
#include <unordered_map>

namespace tastesync::uji {
namespace {

// The replay's clock: dataset time 0 is this instant (2025-03-02T12:00:00Z).
constexpr EpochMs kBaseMs = 1740916800000;
// How long after detection a record reaches the topic.
constexpr EpochMs kDeliveryMs = 50;
constexpr const char* kUuidText = "5a4bcfce-174e-4bac-a814-092e77f6b7e5";
constexpr std::uint16_t kMajor = 1;

const Uuid& beacon_uuid() {
  static const Uuid uuid = *parse_uuid(kUuidText);
  return uuid;
}

double distance_to(const PointTrial& trial, const BeaconPosition& beacon) {
  return std::hypot(trial.x_m - beacon.x_m, trial.y_m - beacon.y_m);
}

// A zone's beacons in file order, by id and by location name; minor = place + 1.
class ZoneBeacons {
 public:
  ZoneBeacons(const std::vector<BeaconPosition>& beacons, const std::string& zone) {
    for (const BeaconPosition& beacon : beacons) {
      if (beacon.zone != zone) continue;
      by_id_.emplace(beacon.beacon, list_.size());
      by_location_.emplace(location_name(beacon.beacon), list_.size());
      list_.push_back(&beacon);
    }
    if (list_.size() > 65535) throw std::runtime_error("zone " + zone + ": too many beacons");
  }
  const std::vector<const BeaconPosition*>& list() const { return list_; }
  std::optional<std::uint16_t> minor(const std::string& id) const {
    const auto found = by_id_.find(id);
    if (found == by_id_.end()) return std::nullopt;
    return static_cast<std::uint16_t>(found->second + 1);
  }
  const BeaconPosition& by_minor(std::uint16_t minor) const { return *list_.at(minor - 1U); }
  const BeaconPosition& by_location(std::string_view name) const {
    const auto found = by_location_.find(std::string(name));
    if (found == by_location_.end()) {
      throw std::runtime_error("an event names an unknown location: " + std::string(name));
    }
    return *list_[found->second];
  }

 private:
  std::vector<const BeaconPosition*> list_;
  std::unordered_map<std::string, std::size_t> by_id_;
  std::unordered_map<std::string, std::size_t> by_location_;
};

std::string sighting_json(const std::string& customer_id, const Reading& reading,
                          std::uint16_t minor, EpochMs t_ms) {
  const CanonicalTime t = format_canonical(t_ms);
  char buffer[512];
  const int length = std::snprintf(
      buffer, sizeof buffer,
      R"({"sighting_id":"%lld-%s","customer_id":"%s","source":"beacon","beacon":{"uuid":"%s",)"
      R"("major":%u,"minor":%u,"rssi":%d},"detected_at":"%.*s","device":{"platform":"android"}})",
      static_cast<long long>(reading.scan_id), reading.beacon.c_str(), customer_id.c_str(),
      kUuidText, static_cast<unsigned>(kMajor), static_cast<unsigned>(minor), reading.rssi_dbm,
      static_cast<int>(t.size()), t.data());
  if (length < 0 || static_cast<std::size_t>(length) >= sizeof buffer) {
    throw std::runtime_error("sighting too long");
  }
  return std::string(buffer, static_cast<std::size_t>(length));
}

// The tracks the scorer counted after a reading: heard within the window of the customer's
// newest activity, and in the registry.
void explain(const Scorer& scorer, const CustomerState& state, const ScoreOptions& options,
             const PointTrial& trial, const ZoneBeacons& zone, Scored& s) {
  for (const BeaconTrack& track : state.tracks) {
    if (track.newest_ms < state.last_activity_ms - options.window_ms) continue;
    if (track.entry == nullptr || !track.entry->tx_power_dbm) continue;
    const BeaconPosition& beacon = zone.by_minor(track.entry->minor);
    TrackView view;
    view.beacon = beacon.beacon;
    view.path_loss_db = *track.entry->tx_power_dbm - static_cast<double>(track.rssi_dbm);
    view.estimated_m = scorer.distance_m(track.rssi_dbm, *track.entry->tx_power_dbm);
    view.variance_db2 = track.variance;
    view.readings = track.readings;
    view.distance_m = distance_to(trial, beacon);
    s.tracks.push_back(std::move(view));
  }
}

}  // namespace

std::string store_id(const std::string& zone) {
  return "uji-" + zone;
}

std::string location_name(const std::string& beacon) {
  const bool numeric = !beacon.empty() && beacon.front() >= '0' && beacon.front() <= '9';
  return numeric ? "B" + beacon : beacon;
}

std::shared_ptr<const Registry> zone_registry(const std::vector<BeaconPosition>& beacons,
                                              const std::string& zone, int tx_power_dbm) {
  auto registry = std::make_shared<Registry>();
  const ZoneBeacons zone_beacons(beacons, zone);
  for (const BeaconPosition* beacon : zone_beacons.list()) {
    BeaconEntry entry;
    entry.uuid = beacon_uuid();
    entry.major = kMajor;
    entry.minor = *zone_beacons.minor(beacon->beacon);
    entry.beacon_id = uuid_v5(beacon_uuid(), zone + "/" + beacon->beacon);
    entry.location_index = registry->intern_location(store_id(zone), location_name(beacon->beacon),
                                                     LocationType::table);
    entry.tx_power_dbm = tx_power_dbm;
    if (auto added = registry->add_beacon(entry); !added) throw std::runtime_error(added.error());
  }
  return registry;
}

PointOutcome replay_point(const PointTrial& trial, const std::vector<BeaconPosition>& beacons,
                          const std::shared_ptr<const Registry>& registry,
                          const TopologyOptions& options) {
  PointOutcome out;
  out.trial = &trial;
  out.score = options.score;
  out.nearest_m = std::numeric_limits<double>::infinity();
  const ZoneBeacons zone(beacons, trial.group.zone);
  for (const BeaconPosition* beacon : zone.list()) {
    const double d = distance_to(trial, *beacon);
    if (d < out.nearest_m) {
      out.nearest_m = d;
      out.nearest_beacon = beacon->beacon;
    }
  }
  if (trial.readings.empty()) return out;
  out.start_ms = trial.readings.front().t_ms - std::int64_t{1000} * trial.leading_empty_scans;

  TopologyOptions reporting = options;
  reporting.report_beliefs = true;  // the filter's reliability (factor_check.hpp)
  Topology topology(registry, reporting);
  PartitionState partition;
  ScoreOptions shadow_options = options.score;
  shadow_options.min_confidence = 0.0;
  const Scorer shadow(shadow_options);
  CustomerState shadow_state;
  simdjson::dom::parser event_parser;
  const std::string customer_id = "uji-" + trial.group.zone + "-" + trial.group.phone + "-" +
                                  std::to_string(-trial.group.tx_dbm) + "-c" +
                                  std::to_string(trial.campaign) + "-p" +
                                  std::to_string(trial.point);

  for (const Reading& reading : trial.readings) {
    const auto minor = zone.minor(reading.beacon);
    if (!minor) throw std::runtime_error("reading of an unknown beacon: " + reading.beacon);
    const EpochMs detected_ms = kBaseMs + reading.t_ms;
    const std::string value = sighting_json(customer_id, reading, *minor, detected_ms);
    const RecordView record{customer_id, value, detected_ms + kDeliveryMs,
                            static_cast<std::int64_t>(out.records)};
    const Outcome outcome = topology.process(record, partition, detected_ms + kDeliveryMs);
    ++out.records;
    if (outcome.kind == Outcome::Kind::dead_letter) {
      ++out.dead_letters[std::string(parse_error_code_name(outcome.error->code))];
      continue;  // the stages never score it: neither does the shadow
    }
    if (outcome.most_likely) {
      const BeaconPosition& named =
          zone.by_location(registry->location(outcome.most_likely->location_index).name);
      out.beliefs.push_back(Believed{reading.t_ms, named.beacon, outcome.most_likely->probability,
                                     distance_to(trial, named)});
    }
    if (outcome.kind == Outcome::Kind::event) {
      // Read what the event says (docs/contract.md#customer-identified), as a consumer would.
      simdjson::dom::element data;
      std::string_view location;
      double confidence = 0.0;
      if (event_parser.parse(simdjson::padded_string(outcome.event_value))["data"].get(data) ||
          data["location"].get(location) || data["confidence"].get(confidence)) {
        throw std::runtime_error("unreadable event: " + std::string(outcome.event_value));
      }
      const BeaconPosition& named = zone.by_location(location);
      out.identifications.push_back(
          Identified{reading.t_ms, named.beacon, confidence, distance_to(trial, named)});
    }

    // The shadow: the same Scorer on its own state, no threshold, never an emission (so no
    // hysteresis): its raw choice for every reading.
    const BeaconEntry* entry = registry->find_beacon(beacon_uuid(), kMajor, *minor);
    if (entry == nullptr) continue;
    Sighting sighting;
    sighting.customer_id = customer_id;
    sighting.beacon.uuid = entry->uuid;
    sighting.beacon.major = entry->major;
    sighting.beacon.minor = entry->minor;
    sighting.beacon.rssi_dbm = reading.rssi_dbm;
    sighting.detected_at_ms = detected_ms;
    sighting.platform = "android";
    const Resolved resolved{entry->location_index, &registry->location(entry->location_index),
                            entry, nullptr};
    shadow_state.last_activity_ms = std::max(shadow_state.last_activity_ms, detected_ms);
    const auto scored = shadow.score_beacon(shadow_state, sighting, resolved, *registry);
    if (scored) {
      const BeaconPosition& named = zone.by_location(scored->location->name);
      Scored s;
      s.t_ms = reading.t_ms;
      s.beacon = named.beacon;
      s.confidence = scored->confidence;
      s.distance_m = distance_to(trial, named);
      explain(shadow, shadow_state, options.score, trial, zone, s);
      out.scored.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace tastesync::uji
