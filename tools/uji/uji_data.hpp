#pragma once

#include <compare>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

// The UJI BLE RSS measurements (Mendoza-Silva et al., doi:10.5281/zenodo.1618692, CC BY 4.0) in
// the long-table form of /work/shared/data/uji-ble-rss (its README describes the columns).
namespace tastesync::uji {

struct BeaconPosition {
  std::string zone;
  std::string beacon;  // "23" (lib), "B7" (geo)
  double x_m = 0.0;
  double y_m = 0.0;
};

// One ~1 s phone scan at a surveyed point.
struct Scan {
  std::int64_t scan_id = 0;
  std::string zone;
  std::string phone;
  int tx_dbm = 0;  // the beacons' transmit-power setting
  int campaign = 0;
  int point = 0;
  int sample = 0;
  double x_m = 0.0;
  double y_m = 0.0;
  std::optional<std::int64_t> t_ms;  // its first reading; none when nothing was heard
  int beacons_seen = 0;
};

// One beacon heard in one scan.
struct Reading {
  std::int64_t scan_id = 0;
  std::string zone;
  std::string beacon;
  std::int64_t t_ms = 0;
  int rssi_dbm = 0;
  double dist_m = 0.0;  // horizontal phone-beacon distance
};

struct Dataset {
  std::vector<BeaconPosition> beacons;
  std::vector<Scan> scans;
  std::vector<Reading> readings;
};

// CSV text with a header row; columns are found by name, so their order does not matter.
// Errors name the line and column.
Result<std::vector<BeaconPosition>, std::string> parse_beacons(std::string_view csv);
Result<std::vector<Scan>, std::string> parse_scans(std::string_view csv);
Result<std::vector<Reading>, std::string> parse_readings(std::string_view csv);

// beacons.csv, scans.csv and readings.csv from `dir`.
Result<Dataset, std::string> load_dataset(const std::filesystem::path& dir);

// Readings calibrate and replay per (zone, phone, beacon tx setting).
struct GroupKey {
  std::string zone;
  std::string phone;
  int tx_dbm = 0;
  // clang-tidy 14 reads the 0 that a defaulted <=> compares with as a null pointer.
  auto operator<=>(const GroupKey&) const = default;  // NOLINT(modernize-use-nullptr)
  std::string label() const;                          // "geo A5 -12"
};

// Everything recorded at one point by one phone in one campaign: a customer sitting there.
struct PointTrial {
  GroupKey group;
  int campaign = 0;
  int point = 0;
  double x_m = 0.0;
  double y_m = 0.0;
  int scans = 0;
  int leading_empty_scans = 0;    // scans before the first that heard anything
  std::vector<Reading> readings;  // in time order (ties: scan, then beacon)
};

// Trials ordered by group, campaign, point.
std::vector<PointTrial> point_trials(const Dataset& dataset);

}  // namespace tastesync::uji
