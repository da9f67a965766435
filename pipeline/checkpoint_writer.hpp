#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>

#include "state/state_error.hpp"
#include "state/state_store.hpp"

namespace tastesync {

// Writes checkpoint batches to RocksDB on a thread of its own (docs/contract.md#state), so the
// pipeline thread goes on processing while one is written. One write at a time: while it runs,
// the next batch keeps collecting. The caller stores a checkpoint's offsets only once finished()
// or wait() has returned its write's success, so the Kafka commit still trails RocksDB.
// Every member function is for the one thread that owns the writer (the pipeline thread). Its
// thread runs at a nice value 10 above its creator's (docs/design.md#checkpoint-priority).
class CheckpointWriter {
 public:
  explicit CheckpointWriter(StateStore& store);
  ~CheckpointWriter();
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;

  // A batch was handed over and its result not yet taken back.
  bool busy() const { return in_flight_; }
  // Hands `batch` over to be written; `batch` is left empty. Only when not busy().
  void start(StateStore::Batch& batch);
  // The result of the write handed over, once it has finished; nullopt while it runs or when
  // none was handed over.
  std::optional<Status<StateError>> finished();
  // Waits for the write handed over, if any, and returns its result.
  std::optional<Status<StateError>> wait();
  // How long the last write took inside RocksDB (read after finished() or wait() returned it).
  double last_write_seconds() const { return last_write_seconds_; }
  // How long ago the batch in flight was handed over; zero when none is.
  std::chrono::milliseconds in_flight_for() const;

 private:
  void run(const std::stop_token& stop);
  Status<StateError> write_guarded() noexcept;

  StateStore& store_;
  bool in_flight_ = false;
  std::chrono::steady_clock::time_point handed_over_;
  std::mutex mutex_;
  std::condition_variable_any changed_;
  StateStore::Batch batch_;                   // guarded by mutex_ while requested_
  bool requested_ = false;                    // guarded by mutex_
  std::optional<Status<StateError>> result_;  // guarded by mutex_
  double last_write_seconds_ = 0;             // guarded by mutex_ until result_ is taken
  std::jthread thread_;                       // last: stopped and joined first
};

}  // namespace tastesync
