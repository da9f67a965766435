#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/event_time.hpp"
#include "common/uuid.hpp"
#include "stages/id_hash.hpp"
#include "stages/registry.hpp"
#include "stages/room_levels.hpp"

namespace tastesync {

// What the score stage knows of one beacon for one customer: a one-dimensional Kalman estimate
// of the (platform-corrected) RSSI, its variance, the latest raw reading, and the probability
// that the customer is at the beacon's location. O(1) per reading, whatever the reading rate
// (docs/scoring.md).
struct BeaconTrack {
  Uuid beacon_id{};
  EpochMs newest_ms = 0;                  // the newest reading's detected_at
  float rssi_dbm = 0.0F;                  // filtered
  float variance = 0.0F;                  // of the filtered value, dB²
  std::uint8_t readings = 0;              // since the track (re)started, at most 255
  std::int8_t last_rssi_dbm = 0;          // the newest raw reading (the event reports it)
  std::int8_t reported_tx_power_dbm = 0;  // the phone's last tx_power; 0 = it never said
  // score.model filter: P(the customer is at this beacon's location); what the tracks leave of
  // 1 is "elsewhere".
  float belief = 0.0F;
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

// score.model filter: the readings of one beacon after a registered QR scan at its location,
// averaged into what the beacon reads there (docs/scoring.md, "Learning the room").
struct ScanWindow {
  Uuid beacon_id{};
  EpochMs until_ms = 0;  // readings up to this detected_at count
  float sum_dbm = 0.0F;  // platform-corrected
  float readings = 0.0F;

  bool operator==(const ScanWindow&) const = default;
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
  // Input offsets (docs/design.md, "Bounded memory"): the newest record that touched this
  // customer, which orders the customer cap's evictions, and the record that started what the
  // state remembers (its creation or last reset), which tells a restore the remembered ids of an
  // earlier, forgotten life from this one's. -1: unknown (state written before they existed).
  std::int64_t last_offset = -1;
  std::int64_t since_offset = -1;
  std::optional<LastIdentification> last_emitted;
  // Sighting ids of the duplicate window, in no particular order. Persisted apart from the rest
  // (one insert-only key each), so a checkpoint never rewrites the whole list.
  std::vector<SeenSighting> seen;
  std::vector<BeaconTrack> tracks;  // one per beacon heard within the score's track memory
  std::optional<MoveCandidate> move_candidate;  // score.model radius
  // score.model filter (docs/scoring.md): how far this customer's readings scatter around
  // their tracks, dB² (0: not measured yet), by which evidence is weighed.
  float reading_variance = 0.0F;
  // How much louder this customer's phone reads than the model, dB: learnt from the loudest
  // beacon heard, so that one phone's constant offset shifts no evidence (docs/scoring.md).
  float level_offset_db = 0.0F;
  std::optional<ScanWindow> scan_window;  // after a QR scan, until it closes
  DurabilityMark durability;

  // Forgets everything the stages know (expiry, eviction), keeping the durable layer's
  // bookkeeping.
  void reset() {
    const DurabilityMark mark = durability;
    *this = CustomerState{};
    durability = mark;
  }
};

// The partition-wide part of a partition's state, checkpointed with its offset: restored with
// it, a partition continues exactly as it would have without the restart.
struct PartitionProgress {
  static constexpr std::size_t kWatermarkWitnesses = 4;
  // The newest event time the partition's records agree on; expiry and lateness run on it.
  EpochMs watermark_ms = 0;
  // The watermark candidates of the records before the latest one, newest first: the watermark
  // moves only as far as kWatermarkWitnesses records in a row allow (docs/design.md, "Time that
  // cannot be hijacked"), never on the word of one record.
  std::array<EpochMs, kWatermarkWitnesses - 1> recent_candidates_ms{};
  // Customers last touched by a record before this offset are forgotten
  // (state.max_customers_per_partition evicts the least recently touched). -1: none evicted.
  std::int64_t evicted_below_offset = -1;
};

// The in-memory state layer of one input partition: what the stages read and update at once.
// RocksDB holds its durable copy (state/), written after the outputs are delivered.
class PartitionState {
 public:
  CustomerState* find(std::string_view customer_id);
  CustomerState& find_or_create(std::string_view customer_id);
  struct Found {
    CustomerState& state;
    bool created;
  };
  Found find_or_create_marked(std::string_view customer_id);
  // The same, with the id's customer_id_hash taken already (by the parser).
  Found find_or_create_marked(std::string_view customer_id, std::size_t hash);

