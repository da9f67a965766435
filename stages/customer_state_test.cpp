#include "stages/customer_state.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "stages/stages_test_support.hpp"

namespace tastesync {
namespace {

using stage_testing::sample_state;

TEST(CustomerState, ResetKeepsTheDurabilityMark) {
  CustomerState state = sample_state();
  state.durability.pending_offset = 7;
  state.reset();
  EXPECT_FALSE(state.last_emitted.has_value());
  EXPECT_TRUE(state.tracks.empty());
  EXPECT_EQ(state.durability.pending_offset, 7);
}

TEST(CustomerState, SightingIdHashIsStable) {
  // Persisted in RocksDB: a change here would make restarts forget duplicates.
  EXPECT_EQ(sighting_id_hash("0b7c7f4e-4b8e-4a51-9d0c-2f1f5d3e9a10"),
            sighting_id_hash("0b7c7f4e-4b8e-4a51-9d0c-2f1f5d3e9a10"));
  EXPECT_NE(sighting_id_hash("a"), sighting_id_hash("b"));
  EXPECT_EQ(sighting_id_hash(""), 0xf52a15e9a9b5e89bULL);  // pinned: FNV-1a basis, then splitmix64
  // Pinned from a byte-at-a-time FNV-1a and splitmix64 written apart from this code (Python).
  EXPECT_EQ(sighting_id_hash("0b7c7f4e-4b8e-4a51-9d0c-2f1f5d3e9a10"), 0x727c4b38320995b1ULL);
  EXPECT_EQ(sighting_id_hash("caf\xc3\xa9-\xe2\x98\x95-s-1"), 0x22cf7c187e3a97a5ULL);
}

// The parser's precomputed hash finds the entry a plain lookup made, and the other way round.
TEST(PartitionState, ALookupWithTheParsersHashFindsTheSameCustomer) {
  PartitionState partition;
  CustomerState& made = partition.find_or_create("cust-1");
  const auto found = partition.find_or_create_marked("cust-1", customer_id_hash("cust-1"));
  EXPECT_FALSE(found.created);
  EXPECT_EQ(&found.state, &made);
  const auto other = partition.find_or_create_marked("cust-2", customer_id_hash("cust-2"));
  EXPECT_TRUE(other.created);
  EXPECT_EQ(partition.find("cust-2"), &other.state);
  EXPECT_EQ(partition.size(), 2u);
}

// The table grows by moving slots, never customers: a state found before growing is the one
// found after, and each customer is found by its own id only.
TEST(PartitionState, CustomersStayPutAndFoundAsTheTableGrows) {
  PartitionState partition;
  std::vector<CustomerState*> made;
  for (int i = 0; i < 5000; ++i) {
    CustomerState& state = partition.find_or_create("cust-" + std::to_string(i));
    state.last_offset = i;
    made.push_back(&state);
  }
  EXPECT_EQ(partition.size(), 5000u);
  for (int i = 0; i < 5000; ++i) {
    const std::string id = "cust-" + std::to_string(i);
    ASSERT_EQ(partition.find(id), made[static_cast<std::size_t>(i)]) << id;
    EXPECT_EQ(partition.find(id)->last_offset, i);
    EXPECT_FALSE(partition.find_or_create_marked(id, customer_id_hash(id)).created);
  }
  EXPECT_EQ(partition.find("cust-5000"), nullptr);
  EXPECT_EQ(partition.find("cust-"), nullptr);
  std::size_t visited = 0;
  partition.for_each([&](std::string_view id, const CustomerState& state) {
    EXPECT_EQ(id, "cust-" + std::to_string(state.last_offset));
    ++visited;
  });
  EXPECT_EQ(visited, 5000u);
}

// Linear probing keeps a customer findable only while no empty slot falls inside its probe:
// removing every other customer, then adding more, must leave each survivor and newcomer found.
TEST(PartitionState, AfterEvictionTheSurvivorsAndNewcomersAreFound) {
  PartitionState partition;
  for (int i = 0; i < 3000; ++i) {
    CustomerState& state = partition.find_or_create("c" + std::to_string(i));
    state.last_activity_ms = i % 2 == 0 ? 1000 : 5000;
  }
  const CustomerState* survivor = partition.find("c1");
  EXPECT_EQ(partition.evict_older_than(2000), 1500u);
  EXPECT_EQ(partition.size(), 1500u);
  EXPECT_EQ(partition.find("c1"), survivor);
  for (int i = 3000; i < 4000; ++i) partition.find_or_create("c" + std::to_string(i));
  for (int i = 0; i < 4000; ++i) {
    const std::string id = "c" + std::to_string(i);
    const bool kept = i >= 3000 || i % 2 == 1;
    EXPECT_EQ(partition.find(id) != nullptr, kept) << id;
  }
  EXPECT_EQ(partition.size(), 2500u);
  EXPECT_EQ(partition.evict_older_than(std::numeric_limits<EpochMs>::max()), 2500u);
  EXPECT_EQ(partition.size(), 0u);
  EXPECT_EQ(partition.find("c1"), nullptr);
  EXPECT_TRUE(partition.find_or_create_marked("c1", customer_id_hash("c1")).created);
}

// A restore of an id already held replaces its state in place.
TEST(PartitionState, InsertingAnIdHeldReplacesItsState) {
  PartitionState partition;
  CustomerState& held = partition.find_or_create("cust-1");
  CustomerState restored;
  restored.last_offset = 42;
  const auto [id, state] = partition.insert("cust-1", restored);
  EXPECT_EQ(id, "cust-1");
  EXPECT_EQ(state, &held);
  EXPECT_EQ(held.last_offset, 42);
  EXPECT_EQ(partition.size(), 1u);
}

TEST(PartitionState, EvictsOnlyCustomersOlderThanTheHorizon) {
  PartitionState partition;
  partition.find_or_create("old").last_activity_ms = 1000;
  partition.find_or_create("new").last_activity_ms = 5000;
  EXPECT_EQ(partition.evict_older_than(2000), 1u);
  EXPECT_EQ(partition.find("old"), nullptr);
  EXPECT_NE(partition.find("new"), nullptr);
}

TEST(PartitionState, EvictionSparesCustomersWithUncheckpointedChanges) {
  PartitionState partition;
  partition.find_or_create("old").durability.pending_offset = 3;
  EXPECT_EQ(partition.evict_older_than(2000), 0u);
  EXPECT_NE(partition.find("old"), nullptr);
}

TEST(PartitionState, WatermarkMovesOnlyAsFarAsFourRecordsInARowAgree) {
  PartitionState partition;
  for (const EpochMs t : {100, 110, 120}) partition.advance_watermark(t);
  EXPECT_EQ(partition.watermark_ms(), 0);
  partition.advance_watermark(130);
  EXPECT_EQ(partition.watermark_ms(), 100);
  partition.advance_watermark(140);
  EXPECT_EQ(partition.watermark_ms(), 110);
}

TEST(PartitionState, OneRecordFarAheadDoesNotMoveTheWatermark) {
  PartitionState partition;
  for (EpochMs t = 1000; t < 1010; ++t) partition.advance_watermark(t);
  partition.advance_watermark(4102444800000);  // 2100
  EXPECT_LE(partition.watermark_ms(), 1009);
  partition.advance_watermark(1010);
  EXPECT_LE(partition.watermark_ms(), 1010);
}

TEST(PartitionState, WatermarkNeverMovesBack) {
  PartitionState partition;
  for (EpochMs t = 1000; t < 1010; ++t) partition.advance_watermark(t);
  const EpochMs before = partition.watermark_ms();
  for (int i = 0; i < 8; ++i) partition.advance_watermark(10);
  EXPECT_EQ(partition.watermark_ms(), before);
}

// Touches a customer as Topology does: it becomes live at `offset`.
std::size_t touch(PartitionState& partition, const std::string& id, std::int64_t offset,
                  std::size_t cap) {
  CustomerState& state = partition.find_or_create(id);
  state.last_activity_ms = 1000 + offset;
  state.last_offset = offset;
  state.since_offset = offset;
  return partition.limit_live_customers(cap, 0, state);
}

TEST(PartitionState, BeyondTheCapTheLeastRecentlyTouchedCustomersAreForgotten) {
  PartitionState partition;
  std::size_t evicted = 0;
  for (std::int64_t offset = 0; offset < 200; ++offset) {
    evicted += touch(partition, "c" + std::to_string(offset), offset, 128);
  }
  // 128 live at most: the 129th evicts three, down to 126 (a 64th under the cap), and so on.
  EXPECT_EQ(evicted, 72u);
  EXPECT_EQ(partition.size(), 128u);
  EXPECT_EQ(partition.find("c0"), nullptr);
  EXPECT_NE(partition.find("c199"), nullptr);
  EXPECT_TRUE(partition.evicted(CustomerState{}));
}

TEST(PartitionState, EvictedCustomersWithUncheckpointedChangesStayInMemoryForgotten) {
  PartitionState partition;
  touch(partition, "old", 0, 1);
  partition.find("old")->durability.pending_offset = 0;
  EXPECT_EQ(touch(partition, "new", 1, 1), 1u);
  ASSERT_NE(partition.find("old"), nullptr);
  EXPECT_TRUE(partition.evicted(*partition.find("old")));
  EXPECT_FALSE(partition.evicted(*partition.find("new")));
}

TEST(PartitionState, ExpiredCustomersDoNotCountAgainstTheCap) {
  PartitionState partition;
  for (std::int64_t offset = 0; offset < 10; ++offset) {
    CustomerState& state = partition.find_or_create("c" + std::to_string(offset));
    state.last_activity_ms = 1000 + offset;
    state.last_offset = offset;
    state.durability.pending_offset = offset;  // kept in memory, but expired below
  }
  CustomerState& fresh = partition.find_or_create("fresh");
  fresh.last_activity_ms = 5000;
  fresh.last_offset = 10;
  EXPECT_EQ(partition.limit_live_customers(2, /*horizon_ms=*/2000, fresh), 0u);
}

TEST(PartitionState, TheCustomerInUseIsNeverErasedWhenOffsetsGoBack) {
  // A log truncated under the state: customers already evicted below offset ~100, and a new
  // customer at offset 0 would count as evicted too. It must stay in memory while in use.
  PartitionState partition;
  for (std::int64_t offset = 0; offset < 200; ++offset) {
    touch(partition, "c" + std::to_string(offset), offset, 64);
  }
  ASSERT_GT(partition.progress().evicted_below_offset, 100);
  CustomerState& back = partition.find_or_create("back");
  back.last_activity_ms = 5000;
  back.last_offset = 0;
  (void)partition.limit_live_customers(64, 0, back);
  EXPECT_EQ(partition.find("back"), &back);
}

TEST(PartitionState, TheCustomerInUseIsNeverEvictedEvenWithoutIncreasingOffsets) {
  PartitionState partition;
  for (int i = 0; i < 5; ++i) touch(partition, "c" + std::to_string(i), 0, 2);
  for (int i = 0; i < 5; ++i) EXPECT_NE(partition.find("c" + std::to_string(i)), nullptr);
}

}  // namespace
}  // namespace tastesync
