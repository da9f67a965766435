#include "tools/uji/factor_check.hpp"

#include <cmath>
#include <cstdio>
#include <span>

#include "tools/uji/calibration.hpp"

namespace tastesync::uji {
namespace {

// True distances closer than this are a tie: neither beacon is "the nearer".
constexpr double kTieM = 0.05;

std::string text(const char* pattern, double a, double b = 0.0) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, a, b);
  return buffer;
}

double normal_cdf(double z) {
  return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

// Bins by edges: below the first, between each two, from the last.
struct Binning {
  std::vector<double> edges;
  std::vector<FactorBin> bins;

  Binning(std::vector<double> e, const char* pattern, const char* first_label)
      : edges(std::move(e)) {
    bins.push_back(FactorBin{first_label, 0, 0.0, 0, 0});
    for (std::size_t i = 0; i + 1 < edges.size(); ++i) {
      bins.push_back(FactorBin{text(pattern, edges[i], edges[i + 1]), 0, 0.0, 0, 0});
    }
    bins.push_back(FactorBin{text(">= %g", edges.back()), 0, 0.0, 0, 0});
  }
  void add(double key, double model, bool hit, bool hit2) {
    std::size_t i = 0;
    while (i < edges.size() && key >= edges[i]) ++i;
    FactorBin& bin = bins[i];
    ++bin.count;
    bin.model_sum += model;
    if (hit) ++bin.hits;
    if (hit2) ++bin.hits2;
  }
};

// Log-likelihood of P(right) = Phi(beta m); concave in beta.
double log_likelihood(const std::vector<std::pair<double, bool>>& pairs, double beta) {
  double sum = 0.0;
  for (const auto& [margin, right] : pairs) {
    sum += std::log(std::max(normal_cdf((right ? 1.0 : -1.0) * beta * margin), 1e-300));
  }
  return sum;
}

std::optional<double> fit_sigma(const std::vector<std::pair<double, bool>>& pairs) {
  if (pairs.size() < 10) return std::nullopt;
  double low = 1e-4;  // beta = 1 / sigma, searched in (1e-4, 2]: sigma from 0.5 dB
  double high = 2.0;
  const double golden = (std::sqrt(5.0) - 1.0) / 2.0;
  for (int i = 0; i < 100; ++i) {
    const double a = high - golden * (high - low);
    const double b = low + golden * (high - low);
    if (log_likelihood(pairs, a) < log_likelihood(pairs, b)) {
      low = a;
    } else {
      high = b;
    }
  }
  return 2.0 / (low + high);
}

// The scorer's choice and confidence recomputed from the shadow's tracks with another
// score.shadowing_sigma_db (one beacon per location here, so a track is a location).
struct Choice {
  const TrackView* track = nullptr;
  double confidence = 0.0;
};

Choice choose(const Scorer& scorer, const std::vector<TrackView>& tracks, double radius_m) {
  if (tracks.empty()) return {};
  std::vector<double> probabilities;
  probabilities.reserve(tracks.size());
  std::size_t best = 0;
  for (std::size_t i = 0; i < tracks.size(); ++i) {
    probabilities.push_back(
        scorer.at_probability(tracks[i].estimated_m, radius_m, tracks[i].variance_db2));
    if (probabilities[i] > probabilities[best]) best = i;
  }
  std::vector<double> others;
  for (std::size_t i = 0; i < tracks.size(); ++i) {
    if (i != best) others.push_back(probabilities[i]);
  }
  return Choice{&tracks[best], round_confidence(Scorer::confidence(probabilities[best], others))};
}

WhatIf what_if(const std::vector<const PointOutcome*>& points, double shadowing_db) {
  WhatIf w;
  w.shadowing_db = shadowing_db;
  std::vector<double> first_seconds;
  for (const PointOutcome* p : points) {
    ScoreOptions options = p->score;
    options.shadowing_sigma_db = shadowing_db;
    const Scorer scorer(options);
    const double radius = options.radius_m[static_cast<std::size_t>(LocationType::table)];
    ++w.points;
    bool identified = false;
    for (const Scored& s : p->scored) {
      const Choice choice = choose(scorer, s.tracks, radius);
      if (choice.track == nullptr || choice.confidence < options.min_confidence) continue;
      const bool nearest = choice.track->beacon == p->nearest_beacon;
      ++w.reached;
      if (nearest) ++w.reached_nearest;
      if (choice.track->distance_m <= kAtBeaconM) ++w.reached_at;
      if (identified) continue;
      identified = true;
      ++w.identified;
      if (nearest) ++w.first_nearest;
      if (choice.track->distance_m <= p->nearest_m + 1.0) ++w.first_within_1m;
      first_seconds.push_back(static_cast<double>(s.t_ms - p->start_ms) / 1000.0);
    }
  }
  w.first_seconds_p50 = quantile(first_seconds, 0.5);
  w.first_seconds_p95 = quantile(first_seconds, 0.95);
  return w;
}

std::string bin_rows(const std::vector<FactorBin>& bins, const char* model, const char* hits,
                     const char* hits2) {
  char line[160];
  std::snprintf(line, sizeof line, "  %-12s %8s %8s %10s %10s\n", "bin", "readings", model, hits,
                hits2);
  std::string out = line;
  for (const FactorBin& b : bins) {
    if (b.count == 0) continue;
    const auto n = static_cast<double>(b.count);
    std::snprintf(line, sizeof line, "  %-12s %8zu %8.3f %9.1f%% %9.1f%%\n", b.label.c_str(),
                  b.count, b.model_sum / n, 100.0 * static_cast<double>(b.hits) / n,
                  100.0 * static_cast<double>(b.hits2) / n);
    out += line;
  }
  return out;
}

std::string bin_json(const std::vector<FactorBin>& bins) {
  std::string out = "[";
  for (const FactorBin& b : bins) {
    if (out.size() > 1) out += ",";
    char item[200];
    std::snprintf(item, sizeof item,
                  R"({"bin":"%s","readings":%zu,"model_mean":%.4f,"hits":%zu,"hits2":%zu})",
                  b.label.c_str(), b.count,
                  b.count ? b.model_sum / static_cast<double>(b.count) : 0.0, b.hits, b.hits2);
    out += item;
  }
  return out + "]";
}

}  // namespace

