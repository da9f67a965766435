// PendingWrites (docs/contract.md#state, docs/operations.md#forget): an erasure and the changes
// around it within one drain, written into a real RocksDB store. A customer changed more than
// once within one checkpoint is written once, as the last change left them; an erasure is such
// a change.
#include "state/pending_writes.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stages/stages_test_support.hpp"
#include "state/state_store.hpp"
#include "state/state_test_support.hpp"

namespace tastesync {
namespace {

using stage_testing::kT0;

// Not PendingWritesTest: state_store_test.cpp has a fixture of that name, and one test binary
// may not hold two fixtures under one suite name.
class PendingErasureTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = state_dir_.open(); }

  // What the pipeline does around Topology::process for a sighting: the record at `offset`
  // remembers sighting id `offset`.
  void record(std::int64_t offset, const std::string& customer, EpochMs activity_ms) {
    CustomerState& state = states_.find_or_create(customer);
    pending_.before_change(state);
    state.last_activity_ms = activity_ms;
    state.last_offset = offset;
    const SeenSighting seen{static_cast<std::uint64_t>(offset), activity_ms};
    state.seen.push_back(seen);
    pending_.changed(offset, customer, state, seen);
  }

  // What the pipeline does around Topology::forget for an erasure request of a customer memory
  // holds: the state is reset in place.
  void erase(std::int64_t offset, const std::string& customer) {
    CustomerState& state = *states_.find(customer);
    pending_.before_change(state);
    state.reset();
    state.since_offset = offset;
    state.last_offset = offset;
    pending_.erased(offset, customer, &state);
  }

  // Drains every change before `next_offset` and writes it with the partition's checkpoint.
  StateStore::Batch checkpoint(std::int64_t next_offset) {
    StateStore::Batch batch;
    pending_.drain_before(next_offset, 0, states_, batch);
    StateStore::Batch written;
    batch.for_each_change([&](std::string_view key, std::optional<std::string_view> value) {
      EXPECT_TRUE(written.put_raw(0, key, value).ok());
    });
    batch.set_checkpoint(0, PartitionCheckpoint{next_offset, {kT0}});
    EXPECT_TRUE(store_->write(batch).ok());
    return written;  // what the drain put into the batch (the changelog's view of it)
  }

  struct CustomerChanges {
    int puts = 0;
    int deletes = 0;
    bool last_is_put = false;
  };
  static CustomerChanges changes_of(const StateStore::Batch& batch, const std::string& customer) {
    CustomerChanges changes;
    const std::string key = customer_key(0, customer);
    batch.for_each_change([&](std::string_view changed, std::optional<std::string_view> value) {
      if (changed != key) return;
      ++(value ? changes.puts : changes.deletes);
      changes.last_is_put = value.has_value();
    });
    return changes;
  }

  state_testing::TempStateDir state_dir_;
  std::unique_ptr<StateStore> store_;
  PartitionState states_;
  PendingWrites pending_;
};

// The erasure supersedes the change before it: its put would only be deleted again within the
// same atomic batch (and sent to the changelog for nothing), so the drain does not make it.
TEST_F(PendingErasureTest, ACustomerChangedThenErasedBeforeOneCheckpointIsOnlyDeleted) {
  record(1, "a", kT0 + 1);
  record(2, "b", kT0 + 2);
  checkpoint(3);
  ASSERT_TRUE(store_->contains_customer(0, "a")) << "a stored entry for the erasure to delete";

  record(3, "a", kT0 + 3);
  record(4, "b", kT0 + 4);
  erase(5, "a");
  const StateStore::Batch drained = checkpoint(6);

  const CustomerChanges a = changes_of(drained, "a");
  EXPECT_EQ(a.puts, 0) << "the superseded put of offset 3 is not made";
  EXPECT_EQ(a.deletes, 1);
  EXPECT_EQ(changes_of(drained, "b").puts, 1) << "another customer's change is untouched";
  EXPECT_EQ(pending_.size(), 0u);
  EXPECT_EQ(states_.find("a")->durability.pending_offset, -1);

  // RocksDB holds what the erasure left: no customer, none of their sighting ids.
  EXPECT_FALSE(store_->contains_customer(0, "a"));
  PartitionState restored;
  const auto restored_checkpoint = store_->restore(0, restored);
  ASSERT_TRUE(restored_checkpoint.ok());
  ASSERT_TRUE(restored_checkpoint->has_value());
  EXPECT_EQ((*restored_checkpoint)->next_offset, 6);
  EXPECT_EQ(restored.find("a"), nullptr);
  ASSERT_NE(restored.find("b"), nullptr);
  EXPECT_EQ(restored.find("b")->last_activity_ms, kT0 + 4);
}

// A change whose erasure is not delivered yet is not superseded in this checkpoint: it is written
// as it left the customer, and the erasure follows in the next.
TEST_F(PendingErasureTest, AChangeWhoseErasureIsNotYetCheckpointedIsWrittenAsItLeftTheCustomer) {
  record(1, "a", kT0 + 1);
  erase(2, "a");

  const StateStore::Batch first = checkpoint(2);
  EXPECT_EQ(changes_of(first, "a").puts, 1);
  EXPECT_EQ(changes_of(first, "a").deletes, 0);
  PartitionState restored;
  ASSERT_TRUE(store_->restore(0, restored).ok());
  ASSERT_NE(restored.find("a"), nullptr) << "the snapshot of offset 1, not the reset state";
  EXPECT_EQ(restored.find("a")->last_activity_ms, kT0 + 1);
  EXPECT_EQ(pending_.size(), 1u);

  const StateStore::Batch second = checkpoint(3);
  EXPECT_EQ(changes_of(second, "a").puts, 0);
  EXPECT_EQ(changes_of(second, "a").deletes, 1);
  EXPECT_FALSE(store_->contains_customer(0, "a"));
  EXPECT_EQ(pending_.size(), 0u);
}

