#include "tools/sim/settings.hpp"

#include <array>
#include <cstdio>
#include <utility>

namespace tastesync::sim {
namespace {

// clang-format off
constexpr std::array kKnobs = {
  Knob{"minutes", "Customers reach the door uniformly over this many minutes", 0.0, 1440.0,
       [](SimSettings& s) -> double& { return s.arrival_minutes; }},
  Knob{"sigma", "Log-normal shadowing sigma, dB", 0.0, 20.0,
       [](SimSettings& s) -> double& { return s.radio.sigma_db; }},
  Knob{"slow-share", "Share of the shadowing variance that is position-dependent (0: all per reading)", 0.0, 1.0,
       [](SimSettings& s) -> double& { return s.radio.slow_share; }},
  Knob{"slow-corr-m", "Decorrelation distance of the position-dependent shadowing, m", 0.01, 100.0,
       [](SimSettings& s) -> double& { return s.radio.slow_corr_m; }},
  Knob{"slow-corr-s", "Decorrelation time of the position-dependent shadowing, s", 0.01, 86400.0,
       [](SimSettings& s) -> double& { return s.radio.slow_corr_s; }},
  Knob{"path-loss", "Path-loss exponent n of the simulated rooms", 1.0, 6.0,
       [](SimSettings& s) -> double& { return s.radio.path_loss_exponent; }},
  Knob{"detect-near", "Share of scans that hear a beacon close by", 0.01, 1.0,
       [](SimSettings& s) -> double& { return s.radio.detect_near; }},
  Knob{"detect-half-m", "Distance at which that share has halved, m", 0.5, 1000.0,
       [](SimSettings& s) -> double& { return s.radio.detect_half_m; }},
  Knob{"blocking-per-min", "Body-blocking episodes per minute on each phone-beacon link", 0.0, 60.0,
       [](SimSettings& s) -> double& { return s.radio.blocking_per_min; }},
  Knob{"blocking-min-db", "Shallowest body-blocking dip, dB", 0.0, 40.0,
       [](SimSettings& s) -> double& { return s.radio.blocking_min_db; }},
  Knob{"blocking-max-db", "Deepest body-blocking dip, dB", 0.0, 40.0,
       [](SimSettings& s) -> double& { return s.radio.blocking_max_db; }},
  Knob{"blocking-min-s", "Shortest body-blocking episode, s", 0.0, 600.0,
       [](SimSettings& s) -> double& { return s.radio.blocking_min_s; }},
  Knob{"blocking-max-s", "Longest body-blocking episode, s", 0.0, 600.0,
       [](SimSettings& s) -> double& { return s.radio.blocking_max_s; }},
  Knob{"scan-period-s", "Phone scan period, s", 0.1, 60.0,
       [](SimSettings& s) -> double& { return s.phone.scan_period_s; }},
  Knob{"scan-jitter-s", "Scan period jitter (+-), s", 0.0, 10.0,
       [](SimSettings& s) -> double& { return s.phone.scan_jitter_s; }},
  Knob{"phone-offset-sigma", "Per-phone RSSI offset sigma, dB", 0.0, 20.0,
       [](SimSettings& s) -> double& { return s.phone.offset_sigma_db; }},
  Knob{"phone-offset-uniform", "Per-phone RSSI offset, also uniform in +-this, dB (0: none)", 0.0, 20.0,
       [](SimSettings& s) -> double& { return s.phone.offset_uniform_db; }},
  Knob{"detect-near-min", "Per phone: lowest share of scans that hear a beacon close by (with --detect-near-max)", 0.0, 1.0,
       [](SimSettings& s) -> double& { return s.phone.detect_near_min; }},
  Knob{"detect-near-max", "Per phone: highest such share (0: every phone at --detect-near)", 0.0, 1.0,
       [](SimSettings& s) -> double& { return s.phone.detect_near_max; }},
  Knob{"ios-share", "Share of customers with an iOS phone", 0.0, 1.0,
       [](SimSettings& s) -> double& { return s.phone.ios_share; }},
  Knob{"ios-bias", "RSSI bias of iOS phones, dB", -30.0, 30.0,
       [](SimSettings& s) -> double& { return s.phone.ios_bias_db; }},
  Knob{"android-bias", "RSSI bias of Android phones, dB", -30.0, 30.0,
       [](SimSettings& s) -> double& { return s.phone.android_bias_db; }},
  Knob{"delay-min-ms", "Shortest detected_at -> Kafka timestamp delay, ms", 0.0, 60000.0,
       [](SimSettings& s) -> double& { return s.gateway.delay_min_ms; }},
  Knob{"delay-max-ms", "Longest detected_at -> Kafka timestamp delay, ms", 0.0, 60000.0,
       [](SimSettings& s) -> double& { return s.gateway.delay_max_ms; }},
  Knob{"late-share", "Share of readings a gateway delivers late", 0.0, 1.0,
       [](SimSettings& s) -> double& { return s.gateway.late_share; }},
  Knob{"late-max-s", "Longest extra delay of a late reading, s", 0.0, 240.0,
       [](SimSettings& s) -> double& { return s.gateway.late_max_s; }},
  Knob{"duplicate-share", "Share of readings delivered twice", 0.0, 1.0,
       [](SimSettings& s) -> double& { return s.gateway.duplicate_share; }},
  Knob{"entrance-min-s", "Shortest stay at the entrance, s", 0.0, 3600.0,
       [](SimSettings& s) -> double& { return s.visit.entrance_min_s; }},
  Knob{"entrance-max-s", "Longest stay at the entrance, s", 0.0, 3600.0,
       [](SimSettings& s) -> double& { return s.visit.entrance_max_s; }},
  Knob{"table-min-s", "Shortest stay at a table, s", 0.0, 86400.0,
       [](SimSettings& s) -> double& { return s.visit.table_min_s; }},
  Knob{"table-max-s", "Longest stay at a table, s", 0.0, 86400.0,
       [](SimSettings& s) -> double& { return s.visit.table_max_s; }},
  Knob{"table-seat-min-m", "Nearest seat to a table's point, m", 0.0, 5.0,
       [](SimSettings& s) -> double& { return s.visit.table_seat_min_m; }},
  Knob{"table-seat-max-m", "Farthest seat from a table's point, m (capped at the table radius)", 0.0, 5.0,
       [](SimSettings& s) -> double& { return s.visit.table_seat_max_m; }},
  Knob{"counter-share", "Share of customers who go to the counter after their table", 0.0, 1.0,
       [](SimSettings& s) -> double& { return s.visit.counter_share; }},
  Knob{"counter-min-s", "Shortest stay at the counter, s", 0.0, 86400.0,
       [](SimSettings& s) -> double& { return s.visit.counter_min_s; }},
  Knob{"counter-max-s", "Longest stay at the counter, s", 0.0, 86400.0,
       [](SimSettings& s) -> double& { return s.visit.counter_max_s; }},
  Knob{"tx-power-error-db", "Each beacon's real tx_power is the registry's +- up to this, dB (installer error)", 0.0, 30.0,
       [](SimSettings& s) -> double& { return s.install.tx_power_error_db; }},
  Knob{"qr-share", "Share of table stays in which the customer scans the table's QR code once", 0.0, 1.0,
       [](SimSettings& s) -> double& { return s.install.qr_share; }},
  Knob{"qr-min-s", "Earliest QR scan after sitting down, s", 0.0, 3600.0,
       [](SimSettings& s) -> double& { return s.install.qr_min_s; }},
  Knob{"qr-max-s", "Latest QR scan after sitting down, s", 0.0, 3600.0,
       [](SimSettings& s) -> double& { return s.install.qr_max_s; }},
};
// clang-format on

SimSettings quiet() {
  return SimSettings{};
}

SimSettings busy() {
  SimSettings s;
  s.name = "busy";
  s.customers = 120;
  s.arrival_minutes = 30.0;
  s.visit.table_min_s = 300.0;
  s.visit.table_max_s = 1200.0;
  s.radio.sigma_db = 6.0;
  s.radio.detect_near = 0.5;  // a crowded room: more collisions, more bodies in the way
  s.gateway.delay_max_ms = 500.0;
  s.gateway.late_share = 0.02;
  s.gateway.duplicate_share = 0.02;
  return s;
}

SimSettings noisy() {
  SimSettings s;
  s.name = "noisy";
  s.customers = 40;
  s.arrival_minutes = 20.0;
  s.radio.sigma_db = 8.0;
  s.radio.detect_near = 0.55;
  s.radio.blocking_per_min = 1.0;
  s.gateway.late_share = 0.01;
  s.gateway.duplicate_share = 0.01;
  return s;
}

// Issue 14's floor, at least as hard as the external team's simulated one ("tables about 2.4 m
// apart, log-normal shadowing sigma 5 dB, body blocking, platform offsets, ~15 % of readings
// missing; 150 customers", and the same at 8 dB): the fixture tables are 2.2-2.3 m apart.
SimSettings floor(std::string name, double sigma_db) {
  SimSettings s;
  s.name = std::move(name);
  s.customers = 150;
  s.arrival_minutes = 45.0;
  s.visit.table_min_s = 300.0;
  s.visit.table_max_s = 1200.0;
  s.visit.table_seat_min_m = 0.3;
  s.visit.table_seat_max_m = 1.0;  // anywhere within arm's reach, up to the table's 1 m radius
  s.radio.sigma_db = sigma_db;
  s.radio.blocking_per_min = 1.0;  // 5-15 dB for 2-6 s: the defaults
  s.phone.offset_sigma_db = 0.0;
  s.phone.offset_uniform_db = 6.0;  // plus the Android bias, -3 dB
  s.phone.detect_near_min = 0.50;   // each phone misses 15-50 % of scans
  s.phone.detect_near_max = 0.85;
  s.gateway.delay_max_ms = 500.0;  // as busy
  s.gateway.late_share = 0.02;
  s.gateway.duplicate_share = 0.02;
  return s;
}

std::string range_text(double min, double max) {
  char text[64];
  std::snprintf(text, sizeof text, "%g..%g", min, max);
  return text;
}

}  // namespace

std::string_view model_name(Model model) {
  return model == Model::nearest ? "nearest" : "stages";
}

std::optional<Model> model_named(std::string_view name) {
  if (name == "stages") return Model::stages;
  if (name == "nearest") return Model::nearest;
  return std::nullopt;
}

std::optional<SimSettings> named_setting(std::string_view name) {
  if (name == "quiet") return quiet();
  if (name == "busy") return busy();
  if (name == "noisy") return noisy();
  if (name == "floor5") return floor("floor5", 5.0);
  if (name == "floor8") return floor("floor8", 8.0);
  return std::nullopt;
}

std::vector<std::string_view> setting_names() {
  return {"quiet", "busy", "noisy", "floor5", "floor8"};
}

std::span<const Knob> knobs() {
  return kKnobs;
}

double knob_value(const SimSettings& settings, const Knob& knob) {
  SimSettings copy = settings;  // the accessor is shared with set_knob, so it takes a mutable one
  return knob.field(copy);
}

std::optional<std::string> set_knob(SimSettings& settings, std::string_view flag, double value) {
  for (const Knob& knob : kKnobs) {
    if (knob.flag != flag) continue;
    if (!(value >= knob.min && value <= knob.max)) {
      return "--" + std::string(flag) + ": must be in " + range_text(knob.min, knob.max);
    }
    knob.field(settings) = value;
    return std::nullopt;
  }
  return "--" + std::string(flag) + ": no such setting";
}

std::optional<std::string> validate(const SimSettings& settings) {
  if (settings.customers < 1) return std::string("--customers: must be at least 1");
  const struct {
    const char* low_flag;
    const char* high_flag;
  } pairs[] = {{"blocking-min-db", "blocking-max-db"},
               {"blocking-min-s", "blocking-max-s"},
               {"delay-min-ms", "delay-max-ms"},
               {"entrance-min-s", "entrance-max-s"},
               {"table-min-s", "table-max-s"},
               {"counter-min-s", "counter-max-s"},
               {"detect-near-min", "detect-near-max"},
               {"table-seat-min-m", "table-seat-max-m"},
               {"qr-min-s", "qr-max-s"}};
  for (const auto& [low_flag, high_flag] : pairs) {
    double low = 0.0;
    double high = 0.0;
    for (const Knob& knob : kKnobs) {
      if (knob.flag == low_flag) low = knob_value(settings, knob);
      if (knob.flag == high_flag) high = knob_value(settings, knob);
    }
    if (low > high) {
      return "--" + std::string(low_flag) + " must not exceed --" + std::string(high_flag);
    }
  }
  if (settings.phone.detect_near_max > 0.0 && settings.phone.detect_near_min <= 0.0) {
    return std::string("--detect-near-min must be above 0 when --detect-near-max is set");
  }
  if (settings.phone.scan_jitter_s >= settings.phone.scan_period_s) {
    return std::string("--scan-jitter-s must be below --scan-period-s");
  }
  return std::nullopt;
}

}  // namespace tastesync::sim
