#include "stages/id_hash.hpp"

#include <functional>

namespace tastesync {

std::uint64_t sighting_id_hash(std::string_view sighting_id) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : sighting_id) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= 0x100000001b3ULL;
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
