#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "event_time.hpp"
#include "registry.hpp"
#include "uuid.hpp"

namespace tastesync {

// What the score stage knows of one beacon for one customer: a one-dimensional Kalman estimate
// of the (platform-corrected) RSSI, its variance, and the latest raw reading. O(1) per reading
// and 40 bytes, whatever the reading rate (docs/scoring.md).
struct BeaconTrack {
  Uuid beacon_id{};
  EpochMs newest_ms = 0;                  // the newest reading's detected_at
  float rssi_dbm = 0.0F;                  // filtered
  float variance = 0.0F;                  // of the filtered value, dB²
  std::uint8_t readings = 0;              // since the track (re)started, at most 255
  std::int8_t last_rssi_dbm = 0;          // the newest raw reading (the event reports it)
  std::int8_t reported_tx_power_dbm = 0;  // the phone's last tx_power; 0 = it never said
  // The registry entry, looked up once per registry version (never encoded).
  const BeaconEntry* entry = nullptr;
  std::uint64_t entry_generation = 0;
};

// A location that looks nearer than the current one but has not yet held long enough to count
// as a move (score's hysteresis).
struct MoveCandidate {
  std::string store_id;
  std::string location;
  EpochMs since_ms = 0;
  std::uint8_t readings = 0;
};

struct LastIdentification {
  std::string store_id;
  std::string location;
  EpochMs detected_at_ms = 0;
};

struct SeenSighting {
  std::uint64_t id_hash = 0;
  EpochMs t_ms = 0;
};

// Bookkeeping of the durable layer (state/), kept beside the state it describes so the hot path
// needs no second lookup. Never encoded; a reset of the state keeps it.
struct DurabilityMark {
  std::int64_t pending_offset = -1;  // the last record that changed this state and is not yet
                                     // checkpointed (-1: none)
  std::uint64_t pending_sequence = 0;
};

// Everything the stages remember about one customer. Bounded: the tracks and the remembered
// sighting ids have fixed caps, and the whole entry expires by event time.
struct CustomerState {
  static constexpr std::size_t kMaxTracks = 16;
  // A phone hearing five registered beacons a second sends 600 sightings in the 120 s window.
  static constexpr std::size_t kMaxSeen = 1024;

  EpochMs last_activity_ms = 0;  // newest detected_at seen (0: none yet)
  std::optional<LastIdentification> last_emitted;
  // Sighting ids of the duplicate window, in no particular order. Persisted apart from the rest
  // (one insert-only key each), so a checkpoint never rewrites the whole list.
  std::vector<SeenSighting> seen;
  std::vector<BeaconTrack> tracks;  // one per beacon heard within the score window
  std::optional<MoveCandidate> move_candidate;
  DurabilityMark durability;

  // Forgets everything the stages know (expiry), keeping the durable layer's bookkeeping.
  void reset() {
    const DurabilityMark mark = durability;
    *this = CustomerState{};
    durability = mark;
  }
};

// The in-memory state layer of one input partition: what the stages read and update at once.
// RocksDB holds its durable copy (state/), written after the outputs are delivered.
class PartitionState {
 public:
  CustomerState* find(std::string_view customer_id);
  CustomerState& find_or_create(std::string_view customer_id);

  // Drops customers whose last activity is older than `horizon_ms`, except those with changes
  // not yet checkpointed (their checkpoint still needs them).
  std::size_t evict_older_than(EpochMs horizon_ms);

  // The newest detected_at accepted in this partition; the event-time clock expiry runs on.
  EpochMs watermark_ms() const { return watermark_ms_; }
  void advance_watermark(EpochMs t_ms) {
    if (t_ms > watermark_ms_) watermark_ms_ = t_ms;
  }
  void restore_watermark(EpochMs t_ms) { watermark_ms_ = t_ms; }

  std::size_t size() const { return customers_.size(); }
  void insert(std::string customer_id, CustomerState state);

  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const auto& [id, state] : customers_) fn(id, state);
  }
  template <typename Fn>
  void for_each_mutable(Fn&& fn) {
    for (auto& [id, state] : customers_) fn(state);
  }

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const;
  };
  std::unordered_map<std::string, CustomerState, StringHash, std::equal_to<>> customers_;
  EpochMs watermark_ms_ = 0;  // 0: nothing accepted yet (event times are after 1970)
};

// A stable 64-bit hash of a sighting id (FNV-1a with a final avalanche). It is persisted, so it
// must not be std::hash, whose value the standard does not pin down.
std::uint64_t sighting_id_hash(std::string_view sighting_id);

// The durable encoding of a CustomerState without its `seen` list (little-endian, versioned).
// The first byte is the version and the next eight the last activity, so the compaction filter
// reads expiry without decoding the rest. Sample times are stored relative to the last activity.
void encode_customer_state(const CustomerState& state, std::string& out);
bool decode_customer_state(std::string_view bytes, CustomerState& state);
std::optional<EpochMs> encoded_last_activity(std::string_view bytes);

}  // namespace tastesync
