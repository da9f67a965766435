#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stages/registry.hpp"
#include "stages/topology.hpp"
#include "tools/uji/uji_data.hpp"

namespace tastesync::uji {

// The store id and location name the replay gives a zone and its beacons ("uji-geo"; beacon
// "23" is location "B23", beacon "B7" is "B7").
std::string store_id(const std::string& zone);
std::string location_name(const std::string& beacon);

// A registry for one zone: every beacon is its own table location, with `tx_power_dbm` as its
// calibrated RSSI at 1 m (identity: a fixed UUID, major 1, minor = its place among the zone's
// beacons in `beacons`, from 1).
std::shared_ptr<const Registry> zone_registry(const std::vector<BeaconPosition>& beacons,
                                              const std::string& zone, int tx_power_dbm);

// A point is "at" a beacon within this distance. The surveyed points cluster at <= 1.04 m and
// >= 1.25 m from their nearest beacon; a table's radius is 1 m.
inline constexpr double kAtBeaconM = 1.1;

// One CustomerIdentified event of a replay.
struct Identified {
  std::int64_t t_ms = 0;  // detected_at, on the dataset's clock
  std::string beacon;
  double confidence = 0.0;
  double distance_m = 0.0;  // from the point to that beacon
};

// A beacon track the scorer counted after a reading (heard within score.window_ms).
struct TrackView {
  std::string beacon;
  double path_loss_db = 0.0;  // its tx_power minus its filtered RSSI
  double estimated_m = 0.0;   // Scorer::distance_m() of it
  double variance_db2 = 0.0;  // of the filtered RSSI
  int readings = 0;
  double distance_m = 0.0;  // true, from the point to the beacon
};

// What the scorer made of one reading with no threshold and no hysteresis (a shadow Scorer on
// the same readings): its raw choice and confidence, and the tracks it chose among. Only what
// any model built on the per-beacon tracks shows, so the checks survive changes of formula.
struct Scored {
  std::int64_t t_ms = 0;
  std::string beacon;
  double confidence = 0.0;  // as the scorer rounds it
  double distance_m = 0.0;  // true, from the point to that beacon
  std::vector<TrackView> tracks;
  const TrackView* chosen() const {
    for (const TrackView& track : tracks) {
      if (track.beacon == beacon) return &track;
    }
    return nullptr;
  }
};

// score.model filter: after a beacon reading, the filter's most likely location and its
// posterior, emitted or not (TopologyOptions::report_beliefs).
struct Believed {
  std::int64_t t_ms = 0;
  std::string beacon;  // the location's beacon
  double probability = 0.0;
  double distance_m = 0.0;  // true, from the point to that beacon
};

struct PointOutcome {
  const PointTrial* trial = nullptr;
  ScoreOptions score;  // what the replay ran with
  std::string nearest_beacon;
  double nearest_m = 0.0;
  // The point's first scan: its first reading, less one second per scan before it that heard
  // nothing (empty scans carry no time; scans are ~1 s apart).
  std::int64_t start_ms = 0;
  std::vector<Identified> identifications;
  std::vector<Scored> scored;
  std::vector<Believed> beliefs;  // score.model filter only
  std::size_t records = 0;
  // By error code. The dataset has a few readings below the -100 dBm floor of
  // docs/contract.md#sighting (out_of_range): the pipeline would dead-letter them too.
  std::map<std::string, std::size_t> dead_letters;
};

// Replays a point's readings as one customer's Sighting v1 records through a fresh Topology and
// PartitionState (key = customer_id, Kafka timestamp = detected_at + 50 ms).
PointOutcome replay_point(const PointTrial& trial, const std::vector<BeaconPosition>& beacons,
                          const std::shared_ptr<const Registry>& registry,
                          const TopologyOptions& options);

}  // namespace tastesync::uji
