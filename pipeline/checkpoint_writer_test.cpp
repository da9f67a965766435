// CheckpointWriter (docs/contract.md#state): batches written on the writer's thread into a real
// RocksDB store, one at a time, each result taken back by the owner.
#include "pipeline/checkpoint_writer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

namespace tastesync {
namespace {

class CheckpointWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tastesync-checkpoint-writer-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    StateStoreOptions options;
    options.dir = dir_.string();
    options.input_topic = "raw-beacons";
    auto store = StateStore::open(options);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

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

  std::filesystem::path dir_;
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

}  // namespace
}  // namespace tastesync
