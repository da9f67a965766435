#include "state/state_entries.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include "common/event_time.hpp"

namespace tastesync {

void append_partition_prefix(std::string& key, std::int32_t partition) {
  const auto bits = static_cast<std::uint32_t>(partition);
  key.push_back('p');
  key.push_back(static_cast<char>(bits >> 24));
  key.push_back(static_cast<char>(bits >> 16));
  key.push_back(static_cast<char>(bits >> 8));
  key.push_back(static_cast<char>(bits));
}

std::optional<std::int32_t> prefix_partition(std::string_view key) {
  if (key.size() < kPartitionPrefixLength) return std::nullopt;
  std::uint32_t bits = 0;
  for (std::size_t i = 1; i < kPartitionPrefixLength; ++i) {
    bits = bits << 8 | static_cast<std::uint8_t>(key[i]);
  }
  return static_cast<std::int32_t>(bits);
}

namespace {

// Little-endian int64s: next offset, watermark, the recent watermark candidates, evicted-below
// offset. The first version held only the first two: it decodes as a partition whose recent
// records all agreed with its watermark and that never evicted anyone.
constexpr std::size_t kCheckpointFields = 3 + PartitionProgress::kWatermarkWitnesses - 1;

}  // namespace

std::string encode_checkpoint(const PartitionCheckpoint& checkpoint) {
  std::string out;
  put_i64(out, checkpoint.next_offset);
  put_i64(out, checkpoint.progress.watermark_ms);
  for (const EpochMs candidate : checkpoint.progress.recent_candidates_ms) put_i64(out, candidate);
  put_i64(out, checkpoint.progress.evicted_below_offset);
  return out;
}

namespace {

// What a checkpoint may hold: a Kafka offset to read next, event times with a canonical form (a
// restore subtracts the expiry lag from the watermark), -1 or an offset below which customers
// were evicted.
bool plausible(const PartitionCheckpoint& checkpoint) {
  const PartitionProgress& progress = checkpoint.progress;
  return checkpoint.next_offset >= 0 && is_canonical_time(progress.watermark_ms) &&
         std::ranges::all_of(progress.recent_candidates_ms, is_canonical_time) &&
         progress.evicted_below_offset >= -1;
}

}  // namespace

std::optional<PartitionCheckpoint> decode_checkpoint(std::string_view bytes) {
  PartitionCheckpoint checkpoint;
  if (bytes.size() == 16) {
    checkpoint.next_offset = get_i64(bytes, 0);
    checkpoint.progress.watermark_ms = get_i64(bytes, 1);
    checkpoint.progress.recent_candidates_ms.fill(checkpoint.progress.watermark_ms);
  } else if (bytes.size() == kCheckpointFields * 8) {
    checkpoint.next_offset = get_i64(bytes, 0);
    checkpoint.progress.watermark_ms = get_i64(bytes, 1);
    std::size_t field = 2;
    for (EpochMs& candidate : checkpoint.progress.recent_candidates_ms) {
      candidate = get_i64(bytes, field++);
    }
    checkpoint.progress.evicted_below_offset = get_i64(bytes, field);
  } else {
    return std::nullopt;
  }
  if (!plausible(checkpoint)) return std::nullopt;
  return checkpoint;
}

std::optional<std::string_view> seen_tag(std::string_view key) {
  const auto separator = key.find('\0', kPartitionPrefixLength + 1);
  if (separator == std::string_view::npos) return std::nullopt;
  return key.substr(separator + 1);
}

std::optional<SeenValue> decode_seen(std::string_view bytes) {
  std::optional<SeenValue> seen;
  if (bytes.size() == 8) seen = SeenValue{get_i64(bytes, 0), -1};
  if (bytes.size() == 16) seen = SeenValue{get_i64(bytes, 0), get_i64(bytes, 1)};
  if (seen && !is_canonical_time(seen->t_ms)) return std::nullopt;
  return seen;
}

std::string encode_room_level(const LearnedLevel& level) {
  std::string out;
  put_i64(out, static_cast<std::int64_t>(std::bit_cast<std::uint32_t>(level.level_dbm)) |
                   static_cast<std::int64_t>(std::bit_cast<std::uint32_t>(level.samples)) << 32);
  put_i64(out, level.updated_ms);
  return out;
}

std::optional<LearnedLevel> decode_room_level(std::string_view bytes) {
  if (bytes.size() != 16) return std::nullopt;
  const auto floats = static_cast<std::uint64_t>(get_i64(bytes, 0));
  LearnedLevel level;
  level.level_dbm = std::bit_cast<float>(static_cast<std::uint32_t>(floats));
  level.samples = std::bit_cast<float>(static_cast<std::uint32_t>(floats >> 32));
  level.updated_ms = get_i64(bytes, 1);
  if (!is_canonical_time(level.updated_ms)) return std::nullopt;
  // NaN fails both: a level is an RSSI, its weight a count up to the cap.
  if (!(std::abs(level.level_dbm) <= 200.0F) ||
      !(level.samples > 0.0F && level.samples <= RoomLevels::kMaxSamples)) {
    return std::nullopt;
  }
  return level;
}

}  // namespace tastesync
