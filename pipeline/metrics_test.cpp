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

}  // namespace
}  // namespace tastesync
