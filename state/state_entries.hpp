#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/event_time.hpp"
#include "stages/customer_state.hpp"
#include "stages/room_levels.hpp"
#include "state/little_endian.hpp"

namespace tastesync {

// The encodings of the state's entries other than a customer's own (customer_state_codec.hpp):
// key prefixes, checkpoints, remembered sighting ids and learnt room levels
// (docs/contract.md#state, docs/design.md#remembered-ids). Without RocksDB, so that the fuzz build
// compiles them: every one of them also arrives from the changelog topic, from outside
// (tests/fuzz/state_decode_fuzz.cpp).

// Where a partition's durable state stands: the next input offset to read and the partition-wide
// state (watermark, customer cap) as of that offset. Written in the same WriteBatch as the state.
struct PartitionCheckpoint {
  std::int64_t next_offset = 0;
  PartitionProgress progress;
};

// A remembered sighting id as stored: its hash, when it was seen, the record that remembered it.
struct RememberedId {
  std::uint64_t id_hash = 0;
  EpochMs t_ms = 0;
  std::int64_t offset = 0;
};

constexpr std::size_t kPartitionPrefixLength = 5;  // a kind letter + the partition, 4 bytes BE

void append_partition_prefix(std::string& key, std::int32_t partition);
// The partition of a key at least kPartitionPrefixLength long, whatever its kind letter.
std::optional<std::int32_t> prefix_partition(std::string_view key);

std::string encode_checkpoint(const PartitionCheckpoint& checkpoint);
std::optional<PartitionCheckpoint> decode_checkpoint(std::string_view bytes);

// A group of remembered ids (StateStore::Batch::put_seen): hash, time and offset of each, 8
// bytes apiece.
constexpr std::size_t kRememberedIdBytes = 24;
// At most this many ids a key (3 KiB): each key is also a changelog record, and the smallest
// message.max.bytes the configuration accepts is 4 096 bytes (config/config.cpp).
constexpr std::size_t kMaxRememberedIdsPerKey = 128;
constexpr char kSeenGroupTag = 'g';
// What the changelog carries for erase_customer's range: the value of a record whose key is a
// customer's sighting-id prefix itself (no id after the NUL). Never in RocksDB.
constexpr std::string_view kSeenErasureMarker = "*";

// The part of a sighting-id key after the NUL that ends its customer id (nullopt: no NUL).
std::optional<std::string_view> seen_tag(std::string_view key);

// A key of one remembered id (what stores before the groups wrote): when it was seen and the
// offset of the record that remembered it; ids written before the offset was kept have only
// the time (offset -1).
struct SeenValue {
  EpochMs t_ms;
  std::int64_t offset;
};
std::optional<SeenValue> decode_seen(std::string_view bytes);

// Calls `fn(RememberedId)` for each id a sighting-id entry holds: `tag` is what follows the NUL
// after the customer id. False, and no call, when the entry is malformed (a time without a
// canonical form included).
template <typename Fn>
bool for_each_remembered(std::string_view tag, std::string_view value, Fn&& fn) {
  if (tag.size() == 9 && tag[0] == kSeenGroupTag) {
    if (value.empty() || value.size() % kRememberedIdBytes != 0) return false;
    // Checked whole before any id is passed on: a malformed group gives nothing.
    for (std::size_t field = 1; field < value.size() / 8; field += 3) {
      if (!is_canonical_time(get_i64(value, field))) return false;
    }
    for (std::size_t field = 0; field < value.size() / 8; field += 3) {
      fn(RememberedId{static_cast<std::uint64_t>(get_i64(value, field)), get_i64(value, field + 1),
                      get_i64(value, field + 2)});
    }
    return true;
  }
  // A key of one id, named after its hash.
  const auto seen = decode_seen(value);
  if (tag.size() != 8 || !seen) return false;
  std::uint64_t hash = 0;
  for (const char c : tag) hash = hash << 8 | static_cast<std::uint8_t>(c);
  fn(RememberedId{hash, seen->t_ms, seen->offset});
  return true;
}

// A learnt room level (RoomLevels): the level's and the sample count's float bits, then the
// time of the scan that last moved it, little-endian.
std::string encode_room_level(const LearnedLevel& level);
std::optional<LearnedLevel> decode_room_level(std::string_view bytes);

}  // namespace tastesync
