// The state's decoders on hostile bytes. A restore reads every entry of a partition from the
// changelog topic, where anyone who can produce to it can put anything (docs/design.md, "Hostile
// input"); StateStore::restore then decodes them with these functions. Invariants, checked on
// every input:
//   - nothing crashes, reads out of bounds or allocates without bound;
//   - what decodes encodes to bytes that decode to the same thing (a customer's state, a
//     checkpoint, a learnt room level), and a group of remembered ids is exactly its 24-byte ids;
//   - what decodes is within the bounds the decoders promise: times with a canonical form
//     (common/event_time.hpp), offsets Kafka could give, room levels of an RSSI and a count;
//   - a malformed group of remembered ids passes on none of them.
// Input: the first byte picks the decoder, the rest is the entry (for a sighting-id entry: one
// byte of tag length, the tag, then the value).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/event_time.hpp"
#include "state/customer_state_codec.hpp"
#include "state/state_entries.hpp"

namespace {

using namespace tastesync;

void check(bool invariant) {
  if (!invariant) __builtin_trap();
}

void customer_state(std::string_view bytes) {
  (void)encoded_expiry(bytes);
  CustomerState state;
  if (!decode_customer_state(bytes, state)) return;
  check(is_canonical_time(state.last_activity_ms));
  std::string encoded;
  encode_customer_state(state, encoded);
  CustomerState again;
  check(decode_customer_state(encoded, again));
  std::string reencoded;
  encode_customer_state(again, reencoded);
  check(reencoded == encoded);
  const auto expiry = encoded_expiry(encoded);
  check(expiry.has_value());
  check(expiry->last_activity_ms == state.last_activity_ms);
}

void checkpoint(std::string_view bytes) {
  const auto decoded = decode_checkpoint(bytes);
  if (!decoded) return;
  check(decoded->next_offset >= 0 && is_canonical_time(decoded->progress.watermark_ms));
  const std::string encoded = encode_checkpoint(*decoded);
  const auto again = decode_checkpoint(encoded);
  check(again.has_value());
  check(encode_checkpoint(*again) == encoded);
  check(again->next_offset == decoded->next_offset);
  check(again->progress.watermark_ms == decoded->progress.watermark_ms);
}

void remembered(std::string_view bytes) {
  const std::size_t tag_size = bytes.empty() ? 0 : static_cast<std::uint8_t>(bytes[0]) % 16;
  bytes.remove_prefix(bytes.empty() ? 0 : 1);
  const std::string_view tag = bytes.substr(0, tag_size);
  const std::string_view value = bytes.substr(tag.size());
  std::vector<RememberedId> ids;
  const bool ok =
      for_each_remembered(tag, value, [&ids](const RememberedId& id) { ids.push_back(id); });
  if (!ok) {
    check(ids.empty());
    return;
  }
  for (const RememberedId& id : ids) check(is_canonical_time(id.t_ms));
  if (tag.size() == 9 && tag[0] == kSeenGroupTag) {
    check(ids.size() == value.size() / kRememberedIdBytes);
    std::string encoded;
    for (const RememberedId& id : ids) {
      put_i64(encoded, static_cast<std::int64_t>(id.id_hash));
      put_i64(encoded, id.t_ms);
      put_i64(encoded, id.offset);
    }
    check(encoded == value);
  } else {
    check(ids.size() == 1);
  }
  // The key the restore would read: a partition prefix, a customer id, the NUL, the tag.
  std::string key;
  append_partition_prefix(key, 7);
  key.push_back('s');
  key.append("customer");
  key.push_back('\0');
  key.append(tag);
  const auto found = seen_tag(key);
  check(found.has_value() && *found == tag);
  check(prefix_partition(key) == 7);
}

void room_level(std::string_view bytes) {
  const auto decoded = decode_room_level(bytes);
  if (!decoded) return;
  check(std::abs(decoded->level_dbm) <= 200.0F);
  check(decoded->samples > 0.0F && decoded->samples <= RoomLevels::kMaxSamples);
  check(is_canonical_time(decoded->updated_ms));
  const std::string encoded = encode_room_level(*decoded);
  check(encoded == bytes);
  check(decode_room_level(encoded).has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      customer_state(bytes);
      break;
    case 1:
      checkpoint(bytes);
      break;
    case 2:
      remembered(bytes);
      break;
    default:
      room_level(bytes);
      break;
  }
  (void)seen_tag(bytes);
  (void)prefix_partition(bytes);
  return 0;
}
