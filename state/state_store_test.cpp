#include "state/state_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <tuple>
#include <utility>
#include <vector>

#include "stages/stages_test_support.hpp"
#include "state/customer_state_codec.hpp"
#include "state/pending_writes.hpp"
#include "state/state_test_support.hpp"

namespace tastesync {
namespace {

using stage_testing::kT0;
constexpr std::int64_t kLag = TopologyOptions{}.state_expiry_lag_ms();

class StateStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<StateStore> open(const std::string& topic = "raw-beacons") {
    StateStoreOptions options;
    options.input_topic = topic;
    options.expiry_lag_ms = kLag;
    return state_dir_.open(options);
  }

  static std::string encoded(EpochMs last_activity_ms) {
    CustomerState state;
    state.last_activity_ms = last_activity_ms;
    state.last_emitted = LastIdentification{"store100", "Table 3", last_activity_ms};
    std::string bytes;
    encode_customer_state(state, bytes);
    return bytes;
  }

  // Writes `batch` with a checkpoint; restoring it fails with a message naming `what`.
  static void expect_restore_fails_naming(StateStore& store, StateStore::Batch& batch,
                                          const std::string& what) {
    batch.set_checkpoint(0, PartitionCheckpoint{3, {kT0}});
    ASSERT_TRUE(store.write(batch).ok());
    PartitionState restored;
    const auto result = store.restore(0, restored);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find(what), std::string::npos) << result.error().message;
  }

  // A customer's sighting-id keys start with this (docs/design.md#remembered-ids).
  static std::string seen_key_prefix(std::int32_t partition, const std::string& customer) {
    std::string key = customer_key(partition, "");
    key.back() = 's';
    key.append(customer);
    key.push_back('\0');
    return key;
  }

  state_testing::TempStateDir state_dir_;
  const std::filesystem::path& dir_ = state_dir_.path();
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
    batch.set_checkpoint(3, PartitionCheckpoint{42, {kT0}});
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
  batch.set_checkpoint(1, PartitionCheckpoint{7, {kT0}});
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
  batch.set_checkpoint(0, PartitionCheckpoint{10, {kT0 + kLag + 1}});
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
  batch.set_checkpoint(0, PartitionCheckpoint{10, {kT0 + kLag + 1}});
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
    batch.set_checkpoint(0, PartitionCheckpoint{10, {kT0 + kLag + 1}});
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
  EXPECT_EQ(store.error().kind, StateErrorKind::wrong_topic);
  EXPECT_NE(store.error().message.find("raw-beacons"), std::string::npos) << store.error().message;
}

TEST_F(StateStoreTest, RememberedSightingIdsAreRestoredForLiveCustomers) {
  auto store = open();
  StateStore::Batch batch;
  batch.put_customer(0, "a", encoded(kT0));
  batch.put_seen(0, "a", 0x0102030405060708ULL, kT0 - 5, 0);
  batch.put_seen(0, "a", 42, kT0, 1);
  batch.put_seen(0, "gone", 7, kT0, 2);  // no customer entry: skipped
  batch.set_checkpoint(0, PartitionCheckpoint{1, {kT0}});
  ASSERT_TRUE(store->write(batch).ok());
  PartitionState partition;
  ASSERT_TRUE(store->restore(0, partition).ok());
  const CustomerState* a = partition.find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->seen.size(), 2u);
  const auto it = std::find_if(a->seen.begin(), a->seen.end(), [](const SeenSighting& s) {
    return s.id_hash == 0x0102030405060708ULL;
  });
  ASSERT_NE(it, a->seen.end());
  EXPECT_EQ(it->t_ms, kT0 - 5);
  EXPECT_EQ(partition.find("gone"), nullptr);
}

