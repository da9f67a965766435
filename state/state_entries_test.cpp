#include "state/state_entries.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "stages/stages_test_support.hpp"

namespace tastesync {
namespace {

using stage_testing::kT0;

constexpr EpochMs kNoCanonicalForm = std::numeric_limits<EpochMs>::min();

PartitionCheckpoint sample_checkpoint() {
  PartitionCheckpoint checkpoint;
  checkpoint.next_offset = 812;
  checkpoint.progress.watermark_ms = kT0;
  checkpoint.progress.recent_candidates_ms = {kT0 + 3, kT0 + 2, kT0 + 1};
  checkpoint.progress.evicted_below_offset = 40;
  return checkpoint;
}

std::string group_of(const std::vector<RememberedId>& ids) {
  std::string value;
  for (const RememberedId& id : ids) {
    put_i64(value, static_cast<std::int64_t>(id.id_hash));
    put_i64(value, id.t_ms);
    put_i64(value, id.offset);
  }
  return value;
}

const std::string kGroupTag = std::string(1, kSeenGroupTag) + std::string(8, '\0');

TEST(StateEntries, ACheckpointRoundTrips) {
  const auto decoded = decode_checkpoint(encode_checkpoint(sample_checkpoint()));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->next_offset, 812);
  EXPECT_EQ(decoded->progress.watermark_ms, kT0);
  EXPECT_EQ(decoded->progress.recent_candidates_ms[2], kT0 + 1);
  EXPECT_EQ(decoded->progress.evicted_below_offset, 40);
}

// From the changelog topic, where anyone who may produce to it can write: a checkpoint whose
// watermark a restore could not subtract the expiry lag from is malformed, not a crash.
TEST(StateEntries, ACheckpointOutsideWhatKafkaAndEventTimeCanGiveIsRefused) {
  PartitionCheckpoint checkpoint = sample_checkpoint();
  checkpoint.progress.watermark_ms = kNoCanonicalForm;
  EXPECT_FALSE(decode_checkpoint(encode_checkpoint(checkpoint)));
  EXPECT_FALSE(decode_checkpoint(encode_checkpoint(checkpoint).substr(0, 16)))
      << "the first version's layout too";
  checkpoint = sample_checkpoint();
  checkpoint.progress.recent_candidates_ms[1] = std::numeric_limits<EpochMs>::max();
  EXPECT_FALSE(decode_checkpoint(encode_checkpoint(checkpoint)));
  checkpoint = sample_checkpoint();
  checkpoint.next_offset = -5;
  EXPECT_FALSE(decode_checkpoint(encode_checkpoint(checkpoint)));
  checkpoint = sample_checkpoint();
  checkpoint.progress.evicted_below_offset = -2;
  EXPECT_FALSE(decode_checkpoint(encode_checkpoint(checkpoint)));
}

TEST(StateEntries, AGroupWithOneTimeWithoutCanonicalFormPassesOnNoId) {
  const std::vector<RememberedId> good = {{1, kT0, 10}, {2, kT0 + 5, 11}};
  std::vector<RememberedId> seen;
  const auto collect = [&seen](const RememberedId& id) { seen.push_back(id); };
  ASSERT_TRUE(for_each_remembered(kGroupTag, group_of(good), collect));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].t_ms, kT0 + 5);

  seen.clear();
  const std::vector<RememberedId> bad = {{1, kT0, 10}, {2, kNoCanonicalForm, 11}};
  EXPECT_FALSE(for_each_remembered(kGroupTag, group_of(bad), collect));
  EXPECT_TRUE(seen.empty());

  std::string one_id;
  put_i64(one_id, kNoCanonicalForm);
  put_i64(one_id, 3);
  EXPECT_FALSE(for_each_remembered(std::string(8, 'h'), one_id, collect)) << "a key of one id";
  EXPECT_TRUE(seen.empty());
}

TEST(StateEntries, ARoomLevelRoundTripsAndOneWithoutCanonicalTimeIsRefused) {
  LearnedLevel level;
  level.level_dbm = -61.5F;
  level.samples = 12.0F;
  level.updated_ms = kT0;
  const auto decoded = decode_room_level(encode_room_level(level));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->level_dbm, -61.5F);
  EXPECT_EQ(decoded->updated_ms, kT0);
  level.updated_ms = kNoCanonicalForm;
  EXPECT_FALSE(decode_room_level(encode_room_level(level)));
}

TEST(StateEntries, TheSightingIdTagIsWhatFollowsTheCustomerId) {
  std::string key;
  append_partition_prefix(key, 300);
  key.push_back('s');
  key.append("cust7");
  key.push_back('\0');
  key.append(kGroupTag);
  EXPECT_EQ(prefix_partition(key), 300);
  ASSERT_TRUE(seen_tag(key));
  EXPECT_EQ(*seen_tag(key), kGroupTag);
  EXPECT_FALSE(seen_tag(key.substr(0, 11))) << "no NUL: no tag";
}

}  // namespace
}  // namespace tastesync
