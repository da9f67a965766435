#include "pipeline/offset_tracker.hpp"

#include <gtest/gtest.h>

namespace tastesync {
namespace {

TEST(OffsetTracker, NothingIsCommittableBeforeTheFirstRecordIsDone) {
  OffsetTracker tracker;
  tracker.offer(10, 0, PartitionProgress{100});
  tracker.offer(11, 0, PartitionProgress{200});
  EXPECT_FALSE(tracker.advance().has_value());
}

TEST(OffsetTracker, OutOfOrderCompletionCommitsOnlyUpToTheFirstGap) {
  OffsetTracker tracker;
  tracker.offer(10, 0, PartitionProgress{100});
  tracker.offer(11, 0, PartitionProgress{200});
  tracker.offer(12, 0, PartitionProgress{300});
  ASSERT_TRUE(tracker.complete(11).has_value());
  EXPECT_FALSE(tracker.advance().has_value());
  ASSERT_TRUE(tracker.complete(10).has_value());
  const auto position = tracker.advance();
  ASSERT_TRUE(position.has_value());
  EXPECT_EQ(position->next_offset, 12);
  EXPECT_EQ(position->progress.watermark_ms, 200);
  EXPECT_EQ(tracker.in_flight(), 1u);
}

TEST(OffsetTracker, GapsInOffsetsAreAllowed) {
  OffsetTracker tracker;
  tracker.offer(5, 0, PartitionProgress{1});
  tracker.offer(9, 0, PartitionProgress{2});
  ASSERT_TRUE(tracker.complete(9).has_value());
  ASSERT_TRUE(tracker.complete(5).has_value());
  const auto position = tracker.advance();
  ASSERT_TRUE(position.has_value());
  EXPECT_EQ(position->next_offset, 10);
}

TEST(OffsetTracker, CompletingAnUnknownOrAlreadyDoneOffsetIsRejected) {
  OffsetTracker tracker;
  tracker.offer(1, 42, PartitionProgress{0});
  EXPECT_FALSE(tracker.complete(2).has_value());
  EXPECT_EQ(tracker.complete(1), std::optional<std::int64_t>(42));
  EXPECT_FALSE(tracker.complete(1).has_value());
}

TEST(OffsetTracker, AdvanceWithNothingNewReturnsNothing) {
  OffsetTracker tracker;
  tracker.offer(1, 0, PartitionProgress{0});
  ASSERT_TRUE(tracker.complete(1).has_value());
  EXPECT_TRUE(tracker.advance().has_value());
  EXPECT_FALSE(tracker.advance().has_value());
  EXPECT_EQ(tracker.in_flight(), 0u);
}

}  // namespace
}  // namespace tastesync