FactorCheck check_factors(const std::vector<const PointOutcome*>& points) {
  Binning confidence({0.2, 0.4, 0.6, 0.8, 0.9}, "%.1f-%.1f", "< 0.2");
  Binning distance({0.5, 1.0, 1.5, 2.0, 3.0}, "%g-%g m", "< 0.5 m");
  Binning readings({2, 3, 5, 9}, "%g-%g", "1");
  Binning margin({0, 2, 4, 6, 8, 10, 15}, "%g-%g dB", "< 0 dB");
  // Moved in, not assigned from a literal: GCC 12 at -O3 warns (-Wrestrict, a false positive in
  // basic_string::_M_replace) on the latter.
  readings.bins[1].label = std::string("2");
  readings.bins[2].label = std::string("3-4");
  readings.bins[3].label = std::string("5-8");
  Binning posterior({0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}, "%.1f-%.1f", "< 0.1");
  for (const PointOutcome* p : points) {
    for (const Believed& b : p->beliefs) {
      posterior.add(b.probability, b.probability, b.distance_m <= kAtBeaconM,
                    b.beacon == p->nearest_beacon);
    }
  }
  std::vector<std::pair<double, bool>> pairs;
  double assumed_sum = 0.0;
  double model_sum = 0.0;
  for (const PointOutcome* p : points) {
    const double shadowing_variance = p->score.shadowing_sigma_db * p->score.shadowing_sigma_db;
    for (const Scored& s : p->scored) {
      const TrackView* chosen = s.chosen();
      if (chosen == nullptr) continue;
      const bool at = s.distance_m <= kAtBeaconM;
      const bool nearest = s.beacon == p->nearest_beacon;
      const bool within = s.distance_m <= p->nearest_m + 1.0;
      confidence.add(s.confidence, s.confidence, at, nearest);
      distance.add(chosen->estimated_m, chosen->estimated_m, at, nearest);
      readings.add(chosen->readings, s.confidence, nearest, within);
      const TrackView* loudest_other = nullptr;
      for (const TrackView& track : s.tracks) {
        if (&track == chosen) continue;
        if (loudest_other == nullptr || track.path_loss_db < loudest_other->path_loss_db) {
          loudest_other = &track;
        }
      }
      if (loudest_other == nullptr ||
          std::abs(loudest_other->distance_m - chosen->distance_m) < kTieM) {
        continue;
      }
      const double margin_db = loudest_other->path_loss_db - chosen->path_loss_db;
      const double filters_variance = chosen->variance_db2 + loudest_other->variance_db2;
      const double sigma_db = std::sqrt(filters_variance + 2.0 * shadowing_variance);
      const bool right = chosen->distance_m < loudest_other->distance_m;
      margin.add(margin_db, normal_cdf(margin_db / std::max(sigma_db, 1e-9)), right, !right);
      pairs.emplace_back(margin_db, right);
      assumed_sum += std::sqrt(filters_variance);
      model_sum += sigma_db;
    }
  }
  FactorCheck check;
  bool any_belief = false;
  for (const FactorBin& bin : posterior.bins) any_belief = any_belief || bin.count > 0;
  if (any_belief) check.posterior = std::move(posterior.bins);
  check.confidence = std::move(confidence.bins);
  check.distance = std::move(distance.bins);
  check.readings = std::move(readings.bins);
  check.margin = std::move(margin.bins);
  check.fitted_margin_sigma_db = fit_sigma(pairs);
  if (!pairs.empty()) {
    check.assumed_margin_sigma_db = assumed_sum / static_cast<double>(pairs.size());
    check.model_margin_sigma_db = model_sum / static_cast<double>(pairs.size());
  }
  for (double shadowing_db : kShadowingWhatIfsDb) {
    check.what_ifs.push_back(what_if(points, shadowing_db));
  }
  return check;
}

