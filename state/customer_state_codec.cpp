#include "state/customer_state_codec.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "common/event_time.hpp"

namespace tastesync {
namespace {

// Version 5 adds the location filter's state (docs/scoring.md): each track's belief, the
// reading variance and the level offset; version 6 the scan window of a QR scan. Versions 3 (no
// offsets), 4 and 5 still decode; their tracks start with no belief, as a customer just seen
// would, and with no scan window.
constexpr std::uint8_t kEncodingVersion = 6;
constexpr std::uint8_t kEncodingVersionWithoutScanWindow = 5;
constexpr std::uint8_t kEncodingVersionWithoutBeliefs = 4;
constexpr std::uint8_t kEncodingVersionWithoutOffsets = 3;

bool has_offsets(std::uint8_t version) {
  return version >= kEncodingVersionWithoutBeliefs;
}

// Writes into bytes already sized for it (encoded_size): one size computation and one resize per
// state, instead of a capacity check per byte. Little-endian whatever the host
// (docs/storage.md); GCC merges each value's byte stores into one.
class Writer {
 public:
  explicit Writer(char* at) : at_(at) {}

  void u8(std::uint8_t value) { *at_++ = static_cast<char>(value); }
  void u16(std::uint16_t value) { le(value); }
  void u32(std::uint32_t value) { le(value); }
  void i64(std::int64_t value) { le(static_cast<std::uint64_t>(value)); }
  void f32(float value) { le(std::bit_cast<std::uint32_t>(value)); }
  void raw(const void* bytes, std::size_t size) {
    std::memcpy(at_, bytes, size);
    at_ += size;
  }
  // Its size in 16 bits: store ids and locations come from the registry, far shorter.
  void string(std::string_view text) {
    u16(static_cast<std::uint16_t>(text.size()));
    raw(text.data(), text.size());
  }
  const char* at() const { return at_; }

 private:
  template <typename T>
  void le(T value) {
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      *at_++ = static_cast<char>(static_cast<std::uint8_t>(value >> (8 * i)));
    }
  }

