#include "tools/sim/report.hpp"

#include <fmt/format.h>

#include <iterator>

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

}  // namespace

std::string format_text(const SimReport& r) {
  const MetricsSummary& m = r.metrics;
  const SimCounts& c = r.counts;
  Writer add;
  add("tastesync sim: setting {}, seed {}, {} customers over {:g} min{}{}\n", r.settings.name,
      r.settings.seed, r.settings.customers, r.settings.arrival_minutes,
      r.settings.store.empty() ? "" : ", store ", r.settings.store);
  add("  layout {}, registry {}; sigma {:g} dB, blocking {:g}/min, near scans heard {:.0f} %\n",
      r.layout, r.registry, r.settings.radio.sigma_db, r.settings.radio.blocking_per_min,
      100.0 * r.settings.radio.detect_near);
  add("  simulated {:.1f} min: {} scans, {} readings, {} records ({} late, {} duplicated)\n",
      static_cast<double>(c.simulated_ms) / 60000.0, c.scans, c.readings, c.records, c.late,
      c.duplicated);
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
  add("accuracy      {:.2f} % ({} of {} correct; wrong: {} while walking, {} at another location,"
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
  add("missed visits {} of {} table/counter stays >= 60 s\n", m.missed_stays, m.stays);
  if (r.runtime_s) add("runtime       {:.2f} s\n", *r.runtime_s);
  return add.take();
}

std::string format_json(const SimReport& r) {
  const MetricsSummary& m = r.metrics;
  const SimCounts& c = r.counts;
  Writer add;
  add(R"({{"setting":{},"seed":{},"customers":{},"store":{},"layout":{},"registry":{},"knobs":{{)",
      json_string(r.settings.name), r.settings.seed, r.settings.customers,
      json_string(r.settings.store), json_string(r.layout), json_string(r.registry));
  const char* separator = "";
  for (const Knob& knob : knobs()) {
    add(R"({}"{}":{:g})", separator, knob.flag, knob_value(r.settings, knob));
    separator = ",";
  }
  add(R"(}},"counts":{{"scans":{},"readings":{},"records":{},"late":{},"duplicated":{},)"
      R"("dead_letters":{},"simulated_s":{:.3f},"events":{{)",
      c.scans, c.readings, c.records, c.late, c.duplicated, c.dead_letters,
      static_cast<double>(c.simulated_ms) / 1000.0);
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
  if (r.runtime_s) add(R"(,"runtime_s":{:.3f})", *r.runtime_s);
  add("}}\n");
  return add.take();
}

}  // namespace tastesync::sim
