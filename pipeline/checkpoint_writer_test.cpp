// CheckpointWriter (docs/contract.md#state): batches written on the writer's thread into a real
// RocksDB store, one at a time, each result taken back by the owner.
#include "pipeline/checkpoint_writer.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "state/state_test_support.hpp"

namespace tastesync {
namespace {

// While it lives, no file of this process may grow past `bytes` (RLIMIT_FSIZE): a write beyond it
// fails with EFBIG, as on a full disk. SIGXFSZ, which would kill the process, is ignored meanwhile.
class FileSizeCap {
 public:
  explicit FileSizeCap(std::uintmax_t bytes) {
    capped_ = ::getrlimit(RLIMIT_FSIZE, &saved_) == 0;
    if (!capped_) return;
    saved_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit cap = saved_;
    cap.rlim_cur = static_cast<rlim_t>(bytes);
    capped_ = ::setrlimit(RLIMIT_FSIZE, &cap) == 0;
  }
  ~FileSizeCap() {
    if (saved_handler_ == SIG_ERR) return;
    (void)::setrlimit(RLIMIT_FSIZE, &saved_);
    (void)std::signal(SIGXFSZ, saved_handler_);
  }
  FileSizeCap(const FileSizeCap&) = delete;
  FileSizeCap& operator=(const FileSizeCap&) = delete;
  bool capped() const { return capped_; }

 private:
  rlimit saved_{};
  void (*saved_handler_)(int) = SIG_ERR;
  bool capped_ = false;
};

class CheckpointWriterTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  static StateStore::Batch checkpoint_of(std::int32_t partition, std::int64_t next_offset) {
    StateStore::Batch batch;
    batch.set_checkpoint(partition, PartitionCheckpoint{next_offset, {}});
    return batch;
  }

  std::int64_t stored_offset(std::int32_t partition) {
    auto checkpoint = store_->checkpoint(partition);
    EXPECT_TRUE(checkpoint.ok());
    return checkpoint.ok() && *checkpoint ? (*checkpoint)->next_offset : -1;
  }

  // The size of the write-ahead log RocksDB appends to now (the newest NNNNNN.log).
  std::uintmax_t wal_bytes() const {
    std::filesystem::path newest;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      if (entry.path().extension() == ".log" && entry.path() > newest) newest = entry.path();
    }
    EXPECT_FALSE(newest.empty()) << "no write-ahead log in " << dir_;
    return newest.empty() ? 0 : std::filesystem::file_size(newest);
  }

  // Writes remembered sighting ids until the write-ahead log is well past RocksDB's own info
  // LOG, so a file size cap at the write-ahead log's size leaves that LOG room: RocksDB logs the
  // failure there, and a failed LOG append trips an assertion of its own.
  void grow_write_ahead_log_past_info_log() {
    const std::uintmax_t wanted = std::filesystem::file_size(dir_ / "LOG") + (256 << 10);
    for (std::uint64_t id = 0; wal_bytes() < wanted; id += 1000) {
      StateStore::Batch batch;
      for (std::uint64_t i = id; i < id + 1000; ++i)
        batch.put_seen(0, "padding", i, 0, static_cast<std::int64_t>(i));
      ASSERT_TRUE(store_->write(batch).ok());
    }
  }

  void reopen() {
    store_.reset();
    store_ = state_dir_.open();
  }

  state_testing::TempStateDir state_dir_;
  const std::filesystem::path& dir_ = state_dir_.path();
  std::unique_ptr<StateStore> store_;
};

TEST_F(CheckpointWriterTest, EachBatchIsWrittenAndItsResultTakenBackOnce) {
  CheckpointWriter writer(*store_);
  EXPECT_FALSE(writer.busy());
  EXPECT_FALSE(writer.finished().has_value()) << "nothing handed over";
  EXPECT_FALSE(writer.wait().has_value());

  for (std::int64_t offset = 1; offset <= 50; ++offset) {
    StateStore::Batch batch = checkpoint_of(0, offset);
    writer.start(batch);
    EXPECT_TRUE(writer.busy());
    EXPECT_EQ(batch.count(), 0u) << "the batch handed over is the writer's";
    const auto written = writer.wait();
    ASSERT_TRUE(written.has_value());
    EXPECT_TRUE(written->ok());
    EXPECT_FALSE(writer.busy());
    EXPECT_FALSE(writer.finished().has_value()) << "a result is taken back once";
    EXPECT_EQ(stored_offset(0), offset) << "written when its result is taken back";
    EXPECT_GE(writer.last_write_seconds(), 0.0);
  }
}

// The nice value of each of this process's threads named `name` (/proc/self/task/*: comm, and
// stat's 19th field).
std::vector<int> nice_of_threads_named(const std::string& name) {
  std::vector<int> nice;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm_file(task.path() / "comm");
    std::string comm;
    std::getline(comm_file, comm);
    if (comm != name) continue;
    std::ifstream stat_file(task.path() / "stat");
    std::string stat;
    std::getline(stat_file, stat);
    // After the ")" that ends the name: state is field 3, nice field 19.
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string field;
    for (int i = 3; i < 19; ++i) fields >> field;
    int value = 0;
    fields >> value;
    nice.push_back(value);
  }
  return nice;
}

