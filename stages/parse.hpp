#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "stages/sighting.hpp"

namespace tastesync {

// The error codes of docs/contract.md#sighting-errors, in its order. They are the DLQ's
// `dlq.error.code` and a metrics label, so their spelling (parse_error_code_name) is a stable
// interface.
enum class ParseErrorCode : std::uint8_t {
  invalid_json,
  missing_field,
  wrong_type,
  out_of_range,
  bad_uuid,
  bad_timestamp,
  too_far_in_future,
  too_old,
  too_large,
  invalid_utf8,
  unknown_source,
  key_mismatch,
};
inline constexpr std::size_t kParseErrorCodeCount = 12;

std::string_view parse_error_code_name(ParseErrorCode code);

struct ParseError {
  ParseErrorCode code;
  std::string message;  // for humans: names the field and what was wrong with it
};

struct ParseOptions {
  std::size_t max_record_bytes = 4096;
  // detected_at <= record timestamp + max_future_skew_ms, >= record timestamp - max_past_skew_ms
  std::int64_t max_future_skew_ms = std::int64_t{5} * 60 * 1000;
  std::int64_t max_past_skew_ms = std::int64_t{24} * 3600 * 1000;
};

// The one wall-clock guard (docs/contract.md#time): a record whose Kafka timestamp or detected_at
// is more than `options.max_future_skew_ms` ahead of `now_ms` is too_far_in_future, so a producer
// with a wrong clock never moves a watermark or any state (docs/design.md, "Time that cannot be
// hijacked").
// The timestamp is judged before the value is parsed (a timestamp from 2099 is the record's
// first problem, whatever its value says), detected_at after.
std::optional<ParseError> timestamp_ahead_of_wall_clock(const RecordView& record, EpochMs now_ms,
                                                        const ParseOptions& options);
std::optional<ParseError> detected_at_ahead_of_wall_clock(const Sighting& sighting, EpochMs now_ms,
                                                          const ParseOptions& options);

// An erasure request (docs/operations.md#forget): its key must be a customer id exactly as a
// sighting's must (1..64 code points of valid UTF-8, no control character) and its request id
// valid (valid_erasure_request_id); otherwise the reason.
std::optional<ParseError> check_forget_request(const std::optional<std::string_view>& key,
                                               std::string_view request_id);

// Kafka record -> validated Sighting. One instance per thread: it owns simdjson's parser and a
// padded copy buffer that are reused for every record, so the hot path does not allocate.
class SightingParser {
 public:
  explicit SightingParser(ParseOptions options = {});
  ~SightingParser();
  SightingParser(const SightingParser&) = delete;
  SightingParser& operator=(const SightingParser&) = delete;

  // The returned Sighting's views are valid until the next call.
  Result<Sighting, ParseError> parse(const RecordView& record);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tastesync
