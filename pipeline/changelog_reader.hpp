#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "config/config.hpp"
#include "state/state_store.hpp"

namespace tastesync {

struct ChangelogReplay {
  std::optional<PartitionCheckpoint> checkpoint;  // the last complete one applied
  std::size_t records_read = 0;
  std::size_t records_dropped = 0;    // after the last checkpoint record: never completed
  std::int64_t log_start_offset = 0;  // > 0: the log lost its beginning (retention, the mock's cap)
};

// Reads one partition of the state changelog from its start to its end into `store` (see
// ChangelogRestore), with its own client that joins no group.
Result<ChangelogReplay, std::string> replay_changelog(const Config& config, std::int32_t partition,
                                                      StateStore& store, int timeout_ms);

}  // namespace tastesync