std::string format_factor_text(const FactorCheck& check) {
  std::string out;
  if (!check.posterior.empty()) {
    out +=
        "Reliability (the location filter, every reading): the most likely location's "
        "posterior, by value:\nits beacon is truly within 1.1 m of the phone / is the "
        "nearest\n";
    out += bin_rows(check.posterior, "mean", "within1.1m", "nearest");
  }
  out +=
      "Reliability (shadow scorer, every reading): does the confidence mean what it "
      "says?\n";
  out +=
      "confidence, by value: the chosen beacon is truly within 1.1 m of the phone / is the "
      "nearest\n";
  out += bin_rows(check.confidence, "mean", "within1.1m", "nearest");
  out += "the chosen track's estimated distance: truly within 1.1 m / the nearest\n";
  out += bin_rows(check.distance, "mean m", "within1.1m", "nearest");
  out += "the chosen track's readings (mean = confidence): the nearest / within 1 m of it\n";
  out += bin_rows(check.readings, "mean", "nearest", "<=+1m");
  out +=
      "dB margin of the chosen track over the loudest other: the chosen one truly the nearer "
      "(right) or\nnot; mean = Phi(margin / sqrt(var1 + var2 + 2 shadowing^2)), what the model "
      "implies for right\n";
  out += bin_rows(check.margin, "mean", "right", "wrong");
  char line[200];
  std::snprintf(
      line, sizeof line,
      "  margin sigma: the filters say %s dB on average, with score.shadowing_sigma_db the "
      "model %s dB;\n  the data fit %s dB (probit of right on margin)\n",
      check.assumed_margin_sigma_db ? text("%.1f", *check.assumed_margin_sigma_db).c_str() : "-",
      check.model_margin_sigma_db ? text("%.1f", *check.model_margin_sigma_db).c_str() : "-",
      check.fitted_margin_sigma_db ? text("%.1f", *check.fitted_margin_sigma_db).c_str() : "-");
  return out + line;
}

std::string format_what_if_text(const FactorCheck& check, const std::string& label) {
  std::string out = "What if score.shadowing_sigma_db were sigma_p? Points: " + label + "\n";
  out += "  sigma_p  ident  1st=nrst  1st<=+1m  t1st p50  p95 (s)  readings>=min  nrst  at\n";
  char line[200];
  for (const WhatIf& w : check.what_ifs) {
    const auto pct = [](std::size_t part, std::size_t whole) {
      return whole ? text("%.1f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole))
                   : std::string("-");
    };
    const auto seconds = [](const std::optional<double>& v) {
      return v ? text("%.2f", *v) : std::string("-");
    };
    std::snprintf(
        line, sizeof line, "  %4.1f dB %6s %9s %9s %9s %8s %14zu %6s %6s\n", w.shadowing_db,
        pct(w.identified, w.points).c_str(), pct(w.first_nearest, w.identified).c_str(),
        pct(w.first_within_1m, w.identified).c_str(), seconds(w.first_seconds_p50).c_str(),
        seconds(w.first_seconds_p95).c_str(), w.reached, pct(w.reached_nearest, w.reached).c_str(),
        pct(w.reached_at, w.reached).c_str());
    out += line;
  }
  return out;
}

std::string format_factor_json(const FactorCheck& check) {
  const auto number = [](const std::optional<double>& v) {
    return v ? text("%.3f", *v) : std::string("null");
  };
  std::string what_ifs = "[";
  for (const WhatIf& w : check.what_ifs) {
    if (what_ifs.size() > 1) what_ifs += ",";
    char item[320];
    std::snprintf(item, sizeof item,
                  R"({"shadowing_db":%.1f,"points":%zu,"identified":%zu,"first_nearest":%zu,)"
                  R"("first_within_1m":%zu,"first_identification_s":{"p50":%s,"p95":%s},)"
                  R"("reached":%zu,"reached_nearest":%zu,"reached_at":%zu})",
                  w.shadowing_db, w.points, w.identified, w.first_nearest, w.first_within_1m,
                  number(w.first_seconds_p50).c_str(), number(w.first_seconds_p95).c_str(),
                  w.reached, w.reached_nearest, w.reached_at);
    what_ifs += item;
  }
  return R"({"posterior":)" + bin_json(check.posterior) + R"(,"confidence":)" +
         bin_json(check.confidence) + R"(,"distance":)" + bin_json(check.distance) +
         R"(,"readings":)" + bin_json(check.readings) + R"(,"margin":)" + bin_json(check.margin) +
         R"(,"fitted_margin_sigma_db":)" + number(check.fitted_margin_sigma_db) +
         R"(,"assumed_margin_sigma_db":)" + number(check.assumed_margin_sigma_db) +
         R"(,"model_margin_sigma_db":)" + number(check.model_margin_sigma_db) +
         R"(,"what_if_shadowing":)" + what_ifs + "]}";
}

}  // namespace tastesync::uji
