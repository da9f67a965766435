#include "state/changelog_restore.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "stages/stages_test_support.hpp"
#include "state/customer_state_codec.hpp"
#include "state/state_test_support.hpp"

namespace tastesync {
namespace {

using stage_testing::kT0;

struct TempStore {
  state_testing::TempStateDir dir;
  std::unique_ptr<StateStore> store;

  explicit TempStore(const std::string& label) : dir(label), store(dir.open()) {}
};

std::string encoded(EpochMs last_activity_ms, const std::string& location) {
  CustomerState state;
  state.last_activity_ms = last_activity_ms;
  state.last_emitted = LastIdentification{"store100", location, last_activity_ms};
  std::string bytes;
  encode_customer_state(state, bytes);
  return bytes;
}

using Records = std::vector<std::pair<std::string, std::optional<std::string>>>;

// Writes the batch to `store` and returns what a changelog would carry for it.
Records checkpoint(StateStore& store, StateStore::Batch& batch) {
  Records records;
  batch.for_each_change([&](std::string_view key, std::optional<std::string_view> value) {
    records.emplace_back(key, value);
  });
  EXPECT_TRUE(store.write(batch).ok());
  return records;
}

class ChangelogRestoreTest : public ::testing::Test {
 protected:
  TempStore writer_{"writer"};
  TempStore reader_{"reader"};
};

TEST_F(ChangelogRestoreTest, RebuildsTheStateOfTheLastCompleteCheckpoint) {
  Records changelog;
  StateStore::Batch first;
  first.put_customer(2, "a", encoded(kT0, "Table 1"));
  first.put_seen(2, "a", 42, kT0, 9);
  first.set_checkpoint(2, PartitionCheckpoint{10, {kT0}});
  for (auto& record : checkpoint(*writer_.store, first)) changelog.push_back(record);
  StateStore::Batch second;
  second.put_customer(2, "a", encoded(kT0 + 5, "Table 2"));
  second.put_customer(2, "b", encoded(kT0 + 5, "Counter"));
  second.set_checkpoint(2, PartitionCheckpoint{20, {kT0 + 5}});
  for (auto& record : checkpoint(*writer_.store, second)) changelog.push_back(record);
  // The writer died during a third checkpoint: its customer record is there, its marker is not.
  changelog.emplace_back(customer_key(2, "a"), encoded(kT0 + 9, "Table 6"));

  ChangelogRestore restore(*reader_.store, 2);
  for (const auto& [key, value] : changelog) ASSERT_TRUE(restore.add(key, value).ok());
  ASSERT_TRUE(restore.checkpoint().has_value());
  EXPECT_EQ(restore.checkpoint()->next_offset, 20);
  EXPECT_EQ(restore.records_dropped(), 1u);

  PartitionState restored;
  const auto restored_checkpoint = reader_.store->restore(2, restored);
  ASSERT_TRUE(restored_checkpoint.ok());
  ASSERT_TRUE(restored_checkpoint->has_value());
  EXPECT_EQ((*restored_checkpoint)->next_offset, 20);
  ASSERT_NE(restored.find("a"), nullptr);
  EXPECT_EQ(restored.find("a")->last_emitted->location, "Table 2");
  ASSERT_EQ(restored.find("a")->seen.size(), 1u);
  ASSERT_NE(restored.find("b"), nullptr);
}

// docs/operations.md#forget: an erased customer does not come back on another instance.
TEST_F(ChangelogRestoreTest, AnErasuresTombstonesDeleteTheCustomerWhereverTheChangelogIsRestored) {
  Records changelog;
  StateStore::Batch first;
  first.put_customer(2, "a", encoded(kT0, "Table 1"));
  first.put_seen(2, "a", 42, kT0, 9);
  first.put_customer(2, "b", encoded(kT0, "Table 2"));
  first.set_checkpoint(2, PartitionCheckpoint{10, {kT0}});
  for (auto& record : checkpoint(*writer_.store, first)) changelog.push_back(record);
  StateStore::Batch second;
  second.erase_customer(2, "a");
  second.set_checkpoint(2, PartitionCheckpoint{11, {kT0}});
  for (auto& record : checkpoint(*writer_.store, second)) changelog.push_back(record);
  EXPECT_FALSE(writer_.store->contains_customer(2, "a"));

  ChangelogRestore restore(*reader_.store, 2);
  for (const auto& [key, value] : changelog) ASSERT_TRUE(restore.add(key, value).ok());
  PartitionState restored;
  ASSERT_TRUE(reader_.store->restore(2, restored).ok());
  EXPECT_EQ(restored.find("a"), nullptr);
  EXPECT_FALSE(reader_.store->contains_customer(2, "a"));
  EXPECT_NE(restored.find("b"), nullptr);
  EXPECT_FALSE(restore.add(checkpoint_key(2), std::nullopt).ok())
      << "a checkpoint tombstone is malformed";

  // A customer entry of "a" from offset 0 on would take any id still stored (42, offset 9):
  // the erasure's record deleted it on the reader too.
  StateStore::Batch third;
  third.put_customer(2, "a", encoded(kT0, "Table 1"));
  third.set_checkpoint(2, PartitionCheckpoint{12, {kT0}});
  for (auto& record : checkpoint(*writer_.store, third)) changelog.push_back(record);
  ChangelogRestore again(*reader_.store, 2);
  for (const auto& [key, value] : changelog) ASSERT_TRUE(again.add(key, value).ok());
  PartitionState after;
  ASSERT_TRUE(reader_.store->restore(2, after).ok());
  ASSERT_NE(after.find("a"), nullptr);
  EXPECT_TRUE(after.find("a")->seen.empty());
}

TEST_F(ChangelogRestoreTest, ARecordOfACustomersSightingIdRangeMustSayErasure) {
  ChangelogRestore restore(*reader_.store, 2);
  std::string key = customer_key(2, "");
  key.back() = 's';
  key.append("a", 2);  // and the NUL after the customer id
  ASSERT_TRUE(restore.add(key, std::string("not the marker")).ok()) << "held until a checkpoint";
  StateStore::Batch batch;
  batch.set_checkpoint(2, PartitionCheckpoint{1, {kT0}});
  const Records records = checkpoint(*writer_.store, batch);
  ASSERT_EQ(records.size(), 1u);
  const auto refused = restore.add(records[0].first, records[0].second);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("sighting-id"), std::string::npos)
      << refused.error().message;
}

TEST_F(ChangelogRestoreTest, ReplacesWhateverTheStoreHeldForThePartitionAtItsFirstCheckpoint) {
  StateStore::Batch stale;
  stale.put_customer(2, "stale", encoded(kT0, "Table 1"));
  stale.set_checkpoint(2, PartitionCheckpoint{5, {kT0}});
  stale.put_customer(3, "other-partition", encoded(kT0, "Table 1"));
  ASSERT_TRUE(reader_.store->write(stale).ok());

  ChangelogRestore restore(*reader_.store, 2);
  ASSERT_TRUE(restore.add(customer_key(2, "fresh"), encoded(kT0, "Table 2")).ok());
  EXPECT_TRUE(reader_.store->contains_customer(2, "stale")) << "nothing replaced yet";
  StateStore::Batch marker;
  marker.set_checkpoint(2, PartitionCheckpoint{30, {kT0}});
  Records records;
  marker.for_each_change(
      [&](std::string_view k, std::optional<std::string_view> v) { records.emplace_back(k, v); });
  ASSERT_TRUE(restore.add(records[0].first, records[0].second).ok());

  EXPECT_FALSE(reader_.store->contains_customer(2, "stale"));
  EXPECT_TRUE(reader_.store->contains_customer(2, "fresh"));
  EXPECT_TRUE(reader_.store->contains_customer(3, "other-partition"));
  EXPECT_EQ(reader_.store->checkpoint(2).value()->next_offset, 30);
}

TEST_F(ChangelogRestoreTest, AChangelogWithoutACheckpointLeavesTheLocalStateAlone) {
  StateStore::Batch local;
  local.put_customer(2, "local", encoded(kT0, "Table 1"));
  local.set_checkpoint(2, PartitionCheckpoint{5, {kT0}});
  ASSERT_TRUE(reader_.store->write(local).ok());
  ChangelogRestore restore(*reader_.store, 2);
  ASSERT_TRUE(restore.add(customer_key(2, "orphan"), encoded(kT0, "Table 2")).ok());
  EXPECT_FALSE(restore.checkpoint().has_value());
  EXPECT_TRUE(reader_.store->contains_customer(2, "local"));
  EXPECT_EQ(reader_.store->checkpoint(2).value()->next_offset, 5);
}

// `tastesync reset` writes a reset marker to each changelog partition (docs/operations.md#reset):
// what came before it is never restored, and what comes after it is restored as usual.
TEST_F(ChangelogRestoreTest, AResetMarkerForgetsEverythingBeforeIt) {
  Records changelog;
  StateStore::Batch old;
  old.put_customer(2, "before-reset", encoded(kT0, "Table 1"));
  old.set_checkpoint(2, PartitionCheckpoint{10, {kT0}});
  for (auto& record : checkpoint(*writer_.store, old)) changelog.push_back(record);
  changelog.emplace_back(reset_marker_key(2), "reset");

  ChangelogRestore emptied(*reader_.store, 2);
  for (const auto& [key, value] : changelog) ASSERT_TRUE(emptied.add(key, value).ok());
  EXPECT_EQ(emptied.resets(), 1u);
  EXPECT_FALSE(emptied.checkpoint().has_value());
  EXPECT_FALSE(reader_.store->contains_customer(2, "before-reset"));
  EXPECT_FALSE(reader_.store->checkpoint(2).value().has_value());

  StateStore::Batch after;
  after.put_customer(2, "after-reset", encoded(kT0 + 5, "Counter"));
  after.set_checkpoint(2, PartitionCheckpoint{3, {kT0 + 5}});
  for (auto& record : checkpoint(*writer_.store, after)) changelog.push_back(record);
  TempStore fresh("fresh");
  ChangelogRestore restored(*fresh.store, 2);
  for (const auto& [key, value] : changelog) ASSERT_TRUE(restored.add(key, value).ok());
  ASSERT_TRUE(restored.checkpoint().has_value());
  EXPECT_EQ(restored.checkpoint()->next_offset, 3);
  EXPECT_TRUE(fresh.store->contains_customer(2, "after-reset"));
  EXPECT_FALSE(fresh.store->contains_customer(2, "before-reset"));
  // Another partition's marker is another partition's record.
  EXPECT_FALSE(restored.add(reset_marker_key(3), "reset").ok());
}

TEST_F(ChangelogRestoreTest, ARecordOfAnotherPartitionIsAnError) {
  ChangelogRestore restore(*reader_.store, 2);
  EXPECT_FALSE(restore.add(customer_key(3, "a"), encoded(kT0, "Table 1")).ok());
  EXPECT_FALSE(restore.add("m/input_topic", "raw-beacons").ok());
}

}  // namespace
}  // namespace tastesync