  // Drops customers whose last activity is older than `horizon_ms`, and those the customer cap
  // evicted, except those with changes not yet checkpointed (their checkpoint still needs them;
  // a read treats them as forgotten all the same) and `keep` (a customer in use).
  std::size_t evict_older_than(EpochMs horizon_ms, const CustomerState* keep = nullptr);

  // Whether a customer's state is one the partition has forgotten (evicted by the cap).
  bool evicted(const CustomerState& state) const {
    return state.last_offset < progress_.evicted_below_offset;
  }
  // Keeps at most `max_customers` live customers (last activity at or after `horizon_ms`, not
  // evicted): when there are more, forgets the least recently touched down to a little under the
  // cap (a 64th of it, so the scan this takes is paid once per many new customers). Call it
  // whenever a customer becomes live (`touched`, which is never evicted); returns how many were
  // evicted. Deterministic: it depends only on the records and the state, never on when memory
  // was last cleaned.
  std::size_t limit_live_customers(std::size_t max_customers, EpochMs horizon_ms,
                                   const CustomerState& touched);

  // The event-time clock expiry runs on (see PartitionProgress).
  EpochMs watermark_ms() const { return progress_.watermark_ms; }
  // A record's watermark candidate: the watermark moves to the smallest of it and the
  // candidates of the records just before it, and never back.
  void advance_watermark(EpochMs candidate_ms);
  const PartitionProgress& progress() const { return progress_; }
  void restore_progress(const PartitionProgress& progress) {
    progress_ = progress;
    live_checks_skipped_ = 0;
  }

  std::size_t size() const { return size_; }
  // Adds a restored customer; returns where its id and state now are (both stay put until the
  // customer is removed).
  std::pair<std::string_view, CustomerState*> insert(std::string customer_id, CustomerState state);

  // What the partition's QR scans taught about the beacons (score.model filter).
  RoomLevels& room() { return room_; }
  const RoomLevels& room() const { return room_; }

  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const Slot& slot : slots_) {
      if (slot.customer) {
        const Customer& customer = *slot.customer;
        fn(customer.id, customer.state);
      }
    }
  }
  template <typename Fn>
  void for_each_mutable(Fn&& fn) {
    for (Slot& slot : slots_) {
      if (slot.customer) fn(slot.customer->state);
    }
  }

 private:
  // The customers: each in an allocation of its own, so its id and state stay put until it is
  // removed, found through an open-addressing table (linear probing, a power-of-two size, at
  // most three quarters full) of its customer_id_hash and a pointer to it. A lookup reads one slot,
  // then the customer; the node-based map this replaces read a bucket, the node before, then the
  // node's hash at its far end, with a division on the way (docs/bench.md#issue-17-23).
  struct Customer {
    std::string id;
    CustomerState state;
  };
  struct Slot {
    std::size_t hash = 0;
    std::unique_ptr<Customer> customer;  // null: empty
  };
  // The slot holding `customer_id`, or the empty slot that ends its probe.
  Slot& slot_of(std::string_view customer_id, std::size_t hash);
  Customer& add(std::string customer_id, std::size_t hash, CustomerState state);
  // Moves every customer into a table of `capacity` slots (a power of two, not overfull).
  void rehash(std::size_t capacity);
  template <typename Pred>
  std::size_t remove_if(Pred&& remove);

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
  PartitionProgress progress_;
  RoomLevels room_;
  // How many more customers can become live before the count could pass the cap (not state:
  // only saves scans that could not evict anything).
  std::size_t live_checks_skipped_ = 0;
  std::vector<std::int64_t> offsets_;  // reused by limit_live_customers
};

}  // namespace tastesync
