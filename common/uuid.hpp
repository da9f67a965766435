#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tastesync {

using Uuid = std::array<std::uint8_t, 16>;

// Canonical 8-4-4-4-12 hex, either case. Anything else (braces, no dashes, URN prefix) is rejected.
std::optional<Uuid> parse_uuid(std::string_view text);

inline constexpr std::size_t kUuidTextLength = 36;
using UuidText = std::array<char, kUuidTextLength>;
// Lower-case canonical form.
UuidText format_uuid(const Uuid& uuid);
std::string format_uuid_string(const Uuid& uuid);

// RFC 4122 §4.3 name-based UUID, SHA-1 (version 5).
Uuid uuid_v5(const Uuid& name_space, std::string_view name);

}  // namespace tastesync
