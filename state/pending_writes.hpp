#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "state_store.hpp"

namespace tastesync {

// Snapshots of customer state taken as records are processed, waiting until every output up to
// their offset is delivered. Only then may they reach RocksDB: remembering before delivery loses
// events after a crash. Kept in one reused arena so the hot path does not allocate per record.
class PendingWrites {
 public:
  void add(std::int64_t offset, std::string_view customer_id, std::string_view encoded_state);

  // Moves every snapshot of a record before `next_offset` into `batch`.
  void drain_before(std::int64_t next_offset, std::int32_t partition, StateStore::Batch& batch);

  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::int64_t offset;
    std::size_t begin;  // into arena_: customer id, then encoded state
    std::uint32_t key_size;
    std::uint32_t value_size;
  };
  std::vector<Entry> entries_;
  std::string arena_;
};

}  // namespace tastesync
