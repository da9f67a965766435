#include "state_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "pending_writes.hpp"

namespace tastesync {
namespace {

constexpr EpochMs kT0 = 1740916800000;
constexpr std::int64_t kLag = 3600000 + 300000;

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tastesync-state-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<StateStore> open(const std::string& topic = "raw-beacons") {
    StateStoreOptions options;
    options.dir = dir_.string();
    options.input_topic = topic;
    options.expiry_lag_ms = kLag;
    auto store = StateStore::open(options);
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error());
    return store.ok() ? std::move(*store) : nullptr;
  }

  static std::string encoded(EpochMs last_activity_ms) {
    CustomerState state;
    state.last_activity_ms = last_activity_ms;
    state.last_emitted = LastIdentification{"store100", "Table 3", last_activity_ms};
    std::string bytes;
    encode_customer_state(state, bytes);
    return bytes;
  }

  std::filesystem::path dir_;
};

TEST_F(StateStoreTest, NewPartitionHasNoCheckpoint) {
  auto store = open();
  PartitionState partition;
  const auto checkpoint = store->restore(0, partition);
  ASSERT_TRUE(checkpoint.ok());
  EXPECT_FALSE(checkpoint->has_value());
  EXPECT_EQ(partition.size(), 0u);
}

TEST_F(StateStoreTest, WrittenStateAndOffsetSurviveReopening) {
  {
    auto store = open();
    StateStore::Batch batch;
    batch.put_customer(3, "cust1", encoded(kT0));
    batch.set_checkpoint(3, PartitionCheckpoint{42, kT0});
    ASSERT_TRUE(store->write(batch).ok());
  }
  auto store = open();
  PartitionState partition;
  const auto checkpoint = store->restore(3, partition);
  ASSERT_TRUE(checkpoint.ok());
  ASSERT_TRUE(checkpoint->has_value());
  EXPECT_EQ((*checkpoint)->next_offset, 42);
  EXPECT_EQ(partition.watermark_ms(), kT0);
  const CustomerState* customer = partition.find("cust1");
  ASSERT_NE(customer, nullptr);
  ASSERT_TRUE(customer->last_emitted.has_value());
  EXPECT_EQ(customer->last_emitted->location, "Table 3");
}

TEST_F(StateStoreTest, PartitionsAreIndependent) {
  auto store = open();
  StateStore::Batch batch;
  batch.put_customer(1, "a", encoded(kT0));
  batch.set_checkpoint(1, PartitionCheckpoint{7, kT0});
  batch.put_customer(2, "b", encoded(kT0));
  ASSERT_TRUE(store->write(batch).ok());
  PartitionState one;
  PartitionState two;
  ASSERT_TRUE(store->restore(1, one).ok());
  const auto second = store->restore(2, two);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(one.find("a"), nullptr);
  EXPECT_EQ(one.find("b"), nullptr);
  EXPECT_FALSE(second->has_value());
}

TEST_F(StateStoreTest, RestoreSkipsCustomersExpiredByEventTime) {
  auto store = open();
  StateStore::Batch batch;
  batch.put_customer(0, "stale", encoded(kT0));
  batch.put_customer(0, "fresh", encoded(kT0 + kLag));
  batch.set_checkpoint(0, PartitionCheckpoint{10, kT0 + kLag + 1});
  ASSERT_TRUE(store->write(batch).ok());
  PartitionState partition;
  ASSERT_TRUE(store->restore(0, partition).ok());
  EXPECT_EQ(partition.find("stale"), nullptr);
  EXPECT_NE(partition.find("fresh"), nullptr);
}

TEST_F(StateStoreTest, CompactionRemovesExpiredEntriesOnly) {
  auto store = open();
  StateStore::Batch batch;
  batch.put_customer(0, "stale", encoded(kT0));
  batch.put_customer(0, "fresh", encoded(kT0 + kLag));
  batch.put_customer(5, "elsewhere", encoded(kT0));  // partition 5 has no watermark: kept
  batch.set_checkpoint(0, PartitionCheckpoint{10, kT0 + kLag + 1});
  ASSERT_TRUE(store->write(batch).ok());
  ASSERT_TRUE(store->contains_customer(0, "stale"));
  ASSERT_TRUE(store->compact().ok());
  EXPECT_FALSE(store->contains_customer(0, "stale"));
  EXPECT_TRUE(store->contains_customer(0, "fresh"));
  EXPECT_TRUE(store->contains_customer(5, "elsewhere"));
}

TEST_F(StateStoreTest, ExpiryHorizonsSurviveReopeningForCompaction) {
  {
    auto store = open();
    StateStore::Batch batch;
    batch.put_customer(0, "stale", encoded(kT0));
    batch.set_checkpoint(0, PartitionCheckpoint{10, kT0 + kLag + 1});
    ASSERT_TRUE(store->write(batch).ok());
  }
  auto store = open();
  ASSERT_TRUE(store->compact().ok());
  EXPECT_FALSE(store->contains_customer(0, "stale"));
}

TEST_F(StateStoreTest, RefusesTheStateOfAnotherInputTopic) {
  ASSERT_NE(open("raw-beacons"), nullptr);
  StateStoreOptions options;
  options.dir = dir_.string();
  options.input_topic = "other-topic";
  const auto store = StateStore::open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().find("raw-beacons"), std::string::npos) << store.error();
}

TEST(PendingWrites, DrainsOnlyRecordsBeforeTheOffsetAndKeepsTheRest) {
  PendingWrites pending;
  pending.add(10, "a", "A10");
  pending.add(11, "b", "B11");
  pending.add(12, "a", "A12");
  StateStore::Batch batch;
  pending.drain_before(12, 0, batch);
  EXPECT_EQ(batch.count(), 2u);
  EXPECT_EQ(pending.size(), 1u);
  StateStore::Batch rest;
  pending.drain_before(100, 0, rest);
  EXPECT_EQ(rest.count(), 1u);
  EXPECT_EQ(pending.size(), 0u);
}

TEST(PendingWrites, NothingIsDrainedBeforeItsOffset) {
  PendingWrites pending;
  pending.add(5, "a", "A5");
  StateStore::Batch batch;
  pending.drain_before(5, 0, batch);
  EXPECT_EQ(batch.count(), 0u);
  EXPECT_EQ(pending.size(), 1u);
}

}  // namespace
}  // namespace tastesync
