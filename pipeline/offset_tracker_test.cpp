#include "pipeline/offset_tracker.hpp"

#include <gtest/gtest.h>

#include <vector>

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

// A checkpoint cut before the frontier (docs/design.md#checkpoint-cuts): the records at and
// after the cut stay, done, and the next advance takes them.
TEST(OffsetTracker, AdvanceStopsBelowTheLimitItIsGiven) {
  OffsetTracker tracker;
  EXPECT_FALSE(tracker.done_frontier().has_value());
  for (std::int64_t offset = 10; offset < 15; ++offset) {
    tracker.offer(offset, 0, PartitionProgress{offset * 100});
  }
  for (std::int64_t offset = 10; offset < 14; ++offset) {
    ASSERT_TRUE(tracker.complete(offset).has_value());
  }
  EXPECT_EQ(tracker.done_frontier(), std::optional<std::int64_t>(14));
  EXPECT_FALSE(tracker.advance(10).has_value()) << "nothing below the limit";
  const auto cut = tracker.advance(12);
  ASSERT_TRUE(cut.has_value());
  EXPECT_EQ(cut->next_offset, 12);
  EXPECT_EQ(cut->progress.watermark_ms, 1100);
  EXPECT_EQ(tracker.in_flight(), 3u);
  EXPECT_EQ(tracker.done_frontier(), std::optional<std::int64_t>(14));
  const auto rest = tracker.advance();
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(rest->next_offset, 14);
  EXPECT_EQ(tracker.in_flight(), 1u);
  EXPECT_FALSE(tracker.done_frontier().has_value());
}

// Reports in offset order take the tracker's shortcut (the entry after the last one completed):
// across its compactions it still refuses a second report and a dropped offset.
TEST(OffsetTracker, InOrderReportsAcrossCompactions) {
  OffsetTracker tracker;
  std::int64_t offered = 0;
  std::int64_t completed = 0;
  for (int round = 0; round < 20; ++round) {
    for (int k = 0; k < 400; ++k, ++offered) {
      tracker.offer(offered, offered, PartitionProgress{offered});
    }
    for (int k = 0; k < 300; ++k, ++completed) {
      ASSERT_EQ(tracker.complete(completed), std::optional<std::int64_t>(completed));
      ASSERT_FALSE(tracker.complete(completed).has_value()) << "a second report";
    }
    const auto position = tracker.advance();
    ASSERT_TRUE(position.has_value());
    EXPECT_EQ(position->next_offset, completed);
    EXPECT_EQ(position->progress.watermark_ms, completed - 1);
    EXPECT_FALSE(tracker.complete(completed - 1).has_value()) << "dropped";
    EXPECT_EQ(tracker.in_flight(), static_cast<std::size_t>(offered - completed));
  }
  EXPECT_FALSE(tracker.complete(offered).has_value()) << "never offered";
}

// The pipeline's own order: a record the stages drop is done as it is offered, and the delivery
// reports of the others follow in offset order, stepping over the dropped ones.
TEST(OffsetTracker, DropsAtOfferThenReportsInOrderBetweenThem) {
  OffsetTracker tracker;
  std::vector<std::int64_t> delivered;
  for (std::int64_t offset = 0; offset < 3000; ++offset) {
    tracker.offer(offset, offset, PartitionProgress{offset});
    if (offset % 3 == 0) {
      ASSERT_EQ(tracker.complete(offset), std::optional<std::int64_t>(offset)) << "dropped";
    } else {
      delivered.push_back(offset);
    }
  }
  EXPECT_EQ(tracker.done_frontier(), std::optional<std::int64_t>(1));
  for (const std::int64_t offset : delivered) {
    ASSERT_EQ(tracker.complete(offset), std::optional<std::int64_t>(offset));
  }
  for (std::int64_t offset = 0; offset < 3000; offset += 7) {
    EXPECT_FALSE(tracker.complete(offset).has_value()) << "done already: " << offset;
  }
  const auto position = tracker.advance();
  ASSERT_TRUE(position.has_value());
  EXPECT_EQ(position->next_offset, 3000);
  EXPECT_EQ(tracker.in_flight(), 0u);
}

// Thousands in flight, done in a scrambled order and advanced now and then: the frontier is always
// the first record not done, across the tracker's compactions, and a done or dropped offset is
// never accepted again.
TEST(OffsetTracker, AFrontierOverThousandsOfRecordsDoneOutOfOrder) {
  OffsetTracker tracker;
  constexpr std::int64_t kRecords = 5000;
  for (std::int64_t offset = 0; offset < kRecords; ++offset) {
    tracker.offer(offset, offset, PartitionProgress{offset * 10});
  }
  std::vector<bool> done(kRecords, false);
  std::int64_t frontier = 0;
  // 7919 is prime, so i * 7919 mod 5000 visits every offset once, far from in order.
  for (std::int64_t i = 0; i < kRecords; ++i) {
    const std::int64_t offset = i * 7919 % kRecords;
    ASSERT_EQ(tracker.complete(offset), std::optional<std::int64_t>(offset));
    done[static_cast<std::size_t>(offset)] = true;
    if (i % 97 != 0 && i + 1 != kRecords) continue;
    const std::int64_t before = frontier;
    while (frontier < kRecords && done[static_cast<std::size_t>(frontier)]) ++frontier;
    const auto position = tracker.advance();
    if (frontier == before) {
      EXPECT_FALSE(position.has_value());
    } else {
      ASSERT_TRUE(position.has_value());
      EXPECT_EQ(position->next_offset, frontier);
      EXPECT_EQ(position->progress.watermark_ms, (frontier - 1) * 10);
    }
    EXPECT_EQ(tracker.in_flight(), static_cast<std::size_t>(kRecords - frontier));
    if (frontier > 0) {
      EXPECT_FALSE(tracker.complete(frontier - 1).has_value());
    }
  }
  EXPECT_EQ(frontier, kRecords);
  EXPECT_EQ(tracker.in_flight(), 0u);
  tracker.offer(kRecords, 0, PartitionProgress{1});
  EXPECT_EQ(tracker.in_flight(), 1u);
}

}  // namespace
}  // namespace tastesync
