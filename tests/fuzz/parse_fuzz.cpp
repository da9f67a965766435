#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "stages/parse.hpp"
#include "tests/fuzz/fuzz_record.hpp"

namespace {

using tastesync::fuzz::decode;
using tastesync::fuzz::Record;

using tastesync::ParseErrorCode;

void check(bool invariant) {
  if (!invariant) __builtin_trap();
}

// Written independently of parse.cpp on purpose: the fuzzer compares two implementations.
std::size_t code_points(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) count += (static_cast<unsigned char>(c) >> 6) != 2;
  return count;
}

bool has_control(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
    if (c <= 0x1F || c == 0x7F || (c == 0xC2 && next >= 0x80 && next <= 0x9F)) return true;
  }
  return false;
}

// What a parse returned, copied out of the parser's storage so two parses can be compared.
struct Outcome {
  bool ok = false;
  ParseErrorCode code = ParseErrorCode::invalid_json;
  std::string sighting_id, customer_id, qr_code, platform;
  tastesync::Sighting fields;
};

Outcome check_and_copy(const tastesync::Result<tastesync::Sighting, tastesync::ParseError>& result,
                       const Record& record, const tastesync::ParseOptions& options) {
  Outcome outcome;
  if (!result.ok()) {
    const auto& error = result.error();
    const auto index = static_cast<std::size_t>(error.code);
    check(index < tastesync::kParseErrorCodeCount);
    check(tastesync::parse_error_code_name(error.code) != "unknown");
    check(!error.message.empty());
    check((error.code == ParseErrorCode::too_large) ==
          (record.value.size() > options.max_record_bytes));
    if (error.code == ParseErrorCode::invalid_utf8) {
      check(!simdjson::validate_utf8(record.value.data(), record.value.size()));
    }
    outcome.code = error.code;
    return outcome;
  }

  const tastesync::Sighting& s = *result;
  check(record.value.size() <= options.max_record_bytes);
  check(simdjson::validate_utf8(record.value.data(), record.value.size()));
  check(record.key.has_value() && *record.key == s.customer_id);
  check(code_points(s.sighting_id) >= 1 && code_points(s.sighting_id) <= 64);
  check(code_points(s.customer_id) >= 1 && code_points(s.customer_id) <= 64);
  check(!has_control(s.customer_id));
  if (s.source == tastesync::Source::beacon) {
    check(s.beacon.rssi_dbm >= -100 && s.beacon.rssi_dbm <= -1);
    check(!s.beacon.tx_power_dbm ||
          (*s.beacon.tx_power_dbm >= -100 && *s.beacon.tx_power_dbm <= -1));
    check(tastesync::parse_uuid(tastesync::format_uuid_string(s.beacon.uuid)) == s.beacon.uuid);
  } else {
    check(s.source == tastesync::Source::qr);
    check(code_points(s.qr_code) >= 1 && code_points(s.qr_code) <= 256);
  }
  check(record.timestamp_ms.has_value());
  std::int64_t ahead_ms = 0;
  check(!__builtin_sub_overflow(s.detected_at_ms, *record.timestamp_ms, &ahead_ms));
  check(ahead_ms <= options.max_future_skew_ms && -ahead_ms <= options.max_past_skew_ms);
  // detected_at must survive the canonical form the emit stage writes.
  check(tastesync::parse_rfc3339(tastesync::format_canonical_string(s.detected_at_ms)) ==
        s.detected_at_ms);

  outcome.ok = true;
  outcome.sighting_id = s.sighting_id;
  outcome.customer_id = s.customer_id;
  outcome.qr_code = s.qr_code;
  outcome.platform = s.platform;
  outcome.fields = s;
  return outcome;
}

bool same(const Outcome& a, const Outcome& b) {
  if (a.ok != b.ok) return false;
  if (!a.ok) return a.code == b.code;
  return a.sighting_id == b.sighting_id && a.customer_id == b.customer_id &&
         a.qr_code == b.qr_code && a.platform == b.platform && a.fields.source == b.fields.source &&
         a.fields.detected_at_ms == b.fields.detected_at_ms &&
         a.fields.beacon.uuid == b.fields.beacon.uuid &&
         a.fields.beacon.major == b.fields.beacon.major &&
         a.fields.beacon.minor == b.fields.beacon.minor &&
         a.fields.beacon.rssi_dbm == b.fields.beacon.rssi_dbm &&
         a.fields.beacon.tx_power_dbm == b.fields.beacon.tx_power_dbm;
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the entry point libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // One parser for the whole run, as in production: state left by one record must not change
  // the next one's outcome.
  static const tastesync::ParseOptions options;
  static tastesync::SightingParser parser(options);

  const Record record = decode(data, size);
  const tastesync::RecordView view{record.key, record.value, record.timestamp_ms};
  const Outcome first = check_and_copy(parser.parse(view), record, options);
  const Outcome again = check_and_copy(parser.parse(view), record, options);
  check(same(first, again));
  return 0;
}
