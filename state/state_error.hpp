#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tastesync {

// What can go wrong in the state layer (docs/contract.md#state). Callers branch on the kind: a
// state.dir that belongs to another input topic is configuration for the operator to fix (a start
// error naming state.dir, exit 2); storage failures and malformed entries stop the pipeline.
enum class StateErrorKind : std::uint8_t {
  storage,      // RocksDB or the file system failed: disk, permissions, I/O
  wrong_topic,  // state.dir holds the state of another input topic
  malformed,    // a stored entry or a changelog record does not decode, or is not its partition's
};

std::string_view state_error_kind_name(StateErrorKind kind);

struct StateError {
  StateErrorKind kind = StateErrorKind::storage;
  std::string message;  // for the log: what failed, where, and the cause
};

// Every message of the state layer is made by one of these.
StateError storage_error(std::string_view what, std::string_view cause);
StateError wrong_topic_error(std::string_view dir, std::string_view recorded,
                             std::string_view wanted);
StateError malformed_error(std::string_view what);

}  // namespace tastesync