TEST_F(StateStoreTest, EachCustomersSightingIdsGoToItAmongIdsThatPrefixOneAnother) {
  // The restore walks the customers and their ids' keys side by side: ids that are prefixes of
  // one another, bytes below and above the keys' NUL separator and '/', and customers not
  // restored (expired) between them must still each get their own ids and no one else's.
  const std::vector<std::string> live = {"a",  "a b", "a!",    "a/",    "a0",
                                         "ab", "b",   "cust1", "cust10"};
  const std::vector<std::string> expired = {"a ", "a1", "cust", "cust100"};
  auto store = open();
  StateStore::Batch batch;
  std::uint64_t hash = 1;
  std::int64_t offset = 0;
  for (const std::string& id : live) {
    batch.put_customer(0, id, encoded(kT0 + kLag));
    batch.put_seen(0, id, hash++, kT0 + kLag, offset++);
    batch.put_seen(0, id, hash++, kT0 + kLag, offset++);
  }
  for (const std::string& id : expired) {
    batch.put_customer(0, id, encoded(kT0));
    batch.put_seen(0, id, hash++, kT0, offset++);
  }
  batch.set_checkpoint(0, PartitionCheckpoint{offset, {kT0 + kLag + 1}});
  ASSERT_TRUE(store->write(batch).ok());
  PartitionState partition;
  ASSERT_TRUE(store->restore(0, partition).ok());
  EXPECT_EQ(partition.size(), live.size());
  hash = 1;
  for (const std::string& id : live) {
    const CustomerState* customer = partition.find(id);
    ASSERT_NE(customer, nullptr) << id;
    std::vector<std::uint64_t> hashes;
    for (const SeenSighting& seen : customer->seen) hashes.push_back(seen.id_hash);
    std::sort(hashes.begin(), hashes.end());
    EXPECT_EQ(hashes, (std::vector<std::uint64_t>{hash, hash + 1})) << id;
    hash += 2;
  }
  for (const std::string& id : expired) EXPECT_EQ(partition.find(id), nullptr) << id;
}

TEST_F(StateStoreTest, CompactionExpiresSightingIdsOnTheirOwnShorterHorizon) {
  auto store = open();
  StateStore::Batch batch;
  const EpochMs watermark = kT0 + 1000000;
  batch.put_customer(0, "a", encoded(watermark));
  batch.put_seen(0, "a", 1, watermark - 420001, 0);  // older than window + lateness: expired
  batch.put_seen(0, "a", 2, watermark - 419999, 1);
  batch.set_checkpoint(0, PartitionCheckpoint{1, {watermark}});
  ASSERT_TRUE(store->write(batch).ok());
  ASSERT_TRUE(store->compact().ok());
  PartitionState partition;
  ASSERT_TRUE(store->restore(0, partition).ok());
  ASSERT_NE(partition.find("a"), nullptr);
  ASSERT_EQ(partition.find("a")->seen.size(), 1u);
  EXPECT_EQ(partition.find("a")->seen[0].id_hash, 2u);
}

