#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stages/customer_state.hpp"
#include "stages/topology.hpp"
#include "state/state_store.hpp"

namespace tastesync {

// Changes made by records whose outputs are not delivered yet. Only once every output up to an
// offset is delivered may the state as of that offset reach RocksDB (remembering before delivery
// loses events after a crash), so this keeps, per record, which customer it changed and the
// sighting id it remembered.
//
// The customer's state is encoded lazily, at checkpoint time, from memory. A snapshot is taken
// earlier only when a record of a later batch changes a customer whose change is still pending:
// the first record's checkpoint must not see the second's change. Two changes within one batch
// take none; a checkpoint is instead never cut between them (checkpointable_before), so the hot
// path encodes a customer at most once per batch. The pipeline's batches are the records between
// two checkpoints (docs/design.md#checkpoint-cuts).
// Everything lives in one reused arena, so the hot path does not allocate per record.
class PendingWrites final : public StateChangeObserver {
 public:
  // The records from here to the next call are one batch, their checkpoints cut only where
  // checkpointable_before() allows. Never called: a snapshot for every second change, and every
  // offset a valid cut (what exactly_once's transactions need: docs/design.md#checkpoint-cuts).
  void begin_batch() { batch_first_sequence_ = first_sequence_ + entries_.size(); }
  // Before a record changes `state`: takes the snapshot an earlier pending change needs.
  void before_change(const CustomerState& state) override;
  // After the record at `offset` changed `state` (and maybe remembered a sighting id, and maybe
  // moved the levels of `learnt` beacons in `room`, which are copied now).
  void changed(std::int64_t offset, std::string_view customer_id, CustomerState& state,
               const std::optional<SeenSighting>& remembered, std::span<const Uuid> learnt = {},
               const RoomLevels* room = nullptr);
  // After the erasure request at `offset` reset `state` (nullptr: memory held nothing of the
  // customer): the checkpoint deletes the customer's stored state and remembered sighting ids
  // instead of writing them (docs/operations.md#forget).
  void erased(std::int64_t offset, std::string_view customer_id, CustomerState* state);
  // The latest offset at or before `next_offset` that a checkpoint may stop at: none of the
  // changes before it has a later change, after it, of the same batch that it needs.
  std::int64_t checkpointable_before(std::int64_t next_offset) const;
  // Puts into `batch` every change of a record before `next_offset`, in order. `next_offset` is
  // one checkpointable_before() allows.
  void drain_before(std::int64_t next_offset, std::int32_t partition, PartitionState& states,
                    StateStore::Batch& batch);

  std::size_t size() const { return entries_.size(); }

 private:
  // One per record that changed state, so its members are ordered to leave no padding but the
  // tail's (88 bytes, not 104).
  struct Entry {
    std::int64_t offset;
    std::size_t key_begin;  // into arena_
    // The customer's entry in the partition's map (nullptr: an erasure of a customer memory did
    // not hold). It stays put: a partition never moves its customers (PartitionState), and eviction
    // spares a customer while its latest change, which is at or after this one, is pending.
    CustomerState* state;
    std::size_t snapshot_begin;
    std::optional<SeenSighting> remembered;
    std::size_t levels_end;  // this entry's room levels end here in levels_ (start: the last's)
    // The sequence number of the customer's next change (none yet: the maximum). A drain that
    // also covers that change skips this entry's put: the batch would overwrite it anyway.
    std::uint64_t superseded_by = std::numeric_limits<std::uint64_t>::max();
    std::uint32_t key_size;
    std::uint32_t snapshot_size;
    bool has_snapshot;
    bool erase = false;
  };
  static_assert(sizeof(Entry) <= 88);
  // The customer's pending change, if any, is followed by the one about to be appended.
  void supersede_pending(const CustomerState& state);
  struct Level {
    Uuid beacon_id;
    LearnedLevel level;
  };

  std::vector<Entry> entries_;
  std::vector<Level> levels_;         // room levels as the records left them, in the entries' order
  std::uint64_t first_sequence_ = 0;  // the sequence number of entries_[0]
  // The sequence number of the current batch's first change (none begun: the maximum).
  std::uint64_t batch_first_sequence_ = std::numeric_limits<std::uint64_t>::max();
  std::string arena_;
  std::string encoded_;  // reused
  // A drain's remembered ids, each linked to the one remembered before it by the same customer
  // within the drain, so a customer's ids go out as one group with their latest change.
  struct Carried {
    RememberedId id;
    std::size_t previous;
  };
  std::vector<Carried> carried_;           // reused
  std::vector<std::size_t> carried_last_;  // reused: per drained entry, its customer's newest
  std::vector<RememberedId> group_;        // reused
};

}  // namespace tastesync