TEST_F(CheckpointWriterTest, TheWritersThreadRunsTenNiceStepsBelowItsCreator) {
  errno = 0;
  const int creator = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  ASSERT_EQ(errno, 0);
  CheckpointWriter writer(*store_);
  StateStore::Batch batch = checkpoint_of(0, 1);
  writer.start(batch);
  ASSERT_TRUE(writer.wait().has_value()) << "the thread has run its start-up by now";
  EXPECT_EQ(nice_of_threads_named("checkpoint"), std::vector<int>{std::min(creator + 10, 19)})
      << "one writer thread, yielding to the pipeline thread that created it";
  EXPECT_EQ(getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())), creator)
      << "the creator's own priority is left alone";
}

TEST_F(CheckpointWriterTest, FinishedReportsTheWriteOnceItIsDoneWithoutBlocking) {
  CheckpointWriter writer(*store_);
  StateStore::Batch batch = checkpoint_of(3, 42);
  writer.start(batch);
  std::optional<Status<StateError>> written;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!(written = writer.finished()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(written.has_value()) << "the write did not finish within 30 s";
  EXPECT_TRUE(written->ok());
  EXPECT_FALSE(writer.busy());
  EXPECT_EQ(stored_offset(3), 42);
}

TEST_F(CheckpointWriterTest, ASecondBatchWhileOneIsWrittenIsAProgrammingError) {
  CheckpointWriter writer(*store_);
  StateStore::Batch first = checkpoint_of(0, 1);
  writer.start(first);
  StateStore::Batch second = checkpoint_of(0, 2);
  EXPECT_THROW(writer.start(second), std::logic_error);
  EXPECT_EQ(second.count(), 1u) << "the refused batch stays the caller's";
  ASSERT_TRUE(writer.wait().has_value());
  EXPECT_EQ(stored_offset(0), 1);
}

TEST_F(CheckpointWriterTest, ABatchHandedOverIsStillWrittenWhenTheWriterIsDestroyed) {
  {
    CheckpointWriter writer(*store_);
    StateStore::Batch batch = checkpoint_of(1, 7);
    writer.start(batch);
  }
  EXPECT_EQ(stored_offset(1), 7);
}

// docs/contract.md#state: a failed write stops the pipeline and no later batch is written. The
// writer must report the failure (the caller then never stores the batch's offsets); RocksDB,
// once a write-ahead log append failed, takes no later write either, so nothing lands after the
// hole, then or after a restart.
TEST_F(CheckpointWriterTest, AFailedWriteIsReportedAsAFailureAndNothingAfterItIsWritten) {
  {
    CheckpointWriter writer(*store_);
    StateStore::Batch first = checkpoint_of(0, 1);
    writer.start(first);
    const auto written = writer.wait();
    ASSERT_TRUE(written.has_value());
    ASSERT_TRUE(written->ok());

    ASSERT_NO_FATAL_FAILURE(grow_write_ahead_log_past_info_log());

    std::optional<Status<StateError>> failed;
    {
      // The write-ahead log cannot grow by a byte: its next append fails, as on a full disk.
      const FileSizeCap cap(wal_bytes());
      ASSERT_TRUE(cap.capped());
      StateStore::Batch batch = checkpoint_of(0, 2);
      writer.start(batch);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (!(failed = writer.finished()) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    ASSERT_TRUE(failed.has_value()) << "the write did not finish within 30 s";
    ASSERT_FALSE(failed->ok()) << "a write RocksDB refused was reported as written";
    EXPECT_EQ(failed->error().kind, StateErrorKind::storage);
    EXPECT_NE(failed->error().message.find("writing state"), std::string::npos)
        << failed->error().message;
    EXPECT_FALSE(writer.busy()) << "the failure is the write's result, taken back";
    EXPECT_FALSE(writer.finished().has_value()) << "a result is taken back once";
    EXPECT_EQ(stored_offset(0), 1) << "the failed batch's checkpoint is not stored";

    // With the disk writable again, a later batch still does not land after the failed one.
    StateStore::Batch later = checkpoint_of(0, 3);
    writer.start(later);
    const auto refused = writer.wait();
    ASSERT_TRUE(refused.has_value());
    EXPECT_FALSE(refused->ok()) << "a batch after a failed one was written";
    EXPECT_EQ(stored_offset(0), 1);
  }
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(stored_offset(0), 1) << "after a restart, the last checkpoint written is the first";
}

// /healthz counts a write that has not returned as no progress from its hand-over
// (docs/contract.md#health): the writer says how long the batch in flight has been out, until its
// result is taken back.
TEST_F(CheckpointWriterTest, TheBatchInFlightSaysHowLongItHasBeenOutUntilItsResultIsTaken) {
  CheckpointWriter writer(*store_);
  EXPECT_EQ(writer.in_flight_for().count(), 0);
  StateStore::Batch batch = checkpoint_of(0, 1);
  writer.start(batch);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_GE(writer.in_flight_for(), std::chrono::milliseconds(20));
  ASSERT_TRUE(writer.wait().has_value());
  EXPECT_EQ(writer.in_flight_for().count(), 0);
}

}  // namespace
}  // namespace tastesync
