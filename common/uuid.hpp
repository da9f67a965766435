#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tastesync {

using Uuid = std::array<std::uint8_t, 16>;

// The same as `a == b`, in two 8-byte compares: std::array's == is a call to memcmp here, and
// the scoring compares a customer's few beacon ids on every reading (docs/bench.md#issue-17-12).
inline bool same_uuid(const Uuid& a, const Uuid& b) {
  std::uint64_t a_words[2];
  std::uint64_t b_words[2];
  std::memcpy(a_words, a.data(), sizeof a_words);
  std::memcpy(b_words, b.data(), sizeof b_words);
  return ((a_words[0] ^ b_words[0]) | (a_words[1] ^ b_words[1])) == 0;
}

// Canonical 8-4-4-4-12 hex, either case. Anything else (braces, no dashes, URN prefix) is rejected.
std::optional<Uuid> parse_uuid(std::string_view text);

inline constexpr std::size_t kUuidTextLength = 36;
using UuidText = std::array<char, kUuidTextLength>;
// Lower-case canonical form.
UuidText format_uuid(const Uuid& uuid);
std::string format_uuid_string(const Uuid& uuid);

// RFC 4122 §4.3 name-based UUID, SHA-1 (version 5).
Uuid uuid_v5(const Uuid& name_space, std::string_view name);

// The same for a hot path (an event id per event): OpenSSL's SHA-1 fetched once and one digest
// context reused, where uuid_v5 fetches and allocates per call. One thread at a time.
class UuidV5Maker {
 public:
  UuidV5Maker();
  ~UuidV5Maker();
  UuidV5Maker(const UuidV5Maker&) = delete;
  UuidV5Maker& operator=(const UuidV5Maker&) = delete;

  Uuid operator()(const Uuid& name_space, std::string_view name);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tastesync
