#include "pipeline/cadence.hpp"

#include <gtest/gtest.h>

namespace tastesync {
namespace {

using cadence::checkpoint_due;
using cadence::kCheckpointIntervalNs;
using cadence::kCheckpointRecords;

constexpr std::int64_t kDueNs = 5 * kCheckpointIntervalNs;

TEST(Cadence, AnIdlePollCheckpointsAtOnce) {
  EXPECT_TRUE(checkpoint_due(true, 0, kDueNs, 0));
  EXPECT_TRUE(checkpoint_due(true, kDueNs - 1, kDueNs, 1));
}

TEST(Cadence, RecordsKeepComingCheckpointsOnlyOnceTheIntervalIsOver) {
  EXPECT_FALSE(checkpoint_due(false, kDueNs - kCheckpointIntervalNs, kDueNs, 100));
  EXPECT_FALSE(checkpoint_due(false, kDueNs - 1, kDueNs, 100));
  EXPECT_TRUE(checkpoint_due(false, kDueNs, kDueNs, 100));
  EXPECT_TRUE(checkpoint_due(false, kDueNs + kCheckpointIntervalNs, kDueNs, 100));
}

TEST(Cadence, APartitionHoldingTheRecordLimitCheckpointsBeforeTheInterval) {
  EXPECT_FALSE(checkpoint_due(false, 0, kDueNs, kCheckpointRecords - 1));
  EXPECT_TRUE(checkpoint_due(false, 0, kDueNs, kCheckpointRecords));
  EXPECT_TRUE(checkpoint_due(false, 0, kDueNs, 10 * kCheckpointRecords));
}

}  // namespace
}  // namespace tastesync
