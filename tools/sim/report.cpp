#include "tools/sim/report.hpp"

#include <fmt/format.h>

#include <cmath>
#include <iterator>
#include <vector>

namespace tastesync::sim {
namespace {

constexpr const char* kTypeNames[] = {"entrance", "table", "counter"};

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

double percent(std::size_t part, std::size_t whole) {
  return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

// Appends formatted text to a string (fmt checks the format strings at compile time).
class Writer {
 public:
  template <typename... Args>
  void operator()(fmt::format_string<Args...> format, Args&&... args) {
    fmt::format_to(std::back_inserter(text_), format, std::forward<Args>(args)...);
  }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

std::string seconds(double ms) {
  return fmt::format("{:.2f} s", ms / 1000.0);
}

std::string phones_text(const PhoneOptions& phone, const RadioOptions& radio) {
  std::string offsets = fmt::format("offset N(0, {:g})", phone.offset_sigma_db);
  if (phone.offset_uniform_db > 0.0)
    offsets += fmt::format(" + U(+-{:g})", phone.offset_uniform_db);
  const std::string near = phone.detect_near_max > 0.0
                               ? fmt::format("{:.0f}-{:.0f} %", 100.0 * phone.detect_near_min,
                                             100.0 * phone.detect_near_max)
                               : fmt::format("{:.0f} %", 100.0 * radio.detect_near);
  return fmt::format("phones {} dB, near scans heard {}", offsets, near);
}

// The issue's figures of one run, or of several pooled: the line every run prints.
std::string issue_figures(const MetricsSummary& m) {
  return fmt::format(
      "first id from sitting down p50 {}, p95 {}; precision {:.4f}; table recall {:.4f} "
      "({} of {}); flaps {}; missed visits {} of {}",
      seconds(m.first_id_seated.p50_ms), seconds(m.first_id_seated.p95_ms), m.accuracy,
      m.table_recall, m.table_stays_identified, m.table_stays, m.flaps, m.missed_stays, m.stays);
}

std::string room_text(const RoomCalibration& room) {
  return fmt::format(
      "{} of {} beacons learnt: their tx_power error rms {:.2f} dB as installed, "
      "{:.2f} dB as used",
      room.learnt, room.beacons, room.installed_rms_db, room.used_rms_db);
}

// The reliability plot as rows: probability bin, readings, mean stated, share right.
std::string reliability_text(const Reliability& r) {
  std::size_t total = 0;
  for (const std::size_t n : r.readings) total += n;
  if (total == 0) return {};
  std::string text = fmt::format(
      "reliability   every reading's most likely location (score.model filter), {} readings:\n",
      total);
  for (std::size_t b = 0; b < kReliabilityBins; ++b) {
    if (r.readings[b] == 0) continue;
    const auto n = static_cast<double>(r.readings[b]);
    text += fmt::format("  {:.1f}-{:.1f}: {} readings, stated {:.3f}, right {:.3f}\n",
                        static_cast<double>(b) / kReliabilityBins,
                        static_cast<double>(b + 1) / kReliabilityBins, r.readings[b],
                        r.stated[b] / n, static_cast<double>(r.right[b]) / n);
  }
  return text;
}

std::string reliability_json(const Reliability& r) {
  std::string json = "[";
  for (std::size_t b = 0; b < kReliabilityBins; ++b) {
    json += fmt::format(R"({}{{"readings":{},"stated":{:.4f},"right":{}}})", b == 0 ? "" : ",",
                        r.readings[b], r.stated[b], r.right[b]);
  }
  return json + "]";
}

std::string issue_figures_json(const MetricsSummary& m) {
  return fmt::format(
      R"({{"first_id_from_seated_ms":{{"p50":{:.0f},"p95":{:.0f}}},"precision":{:.4f},)"
      R"("table_recall":{:.4f},"table_stays":{},"table_stays_identified":{},"flaps":{},)"
      R"("missed_visits":{},"stays":{}}})",
      m.first_id_seated.p50_ms, m.first_id_seated.p95_ms, m.accuracy, m.table_recall, m.table_stays,
      m.table_stays_identified, m.flaps, m.missed_stays, m.stays);
}

}  // namespace

std::string format_text(const SimReport& r) {
  const MetricsSummary& m = r.metrics;
  const SimCounts& c = r.counts;
  Writer add;
  add("tastesync sim: setting {}, model {}, seed {}, {} customers over {:g} min{}{}\n",
      r.settings.name, model_name(r.settings.model), r.settings.seed, r.settings.customers,
      r.settings.arrival_minutes, r.settings.store.empty() ? "" : ", store ", r.settings.store);
  add("  layout {}, registry {}; sigma {:g} dB, blocking {:g}/min, {}; seats {:g}-{:g} m from "
      "the table\n",
      r.layout, r.registry, r.settings.radio.sigma_db, r.settings.radio.blocking_per_min,
      phones_text(r.settings.phone, r.settings.radio), r.settings.visit.table_seat_min_m,
      r.settings.visit.table_seat_max_m);
  add("  simulated {:.1f} min: {} scans, {} readings, {} QR scans, {} records ({} late, {} "
      "duplicated)\n",
      static_cast<double>(c.simulated_ms) / 60000.0, c.scans, c.readings, c.qr_scans, c.records,
      c.late, c.duplicated);
  add("  events {}:", m.events);
  for (std::size_t k = 0; k < kIdentificationKindCount; ++k) {
    add(" {} {}", identification_kind_name(static_cast<IdentificationKind>(k)),
        c.events_by_kind[k]);
  }
  add("\n  drops:");
  for (std::size_t d = 0; d < kDropReasonCount; ++d) {
    if (c.drops_by_reason[d] != 0) {
      add(" {} {}", drop_reason_name(static_cast<DropReason>(d)), c.drops_by_reason[d]);
    }
  }
  add("{}\n", c.dead_letters == 0 ? "" : fmt::format("; dead letters {}", c.dead_letters));
  add("precision     {:.2f} % ({} of {} correct; wrong: {} while walking, {} at another location,"
      " {} outside)\n",
      100.0 * m.accuracy, m.correct, m.events, m.while_walking, m.wrong_location, m.while_outside);
  add("  by type:");
  for (std::size_t t = 0; t < 3; ++t) {
    add(" {} {:.1f} % of {}", kTypeNames[t], percent(m.correct_by_type[t], m.events_by_type[t]),
        m.events_by_type[t]);
  }
  add("\nflaps         {}\n", m.flaps);
  add("first id      from arrival p50 {}, p95 {}; from first reading p50 {}, p95 {}\n",
      seconds(m.first_id_from_arrival.p50_ms), seconds(m.first_id_from_arrival.p95_ms),
      seconds(m.first_id_from_first_reading.p50_ms), seconds(m.first_id_from_first_reading.p95_ms));
  add("  visits {}, never identified {}, identified before arriving {}\n", m.visits,
      m.never_identified, m.identified_early);
  add("tables        recall {:.2f} % ({} of {} seated stays >= 60 s); first id from sitting down "
      "p50 {}, p95 {}\n",
      100.0 * m.table_recall, m.table_stays_identified, m.table_stays,
      seconds(m.first_id_seated.p50_ms), seconds(m.first_id_seated.p95_ms));
  add("missed visits {} of {} table/counter stays >= 60 s\n", m.missed_stays, m.stays);
  add("room          {}\n", room_text(c.room));
  add("{}", reliability_text(m.reliability));
  if (r.runtime_s) add("runtime       {:.2f} s\n", *r.runtime_s);
  return add.take();
}

std::string format_json(const SimReport& r) {
  const MetricsSummary& m = r.metrics;
  const SimCounts& c = r.counts;
  Writer add;
  add(R"({{"setting":{},"model":{},"seed":{},"customers":{},"store":{},"layout":{},"registry":{},)"
      R"("knobs":{{)",
      json_string(r.settings.name), json_string(model_name(r.settings.model)), r.settings.seed,
      r.settings.customers, json_string(r.settings.store), json_string(r.layout),
      json_string(r.registry));
  const char* separator = "";
  for (const Knob& knob : knobs()) {
    add(R"({}"{}":{:g})", separator, knob.flag, knob_value(r.settings, knob));
    separator = ",";
  }
  add(R"(}},"counts":{{"scans":{},"readings":{},"qr_scans":{},"records":{},"late":{},)"
      R"("duplicated":{},"dead_letters":{},"simulated_s":{:.3f},)"
      R"("room":{{"beacons":{},"learnt":{},"installed_rms_db":{:.3f},"used_rms_db":{:.3f}}},)"
      R"("events":{{)",
      c.scans, c.readings, c.qr_scans, c.records, c.late, c.duplicated, c.dead_letters,
      static_cast<double>(c.simulated_ms) / 1000.0, c.room.beacons, c.room.learnt,
      c.room.installed_rms_db, c.room.used_rms_db);
  for (std::size_t k = 0; k < kIdentificationKindCount; ++k) {
    add(R"({}"{}":{})", k == 0 ? "" : ",",
        identification_kind_name(static_cast<IdentificationKind>(k)), c.events_by_kind[k]);
  }
  add(R"(}},"drops":{{)");
  for (std::size_t d = 0; d < kDropReasonCount; ++d) {
    add(R"({}"{}":{})", d == 0 ? "" : ",", drop_reason_name(static_cast<DropReason>(d)),
        c.drops_by_reason[d]);
  }
  add(R"(}}}},"accuracy":{{"share":{:.4f},"events":{},"correct":{},"while_walking":{},)"
      R"("wrong_location":{},"while_outside":{},"by_type":{{)",
      m.accuracy, m.events, m.correct, m.while_walking, m.wrong_location, m.while_outside);
  for (std::size_t t = 0; t < 3; ++t) {
    add(R"({}"{}":{{"events":{},"correct":{}}})", t == 0 ? "" : ",", kTypeNames[t],
        m.events_by_type[t], m.correct_by_type[t]);
  }
  add(R"(}}}},"flaps":{},"first_identification":{{"visits":{},"never_identified":{},)"
      R"("identified_early":{},"from_arrival_ms":{{"p50":{:.0f},"p95":{:.0f}}},)"
      R"("from_first_reading_ms":{{"p50":{:.0f},"p95":{:.0f}}}}},)"
      R"("missed_visits":{{"stays":{},"missed":{}}})",
      m.flaps, m.visits, m.never_identified, m.identified_early, m.first_id_from_arrival.p50_ms,
      m.first_id_from_arrival.p95_ms, m.first_id_from_first_reading.p50_ms,
      m.first_id_from_first_reading.p95_ms, m.stays, m.missed_stays);
  add(R"(,"issue14":{},"reliability":{})", issue_figures_json(m), reliability_json(m.reliability));
  if (r.runtime_s) add(R"(,"runtime_s":{:.3f})", *r.runtime_s);
  add("}}\n");
  return add.take();
}

std::string format_run_line(const SimReport& r) {
  std::string line = fmt::format("seed {}: {}; room {}", r.settings.seed, issue_figures(r.metrics),
                                 room_text(r.counts.room));
  if (r.runtime_s) line += fmt::format("; runtime {:.1f} s", *r.runtime_s);
  return line + "\n";
}

std::string format_seeds_text(const std::vector<SimReport>& runs, const MetricsSummary& pooled) {
  if (runs.empty()) return {};
  const SimSettings& s = runs.front().settings;
  Writer add;
  add("tastesync sim: setting {}, model {}, seeds {}..{}, {} customers each\n", s.name,
      model_name(s.model), s.seed, runs.back().settings.seed, s.customers);
  double runtime_s = 0.0;
  for (const SimReport& run : runs) {
    add("  {}", format_run_line(run));
    runtime_s += run.runtime_s.value_or(0.0);
  }
  RoomCalibration room;
  double installed = 0.0;
  double used = 0.0;
  for (const SimReport& run : runs) {
    const RoomCalibration& r = run.counts.room;
    room.beacons += r.beacons;
    room.learnt += r.learnt;
    installed += static_cast<double>(r.learnt) * r.installed_rms_db * r.installed_rms_db;
    used += static_cast<double>(r.learnt) * r.used_rms_db * r.used_rms_db;
  }
  if (room.learnt > 0) {
    room.installed_rms_db = std::sqrt(installed / static_cast<double>(room.learnt));
    room.used_rms_db = std::sqrt(used / static_cast<double>(room.learnt));
  }
  add("all {} seeds: {}; room {}; runtime {:.1f} s\n", runs.size(), issue_figures(pooled),
      room_text(room), runtime_s);
  add("{}", reliability_text(pooled.reliability));
  return add.take();
}

std::string format_seeds_json(const std::vector<SimReport>& runs, const MetricsSummary& pooled) {
  Writer add;
  add(R"({{"runs":[)");
  for (std::size_t i = 0; i < runs.size(); ++i) {
    std::string run = format_json(runs[i]);
    run.pop_back();  // its newline
    add("{}{}", i == 0 ? "" : ",", run);
  }
  add(R"(],"pooled":{}}})", issue_figures_json(pooled));
  add("\n");
  return add.take();
}

}  // namespace tastesync::sim
