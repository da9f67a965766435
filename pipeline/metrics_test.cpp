#include "pipeline/metrics.hpp"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

namespace tastesync {
namespace {

TEST(CounterTally, CountsReachTheirCountersOnlyWhenFlushedAndOnlyOnce) {
  prometheus::Registry registry;
  auto& family =
      prometheus::BuildCounter().Name("tally_test_total").Help("test").Register(registry);
  const std::array<prometheus::Counter*, 3> counters = {
      &family.Add({{"kind", "a"}}), &family.Add({{"kind", "b"}}), &family.Add({{"kind", "c"}})};
  CounterTally<3> tally(counters);
  tally.add(0);
  tally.add(2);
  tally.add(2);
  EXPECT_EQ(counters[0]->Value(), 0.0) << "nothing before the flush";
  tally.flush();
  EXPECT_EQ(counters[0]->Value(), 1.0);
  EXPECT_EQ(counters[1]->Value(), 0.0);
  EXPECT_EQ(counters[2]->Value(), 2.0);
  tally.flush();
  EXPECT_EQ(counters[2]->Value(), 2.0) << "a second flush adds nothing";
  tally.add(1);
  tally.flush();
  EXPECT_EQ(counters[1]->Value(), 1.0);
  EXPECT_EQ(counters[2]->Value(), 2.0);
}

// Batched, a histogram ends up exactly as if every value had been observed on its own: the same
// bucket for a value on a boundary, below the first and above the last, and the same sum.
TEST(BatchedHistogram, AFlushLeavesTheHistogramAsObservingEachValueWould) {
  prometheus::Registry registry;
  auto& family = prometheus::BuildHistogram().Name("batched_test").Help("test").Register(registry);
  const prometheus::Histogram::BucketBoundaries boundaries = {0.001, 0.01, 0.1, 1};
  prometheus::Histogram& direct = family.Add({{"how", "direct"}}, boundaries);
  prometheus::Histogram& batched_target = family.Add({{"how", "batched"}}, boundaries);
  BatchedHistogram batched(batched_target, boundaries);
  const double values[] = {0.0, 0.0005, 0.001, 0.002, 0.01, 0.05, 0.1, 0.7, 1.0, 3.0, 42.0};
  for (const double value : values) {
    direct.Observe(value);
    batched.observe(value);
  }
  EXPECT_EQ(batched_target.Collect().histogram.sample_count, 0u) << "nothing before the flush";
  batched.flush();
  const prometheus::ClientMetric::Histogram want = direct.Collect().histogram;
  const prometheus::ClientMetric::Histogram got = batched_target.Collect().histogram;
  EXPECT_EQ(got.sample_count, 11u);
  EXPECT_EQ(got.sample_count, want.sample_count);
  EXPECT_DOUBLE_EQ(got.sample_sum, want.sample_sum);
  ASSERT_EQ(got.bucket.size(), want.bucket.size());
  for (std::size_t i = 0; i < want.bucket.size(); ++i) {
    EXPECT_EQ(got.bucket[i].cumulative_count, want.bucket[i].cumulative_count) << "bucket " << i;
  }
  batched.flush();
  EXPECT_EQ(batched_target.Collect().histogram.sample_count, 11u) << "a second flush adds nothing";
  batched.observe(0.05);
  batched.flush();
  EXPECT_EQ(batched_target.Collect().histogram.sample_count, 12u);
}

}  // namespace
}  // namespace tastesync
