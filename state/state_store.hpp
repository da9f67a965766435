#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
#include "stages/customer_state.hpp"
#include "stages/topology.hpp"
#include "state/state_entries.hpp"
#include "state/state_error.hpp"

namespace rocksdb {
class CompactionFilter;
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace tastesync {

struct StateStoreOptions {
  std::string dir;
  std::string input_topic;  // recorded on first open; a different topic later is refused
  std::int64_t block_cache_bytes = 64 << 20;
  std::int64_t write_buffer_bytes = 64 << 20;
  // Entries whose last activity is older than a partition's watermark minus this are expired
  // (retention + allowed lateness: the topology can no longer read them).
  std::int64_t expiry_lag_ms = TopologyOptions{}.state_expiry_lag_ms();
  // Remembered sighting ids older than the watermark minus this are expired (duplicate window
  // + allowed lateness: no duplicate check can reach them any more).
  std::int64_t seen_expiry_lag_ms = TopologyOptions{}.seen_expiry_lag_ms();
};

// The checkpointed progress of each partition, read by the compaction filter on RocksDB's
// threads and written by the pipeline thread after each checkpoint.
class CheckpointedWatermarks {
 public:
  void set(std::int32_t partition, const PartitionProgress& progress);
  std::optional<PartitionProgress> get(std::int32_t partition) const;

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::int32_t, PartitionProgress> progress_;
};

// The RocksDB copy of the per-partition state (docs/contract.md#state). Keys are grouped by input
// partition; expiry is by event time through a compaction filter, never DBWithTTL (wall clock).
class StateStore {
 public:
  static Result<std::unique_ptr<StateStore>, StateError> open(const StateStoreOptions& options);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Loads the partition's unexpired, unevicted customers and their remembered sighting ids into
  // `into` (and its progress) and returns its checkpoint, or nullopt when this store has never held
  // the partition. The sighting ids are a superset of what the live state held: see
  // Dedupe::normalize.
  Result<std::optional<PartitionCheckpoint>, StateError> restore(std::int32_t partition,
                                                                 PartitionState& into);

  // One partition's changes since its last checkpoint, applied atomically with the new one.
  class Batch {
   public:
    Batch();
    ~Batch();
    Batch(Batch&&) noexcept;
    Batch& operator=(Batch&&) noexcept;
    void put_customer(std::int32_t partition, std::string_view customer_id,
                      std::string_view encoded_state);
    // The sighting ids one customer's records of one checkpoint remembered (`offset`: the
    // record's; a restore attaches an id only to the customer's life that began at or before
    // it). Insert-only keys, each named after its first id's offset and holding up to 128 ids
    // (a changelog record must fit the smallest message.max.bytes), so a checkpoint writes only
    // the new ids, one key per customer for most (docs/design.md#remembered-ids).
    void put_seen(std::int32_t partition, std::string_view customer_id,
                  std::span<const RememberedId> ids);
    void put_seen(std::int32_t partition, std::string_view customer_id, std::uint64_t id_hash,
                  EpochMs t_ms, std::int64_t offset) {
      const RememberedId id{id_hash, t_ms, offset};
      put_seen(partition, customer_id, std::span(&id, 1));
    }
    // An erasure (docs/operations.md#forget): deletes the customer's entry and every sighting id
    // of theirs still stored, in RocksDB by a range and in the changelog by one record that
    // restores as that range (put_raw).
    void erase_customer(std::int32_t partition, std::string_view customer_id);
    // A beacon's learnt room level (score.model filter), as of the batch's checkpoint.
    void put_room_level(std::int32_t partition, const Uuid& beacon_id, const LearnedLevel& level);
    struct RoomLevelPut {
      std::int32_t partition;
      Uuid beacon_id;
      LearnedLevel level;
    };
    // The room levels put so far (what an export of them after the write may say).
    const std::vector<RoomLevelPut>& room_levels() const { return room_levels_; }
    void set_checkpoint(std::int32_t partition, const PartitionCheckpoint& checkpoint);
    // A key and value as another store wrote them (a changelog replay); no value deletes the
    // key (a changelog tombstone). The key must belong to `partition`; a checkpoint key also
    // moves the partition's watermark.
    Status<StateError> put_raw(std::int32_t partition, std::string_view key,
                               std::optional<std::string_view> value);
    std::size_t count() const;
    void clear();
    // Every key put (with its value) or deleted (nullopt) so far, in order: what a changelog
    // must carry.
    void for_each_change(
        const std::function<void(std::string_view key, std::optional<std::string_view> value)>& fn)
        const;

   private:
    friend class StateStore;
    std::unique_ptr<rocksdb::WriteBatch> batch_;
    std::string key_;                                               // reused
    std::string value_;                                             // reused
    std::unordered_map<std::int32_t, PartitionProgress> progress_;  // checkpoints in this batch
    std::vector<RoomLevelPut> room_levels_;
  };

  // WAL on, no fsync per batch: survives kill -9 of the process (not a power cut). Also moves the
  // compaction filter's watermark of every partition checkpointed in the batch.
  Status<StateError> write(Batch& batch);

  // The partition's checkpoint without restoring it, or nullopt when the store has none.
  Result<std::optional<PartitionCheckpoint>, StateError> checkpoint(std::int32_t partition);
  // Writes the memtables out, so reads that follow (restore) do not sort them per lookup.
  Status<StateError> flush();
  // Removes everything this store holds for the partition (before a changelog replay).
  Status<StateError> delete_partition(std::int32_t partition);

  // Whether a customer entry is physically present (expired ones may be, until compaction).
  bool contains_customer(std::int32_t partition, std::string_view customer_id) const;
  // Forces a compaction of everything (tests and the `state compact` tool).
  Status<StateError> compact();
  std::uint64_t approximate_size_bytes() const;
  std::uint64_t estimated_keys() const;

 private:
  // Only open() constructs one (a passkey, so make_unique can call the public constructor).
  struct Key {
    explicit Key() = default;
  };

 public:
  explicit StateStore(Key key);

 private:
  // Declared before db_ so it outlives it: RocksDB holds a raw pointer to the filter.
  std::shared_ptr<rocksdb::CompactionFilter> filter_;
  std::unique_ptr<rocksdb::DB> db_;
  std::shared_ptr<CheckpointedWatermarks> watermarks_;
  std::int64_t expiry_lag_ms_ = 0;
};

// Key layout, public for the tools and the tests: "p" + partition (4 bytes, big-endian) + "c" +
// customer id for customers; "p" + partition + "s" + customer id + NUL + "g" + offset (8 bytes,
// big-endian) for the sighting ids one checkpoint remembered for the customer, the offset its
// first id's (customer ids never contain NUL; keys of one id, named after its hash without the
// "g", are what stores before them wrote, still read); "p" + partition +
// "b" + beacon id (16 bytes) for learnt room levels (never expired: at most one per beacon of
// the registry, RoomLevels::kMaxBeacons of them restored); "o" + partition for
// checkpoints (their own prefix, so reading every checkpoint at start never scans the state);
// "m/input_topic".
std::string customer_key(std::int32_t partition, std::string_view customer_id);
std::string checkpoint_key(std::int32_t partition);
// "r" + partition: what `tastesync reset` writes to each changelog partition; a restore forgets
// everything before it (docs/operations.md#reset). Never in RocksDB.
std::string reset_marker_key(std::int32_t partition);
// The input partition a state key belongs to, if it is a state key.
std::optional<std::int32_t> partition_of_key(std::string_view key);
std::optional<PartitionCheckpoint> decode_checkpoint_value(std::string_view value);

}  // namespace tastesync
