#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tastesync {

// A stable 64-bit hash of a sighting id (FNV-1a with a final avalanche). It is persisted, so it
// must not be std::hash, whose value the standard does not pin down.
std::uint64_t sighting_id_hash(std::string_view sighting_id);

// The hash PartitionState files a customer under (in memory only). The parser takes both hashes
// with the rest of a sighting, on the parse thread for most records (docs/design.md#parse-ahead).
std::size_t customer_id_hash(std::string_view customer_id);

}  // namespace tastesync