TEST_F(StateStoreTest, OpeningAStateDirWrittenOpenToAllClosesItToItsOwner) {
  // A state dir from before the store set its permissions, and a file in it.
  std::filesystem::create_directories(dir_);
  std::filesystem::permissions(dir_, std::filesystem::perms::all);
  std::ofstream(dir_ / "LOG.old.1") << "customer ids";
  std::filesystem::permissions(dir_ / "LOG.old.1", std::filesystem::perms::all);
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(std::filesystem::status(dir_).permissions(), std::filesystem::perms::owner_all);
  EXPECT_EQ(std::filesystem::status(dir_ / "LOG.old.1").permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(StateStoreTest, ACheckpointKeepsThePartitionsWholeProgress) {
  auto store = open();
  StateStore::Batch batch;
  PartitionProgress progress;
  progress.watermark_ms = kT0;
  progress.recent_candidates_ms = {kT0 + 3, kT0 + 2, kT0 + 1};
  progress.evicted_below_offset = 17;
  batch.set_checkpoint(0, PartitionCheckpoint{40, progress});
  ASSERT_TRUE(store->write(batch).ok());
  PartitionState partition;
  const auto checkpoint = store->restore(0, partition);
  ASSERT_TRUE(checkpoint.ok());
  ASSERT_TRUE(checkpoint->has_value());
  EXPECT_EQ(partition.progress().recent_candidates_ms, progress.recent_candidates_ms);
  EXPECT_EQ(partition.progress().evicted_below_offset, 17);
  EXPECT_EQ(partition.watermark_ms(), kT0);
}

TEST_F(StateStoreTest, AFirstVersionCheckpointDecodesAsAgreedAndNeverEvicted) {
  std::string legacy;
  for (const std::int64_t value : {std::int64_t{40}, kT0}) {
    for (int i = 0; i < 8; ++i) legacy.push_back(static_cast<char>(value >> (8 * i)));
  }
  const auto checkpoint = decode_checkpoint_value(legacy);
  ASSERT_TRUE(checkpoint.has_value());
  EXPECT_EQ(checkpoint->next_offset, 40);
  EXPECT_EQ(checkpoint->progress.watermark_ms, kT0);
  for (const EpochMs candidate : checkpoint->progress.recent_candidates_ms) {
    EXPECT_EQ(candidate, kT0);
  }
  EXPECT_EQ(checkpoint->progress.evicted_below_offset, -1);
}

TEST_F(StateStoreTest, CustomersTheCapEvictedAreNotRestoredAndCompactAway) {
  auto store = open();
  StateStore::Batch batch;
  for (const auto& [id, last_offset] : {std::pair{"old", 3}, std::pair{"kept", 9}}) {
    CustomerState state;
    state.last_activity_ms = kT0;
    state.last_offset = last_offset;
    state.since_offset = last_offset;
    std::string bytes;
    encode_customer_state(state, bytes);
    batch.put_customer(0, id, bytes);
  }
  PartitionProgress progress;
  progress.watermark_ms = kT0;
  progress.evicted_below_offset = 5;
  batch.set_checkpoint(0, PartitionCheckpoint{10, progress});
  ASSERT_TRUE(store->write(batch).ok());
  PartitionState partition;
  ASSERT_TRUE(store->restore(0, partition).ok());
  EXPECT_EQ(partition.find("old"), nullptr);
  EXPECT_NE(partition.find("kept"), nullptr);
  ASSERT_TRUE(store->compact().ok());
  EXPECT_FALSE(store->contains_customer(0, "old"));
  EXPECT_TRUE(store->contains_customer(0, "kept"));
}

// A key holds at most 128 ids: each is also a changelog record, and the smallest
// message.max.bytes the configuration accepts is 4 096 bytes.
TEST_F(StateStoreTest, ManyIdsOfOneCheckpointAreSplitIntoKeysThatFitAChangelogRecord) {
  auto store = open();
  StateStore::Batch batch;
  batch.put_customer(0, "a", encoded(kT0));
  std::vector<RememberedId> ids;
  for (std::int64_t offset = 0; offset < 300; ++offset) {
    ids.push_back({static_cast<std::uint64_t>(1000 + offset), kT0 - offset, offset});
  }
  batch.put_seen(0, "a", ids);
  std::size_t seen_keys = 0;
  batch.for_each_change([&](std::string_view key, std::optional<std::string_view> value) {
    seen_keys += key.starts_with(seen_key_prefix(0, "a"));
    EXPECT_LT(key.size() + (value ? value->size() : 0), 4096u - 128u)
        << "with a record's own bytes";
  });
  EXPECT_EQ(seen_keys, 3u);
  batch.set_checkpoint(0, PartitionCheckpoint{300, {kT0}});
  ASSERT_TRUE(store->write(batch).ok());
  PartitionState partition;
  ASSERT_TRUE(store->restore(0, partition).ok());
  ASSERT_NE(partition.find("a"), nullptr);
  EXPECT_EQ(partition.find("a")->seen.size(), 300u);
}

// A state dir written before the groups holds one key per id, named after its hash: still read.
TEST_F(StateStoreTest, SightingIdKeysOfOneIdAreStillRestored) {
  auto store = open();
  StateStore::Batch batch;
  batch.put_customer(0, "a", encoded(kT0));
  std::string key = seen_key_prefix(0, "a");
  key.append("\x01\x02\x03\x04\x05\x06\x07\x08", 8);
  std::string value;
  for (const std::int64_t field : {kT0 - 5, std::int64_t{3}}) {
    for (int byte = 0; byte < 8; ++byte) value.push_back(static_cast<char>(field >> (8 * byte)));
  }
  ASSERT_TRUE(batch.put_raw(0, key, value).ok());
  batch.set_checkpoint(0, PartitionCheckpoint{4, {kT0}});
  ASSERT_TRUE(store->write(batch).ok());
  PartitionState partition;
  ASSERT_TRUE(store->restore(0, partition).ok());
  ASSERT_NE(partition.find("a"), nullptr);
  ASSERT_EQ(partition.find("a")->seen.size(), 1u);
  EXPECT_EQ(partition.find("a")->seen[0].id_hash, 0x0102030405060708ULL);
  EXPECT_EQ(partition.find("a")->seen[0].t_ms, kT0 - 5);
}

TEST_F(StateStoreTest, AMalformedGroupOfSightingIdsFailsTheRestoreNamingIt) {
  auto store = open();
  StateStore::Batch batch;
  batch.put_customer(0, "a", encoded(kT0));
  std::string key = seen_key_prefix(0, "a");
  key.push_back('g');
  key.append(8, '\0');
  ASSERT_TRUE(batch.put_raw(0, key, std::string(30, '\0')).ok()) << "a state key";
  expect_restore_fails_naming(*store, batch, "sighting id");
}

TEST_F(StateStoreTest, CompactionExpiresAGroupOfSightingIdsWithItsNewest) {
  auto store = open();
  StateStore::Batch batch;
  const EpochMs watermark = kT0 + 1000000;
  batch.put_customer(0, "a", encoded(watermark));
  const std::vector<RememberedId> old = {{1, watermark - 430000, 0}, {2, watermark - 420001, 1}};
  const std::vector<RememberedId> mixed = {{3, watermark - 430000, 2}, {4, watermark - 419999, 3}};
  batch.put_seen(0, "a", old);
  batch.put_seen(0, "a", mixed);
  batch.set_checkpoint(0, PartitionCheckpoint{4, {watermark}});
  ASSERT_TRUE(store->write(batch).ok());
  ASSERT_TRUE(store->compact().ok());
  PartitionState partition;
  ASSERT_TRUE(store->restore(0, partition).ok());
  ASSERT_NE(partition.find("a"), nullptr);
  std::vector<std::uint64_t> ids;
  for (const SeenSighting& seen : partition.find("a")->seen) ids.push_back(seen.id_hash);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::uint64_t>{3, 4})) << "a group goes when its newest id does";
}

