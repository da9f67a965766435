#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tastesync {

// State values store integers little-endian (docs/storage.md); the customer state codec and the
// checkpoint encoding both append them this way.
inline void put_i64(std::string& out, std::int64_t value) {
  auto bits = static_cast<std::uint64_t>(value);
  for (int i = 0; i < 8; ++i, bits >>= 8) out.push_back(static_cast<char>(bits));
}

// The same into bytes already sized for it (a WriteBatch value of many ids:
// docs/bench.md#issue-17-12).
inline void store_i64(char* at, std::int64_t value) {
  auto bits = static_cast<std::uint64_t>(value);
  for (int i = 0; i < 8; ++i, bits >>= 8) at[i] = static_cast<char>(bits);
}

// The i-th little-endian int64 of `bytes`, which holds at least i + 1 of them.
inline std::int64_t get_i64(std::string_view bytes, std::size_t i) {
  std::uint64_t bits = 0;
  for (int b = 7; b >= 0; --b) {
    bits = bits << 8 | static_cast<std::uint8_t>(bytes[i * 8 + static_cast<std::size_t>(b)]);
  }
  return static_cast<std::int64_t>(bits);
}

}  // namespace tastesync
