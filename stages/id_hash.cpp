#include "stages/id_hash.hpp"

#include <bit>
#include <cstring>
#include <functional>

namespace tastesync {

std::uint64_t sighting_id_hash(std::string_view sighting_id) {
  constexpr std::uint64_t kPrime = 0x100000001b3ULL;
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  // The same bytes in the same order, eight taken with one load: a byte at a time spent half its
  // instructions on the loop (docs/bench.md#issue-17-25). Little-endian: the word's low byte is
  // the first.
  static_assert(std::endian::native == std::endian::little);
  std::size_t i = 0;
  for (; i + 8 <= sighting_id.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, sighting_id.data() + i, sizeof word);
    for (int byte = 0; byte < 8; ++byte) {
      hash = (hash ^ (word & 0xFF)) * kPrime;
      word >>= 8;
    }
  }
  for (; i < sighting_id.size(); ++i) {
    hash = (hash ^ static_cast<std::uint8_t>(sighting_id[i])) * kPrime;
  }
  // splitmix64's finaliser: FNV-1a alone mixes the last bytes poorly.
  hash ^= hash >> 30;
  hash *= 0xbf58476d1ce4e5b9ULL;
  hash ^= hash >> 27;
  hash *= 0x94d049bb133111ebULL;
  hash ^= hash >> 31;
  return hash;
}

std::size_t customer_id_hash(std::string_view customer_id) {
  return std::hash<std::string_view>{}(customer_id);
}

}  // namespace tastesync