// One key holds the ids one checkpoint remembered for a customer, each with its own time and
// offset (docs/design.md#remembered-ids).
TEST_F(StateStoreTest, SightingIdsOfAnEarlierLifeAreNotRestored) {
  // "a" was forgotten and came back at offset 50: ids remembered before that are another life's.
  auto store = open();
  StateStore::Batch batch;
  CustomerState state;
  state.last_activity_ms = kT0;
  state.last_offset = 60;
  state.since_offset = 50;
  std::string bytes;
  encode_customer_state(state, bytes);
  batch.put_customer(0, "a", bytes);
  const std::vector<RememberedId> ids = {{1, kT0 - 10, 12}, {2, kT0 - 5, 50}, {3, kT0, 60}};
  batch.put_seen(0, "a", ids);
  batch.set_checkpoint(0, PartitionCheckpoint{61, {kT0}});
  EXPECT_EQ(batch.count(), 3u) << "the customer, one key for the three ids, the checkpoint";
  ASSERT_TRUE(store->write(batch).ok());
  PartitionState partition;
  ASSERT_TRUE(store->restore(0, partition).ok());
  ASSERT_NE(partition.find("a"), nullptr);
  std::vector<std::pair<std::uint64_t, EpochMs>> restored;
  for (const SeenSighting& seen : partition.find("a")->seen) {
    restored.emplace_back(seen.id_hash, seen.t_ms);
  }
  std::sort(restored.begin(), restored.end());
  EXPECT_EQ(restored, (std::vector<std::pair<std::uint64_t, EpochMs>>{{2, kT0 - 5}, {3, kT0}}));
}

