#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "sinks/event/sink_event.hpp"

namespace tastesync {

// An event the database refused for its content (not a connection error, not a missing
// partition): it goes to the sink's dead-letter topic with `reason` and never blocks the sink.
struct SinkRejection {
  std::size_t index = 0;  // into the batch given to write()
  std::string reason;
};

struct SinkWriteResult {
  std::vector<SinkRejection> rejected;
  // Events the sink deliberately does not store (PostgreSQL: older than the retention).
  std::size_t skipped = 0;
};

// Why a batch was not written, and what the runner does about it (docs/contract.md#sinks).
enum class SinkErrorKind : std::uint8_t {
  unavailable,          // unreachable, restarting, or the batch failed: retried with backoff
  credentials_refused,  // only the operator can fix it: the sink stops, and so does `run`
};

struct SinkError {
  SinkErrorKind kind = SinkErrorKind::unavailable;
  std::string message;  // for the log; never holds a secret
};

// One database behind a sink (docs/contract.md#sinks). write() is idempotent: after a failure the
// runner retries the same batch, and a redelivered batch changes nothing.
class SinkWriter {
 public:
  virtual ~SinkWriter() = default;
  // "postgres" or "redis": the metrics' sink label.
  virtual std::string_view name() const = 0;
  // Everything not rejected or skipped is durable when this returns a result. A Failure means
  // nothing can be assumed written (the database is unreachable, restarting, ...): retry later.
  virtual Result<SinkWriteResult, SinkError> write(std::span<const SinkEvent> events,
                                                   EpochMs now_ms) = 0;
};

}  // namespace tastesync
