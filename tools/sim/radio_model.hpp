#pragma once

#include <optional>

#include "common/event_time.hpp"
#include "tools/sim/layout.hpp"
#include "tools/sim/random.hpp"

namespace tastesync::sim {

// The BLE channel between one beacon and one phone (tools/sim/README.md has the sources).
struct RadioOptions {
  double path_loss_exponent = 2.0;  // n in tx_power - 10 n log10(d)
  // Log-normal shadowing, dB. `slow_share` of its variance is position-dependent (Gudmundson's
  // correlated shadowing: it stays while the phone stays, and decorrelates over `slow_corr_m`
  // of movement or `slow_corr_s` of time); the rest is drawn afresh for every reading.
  double sigma_db = 4.0;
  double slow_share = 0.0;
  double slow_corr_m = 1.5;
  double slow_corr_s = 60.0;
  // Share of one-second scans that hear a beacon close by, and the distance at which that share
  // has halved (UJI: flat up to ~6 m, then falling; ~0.4 to ~0.85 by phone model).
  double detect_near = 0.65;
  double detect_half_m = 10.0;
  // Body blocking: episodes start on each phone-beacon link at this rate and cut the signal by
  // a depth drawn from [min, max] dB for a duration drawn from [min, max] s.
  double blocking_per_min = 0.0;
  double blocking_min_db = 5.0;
  double blocking_max_db = 15.0;
  double blocking_min_s = 2.0;
  double blocking_max_s = 6.0;
  double floor_dbm = -100.0;  // weaker readings are not reported (docs/contract.md#sighting)
};

// What the channel remembers between two scans of one link.
struct LinkState {
  bool started = false;
  double slow_db = 0.0;
  EpochMs last_ms = 0;
  Point last_position;
  EpochMs blocked_until_ms = 0;
  double dip_db = 0.0;
};

// What one phone brings to every link: its RSSI offset (model and platform) and how often it
// hears a beacon close by (nullopt: RadioOptions::detect_near).
struct PhoneRadio {
  double offset_db = 0.0;
  std::optional<double> detect_near;
};

// RSSI = tx_power(1 m) - 10 n log10(d) + shadowing + the phone's offset - a blocking dip,
// d the 3-D distance; heard with a probability falling with distance, dropped below the floor.
class RadioModel {
 public:
  explicit RadioModel(RadioOptions options) : options_(options) {}

  // tx_power_dbm is the beacon's real power at 1 m, which an installer may have misjudged.
  double mean_rssi_dbm(double tx_power_dbm, double distance_m) const;
  double detection_probability(double distance_m) const;
  double detection_probability(double distance_m, double detect_near) const;

  // One scan of one link at `t_ms`, the phone at `position`, `distance_m` (3-D) from the
  // beacon: the integer RSSI the phone reports, or nullopt when the scan missed the beacon.
  std::optional<int> scan(LinkState& link, double tx_power_dbm, double distance_m, Point position,
                          EpochMs t_ms, const PhoneRadio& phone, Rng& rng) const;

  const RadioOptions& options() const { return options_; }

 private:
  void update_slow_fading(LinkState& link, Point position, EpochMs t_ms, Rng& rng) const;
  void update_blocking(LinkState& link, EpochMs t_ms, Rng& rng) const;

  RadioOptions options_;
};

}  // namespace tastesync::sim