class PendingWritesTest : public StateStoreTest {
 protected:
  // What the pipeline does around Topology::process for one record.
  void record(std::int64_t offset, const std::string& customer, EpochMs activity_ms) {
    CustomerState& state = states_.find_or_create(customer);
    pending_.before_change(state);
    state.last_activity_ms = activity_ms;
    pending_.changed(offset, customer, state, SeenSighting{static_cast<std::uint64_t>(offset), 0});
  }

  EpochMs checkpointed_activity(StateStore& store, const std::string& customer) {
    PartitionState restored;
    EXPECT_TRUE(store.restore(0, restored).ok());
    const CustomerState* state = restored.find(customer);
    return state == nullptr ? -1 : state->last_activity_ms;
  }

  PartitionState states_;
  PendingWrites pending_;
};

TEST_F(PendingWritesTest, CheckpointSeesTheStateAsOfItsOffsetNotLaterChanges) {
  auto store = open();
  record(10, "a", kT0 + 10);
  record(11, "a", kT0 + 11);  // not delivered yet
  StateStore::Batch batch;
  pending_.drain_before(11, 0, states_, batch);
  batch.set_checkpoint(0, PartitionCheckpoint{11, {kT0 + 11}});
  ASSERT_TRUE(store->write(batch).ok());
  EXPECT_EQ(checkpointed_activity(*store, "a"), kT0 + 10);
  EXPECT_EQ(pending_.size(), 1u);

  pending_.drain_before(12, 0, states_, batch);
  batch.set_checkpoint(0, PartitionCheckpoint{12, {kT0 + 11}});
  ASSERT_TRUE(store->write(batch).ok());
  EXPECT_EQ(checkpointed_activity(*store, "a"), kT0 + 11);
  EXPECT_EQ(pending_.size(), 0u);
  EXPECT_EQ(states_.find("a")->durability.pending_offset, -1);
}

TEST_F(PendingWritesTest, ARecordThatTurnsOutNotToChangeTheCustomerLeavesNoStaleBookkeeping) {
  record(1, "a", kT0);
  pending_.before_change(*states_.find("a"));  // then, say, a dead letter: no change
  StateStore::Batch batch;
  pending_.drain_before(3, 0, states_, batch);
  EXPECT_EQ(states_.find("a")->durability.pending_offset, -1);
  record(3, "a", kT0 + 3);  // must not reach for the drained entry
  pending_.drain_before(4, 0, states_, batch);
  EXPECT_EQ(pending_.size(), 0u);
}

