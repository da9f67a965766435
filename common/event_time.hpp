#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tastesync {

// Milliseconds since the Unix epoch, UTC. Event time everywhere in the pipeline.
using EpochMs = std::int64_t;

// The instants the canonical form below can write: years 0000 to 9999. Every event time the
// pipeline accepts is one of them, and so is every time its state holds; the state's decoders
// refuse others (arithmetic on them could overflow).
inline constexpr EpochMs kFirstCanonicalMs = -62167219200000;  // 0000-01-01T00:00:00.000Z
inline constexpr EpochMs kLastCanonicalMs = 253402300799999;   // 9999-12-31T23:59:59.999Z
inline constexpr bool is_canonical_time(EpochMs ms) {
  return ms >= kFirstCanonicalMs && ms <= kLastCanonicalMs;
}

// RFC 3339 date-time ("2025-03-02T21:00:00.123+09:00", "...Z", fraction optional, 't'/'z'
// accepted). Returns UTC milliseconds; fraction digits past the millisecond are truncated.
// Rejects second 60 (leap seconds cannot be represented in the canonical form) and invalid dates.
std::optional<EpochMs> parse_rfc3339(std::string_view text);

// The canonical time form of docs/contract.md#customer-identified: "YYYY-MM-DDTHH:MM:SS.mmmZ",
// always 24 characters.
inline constexpr std::size_t kCanonicalTimeLength = 24;
using CanonicalTime = std::array<char, kCanonicalTimeLength>;
CanonicalTime format_canonical(EpochMs ms);
std::string format_canonical_string(EpochMs ms);

}  // namespace tastesync
