#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "stages/customer_state.hpp"

namespace tastesync {

// The durable encoding of a CustomerState without its `seen` list (little-endian, versioned).
// The first byte is the version, the next eight the last activity and the eight after them the
// last offset, so the compaction filter reads expiry and eviction without decoding the rest.
// Sample times are stored relative to the last activity. Version 3 (no offsets) still decodes.
void encode_customer_state(const CustomerState& state, std::string& out);
// The same encoding appended to `out` (a pending snapshot's arena); returns its size.
std::size_t append_customer_state(const CustomerState& state, std::string& out);
bool decode_customer_state(std::string_view bytes, CustomerState& state);
struct EncodedExpiry {
  EpochMs last_activity_ms;
  std::int64_t last_offset;
};
std::optional<EncodedExpiry> encoded_expiry(std::string_view bytes);

}  // namespace tastesync