// docs/operations.md#forget: the checkpoint after an erasure deletes the customer and their
// sighting ids (in RocksDB and on the changelog: a tombstone and the range's record), after
// writing the earlier, undelivered changes; a sighting after the request starts a new life with
// nothing of the old.
TEST_F(PendingWritesTest, AnErasureDeletesTheCustomerAndTheirSightingIdsAfterEarlierChanges) {
  auto store = open();
  record(1, "a", kT0 + 1);
  record(2, "b", kT0 + 2);
  record(3, "a", kT0 + 3);
  CustomerState& a = *states_.find("a");
  pending_.before_change(a);
  a.reset();
  pending_.erased(4, "a", &a);
  record(5, "a", kT0 + 5);  // a new life, not delivered yet

  StateStore::Batch batch;
  pending_.drain_before(5, 0, states_, batch);
  std::vector<std::string> deleted;
  std::vector<std::string> ranges;
  std::size_t seen_puts = 0;
  const std::string seen_prefix = seen_key_prefix(0, "a");
  batch.for_each_change([&](std::string_view key, std::optional<std::string_view> value) {
    if (!value) deleted.emplace_back(key);
    if (value && key == seen_prefix) ranges.emplace_back(*value);
    seen_puts += value && key.starts_with(seen_prefix) && key != seen_prefix;
  });
  EXPECT_EQ(deleted, (std::vector<std::string>{customer_key(0, "a")})) << "the customer's entry";
  EXPECT_EQ(ranges.size(), 1u) << "every sighting id of theirs, as one changelog record";
  EXPECT_EQ(seen_puts, 0u) << "ids the erasure deletes are not written first";
  batch.set_checkpoint(0, PartitionCheckpoint{5, {kT0 + 3}});
  ASSERT_TRUE(store->write(batch).ok());
  EXPECT_FALSE(store->contains_customer(0, "a"));
  EXPECT_EQ(checkpointed_activity(*store, "b"), kT0 + 2);

  pending_.drain_before(6, 0, states_, batch);
  batch.set_checkpoint(0, PartitionCheckpoint{6, {kT0 + 5}});
  ASSERT_TRUE(store->write(batch).ok());
  PartitionState restored;
  ASSERT_TRUE(store->restore(0, restored).ok());
  ASSERT_NE(restored.find("a"), nullptr);
  EXPECT_EQ(restored.find("a")->last_activity_ms, kT0 + 5);
  ASSERT_EQ(restored.find("a")->seen.size(), 1u) << "only the new life's id";
  EXPECT_EQ(restored.find("a")->seen.front().id_hash, 5u);
}

// docs/design.md#state: the ids a customer's records remembered before one checkpoint go out as
// one key, with the customer's latest change, whichever change of theirs was snapshotted.
TEST_F(PendingWritesTest, ACustomersIdsOfOneCheckpointAreOneKey) {
  auto store = open();
  record(1, "a", kT0 + 1);
  pending_.begin_batch();
  record(2, "b", kT0 + 2);
  record(3, "a", kT0 + 3);  // snapshots a's change at 1: another batch
  record(4, "a", kT0 + 4);
  pending_.begin_batch();
  record(5, "b", kT0 + 5);  // snapshots b's change at 2; not drained below

  StateStore::Batch batch;
  pending_.drain_before(5, 0, states_, batch);
  std::vector<std::string> seen_keys;
  batch.for_each_change([&](std::string_view key, std::optional<std::string_view> value) {
    if (value && key[5] == 's') seen_keys.emplace_back(key);
  });
  EXPECT_EQ(seen_keys.size(), 2u) << "one for a's three ids, one for b's first";
  batch.set_checkpoint(0, PartitionCheckpoint{5, {kT0 + 4}});
  ASSERT_TRUE(store->write(batch).ok());
  pending_.drain_before(6, 0, states_, batch);
  batch.set_checkpoint(0, PartitionCheckpoint{6, {kT0 + 5}});
  ASSERT_TRUE(store->write(batch).ok());

  PartitionState restored;
  ASSERT_TRUE(store->restore(0, restored).ok());
  for (const auto& [customer, expected] :
       {std::pair<std::string, std::vector<std::uint64_t>>{"a", {1, 3, 4}}, {"b", {2, 5}}}) {
    ASSERT_NE(restored.find(customer), nullptr) << customer;
    std::vector<std::uint64_t> ids;
    for (const SeenSighting& seen : restored.find(customer)->seen) ids.push_back(seen.id_hash);
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids, expected) << customer;
  }
}

