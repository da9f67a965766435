#include "tools/uji/uji_data.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>
#include <unordered_map>

namespace tastesync::uji {
namespace {

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    fields.push_back(line.substr(start, comma - start));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

// Walks a CSV text row by row, giving fields by the header's column names.
class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : text_(text) {}

  // Reads the header; fails unless every one of `columns` is in it.
  std::optional<std::string> header(const std::vector<std::string_view>& columns) {
    if (!next()) return "empty file: no header";
    for (std::string_view column : columns) {
      const auto found = std::find(fields_.begin(), fields_.end(), column);
      if (found == fields_.end()) return "no column '" + std::string(column) + "'";
      index_.push_back(static_cast<std::size_t>(found - fields_.begin()));
    }
    width_ = fields_.size();
    return std::nullopt;
  }

  // The next non-blank row; false at the end.
  bool next() {
    while (position_ < text_.size()) {
      std::size_t end = text_.find('\n', position_);
      if (end == std::string_view::npos) end = text_.size();
      std::string_view line = text_.substr(position_, end - position_);
      position_ = end + 1;
      ++line_;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) continue;
      fields_ = split(line);
      return true;
    }
    return false;
  }

  std::optional<std::string> check_width() const {
    if (fields_.size() == width_) return std::nullopt;
    return where() + ": " + std::to_string(fields_.size()) + " fields, the header has " +
           std::to_string(width_);
  }

  // Field `i` of the columns given to header().
  std::string_view field(std::size_t i) const { return fields_[index_[i]]; }
  std::string where() const { return "line " + std::to_string(line_); }

  template <typename T>
  std::optional<std::string> number(std::size_t i, std::string_view name, T& out) const {
    const std::string_view text = field(i);
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (error != std::errc{} || end != text.data() + text.size() || text.empty()) {
      return where() + ": " + std::string(name) + " '" + std::string(text) + "' is not a number";
    }
    return std::nullopt;
  }

 private:
  std::string_view text_;
  std::size_t position_ = 0;
  std::size_t line_ = 0;
  std::size_t width_ = 0;
  std::vector<std::string_view> fields_;
  std::vector<std::size_t> index_;
};

// Parses every row of `text` with `row`, which returns an error or nothing.
template <typename T, typename Row>
Result<std::vector<T>, std::string> parse_rows(std::string_view text,
                                               const std::vector<std::string_view>& columns,
                                               Row row) {
  CsvReader reader(text);
  if (auto error = reader.header(columns)) return Failure{*error};
  std::vector<T> rows;
  while (reader.next()) {
    if (auto error = reader.check_width()) return Failure{*error};
    T value;
    if (auto error = row(reader, value)) return Failure{*error};
    rows.push_back(std::move(value));
  }
  return rows;
}

Result<std::string, std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Failure{"cannot open " + path.string()};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string GroupKey::label() const {
  return zone + " " + phone + " " + std::to_string(tx_dbm);
}

Result<std::vector<BeaconPosition>, std::string> parse_beacons(std::string_view csv) {
  return parse_rows<BeaconPosition>(
      csv, {"zone", "beacon", "x_m", "y_m"},
      [](const CsvReader& r, BeaconPosition& b) -> std::optional<std::string> {
        b.zone = r.field(0);
        b.beacon = r.field(1);
        if (b.beacon.empty()) return r.where() + ": empty beacon";
        if (auto e = r.number(2, "x_m", b.x_m)) return e;
        return r.number(3, "y_m", b.y_m);
      });
}

