#include "pipeline/backpressure.hpp"

#include <gtest/gtest.h>

namespace tastesync {
namespace {

TEST(Backpressure, APartitionIsPausedOnlyAboveTheLimit) {
  EXPECT_FALSE(Backpressure::should_pause(false, 0));
  EXPECT_FALSE(Backpressure::should_pause(false, Backpressure::kPauseAbove));
  EXPECT_TRUE(Backpressure::should_pause(false, Backpressure::kPauseAbove + 1));
}

TEST(Backpressure, APausedPartitionStaysPausedUntilBelowTheLowerMark) {
  EXPECT_TRUE(Backpressure::should_pause(true, Backpressure::kPauseAbove));
  EXPECT_TRUE(Backpressure::should_pause(true, Backpressure::kResumeBelow));
  EXPECT_FALSE(Backpressure::should_pause(true, Backpressure::kResumeBelow - 1));
  EXPECT_FALSE(Backpressure::should_pause(true, 0));
}

}  // namespace
}  // namespace tastesync