TEST_F(PendingWritesTest, AnErasureOfACustomerMemoryNoLongerHoldsStillDeletesTheStoredEntry) {
  auto store = open();
  record(1, "gone", kT0);
  StateStore::Batch batch;
  pending_.drain_before(2, 0, states_, batch);
  batch.set_checkpoint(0, PartitionCheckpoint{2, {kT0}});
  ASSERT_TRUE(store->write(batch).ok());
  ASSERT_TRUE(store->contains_customer(0, "gone"));

  pending_.erased(2, "gone", nullptr);
  pending_.drain_before(3, 0, states_, batch);
  batch.set_checkpoint(0, PartitionCheckpoint{3, {kT0}});
  ASSERT_TRUE(store->write(batch).ok());
  EXPECT_FALSE(store->contains_customer(0, "gone"));
  PartitionState restored;
  ASSERT_TRUE(store->restore(0, restored).ok());
  EXPECT_EQ(restored.find("gone"), nullptr);
}

TEST_F(PendingWritesTest, NothingIsWrittenBeforeItsOffset) {
  record(5, "a", kT0);
  StateStore::Batch batch;
  pending_.drain_before(5, 0, states_, batch);
  EXPECT_EQ(batch.count(), 0u);
  EXPECT_EQ(pending_.size(), 1u);
}

TEST_F(PendingWritesTest, EachRecordWritesItsSightingIdAndTheCustomer) {
  record(1, "a", kT0);
  record(2, "b", kT0);
  StateStore::Batch batch;
  pending_.drain_before(3, 0, states_, batch);
  EXPECT_EQ(batch.count(), 4u);
}

// A customer changed again before their checkpoint is written once in it, as the later change
// left it: the earlier put would be overwritten in the same atomic batch anyway.
TEST_F(PendingWritesTest,
       ACustomerChangedTwiceBeforeOneCheckpointIsWrittenOnceAsTheLastChangeLeftIt) {
  auto store = open();
  record(1, "a", kT0 + 1);
  record(2, "b", kT0 + 2);
  record(3, "a", kT0 + 3);
  record(4, "a", kT0 + 4);  // not delivered yet: the put of offset 3 is this checkpoint's
  StateStore::Batch batch;
  pending_.drain_before(4, 0, states_, batch);
  std::vector<std::string> customer_puts;
  batch.for_each_change([&](std::string_view key, std::optional<std::string_view> value) {
    if (value && key == customer_key(0, "a")) customer_puts.emplace_back(*value);
  });
  EXPECT_EQ(customer_puts.size(), 1u);
  EXPECT_EQ(batch.count(), 4u) << "a's two sighting ids as one key, b's, a once, b once";
  batch.set_checkpoint(0, PartitionCheckpoint{4, {kT0 + 3}});
  ASSERT_TRUE(store->write(batch).ok());
  EXPECT_EQ(checkpointed_activity(*store, "a"), kT0 + 3);
  EXPECT_EQ(checkpointed_activity(*store, "b"), kT0 + 2);

  pending_.drain_before(5, 0, states_, batch);
  batch.set_checkpoint(0, PartitionCheckpoint{5, {kT0 + 4}});
  ASSERT_TRUE(store->write(batch).ok());
  EXPECT_EQ(checkpointed_activity(*store, "a"), kT0 + 4);
  EXPECT_EQ(states_.find("a")->durability.pending_offset, -1);
}

TEST_F(PendingWritesTest, InterleavedCustomersKeepTheirOwnSnapshotsAcrossPartialDrains) {
  auto store = open();
  for (std::int64_t offset = 0; offset < 100; ++offset) {
    record(offset, "c" + std::to_string(offset % 3), kT0 + offset);
    if (offset % 7 == 6) {
      // Deliveries trail by a few records.
      StateStore::Batch batch;
      pending_.drain_before(offset - 4, 0, states_, batch);
      batch.set_checkpoint(0, PartitionCheckpoint{offset - 4, {kT0 + offset}});
      ASSERT_TRUE(store->write(batch).ok());
      // c(k)'s checkpointed activity is that of its last record before offset - 4.
      for (int k = 0; k < 3; ++k) {
        std::int64_t last = -1;
        for (std::int64_t o = 0; o < offset - 4; ++o) {
          if (o % 3 == k) last = o;
        }
        if (last >= 0) {
          EXPECT_EQ(checkpointed_activity(*store, "c" + std::to_string(k)), kT0 + last);
        }
      }
    }
  }
}