Result<std::vector<Scan>, std::string> parse_scans(std::string_view csv) {
  return parse_rows<Scan>(csv,
                          {"scan_id", "zone", "phone", "beacon_tx_dbm", "campaign", "point",
                           "sample", "x_m", "y_m", "t_ms", "beacons_seen"},
                          [](const CsvReader& r, Scan& s) -> std::optional<std::string> {
                            s.zone = r.field(1);
                            s.phone = r.field(2);
                            if (auto e = r.number(0, "scan_id", s.scan_id)) return e;
                            if (auto e = r.number(3, "beacon_tx_dbm", s.tx_dbm)) return e;
                            if (auto e = r.number(4, "campaign", s.campaign)) return e;
                            if (auto e = r.number(5, "point", s.point)) return e;
                            if (auto e = r.number(6, "sample", s.sample)) return e;
                            if (auto e = r.number(7, "x_m", s.x_m)) return e;
                            if (auto e = r.number(8, "y_m", s.y_m)) return e;
                            if (!r.field(9).empty()) {
                              std::int64_t t = 0;
                              if (auto e = r.number(9, "t_ms", t)) return e;
                              s.t_ms = t;
                            }
                            return r.number(10, "beacons_seen", s.beacons_seen);
                          });
}

Result<std::vector<Reading>, std::string> parse_readings(std::string_view csv) {
  return parse_rows<Reading>(csv, {"scan_id", "zone", "beacon", "t_ms", "rssi", "dist_m"},
                             [](const CsvReader& r, Reading& g) -> std::optional<std::string> {
                               g.zone = r.field(1);
                               g.beacon = r.field(2);
                               if (g.beacon.empty()) return r.where() + ": empty beacon";
                               if (auto e = r.number(0, "scan_id", g.scan_id)) return e;
                               if (auto e = r.number(3, "t_ms", g.t_ms)) return e;
                               if (auto e = r.number(4, "rssi", g.rssi_dbm)) return e;
                               return r.number(5, "dist_m", g.dist_m);
                             });
}

Result<Dataset, std::string> load_dataset(const std::filesystem::path& dir) {
  Dataset dataset;
  const auto load = [&](const char* name, auto parse, auto& out) -> std::optional<std::string> {
    auto text = read_file(dir / name);
    if (!text) return text.error();
    auto rows = parse(*text);
    if (!rows) return std::string(name) + ": " + rows.error();
    out = std::move(*rows);
    return std::nullopt;
  };
  if (auto e = load("beacons.csv", parse_beacons, dataset.beacons)) return Failure{*e};
  if (auto e = load("scans.csv", parse_scans, dataset.scans)) return Failure{*e};
  if (auto e = load("readings.csv", parse_readings, dataset.readings)) return Failure{*e};
  return dataset;
}

std::vector<PointTrial> point_trials(const Dataset& dataset) {
  using TrialKey = std::tuple<GroupKey, int, int>;
  std::map<TrialKey, PointTrial> trials;
  std::map<TrialKey, std::vector<const Scan*>> scans_of;
  std::unordered_map<std::int64_t, TrialKey> trial_of_scan;
  for (const Scan& scan : dataset.scans) {
    TrialKey key{GroupKey{scan.zone, scan.phone, scan.tx_dbm}, scan.campaign, scan.point};
    PointTrial& trial = trials[key];
    trial.group = std::get<0>(key);
    trial.campaign = scan.campaign;
    trial.point = scan.point;
    trial.x_m = scan.x_m;
    trial.y_m = scan.y_m;
    ++trial.scans;
    scans_of[key].push_back(&scan);
    trial_of_scan.emplace(scan.scan_id, std::move(key));
  }
  for (auto& [key, scans] : scans_of) {
    std::sort(scans.begin(), scans.end(),
              [](const Scan* a, const Scan* b) { return a->sample < b->sample; });
    int empty = 0;
    for (const Scan* scan : scans) {
      if (scan->t_ms) break;
      ++empty;
    }
    trials[key].leading_empty_scans = empty;
  }
  for (const Reading& reading : dataset.readings) {
    const auto found = trial_of_scan.find(reading.scan_id);
    if (found != trial_of_scan.end()) trials[found->second].readings.push_back(reading);
  }
  std::vector<PointTrial> out;
  out.reserve(trials.size());
  for (auto& [key, trial] : trials) {
    std::sort(trial.readings.begin(), trial.readings.end(), [](const Reading& a, const Reading& b) {
      return std::tie(a.t_ms, a.scan_id, a.beacon) < std::tie(b.t_ms, b.scan_id, b.beacon);
    });
    out.push_back(std::move(trial));
  }
  return out;
}

}  // namespace tastesync::uji
