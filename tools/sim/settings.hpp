#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tools/sim/itinerary.hpp"
#include "tools/sim/radio_model.hpp"

namespace tastesync::sim {

// Phones: how often they scan and how their RSSI differs from the model's.
struct PhoneOptions {
  double scan_period_s = 1.0;    // iOS ranging and Android's balanced scan mode: about 1 s
  double scan_jitter_s = 0.1;    // each period drawn from period +- jitter
  double offset_sigma_db = 3.0;  // per phone, N(0, sigma): models differ at the same spot
  // Per phone, also uniform in [-range, range]: a bounded spread ("up to +-6 dB") for settings
  // that state it that way. 0: none (and no draw, so older settings keep their random streams).
  double offset_uniform_db = 0.0;
  // Per phone, its share of scans that hear a beacon close by, drawn from [min, max]: phones
  // differ (UJI: ~0.4 to ~0.85 by model). max 0: every phone hears at RadioOptions::detect_near.
  double detect_near_min = 0.0;
  double detect_near_max = 0.0;
  double ios_share = 0.5;
  double ios_bias_db = 0.0;  // per platform, added to every phone of it
  double android_bias_db = -3.0;
};

// Edge gateways between the phones and Kafka.
struct GatewayOptions {
  double delay_min_ms = 20.0;  // detected_at -> Kafka timestamp, drawn from [min, max]
  double delay_max_ms = 250.0;
  double late_share = 0.005;  // readings held back (a gateway reconnecting) by up to late_max_s
  double late_max_s = 20.0;
  double duplicate_share = 0.005;  // readings delivered twice, the copy up to 30 s later
};

// What turns readings into identifications: the real stages, or the nearest-beacon
// baseline (tools/sim/nearest_beacon.hpp) for comparison.
enum class Model : std::uint8_t { stages, nearest };
std::string_view model_name(Model model);
std::optional<Model> model_named(std::string_view name);

// How the beacons were installed: what differs between the registry and the room.
struct InstallOptions {
  // Each beacon's real power at 1 m differs from the registry's calibrated tx_power (what the
  // stages see) by a value drawn uniformly in [-error, error], per beacon, seeded.
  double tx_power_error_db = 0.0;
  // Share of table stays in which the customer scans the table's QR code once, qr_min_s..qr_max_s
  // after sitting down.
  double qr_share = 0.0;
  double qr_min_s = 5.0;
  double qr_max_s = 30.0;
};

// One simulation run: who comes, what the radio does, what the gateways do. Every field can be
// set from the command line (`tastesync sim --help`); a named setting is a set of values.
struct SimSettings {
  std::string name = "quiet";
  std::uint64_t seed = 1;
  Model model = Model::stages;
  int customers = 30;
  double arrival_minutes = 60.0;  // customers reach the door uniformly over this time
  std::string store;              // only this store of the layout ("" = all, customers spread)
  VisitOptions visit;
  RadioOptions radio;
  PhoneOptions phone;
  GatewayOptions gateway;
  InstallOptions install;
};

// quiet: few customers, sigma 4 dB, no blocking. busy: many customers, sigma 6 dB, more missed
// scans and gateway trouble. noisy: sigma 8 dB with body blocking. floor5 / floor8: issue 14's
// hard floor (150 customers, sigma 5 resp. 8 dB, body blocking, phones differing by up to +-6 dB
// and missing 15-50 % of scans, seats anywhere within arm's reach of the table).
std::optional<SimSettings> named_setting(std::string_view name);
std::vector<std::string_view> setting_names();

// A numeric field settable by flag: the flag (without "--"), what it sets, its valid range.
struct Knob {
  std::string_view flag;
  std::string_view help;
  double min;
  double max;
  double& (*field)(SimSettings&);
};
std::span<const Knob> knobs();

// Sets the knob named `flag`; the error names it and its range.
std::optional<std::string> set_knob(SimSettings& settings, std::string_view flag, double value);
// The rules between fields (each min <= its max, ...); the error names the flags.
std::optional<std::string> validate(const SimSettings& settings);
double knob_value(const SimSettings& settings, const Knob& knob);

}  // namespace tastesync::sim
