#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/event_time.hpp"
#include "common/result.hpp"
#include "sinks/event/sink_event.hpp"
#include "sinks/event/sink_writer.hpp"
#include "sinks/redis/redis_connection.hpp"

namespace tastesync {

// The batch was applied, except the rejected events (sorted by index): those Redis refused for
// their content (e.g. WRONGTYPE: the key holds another type), which changed nothing. The counts say
// how many events changed each kind of key; the others were older than what Redis holds, out of
// window, or superseded by a newer event of their customer in the batch.
struct RedisBatchWritten {
  std::vector<SinkRejection> rejected;
  std::size_t customers_written = 0;
  std::size_t present_written = 0;
  std::size_t beacons_written = 0;
};

// Nothing can be said about which events were applied. `unavailable` (connection lost, Redis
// loading, read-only, out of memory, ...): retry the whole batch later; writes are idempotent, so
// that is safe. `credentials_rejected` (NOAUTH, WRONGPASS, NOPERM): a retry cannot help.
struct RedisBatchFailure {
  std::string message;
  RedisErrorKind kind = RedisErrorKind::unavailable;
};

// Applies batches of events to Redis as the contract describes (docs/contract.md#redis): one
// EVALSHA of kRedisWriteScript per `events_per_call` consecutive events (an erasure's tombstone is
// a call of its own), all of a batch pipelined in one round trip. After a failure the next write()
// reconnects.
class RedisWriter {
 public:
  // Events per EVALSHA: what they share (the erasure lookup, type checks, each present set's
  // trim, each beacon's write) is done once per call. 1 024 blocks Redis for ~13 ms on this VM
  // (a sink batch of sink.batch_max_records, 5 000, is five calls); 256 took a tenth more of
  // Redis' CPU per event (docs/bench.md#redis-writer-cpu).
  static constexpr std::size_t kEventsPerCall = 1024;

  explicit RedisWriter(RedisOptions options, std::size_t events_per_call = kEventsPerCall);

  // `now_ms` decides which events are too old for the customer hash (1 h), the present set
  // (180 s) and the beacon hash (24 h); pass the wall clock, read once per batch.
  Result<RedisBatchWritten, RedisBatchFailure> write(std::span<const SinkEvent> events,
                                                     EpochMs now_ms);

  // Connects (and authenticates) if not connected, and loads the write script if it is not
  // loaded: what every write() does first. At start it tells credentials Redis refuses from a
  // Redis that is not there.
  std::optional<RedisBatchFailure> ready();

 private:
  struct Pass;

  std::optional<RedisBatchFailure> load_script();
  Result<Pass, RedisBatchFailure> run(std::span<const SinkEvent> events,
                                      std::span<const std::size_t> indices, EpochMs now_ms,
                                      std::size_t events_per_call);
  void append_call(std::span<const SinkEvent> events, std::span<const std::size_t> call,
                   EpochMs now_ms);
  // Sets superseded_ for the events of `indices` detected before another event of the same
  // customer among them, with no erasure between the two (docs/storage.md#sinks).
  void mark_superseded(std::span<const SinkEvent> events, std::span<const std::size_t> indices);

  RedisConnection connection_;
  std::size_t events_per_call_;
  std::string script_sha_;
  std::string forget_sha_;  // kRedisForgetScript
  // Reused for every call: hiredis copies the arguments when a command is appended.
  std::vector<std::string> derived_;
  std::vector<std::string_view> command_;
  std::vector<bool> superseded_;                              // by index into the batch
  std::unordered_map<std::string_view, std::size_t> newest_;  // customer id -> index
};

}  // namespace tastesync