  char* at_;
};

// Per track: id, age, filtered RSSI, variance, readings, last RSSI, tx power, belief.
constexpr std::size_t kTrackBytes = sizeof(Uuid) + 4 + 4 + 4 + 1 + 1 + 1 + 4;
constexpr std::size_t kScanWindowBytes = sizeof(Uuid) + 8 + 4 + 4;

std::size_t string_bytes(std::string_view text) {
  return 2 + text.size();
}

std::size_t encoded_size(const CustomerState& state) {
  std::size_t size = 1 + 8 + 8 + 8 + 1;  // version, activity, offsets, last_emitted's flag
  if (state.last_emitted) {
    size +=
        string_bytes(state.last_emitted->store_id) + string_bytes(state.last_emitted->location) + 8;
  }
  size += 1 + state.tracks.size() * kTrackBytes;
  size += 1;  // move candidate's flag
  if (state.move_candidate) {
    size += string_bytes(state.move_candidate->store_id) +
            string_bytes(state.move_candidate->location) + 8 + 1;
  }
  size += 4 + 4 + 1;  // reading variance, level offset, scan window's flag
  if (state.scan_window) size += kScanWindowBytes;
  return size;
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  bool u8(std::uint8_t& value) {
    if (pos_ + 1 > bytes_.size()) return false;
    value = static_cast<std::uint8_t>(bytes_[pos_++]);
    return true;
  }
  bool u16(std::uint16_t& value) {
    std::uint8_t low = 0;
    std::uint8_t high = 0;
    if (!u8(low) || !u8(high)) return false;
    value = static_cast<std::uint16_t>(low | high << 8);
    return true;
  }
  bool u32(std::uint32_t& value) {
    if (pos_ + 4 > bytes_.size()) return false;
    value = 0;
    for (int i = 3; i >= 0; --i) value = value << 8 | static_cast<std::uint8_t>(bytes_[pos_ + i]);
    pos_ += 4;
    return true;
  }
  bool i64(EpochMs& value) {
    if (pos_ + 8 > bytes_.size()) return false;
    std::uint64_t bits = 0;
    for (int i = 7; i >= 0; --i) bits = bits << 8 | static_cast<std::uint8_t>(bytes_[pos_ + i]);
    pos_ += 8;
    value = static_cast<EpochMs>(bits);
    return true;
  }
  bool string(std::string& value) {
    std::uint16_t size = 0;
    if (!u16(size) || pos_ + size > bytes_.size()) return false;
    value.assign(bytes_.substr(pos_, size));
    pos_ += size;
    return true;
  }
  bool bytes(std::uint8_t* out, std::size_t size) {
    if (pos_ + size > bytes_.size()) return false;
    std::memcpy(out, bytes_.data() + pos_, size);
    pos_ += size;
    return true;
  }
  bool done() const { return pos_ == bytes_.size(); }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

bool decode_scan_window(Reader& in, CustomerState& state) {
  std::uint8_t has_window = 0;
  if (!in.u8(has_window) || has_window > 1) return false;
  if (has_window == 0) return true;
  ScanWindow window;
  std::uint32_t sum_bits = 0;
  std::uint32_t readings_bits = 0;
  if (!in.bytes(window.beacon_id.data(), window.beacon_id.size()) || !in.i64(window.until_ms) ||
      !is_canonical_time(window.until_ms) || !in.u32(sum_bits) || !in.u32(readings_bits)) {
    return false;
  }
  window.sum_dbm = std::bit_cast<float>(sum_bits);
  window.readings = std::bit_cast<float>(readings_bits);
  // NaN fails both; a window holds at most its readings of -128..127 dBm.
  if (!(window.readings >= 0.0F && window.readings <= 1e6F) ||
      !(std::abs(window.sum_dbm) <= 128.0F * (window.readings + 1.0F))) {
    return false;
  }
  state.scan_window = window;
  return true;
}

}  // namespace

void encode_customer_state(const CustomerState& state, std::string& out) {
  out.clear();
  append_customer_state(state, out);
}

std::size_t append_customer_state(const CustomerState& state, std::string& out) {
  const std::size_t begin = out.size();
  const std::size_t size = encoded_size(state);
  out.resize(begin + size);
  Writer put(out.data() + begin);
  put.u8(kEncodingVersion);
  put.i64(state.last_activity_ms);
  put.i64(state.last_offset);
  put.i64(state.since_offset);
  put.u8(state.last_emitted ? 1 : 0);
  if (state.last_emitted) {
    put.string(state.last_emitted->store_id);
    put.string(state.last_emitted->location);
    put.i64(state.last_emitted->detected_at_ms);
  }
  put.u8(static_cast<std::uint8_t>(state.tracks.size()));
  for (const BeaconTrack& track : state.tracks) {
    put.raw(track.beacon_id.data(), track.beacon_id.size());
    // Never newer than the last activity; the age fits 32 bits (49 days).
    put.u32(static_cast<std::uint32_t>(state.last_activity_ms - track.newest_ms));
    // Floats bit for bit: a restored estimate must continue exactly as the live one would.
    put.f32(track.rssi_dbm);
    put.f32(track.variance);
    put.u8(track.readings);
    put.u8(static_cast<std::uint8_t>(track.last_rssi_dbm));
    put.u8(static_cast<std::uint8_t>(track.reported_tx_power_dbm));
    put.f32(track.belief);
  }
  put.u8(state.move_candidate ? 1 : 0);
  if (state.move_candidate) {
    put.string(state.move_candidate->store_id);
    put.string(state.move_candidate->location);
    put.i64(state.move_candidate->since_ms);
    put.u8(state.move_candidate->readings);
  }
  put.f32(state.reading_variance);
  put.f32(state.level_offset_db);
  put.u8(state.scan_window ? 1 : 0);
  if (state.scan_window) {
    const ScanWindow& window = *state.scan_window;
    put.raw(window.beacon_id.data(), window.beacon_id.size());
    put.i64(window.until_ms);
    put.f32(window.sum_dbm);
    put.f32(window.readings);
  }
  if (put.at() != out.data() + begin + size) {
    throw std::logic_error("customer state encoding: encoded_size() disagrees with the encoding");
  }
  return size;
}

bool decode_customer_state(std::string_view bytes, CustomerState& state) {
  Reader in(bytes);
  std::uint8_t version = 0;
  if (!in.u8(version) || version < kEncodingVersionWithoutOffsets || version > kEncodingVersion) {
    return false;
  }
  state.reset();
  std::uint8_t has_last = 0;
  // Event times must have a canonical form (common/event_time.hpp): track times are derived from
  // the last activity, and the stages do arithmetic on all of them.
  if (!in.i64(state.last_activity_ms) || !is_canonical_time(state.last_activity_ms)) return false;
  if (has_offsets(version) && (!in.i64(state.last_offset) || !in.i64(state.since_offset))) {
    return false;
  }
  if (!in.u8(has_last) || has_last > 1) return false;
  if (has_last == 1) {
    LastIdentification last;
    if (!in.string(last.store_id) || !in.string(last.location) || !in.i64(last.detected_at_ms) ||
        !is_canonical_time(last.detected_at_ms)) {
      return false;
    }
    state.last_emitted = std::move(last);
  }
  std::uint8_t track_count = 0;
  if (!in.u8(track_count) || track_count > CustomerState::kMaxTracks) return false;
  state.tracks.resize(track_count);
  for (BeaconTrack& track : state.tracks) {
    std::uint32_t age_ms = 0;
    std::uint32_t rssi_bits = 0;
    std::uint32_t variance_bits = 0;
    std::uint8_t last_rssi = 0;
    std::uint8_t tx_power = 0;
    if (!in.bytes(track.beacon_id.data(), track.beacon_id.size()) || !in.u32(age_ms) ||
        !in.u32(rssi_bits) || !in.u32(variance_bits) || !in.u8(track.readings) ||
        !in.u8(last_rssi) || !in.u8(tx_power)) {
      return false;
    }
    track.newest_ms = state.last_activity_ms - age_ms;
    track.rssi_dbm = std::bit_cast<float>(rssi_bits);
    track.variance = std::bit_cast<float>(variance_bits);
    track.last_rssi_dbm = static_cast<std::int8_t>(last_rssi);
    track.reported_tx_power_dbm = static_cast<std::int8_t>(tx_power);
    std::uint32_t belief_bits = 0;
    if (version >= kEncodingVersionWithoutScanWindow) {
      if (!in.u32(belief_bits)) return false;
      const float belief = std::bit_cast<float>(belief_bits);
      if (!(belief >= 0.0F && belief <= 1.0F)) return false;  // NaN too
      track.belief = belief;
    }
  }
  std::uint8_t has_candidate = 0;
  if (!in.u8(has_candidate) || has_candidate > 1) return false;
  if (has_candidate == 1) {
    MoveCandidate candidate;
    if (!in.string(candidate.store_id) || !in.string(candidate.location) ||
        !in.i64(candidate.since_ms) || !is_canonical_time(candidate.since_ms) ||
        !in.u8(candidate.readings)) {
      return false;
    }
    state.move_candidate = std::move(candidate);
  }
  if (version >= kEncodingVersionWithoutScanWindow) {
    std::uint32_t variance_bits = 0;
    std::uint32_t offset_bits = 0;
    if (!in.u32(variance_bits) || !in.u32(offset_bits)) return false;
    const float variance = std::bit_cast<float>(variance_bits);
    const float offset = std::bit_cast<float>(offset_bits);
    // NaN fails both.
    if (!(variance >= 0.0F && variance <= 1e6F) || !(std::abs(offset) <= 100.0F)) return false;
    state.reading_variance = variance;
    state.level_offset_db = offset;
  }
  if (version == kEncodingVersion && !decode_scan_window(in, state)) return false;
  return in.done();
}

std::optional<EncodedExpiry> encoded_expiry(std::string_view bytes) {
  Reader in(bytes);
  std::uint8_t version = 0;
  EncodedExpiry expiry{0, -1};
  if (!in.u8(version) || !in.i64(expiry.last_activity_ms)) return std::nullopt;
  if (has_offsets(version) && version <= kEncodingVersion && in.i64(expiry.last_offset)) {
    return expiry;
  }
  if (version == kEncodingVersionWithoutOffsets) return expiry;
  return std::nullopt;
}

}  // namespace tastesync