TEST_F(StateStoreTest, LearntRoomLevelsAreRestoredWithTheirPartitionAndOnlyIt) {
  auto store = open();
  StateStore::Batch batch;
  const Uuid table{1, 2, 3};
  const Uuid counter{4, 5, 6};
  batch.put_room_level(0, table, LearnedLevel{-63.5F, 7.0F, kT0});
  batch.put_room_level(0, counter, LearnedLevel{-70.25F, 64.0F, kT0 + 5});
  batch.put_room_level(1, table, LearnedLevel{-50.0F, 1.0F, kT0});
  batch.set_checkpoint(0, PartitionCheckpoint{3, {kT0}});
  batch.set_checkpoint(1, PartitionCheckpoint{1, {kT0}});
  ASSERT_TRUE(store->write(batch).ok());
  ASSERT_TRUE(store->compact().ok());  // never expired by event time

  PartitionState restored;
  ASSERT_TRUE(store->restore(0, restored).ok());
  ASSERT_EQ(restored.room().size(), 2u);
  EXPECT_EQ(*restored.room().find(table), (LearnedLevel{-63.5F, 7.0F, kT0}));
  EXPECT_EQ(*restored.room().find(counter), (LearnedLevel{-70.25F, 64.0F, kT0 + 5}));
}

TEST_F(StateStoreTest, AMalformedRoomLevelFailsTheRestoreNamingIt) {
  auto store = open();
  StateStore::Batch batch;
  std::string key = customer_key(0, "");
  key.back() = 'b';
  key.append(16, '\x01');
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::string value(16, '\0');
  std::memcpy(value.data(), &nan, 4);
  ASSERT_TRUE(batch.put_raw(0, key, value).ok()) << "a room level is a state key";
  expect_restore_fails_naming(*store, batch, "room level");
}

TEST_F(PendingWritesTest, ACheckpointHoldsTheRoomLevelsAsTheirRecordsLeftThem) {
  auto store = open();
  const Uuid beacon{9};
  const std::vector<Uuid> learnt{beacon};
  // Two records, each moving the beacon's level: the second is not delivered yet.
  for (const auto& [offset, customer, level] : {std::tuple{10, "a", -60.0}, {11, "b", -70.0}}) {
    CustomerState& state = states_.find_or_create(customer);
    pending_.before_change(state);
    state.last_activity_ms = kT0 + offset;
    states_.room().learn(beacon, level, kT0 + offset);
    pending_.changed(offset, customer, state, std::nullopt, learnt, &states_.room());
  }

  StateStore::Batch batch;
  pending_.drain_before(11, 0, states_, batch);
  batch.set_checkpoint(0, PartitionCheckpoint{11, {kT0 + 11}});
  ASSERT_TRUE(store->write(batch).ok());
  PartitionState restored;
  ASSERT_TRUE(store->restore(0, restored).ok());
  ASSERT_NE(restored.room().find(beacon), nullptr);
  EXPECT_EQ(restored.room().find(beacon)->level_dbm, -60.0F);

  pending_.drain_before(12, 0, states_, batch);
  batch.set_checkpoint(0, PartitionCheckpoint{12, {kT0 + 11}});
  ASSERT_TRUE(store->write(batch).ok());
  PartitionState later;
  ASSERT_TRUE(store->restore(0, later).ok());
  EXPECT_EQ(*later.room().find(beacon), *states_.room().find(beacon));
}

}  // namespace
}  // namespace tastesync