// The erasure is still made (it deletes what earlier checkpoints stored and the erased sighting
// ids), then the later change wins: one put, after the delete, as the new life left the customer.
TEST_F(PendingErasureTest, ACustomerErasedThenChangedAgainBeforeOneCheckpointIsStoredAsTheNewLife) {
  record(1, "a", kT0 + 1);
  checkpoint(2);
  record(2, "a", kT0 + 2);
  erase(3, "a");
  record(4, "a", kT0 + 4);  // a sighting after the request: a new life
  const StateStore::Batch drained = checkpoint(5);

  const CustomerChanges a = changes_of(drained, "a");
  EXPECT_EQ(a.puts, 1) << "neither the put of offset 2 nor the reset state of the erasure";
  EXPECT_EQ(a.deletes, 1);
  EXPECT_TRUE(a.last_is_put) << "the new life's put comes after the erasure's delete";
  EXPECT_EQ(pending_.size(), 0u);
  EXPECT_EQ(states_.find("a")->durability.pending_offset, -1);

  PartitionState restored;
  ASSERT_TRUE(store_->restore(0, restored).ok());
  const CustomerState* a_restored = restored.find("a");
  ASSERT_NE(a_restored, nullptr);
  EXPECT_EQ(a_restored->last_activity_ms, kT0 + 4);
  EXPECT_EQ(a_restored->since_offset, 3) << "the life that began at the erasure";
  ASSERT_EQ(a_restored->seen.size(), 1u) << "only the new life's sighting id";
  EXPECT_EQ(a_restored->seen.front().id_hash, 4u);
}

// Within one batch a second change takes no snapshot (docs/design.md#checkpoint-cuts):
// memory holds only the later state, so no checkpoint may stop between the two changes.
TEST_F(PendingErasureTest, ACheckpointNeverSeparatesTwoChangesOfOneCustomerInOnePollBatch) {
  pending_.begin_batch();
  record(1, "a", kT0 + 1);
  record(2, "b", kT0 + 2);
  record(3, "a", kT0 + 3);
  record(4, "b", kT0 + 4);
  record(5, "c", kT0 + 5);

  EXPECT_EQ(pending_.checkpointable_before(1), 1) << "nothing pending before it";
  EXPECT_EQ(pending_.checkpointable_before(2), 1) << "a's change at 1 needs its change at 3";
  EXPECT_EQ(pending_.checkpointable_before(4), 1) << "b's change at 2 needs its change at 4";
  EXPECT_EQ(pending_.checkpointable_before(5), 5) << "every change before 5 is complete";
  EXPECT_EQ(pending_.checkpointable_before(6), 6);
  EXPECT_EQ(pending_.checkpointable_before(100), 100) << "past the last pending change";

  // A later batch changes a customer whose change of the first batch is pending: a snapshot.
  pending_.begin_batch();
  record(6, "a", kT0 + 6);
  record(7, "c", kT0 + 7);
  EXPECT_EQ(pending_.checkpointable_before(6), 6) << "a's snapshot of offset 3 keeps 6 apart";
  EXPECT_EQ(pending_.checkpointable_before(7), 7);

  const StateStore::Batch first = checkpoint(6);
  EXPECT_EQ(changes_of(first, "a").puts, 1) << "one put: the change of 3 supersedes that of 1";
  EXPECT_EQ(changes_of(first, "b").puts, 1);
  EXPECT_EQ(pending_.size(), 2u);
  PartitionState restored;
  ASSERT_TRUE(store_->restore(0, restored).ok());
  ASSERT_NE(restored.find("a"), nullptr);
  EXPECT_EQ(restored.find("a")->last_activity_ms, kT0 + 3) << "the snapshot, not memory's 6";
  EXPECT_EQ(restored.find("a")->seen.size(), 2u);
  EXPECT_EQ(restored.find("b")->last_activity_ms, kT0 + 4);

  checkpoint(8);
  EXPECT_EQ(pending_.size(), 0u);
  PartitionState latest;
  ASSERT_TRUE(store_->restore(0, latest).ok());
  EXPECT_EQ(latest.find("a")->last_activity_ms, kT0 + 6);
  EXPECT_EQ(latest.find("c")->last_activity_ms, kT0 + 7);
}

// An erasure is such a change too; and a change the erasure follows in the same batch cannot be
// checkpointed without it.
TEST_F(PendingErasureTest, AChangeAndItsErasureInOnePollBatchAreCheckpointedTogether) {
  pending_.begin_batch();
  record(1, "a", kT0 + 1);
  erase(2, "a");
  record(3, "a", kT0 + 3);
  EXPECT_EQ(pending_.checkpointable_before(2), 1);
  EXPECT_EQ(pending_.checkpointable_before(3), 3) << "the erasure needs no state of its own";
  EXPECT_EQ(pending_.checkpointable_before(4), 4);
  const StateStore::Batch drained = checkpoint(3);
  EXPECT_EQ(changes_of(drained, "a").puts, 0);
  EXPECT_EQ(changes_of(drained, "a").deletes, 1);
  EXPECT_FALSE(store_->contains_customer(0, "a"));
}

}  // namespace
}  // namespace tastesync
