#pragma once

#include <array>
#include <cstdint>

#include "customer_state.hpp"
#include "outcome.hpp"
#include "registry.hpp"
#include "resolve.hpp"
#include "result.hpp"
#include "sighting.hpp"

namespace tastesync {

struct ScoreOptions {
  std::int64_t window_ms = 5000;    // readings older than this (event time) no longer count
  double path_loss_exponent = 2.0;  // n in the log-distance model; 2 is free space
  int default_tx_power_dbm = -59;   // when neither the registry nor the phone gives one
  double min_confidence = 0.8;      // below: no identification (counted)
  // How close counts as "at" a location, by LocationType (entrance, table, counter).
  std::array<double, 3> radius_m = {3.0, 1.0, 1.5};
};

struct Identification {
  std::uint32_t location_index = 0;
  const Location* location = nullptr;
  const BeaconEntry* beacon = nullptr;  // the identified location's nearest beacon (null: QR)
  int rssi_dbm = 0;                     // that beacon's latest raw reading in the window
  double confidence = 0.0;              // rounded half-up to 3 decimals
};

// The first confidence model (docs/scoring.md): a log-distance path-loss estimate per beacon from
// the mean RSSI of its readings in the window; the nearest location wins; confidence is
// closeness x distinctness x sample factor. A later issue replaces it with filtering and
// hysteresis; the interface stays.
class Scorer {
 public:
  explicit Scorer(ScoreOptions options = {}) : options_(options) {}

  // Adds the reading to the customer's window, then scores the window at the reading's time.
  // `registry_generation` changes whenever `registry` is replaced (tracks cache their entries).
  Result<Identification, DropReason> score_beacon(CustomerState& state, const Sighting& sighting,
                                                  const Resolved& resolved,
                                                  const Registry& registry,
                                                  std::uint64_t registry_generation = 1) const;

  // A registered QR scan is a deliberate act: confidence 1.
  Identification score_qr(const Resolved& resolved) const;

  double distance_m(double rssi_dbm, int tx_power_dbm) const;
  // Confidence from the nearest location's distance, its radius, the runner-up's distance
  // (infinity when none) and how many readings back the estimate.
  double confidence(double distance_m, double radius_m, double runner_up_m,
                    std::size_t samples) const;

 private:
  ScoreOptions options_;
};

// Half-up to 3 decimals (SPEC §4), applied before the threshold test.
double round_confidence(double confidence);

}  // namespace tastesync
