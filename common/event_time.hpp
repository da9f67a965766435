#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tastesync {

// Milliseconds since the Unix epoch, UTC. Event time everywhere in the pipeline.
using EpochMs = std::int64_t;

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
