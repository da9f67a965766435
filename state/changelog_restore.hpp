#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "state/state_store.hpp"

namespace tastesync {

// Rebuilds one partition's RocksDB state from its changelog (docs/contract.md#changelog: state
// follows a partition to another instance). The changelog carries every key a checkpoint wrote,
// in order, the checkpoint record last; records after the last checkpoint record belong to a
// checkpoint that never completed (the writer died mid-way) and are dropped. Each completed
// checkpoint is written as one WriteBatch, so a restore that dies half-way leaves a consistent,
// older checkpoint.
// Whatever the store held for the partition is removed just before the first checkpoint is
// applied: a changelog without one leaves the local state as it was. A reset marker
// (reset_marker_key) empties the partition at once and forgets every checkpoint before it.
class ChangelogRestore {
 public:
  explicit ChangelogRestore(StateStore& store, std::int32_t partition)
      : store_(&store), partition_(partition) {}

  // One changelog record, in log order.
  Status<StateError> add(std::string_view key, std::optional<std::string_view> value);

  // The last complete checkpoint applied (nullopt: the changelog held none).
  const std::optional<PartitionCheckpoint>& checkpoint() const { return checkpoint_; }
  std::size_t records_applied() const { return records_applied_; }
  std::size_t records_dropped() const { return pending_.size(); }
  // Reset markers met (`tastesync reset`): each empties the partition.
  std::size_t resets() const { return resets_; }

 private:
  StateStore* store_;
  std::int32_t partition_;
  std::vector<std::pair<std::string, std::optional<std::string>>>
      pending_;  // since the last checkpoint
  std::optional<PartitionCheckpoint> checkpoint_;
  std::size_t records_applied_ = 0;
  std::size_t resets_ = 0;
};

}  // namespace tastesync
