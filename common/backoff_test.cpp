#include "common/backoff.hpp"

#include <gtest/gtest.h>

namespace tastesync {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, DoublesWithinJitterUpToTheCap) {
  Backoff backoff(milliseconds(100), milliseconds(5000), 42);
  std::int64_t step = 100;
  for (int attempt = 0; attempt < 40; ++attempt) {
    const auto wait = backoff.next().count();
    EXPECT_GE(wait, step / 2) << attempt;
    EXPECT_LE(wait, step) << attempt;
    step = std::min<std::int64_t>(step * 2, 5000);
  }
  EXPECT_EQ(backoff.attempts(), 40);
}

TEST(BackoffTest, ResetStartsOverAndSeedsSpreadInstances) {
  Backoff a(milliseconds(1000), milliseconds(5000), 1);
  Backoff b(milliseconds(1000), milliseconds(5000), 2);
  for (int i = 0; i < 5; ++i) (void)a.next();
  a.reset();
  EXPECT_LE(a.next().count(), 1000);
  bool differ = false;
  for (int i = 0; i < 10; ++i) differ = differ || a.next() != b.next();
  EXPECT_TRUE(differ);
}

}  // namespace
}  // namespace tastesync
