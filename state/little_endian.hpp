#pragma once

#include <cstdint>
#include <string>

namespace tastesync {

// State values store integers little-endian (docs/storage.md); the customer state codec and the
// checkpoint encoding both append them this way.
inline void put_i64(std::string& out, std::int64_t value) {
  auto bits = static_cast<std::uint64_t>(value);
  for (int i = 0; i < 8; ++i, bits >>= 8) out.push_back(static_cast<char>(bits));
}

}  // namespace tastesync
