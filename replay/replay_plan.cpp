#include "replay/replay_plan.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace tastesync {
namespace {

constexpr std::int64_t kMaxDurationMs = 10LL * 365 * 24 * 3600 * 1000;

std::string number(double value, const char* format) {
  char text[64];
  std::snprintf(text, sizeof(text), format, value);
  return text;
}

}  // namespace

ReplayRange::Role ReplayRange::role_of(std::optional<EpochMs> timestamp_ms) const {
  // No timestamp: older than any (it is a bad_timestamp dead letter in the stages anyway).
  const EpochMs t = timestamp_ms.value_or(std::numeric_limits<EpochMs>::min());
  if (to_ms && t >= *to_ms) return Role::skip;
  if (!from_ms) return Role::emit;
  if (t >= *from_ms) return Role::emit;
  const auto feed_from = feed_from_ms();
  return feed_from && t < *feed_from ? Role::skip : Role::warmup;
}

std::optional<EpochMs> ReplayRange::feed_from_ms() const {
  if (!from_ms) return std::nullopt;
  return *from_ms - warmup_ms;
}

std::optional<std::int64_t> parse_duration_ms(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || value < 0) return std::nullopt;
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  std::int64_t scale = 0;
  if (unit.empty() || unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m") {
    scale = 60LL * 1000;
  } else if (unit == "h") {
    scale = 3600LL * 1000;
  } else if (unit == "d") {
    scale = 24LL * 3600 * 1000;
  } else {
    return std::nullopt;
  }
  if (value > kMaxDurationMs / scale) return std::nullopt;
  return value * scale;
}

std::string ReplaySummary::to_json() const {
  // Topic names are [a-zA-Z0-9._-] (Kafka's rule, checked before they get here): nothing to
  // escape.
  std::string json = "{\"records_read\":" + std::to_string(records_read);
  json += ",\"events\":" + std::to_string(events);
  json += ",\"dlq\":" + std::to_string(dlq);
  json += ",\"dropped\":{";
  for (std::size_t i = 0; i < kDropReasonCount; ++i) {
    if (i > 0) json += ",";
    json += "\"";
    json += drop_reason_name(static_cast<DropReason>(i));
    json += "\":" + std::to_string(dropped[i]);
  }
  json += "},\"warmup_records\":" + std::to_string(warmup_records);
  json += ",\"erasures\":" + std::to_string(erasures);
  json += ",\"skipped\":{\"outside_range\":" + std::to_string(outside_range) +
          ",\"other_customers\":" + std::to_string(other_customers) + "}";
  json += ",\"output_topic\":\"" + output_topic + "\",\"dlq_topic\":\"" + dlq_topic + "\"";
  json += ",\"dry_run\":";
  json += dry_run ? "true" : "false";
  json += ",\"interrupted\":";
  json += interrupted ? "true" : "false";
  json += ",\"seconds\":" + number(seconds, "%.3f");
  json +=
      ",\"records_per_s\":" +
      number(seconds > 0 ? std::round(static_cast<double>(records_read) / seconds) : 0.0, "%.0f");
  json += "}";
  return json;
}

std::string progress_line(std::int64_t done, std::int64_t total, double seconds) {
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
  std::string line =
      "replay: " + std::to_string(done) + " of " + std::to_string(total) + " records (" +
      number(total > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0,
             "%.1f") +
      " %), " + number(rate, "%.0f") + " records/s";
  if (rate > 0 && total > done) {
    line += ", about " + number(std::ceil(static_cast<double>(total - done) / rate), "%.0f") +
            " s left";
  }
  return line;
}

}  // namespace tastesync
