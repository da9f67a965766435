#include "tools/uji/report.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <set>
#include <unordered_map>

namespace tastesync::uji {
namespace {

constexpr double kThresholds[] = {0.5, 0.7, 0.8, 0.9};
// "Within 1 m of the nearest": beacons on a 1.9 m x 2.4 m grid are often almost equidistant.
constexpr double kToleranceM = 1.0;

ConfidenceStats stats(const std::vector<double>& values) {
  ConfidenceStats s;
  s.count = values.size();
  if (values.empty()) return s;
  double sum = 0.0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(values.size());
  s.p10 = quantile(values, 0.1);
  s.p50 = quantile(values, 0.5);
  s.p90 = quantile(values, 0.9);
  return s;
}

// Mann-Whitney: the probability that a correct choice's confidence exceeds a wrong one's (ties
// count half). 0.5 is no separation at all.
std::optional<double> auc(const std::vector<double>& correct, const std::vector<double>& wrong) {
  if (correct.empty() || wrong.empty()) return std::nullopt;
  std::vector<std::pair<double, bool>> all;
  all.reserve(correct.size() + wrong.size());
  for (double v : correct) all.emplace_back(v, true);
  for (double v : wrong) all.emplace_back(v, false);
  std::sort(all.begin(), all.end());
  double rank_sum = 0.0;  // of the correct ones, ranks from 1, ties averaged
  for (std::size_t i = 0; i < all.size();) {
    std::size_t j = i;
    while (j < all.size() && all[j].first == all[i].first) ++j;
    const double rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (std::size_t k = i; k < j; ++k) {
      if (all[k].second) rank_sum += rank;
    }
    i = j;
  }
  const auto n1 = static_cast<double>(correct.size());
  const auto n0 = static_cast<double>(wrong.size());
  return (rank_sum - n1 * (n1 + 1.0) / 2.0) / (n1 * n0);
}

std::string format(const char* pattern, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* pattern, ...) {
  char buffer[1024];
  va_list args;
  va_start(args, pattern);
  const int length = std::vsnprintf(buffer, sizeof buffer, pattern, args);
  va_end(args);
  return std::string(buffer, static_cast<std::size_t>(std::clamp(length, 0, 1023)));
}

std::string share(std::size_t part, std::size_t whole) {
  if (whole == 0) return "-";
  return format("%.1f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

std::string number(const std::optional<double>& value, const char* pattern = "%.3f") {
  return value ? format(pattern, *value) : "-";
}

std::string json_number(const std::optional<double>& value) {
  return value ? format("%.4f", *value) : "null";
}

std::string json_stats(const ConfidenceStats& s) {
  return format(R"({"count":%zu,"mean":%s,"p10":%s,"p50":%s,"p90":%s})", s.count,
                json_number(s.mean).c_str(), json_number(s.p10).c_str(), json_number(s.p50).c_str(),
                json_number(s.p90).c_str());
}

std::string json_summary(const Summary& s) {
  std::string out = format(R"({"group":"%s",)", s.label.c_str());
  if (s.tx_power_dbm) out += format(R"("tx_power_dbm":%d,)", *s.tx_power_dbm);
  if (s.exponent) out += format(R"("path_loss_exponent":%.3f,)", *s.exponent);
  out += format(R"("points":%zu,"identified":%zu,"first_nearest":%zu,"first_within_1m":%zu,)",
                s.points, s.identified, s.first_nearest, s.first_within_1m);
  out += format(R"("events":%zu,"confidence_correct":%s,"confidence_incorrect":%s,)", s.events,
                json_stats(s.correct).c_str(), json_stats(s.incorrect).c_str());
  out += format(R"("first_identification_s":{"p50":%s,"p95":%s},)",
                json_number(s.first_seconds_p50).c_str(), json_number(s.first_seconds_p95).c_str());
  out += format(R"("multi_location_points":%zu,"flaps":%zu,"max_events_per_point":%zu,)",
                s.multi_location, s.flaps, s.max_events);
  out += format(R"("hindsight_mean_rssi":{"points":%zu,"nearest":%zu,"within_1m":%zu},)", s.heard,
                s.oracle_nearest, s.oracle_within_1m);
  out += format(R"("shadow":{"readings":%zu,"nearest":%zu,"within_1m":%zu,"auc":%s,)", s.scored,
                s.scored_nearest, s.scored_within_1m, json_number(s.auc).c_str());
  out += format(R"("confidence_correct":%s,"confidence_incorrect":%s,"thresholds":[)",
                json_stats(s.scored_correct).c_str(), json_stats(s.scored_incorrect).c_str());
  for (std::size_t i = 0; i < s.thresholds.size(); ++i) {
    const ThresholdRow& t = s.thresholds[i];
    out += format(R"(%s{"threshold":%.2f,"reached":%zu,"nearest":%zu,"within_1m":%zu})",
                  i ? "," : "", t.threshold, t.reached, t.nearest, t.within_1m);
  }
  out += R"(]},"factors":)" + format_factor_json(s.factors) + R"(,"dead_letters":{)";
  bool first = true;
  for (const auto& [code, count] : s.dead_letters) {
    out += format(R"(%s"%s":%zu)", first ? "" : ",", code.c_str(), count);
    first = false;
  }
  return out + "}}";
}

void hindsight(const PointOutcome& p, Summary& s) {
  if (p.trial == nullptr || p.trial->readings.empty()) return;
  struct Mean {
    double sum = 0.0;
    int count = 0;
    double distance_m = 0.0;
  };
  std::unordered_map<std::string, Mean> by_beacon;
  for (const Reading& r : p.trial->readings) {
    Mean& m = by_beacon[r.beacon];
    m.sum += r.rssi_dbm;
    ++m.count;
    m.distance_m = r.dist_m;
  }
  const std::string* best = nullptr;
  double best_mean = 0.0;
  double best_m = 0.0;
  for (const auto& [beacon, m] : by_beacon) {
    const double mean = m.sum / m.count;
    if (best == nullptr || mean > best_mean || (mean == best_mean && beacon < *best)) {
      best = &beacon;
      best_mean = mean;
      best_m = m.distance_m;
    }
  }
  if (best == nullptr) return;
  ++s.heard;
  if (*best == p.nearest_beacon) ++s.oracle_nearest;
  if (best_m <= p.nearest_m + kToleranceM) ++s.oracle_within_1m;
}

}  // namespace

Summary summarize(std::string label, const std::vector<const PointOutcome*>& points) {
  Summary s;
  s.label = std::move(label);
  std::vector<double> correct, incorrect, first_seconds, scored_correct, scored_incorrect;
  for (double threshold : kThresholds) s.thresholds.push_back(ThresholdRow{threshold, 0, 0, 0});
  for (const PointOutcome* p : points) {
    ++s.points;
    for (const auto& [code, count] : p->dead_letters) s.dead_letters[code] += count;
    hindsight(*p, s);
    const auto& ids = p->identifications;
    for (const Identified& id : ids) {
      ++s.events;
      (id.beacon == p->nearest_beacon ? correct : incorrect).push_back(id.confidence);
    }
    if (!ids.empty()) {
      ++s.identified;
      if (ids.front().beacon == p->nearest_beacon) ++s.first_nearest;
      if (ids.front().distance_m <= p->nearest_m + kToleranceM) ++s.first_within_1m;
      first_seconds.push_back(static_cast<double>(ids.front().t_ms - p->start_ms) / 1000.0);
      std::set<std::string> locations;
      for (std::size_t i = 0; i < ids.size(); ++i) {
        locations.insert(ids[i].beacon);
        if (i >= 2 && ids[i].beacon == ids[i - 2].beacon && ids[i].beacon != ids[i - 1].beacon) {
          ++s.flaps;
        }
      }
      if (locations.size() > 1) ++s.multi_location;
      s.max_events = std::max(s.max_events, ids.size());
    }
    for (const Scored& scored : p->scored) {
      ++s.scored;
      const bool nearest = scored.beacon == p->nearest_beacon;
      const bool within = scored.distance_m <= p->nearest_m + kToleranceM;
      if (nearest) ++s.scored_nearest;
      if (within) ++s.scored_within_1m;
      (nearest ? scored_correct : scored_incorrect).push_back(scored.confidence);
      for (ThresholdRow& row : s.thresholds) {
        if (scored.confidence < row.threshold) continue;
        ++row.reached;
        if (nearest) ++row.nearest;
        if (within) ++row.within_1m;
      }
    }
  }
  s.correct = stats(correct);
  s.incorrect = stats(incorrect);
  s.first_seconds_p50 = quantile(first_seconds, 0.5);
  s.first_seconds_p95 = quantile(first_seconds, 0.95);
  s.scored_correct = stats(scored_correct);
  s.scored_incorrect = stats(scored_incorrect);
  s.auc = auc(scored_correct, scored_incorrect);
  s.factors = check_factors(points);
  return s;
}

std::string format_text(const std::vector<CalibrationRow>& calibration,
                        const std::vector<ModelRun>& runs) {
  std::string out =
      "Calibration: least squares RSSI = A - 10 n log10(d), d horizontal; the model uses the fit "
      "on d > 0.5 m;\nthe README's table is reproduced by all readings with d floored at 0.3 m\n";
  out +=
      "temporal / persistent: the fit's sigma split into readings around their (point visit, "
      "beacon) mean\nand those means around the fit\n";
  out += format("%-12s %8s %7s %5s %6s | %8s %7s %5s %6s | %6s | %8s %10s\n", "group", "readings",
                "A dBm", "n", "sigma", "readings", "A dBm", "n", "sigma", "median", "temporal",
                "persistent");
  out += format("%-12s %8s %7s %5s %6s | %8s %7s %5s %6s | %6s | %8s %10s\n", "", "d > 0.5 m", "",
                "", "", "README's", "", "", "", "<=1.5 m", "sigma dB", "sigma dB");
  for (const CalibrationRow& row : calibration) {
    out += format("%-12s %8zu %7.1f %5.2f %6.1f |", row.label.c_str(), row.fit.readings,
                  row.fit.rssi_at_1m_dbm, row.fit.exponent, row.fit.sigma_db);
    if (row.readme_way) {
      out += format(" %8zu %7.1f %5.2f %6.1f |", row.readme_way->readings,
                    row.readme_way->rssi_at_1m_dbm, row.readme_way->exponent,
                    row.readme_way->sigma_db);
    } else {
      out += format(" %8s %7s %5s %6s |", "-", "-", "-", "-");
    }
    out += format(" %6s | %8s %10s\n", number(row.fit.median_near, "%.1f").c_str(),
                  row.scatter ? format("%.1f", row.scatter->temporal_sigma_db).c_str() : "-",
                  row.scatter ? format("%.1f", row.scatter->persistent_sigma_db).c_str() : "-");
  }
  for (const ModelRun& run : runs) {
    std::vector<const Summary*> rows;
    for (const Summary& s : run.groups) rows.push_back(&s);
    for (const Summary& s : run.totals) rows.push_back(&s);
    out += "\nModel '" + run.name + "': " + run.description + "\n";
    out +=
        "Identifications (emitted events; 1st = the point's first event; multi = points that "
        "named >1 location;\nhindsight = the highest mean RSSI over the whole point, the best "
        "an average can do)\n";
    out += format("%-12s %4s %5s %6s %6s %8s %9s %8s %8s %6s %6s %5s | %10s %6s\n", "group", "A",
                  "n", "points", "ident", "1st=nrst", "1st<=+1m", "t1st p50", "p95 (s)", "events",
                  "multi", "flaps", "hindsight:", "<=+1m");
    for (const Summary* s : rows) {
      out += format(
          "%-12s %4s %5s %6zu %6s %8s %9s %8s %8s %6zu %6s %5zu | %10s %6s\n", s->label.c_str(),
          s->tx_power_dbm ? std::to_string(*s->tx_power_dbm).c_str() : "",
          number(s->exponent, "%.2f").c_str(), s->points, share(s->identified, s->points).c_str(),
          share(s->first_nearest, s->identified).c_str(),
          share(s->first_within_1m, s->identified).c_str(),
          number(s->first_seconds_p50, "%.2f").c_str(),
          number(s->first_seconds_p95, "%.2f").c_str(), s->events,
          share(s->multi_location, s->identified).c_str(), s->flaps,
          share(s->oracle_nearest, s->heard).c_str(), share(s->oracle_within_1m, s->heard).c_str());
    }
    out += "Confidence of events naming the nearest beacon (ok) or another (bad)\n";
    out += format("%-12s %5s %6s %6s %6s %6s | %5s %6s %6s %6s %6s\n", "group", "ok n", "mean",
                  "p10", "p50", "p90", "bad n", "mean", "p10", "p50", "p90");
    for (const Summary* s : rows) {
      out +=
          format("%-12s %5zu %6s %6s %6s %6s | %5zu %6s %6s %6s %6s\n", s->label.c_str(),
                 s->correct.count, number(s->correct.mean).c_str(), number(s->correct.p10).c_str(),
                 number(s->correct.p50).c_str(), number(s->correct.p90).c_str(), s->incorrect.count,
                 number(s->incorrect.mean).c_str(), number(s->incorrect.p10).c_str(),
                 number(s->incorrect.p50).c_str(), number(s->incorrect.p90).c_str());
    }
    out +=
        "Shadow scorer: every reading, no threshold, no hysteresis. nrst / <=+1m: its choice is "
        "the nearest\nbeacon / within 1 m of it; AUC: P(conf of a nearest choice > conf of "
        "another); >=t: share of\nreadings reaching confidence t / nearest / within 1 m, "
        "among those\n";
    out += format("%-12s %6s %6s %6s %5s %6s %6s", "group", "reads", "nrst", "<=+1m", "AUC",
                  "ok mn", "bad mn");
    for (double t : kThresholds) out += format(" %16s", format(">=%.2f", t).c_str());
    out += "\n";
    for (const Summary* s : rows) {
      out +=
          format("%-12s %6zu %6s %6s %5s %6s %6s", s->label.c_str(), s->scored,
                 share(s->scored_nearest, s->scored).c_str(),
                 share(s->scored_within_1m, s->scored).c_str(), number(s->auc, "%.2f").c_str(),
                 number(s->scored_correct.mean).c_str(), number(s->scored_incorrect.mean).c_str());
      for (const ThresholdRow& t : s->thresholds) {
        const auto pct = [](std::size_t part, std::size_t whole) {
          return whole == 0 ? std::string("-")
                            : format("%.0f", 100.0 * static_cast<double>(part) /
                                                 static_cast<double>(whole));
        };
        out += format(" %16s", (pct(t.reached, s->scored) + "/" + pct(t.nearest, t.reached) + "/" +
                                pct(t.within_1m, t.reached))
                                   .c_str());
      }
      out += "\n";
    }
    const Summary& all = run.totals.front();
    out += format_factor_text(all.factors);
    out += "  by group, margin sigma of the filters / the model / the data (dB):";
    for (const Summary& s : run.groups) {
      out += " " + s.label + " " + number(s.factors.assumed_margin_sigma_db, "%.1f") + "/" +
             number(s.factors.model_margin_sigma_db, "%.1f") + "/" +
             number(s.factors.fitted_margin_sigma_db, "%.1f") + ";";
    }
    out += "\n";
    for (std::size_t i = 0; i < 2 && i < run.totals.size(); ++i) {
      out += format_what_if_text(run.totals[i].factors, run.totals[i].label);
    }
    for (const auto& [code, count] : all.dead_letters) {
      out += format("dead-lettered by parse: %zu (%s)\n", count, code.c_str());
    }
  }
  return out;
}

std::string format_json(const std::vector<CalibrationRow>& calibration,
                        const std::vector<ModelRun>& runs) {
  const auto fit_json = [](const PathLossFit& fit) {
    return format(R"({"readings":%zu,"rssi_at_1m_dbm":%.3f,"path_loss_exponent":%.4f,)"
                  R"("sigma_db":%.3f,"median_rssi_within_1_5m":%s})",
                  fit.readings, fit.rssi_at_1m_dbm, fit.exponent, fit.sigma_db,
                  json_number(fit.median_near).c_str());
  };
  std::string out = R"({"calibration":[)";
  for (std::size_t i = 0; i < calibration.size(); ++i) {
    const CalibrationRow& row = calibration[i];
    out += format(R"(%s{"group":"%s","fit":)", i ? "," : "", row.label.c_str()) +
           fit_json(row.fit) + R"(,"readme_way":)" +
           (row.readme_way ? fit_json(*row.readme_way) : "null") + R"(,"scatter":)" +
           (row.scatter ? format(R"({"spots":%zu,"temporal_sigma_db":%.3f,)"
                                 R"("persistent_sigma_db":%.3f})",
                                 row.scatter->spots, row.scatter->temporal_sigma_db,
                                 row.scatter->persistent_sigma_db)
                        : "null") +
           "}";
  }
  out += R"(],"models":[)";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const ModelRun& run = runs[i];
    out += format(R"(%s{"model":"%s","description":"%s","groups":[)", i ? "," : "",
                  run.name.c_str(), run.description.c_str());
    for (std::size_t g = 0; g < run.groups.size(); ++g) {
      if (g > 0) out += ',';
      out += json_summary(run.groups[g]);
    }
    out += R"(],"totals":[)";
    for (std::size_t t = 0; t < run.totals.size(); ++t) {
      if (t > 0) out += ',';
      out += json_summary(run.totals[t]);
    }
    out += "]}";
  }
  out += "]}\n";
  return out;
}

}  // namespace tastesync::uji
