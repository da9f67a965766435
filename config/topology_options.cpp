#include "config/topology_options.hpp"

namespace tastesync {

TopologyOptions topology_options(const Config& config) {
  TopologyOptions options;
  options.parse.max_record_bytes = static_cast<std::size_t>(config.parse.max_record_bytes);
  options.parse.max_future_skew_ms = config.parse.max_future_skew_ms;
  options.parse.max_past_skew_ms = config.parse.max_past_skew_ms;
  options.dedupe.interval_ms = config.dedupe.interval_ms;
  options.dedupe.duplicate_window_ms = config.dedupe.duplicate_window_ms;
  options.score.window_ms = config.score.window_ms;
  options.score.path_loss_exponent = config.score.path_loss_exponent;
  options.score.default_tx_power_dbm = config.score.default_tx_power_dbm;
  options.score.min_confidence = config.score.min_confidence;
  options.score.radius_m = {config.score.radius_entrance_m, config.score.radius_table_m,
                            config.score.radius_counter_m};
  options.score.rssi_offset_ios_db = config.score.rssi_offset_ios_db;
  options.score.rssi_offset_android_db = config.score.rssi_offset_android_db;
  options.score.measurement_sigma_db = config.score.measurement_sigma_db;
  options.score.process_noise_db2_per_s = config.score.process_noise_db2_per_s;
  options.score.shadowing_sigma_db = config.score.shadowing_sigma_db;
  options.score.move_margin = config.score.move_margin;
  options.score.track_memory_ms = config.score.track_memory_ms;
  options.score.move_dwell_ms = config.score.move_dwell_ms;
  options.score.move_dwell_readings = config.score.move_dwell_readings;
  options.retention_ms = config.state.retention_ms;
  options.allowed_lateness_ms = config.state.allowed_lateness_ms;
  options.max_customers_per_partition =
      static_cast<std::size_t>(config.state.max_customers_per_partition);
  return options;
}

}  // namespace tastesync
