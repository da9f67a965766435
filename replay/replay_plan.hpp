#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/event_time.hpp"
#include "stages/outcome.hpp"

namespace tastesync {

// Which records of the input a replay reads, feeds and emits (docs/operations.md#replay). Records
// are chosen by their Kafka record timestamp; a record without one counts as older than any.
struct ReplayRange {
  std::optional<EpochMs> from_ms;  // --from-timestamp; nullopt: --from-beginning
  std::optional<EpochMs> to_ms;    // --to-timestamp (exclusive); nullopt: the end at start
  std::int64_t warmup_ms = 0;      // fed to the state only, before from_ms

  enum class Role : std::uint8_t {
    skip,    // outside the range and its warm-up: not read into the state
    warmup,  // into the state, nothing emitted
    emit,    // through the stages, its outputs produced
  };
  Role role_of(std::optional<EpochMs> timestamp_ms) const;
  // The first record timestamp the replay feeds (nullopt: everything from the beginning).
  std::optional<EpochMs> feed_from_ms() const;
};

// "90s", "15m", "1h", "2d", "500ms" or a number of milliseconds; nullopt for anything else (or
// beyond ten years).
std::optional<std::int64_t> parse_duration_ms(std::string_view text);

struct ReplaySummary {
  std::int64_t records_read = 0;
  std::int64_t warmup_records = 0;
  std::int64_t events = 0;
  std::int64_t dlq = 0;
  std::int64_t erasures = 0;  // erasure requests met: each emitted its tombstone again
  std::array<std::int64_t, kDropReasonCount> dropped{};
  std::int64_t outside_range = 0;    // read, but outside the range and its warm-up
  std::int64_t other_customers = 0;  // events and dead letters of customers not asked for
  double seconds = 0.0;
  bool dry_run = false;
  bool interrupted = false;
  std::string output_topic;
  std::string dlq_topic;

  // One line of JSON: records_read, events, dlq, dropped {reason: n}, and the rest.
  std::string to_json() const;
};

// "replay: 52340 of 120000 records (43.6 %), 98000 records/s, about 1 s left".
std::string progress_line(std::int64_t done, std::int64_t total, double seconds);

}  // namespace tastesync
