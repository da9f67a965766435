#include "common/event_time.hpp"

#include <array>
#include <chrono>

namespace tastesync {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads exactly `count` digits at `pos`; advances `pos`.
std::optional<int> read_digits(std::string_view text, std::size_t& pos, int count) {
  if (pos + static_cast<std::size_t>(count) > text.size()) return std::nullopt;
  int value = 0;
  for (int i = 0; i < count; ++i) {
    const char c = text[pos++];
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

bool expect_char(std::string_view text, std::size_t& pos, char lower, char upper) {
  if (pos >= text.size() || (text[pos] != lower && text[pos] != upper)) return false;
  ++pos;
  return true;
}

void put_digits(char* out, int value, int count) {
  for (int i = count - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// The canonical form, YYYY-MM-DDTHH:MM:SS.mmmZ, which every producer of the contract writes
// (docs/contract.md#sighting): its fields sit at fixed places, so they are read without the
// general path's branch per character, a tenth of a sighting's parse (docs/bench.md#issue-17-19).
// False: not exactly that form, or not a valid instant; the general path then decides. Not an
// optional: one built in memory and read back whole stalls on a failed store forward.
bool parse_canonical(std::string_view text, EpochMs& out) {
  if (text.size() != kCanonicalTimeLength) return false;
  const char* p = text.data();
  if (p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':' || p[19] != '.' ||
      p[23] != 'Z') {
    return false;
  }
  static constexpr std::array<int, 17> kDigits = {0,  1,  2,  3,  5,  6,  8,  9, 11,
                                                  12, 14, 15, 17, 18, 20, 21, 22};
  bool digits = true;
  for (const int i : kDigits) digits &= is_digit(p[i]);
  if (!digits) return false;
  const auto number = [p](int at, int count) {
    int value = 0;
    for (int i = at; i < at + count; ++i) value = value * 10 + (p[i] - '0');
    return value;
  };
  const int hour = number(11, 2);
  const int minute = number(14, 2);
  const int second = number(17, 2);
  if (hour > 23 || minute > 59 || second > 59) return false;
  const std::chrono::year_month_day date{std::chrono::year{number(0, 4)},
                                         std::chrono::month{static_cast<unsigned>(number(5, 2))},
                                         std::chrono::day{static_cast<unsigned>(number(8, 2))}};
  if (!date.ok()) return false;
  const auto days = std::chrono::sys_days{date}.time_since_epoch().count();
  const EpochMs seconds = static_cast<EpochMs>(days) * 86400 + static_cast<EpochMs>(hour) * 3600 +
                          static_cast<EpochMs>(minute) * 60 + second;
  out = seconds * 1000 + number(20, 3);
  return true;
}

}  // namespace

std::optional<EpochMs> parse_rfc3339(std::string_view text) {
  if (EpochMs canonical = 0; parse_canonical(text, canonical)) return canonical;
  std::size_t pos = 0;
  const auto year = read_digits(text, pos, 4);
  if (!year || !expect_char(text, pos, '-', '-')) return std::nullopt;
  const auto month = read_digits(text, pos, 2);
  if (!month || !expect_char(text, pos, '-', '-')) return std::nullopt;
  const auto day = read_digits(text, pos, 2);
  if (!day || !expect_char(text, pos, 't', 'T')) return std::nullopt;
  const auto hour = read_digits(text, pos, 2);
  if (!hour || !expect_char(text, pos, ':', ':')) return std::nullopt;
  const auto minute = read_digits(text, pos, 2);
  if (!minute || !expect_char(text, pos, ':', ':')) return std::nullopt;
  const auto second = read_digits(text, pos, 2);
  if (!second) return std::nullopt;

  int millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && is_digit(text[pos])) {
      if (digits < 3) millis = millis * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) millis *= 10;
  }

  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    const auto offset_hours = read_digits(text, pos, 2);
    if (!offset_hours || !expect_char(text, pos, ':', ':')) return std::nullopt;
    const auto offset_mins = read_digits(text, pos, 2);
    if (!offset_mins || *offset_hours > 23 || *offset_mins > 59) return std::nullopt;
    offset_minutes = sign * (*offset_hours * 60 + *offset_mins);
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;

  if (*hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{*year},
                                         std::chrono::month{static_cast<unsigned>(*month)},
                                         std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok()) return std::nullopt;

  const auto days = std::chrono::sys_days{date}.time_since_epoch().count();
  const EpochMs local_seconds = static_cast<EpochMs>(days) * 86400 +
                                static_cast<EpochMs>(*hour) * 3600 +
                                static_cast<EpochMs>(*minute) * 60 + *second;
  const EpochMs utc_ms =
      (local_seconds - static_cast<EpochMs>(offset_minutes) * 60) * 1000 + millis;
  // An offset can move 0000-01-01 or 9999-12-31 out of the four-digit years the canonical form
  // can write back.
  if (utc_ms < kFirstCanonicalMs || utc_ms > kLastCanonicalMs) return std::nullopt;
  return utc_ms;
}

CanonicalTime format_canonical(EpochMs ms) {
  // Floor division so instants before 1970 still format correctly.
  EpochMs seconds = ms / 1000;
  int millis = static_cast<int>(ms % 1000);
  if (millis < 0) {
    millis += 1000;
    --seconds;
  }
  EpochMs days = seconds / 86400;
  EpochMs second_of_day = seconds % 86400;
  if (second_of_day < 0) {
    second_of_day += 86400;
    --days;
  }
  const std::chrono::year_month_day date{
      std::chrono::sys_days{std::chrono::days{static_cast<int>(days)}}};

  CanonicalTime out{};
  char* p = out.data();
  put_digits(p, static_cast<int>(date.year()), 4);
  p[4] = '-';
  put_digits(p + 5, static_cast<int>(static_cast<unsigned>(date.month())), 2);
  p[7] = '-';
  put_digits(p + 8, static_cast<int>(static_cast<unsigned>(date.day())), 2);
  p[10] = 'T';
  put_digits(p + 11, static_cast<int>(second_of_day / 3600), 2);
  p[13] = ':';
  put_digits(p + 14, static_cast<int>(second_of_day / 60 % 60), 2);
  p[16] = ':';
  put_digits(p + 17, static_cast<int>(second_of_day % 60), 2);
  p[19] = '.';
  put_digits(p + 20, millis, 3);
  p[23] = 'Z';
  return out;
}

std::string format_canonical_string(EpochMs ms) {
  const CanonicalTime t = format_canonical(ms);
  return {t.data(), t.size()};
}

}  // namespace tastesync
