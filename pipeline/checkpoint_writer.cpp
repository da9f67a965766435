#include "pipeline/checkpoint_writer.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <utility>

#include "common/thread_name.hpp"

namespace tastesync {
namespace {

// How much less this thread weighs than the pipeline thread for the scheduler: nice 10 is about
// a tenth of nice 0's share when both wait for the same CPU (docs/design.md#checkpoint-priority).
constexpr int kNiceAbovePipeline = 10;
constexpr int kLowestNice = 19;

// Linux keeps a nice value per thread (setpriority(2) on a thread id). Raising one's own needs
// no privilege; should it fail, the thread keeps the process's priority, as before.
void yield_to_the_pipeline() {
  const auto self = static_cast<id_t>(gettid());
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, self);
  if (errno != 0) return;
  (void)setpriority(PRIO_PROCESS, self, std::min(nice + kNiceAbovePipeline, kLowestNice));
}

}  // namespace

CheckpointWriter::CheckpointWriter(StateStore& store)
    : store_(store), thread_([this](const std::stop_token& stop) { run(stop); }) {}

CheckpointWriter::~CheckpointWriter() {
  // A batch handed over is still written (the thread takes it up before it sees the stop);
  // its offsets were never stored, so at worst its records are processed again.
  thread_.request_stop();
  changed_.notify_all();
}

void CheckpointWriter::start(StateStore::Batch& batch) {
  if (in_flight_) throw std::logic_error("a checkpoint was handed over while one is written");
  {
    const std::scoped_lock lock(mutex_);
    std::swap(batch_, batch);
    requested_ = true;
    result_.reset();
  }
  in_flight_ = true;
  handed_over_ = std::chrono::steady_clock::now();
  changed_.notify_all();
}

std::chrono::milliseconds CheckpointWriter::in_flight_for() const {
  if (!in_flight_) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               handed_over_);
}

std::optional<Status<StateError>> CheckpointWriter::finished() {
  if (!in_flight_) return std::nullopt;
  const std::scoped_lock lock(mutex_);
  if (!result_) return std::nullopt;
  in_flight_ = false;
  return std::exchange(result_, std::nullopt);
}

std::optional<Status<StateError>> CheckpointWriter::wait() {
  if (!in_flight_) return std::nullopt;
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return result_.has_value(); });
  in_flight_ = false;
  return std::exchange(result_, std::nullopt);
}

Status<StateError> CheckpointWriter::write_guarded() noexcept {
  // Nothing may leave this thread as an exception (std::terminate): a write that throws (an
  // allocation in RocksDB) is a failed write, which stops the pipeline with exit 2.
  try {
    return store_.write(batch_);
  } catch (const std::exception& e) {
    return Failure{storage_error("writing state", e.what())};
  } catch (...) {
    return Failure{storage_error("writing state", "an unknown exception")};
  }
}

void CheckpointWriter::run(const std::stop_token& stop) {
  name_this_thread("checkpoint");
  yield_to_the_pipeline();
  std::unique_lock lock(mutex_);
  while (changed_.wait(lock, stop, [this] { return requested_; })) {
    // The batch is this thread's until the result is set: the owner only swaps it in start(),
    // which it may not call before taking the result.
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    Status<StateError> written = write_guarded();
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    lock.lock();
    requested_ = false;
    last_write_seconds_ = took.count();
    result_ = std::move(written);
    changed_.notify_all();
  }
}

}  // namespace tastesync
