#include "rpc/pending_calls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace tastesync {
namespace {

using Clock = PendingCalls::Clock;
using std::chrono::milliseconds;

struct Outcome {
  int finished = 0;
  std::string event;  // "" when finished without one
};

PendingCalls::Finish recorder(Outcome& outcome) {
  return [&outcome](const std::string* event) {
    ++outcome.finished;
    outcome.event = event != nullptr ? *event : "";
  };
}

TEST(PendingCallsTest, AnEventFinishesEveryCallWaitingForItsSightingOnly) {
  PendingCalls calls(10);
  const auto later = Clock::now() + std::chrono::hours(1);
  Outcome first;
  Outcome second;
  Outcome other_sighting;
  Outcome other_customer;
  using Added = PendingCalls::Added;
  ASSERT_EQ(calls.add("cust1", "s1", later, recorder(first)), Added::waiting);
  // The app sent it twice.
  ASSERT_EQ(calls.add("cust1", "s1", later, recorder(second)), Added::waiting);
  ASSERT_EQ(calls.add("cust1", "s2", later, recorder(other_sighting)), Added::waiting);
  ASSERT_EQ(calls.add("cust2", "s1", later, recorder(other_customer)), Added::waiting);

  EXPECT_EQ(calls.complete("cust1", "s1", "{event}"), 2U);
  EXPECT_EQ(first.finished, 1);
  EXPECT_EQ(first.event, "{event}");
  EXPECT_EQ(second.finished, 1);
  EXPECT_EQ(other_sighting.finished, 0);
  EXPECT_EQ(other_customer.finished, 0);
  EXPECT_EQ(calls.complete("cust1", "s1", "{again}"), 0U);  // a redelivered event
  EXPECT_EQ(first.finished, 1);
  EXPECT_EQ(calls.size(), 2U);
}

TEST(PendingCallsTest, ExpiryFinishesOnlyCallsWhoseTimeIsUpInDeadlineOrder) {
  PendingCalls calls(10);
  const auto now = Clock::now();
  std::vector<int> order;
  calls.add("c", "late", now + milliseconds(300), [&](const std::string*) { order.push_back(3); });
  calls.add("c", "early", now + milliseconds(100), [&](const std::string*) { order.push_back(1); });
  calls.add("c", "mid", now + milliseconds(200), [&](const std::string*) { order.push_back(2); });
  EXPECT_EQ(calls.next_deadline(), now + milliseconds(100));
  EXPECT_EQ(calls.expire(now + milliseconds(99)), 0U);
  EXPECT_EQ(calls.expire(now + milliseconds(200)), 2U);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(calls.next_deadline(), now + milliseconds(300));
}

TEST(PendingCallsTest, TakeWinsOverALaterEventAndViceVersa) {
  PendingCalls calls(10);
  Outcome taken;
  std::uint64_t id = 0;
  ASSERT_EQ(calls.add("c", "s", Clock::now() + std::chrono::hours(1), recorder(taken), &id),
            PendingCalls::Added::waiting);
  EXPECT_TRUE(calls.take(id));
  EXPECT_EQ(calls.complete("c", "s", "{}"), 0U);
  EXPECT_EQ(taken.finished, 0);  // the taker answers it

  Outcome completed;
  std::uint64_t other = 0;
  calls.add("c", "t", Clock::now() + std::chrono::hours(1), recorder(completed), &other);
  calls.complete("c", "t", "{}");
  EXPECT_FALSE(calls.take(other));
  EXPECT_EQ(completed.finished, 1);
}

TEST(PendingCallsTest, CapacityBoundsTheTableAndCloseAnswersEveryCall) {
  PendingCalls calls(2);
  Outcome a;
  Outcome b;
  Outcome c;
  const auto later = Clock::now() + std::chrono::hours(1);
  using Added = PendingCalls::Added;
  EXPECT_EQ(calls.add("c", "1", later, recorder(a)), Added::waiting);
  EXPECT_EQ(calls.add("c", "2", later, recorder(b)), Added::waiting);
  EXPECT_EQ(calls.add("c", "3", later, recorder(c)), Added::full);
  calls.close();
  EXPECT_EQ(a.finished, 1);
  EXPECT_EQ(b.finished, 1);
  EXPECT_EQ(a.event, "");
  EXPECT_EQ(c.finished, 0);
  EXPECT_EQ(calls.add("c", "4", later, recorder(c)), Added::closed);
  EXPECT_EQ(c.finished, 0);
  EXPECT_EQ(calls.size(), 0U);
}

TEST(PendingCallsTest, EachCallIsFinishedExactlyOnceUnderConcurrentEventsExpiryAndTakes) {
  PendingCalls calls(100000);
  constexpr int kCalls = 3000;
  std::vector<std::atomic<int>> finished(kCalls);
  std::vector<std::uint64_t> ids(kCalls);
  const auto soon = Clock::now() + milliseconds(20);
  for (int i = 0; i < kCalls; ++i) {
    calls.add(
        "c", std::to_string(i), soon,
        [&finished, i](const std::string*) { ++finished[static_cast<std::size_t>(i)]; },
        &ids[static_cast<std::size_t>(i)]);
  }
  std::atomic<int> taken{0};
  std::jthread events([&] {
    for (int i = 0; i < kCalls; i += 2) calls.complete("c", std::to_string(i), "{}");
  });
  std::jthread takes([&] {
    for (int i = 1; i < kCalls; i += 3) {
      if (calls.take(ids[static_cast<std::size_t>(i)])) ++finished[static_cast<std::size_t>(i)];
    }
  });
  std::jthread expiry([&] {
    while (calls.size() > 0) {
      calls.expire(Clock::now());
      std::this_thread::yield();
    }
  });
  events.join();
  takes.join();
  expiry.join();
  for (int i = 0; i < kCalls; ++i) EXPECT_EQ(finished[static_cast<std::size_t>(i)], 1) << i;
}

TEST(PendingCallsTest, ACallForASightingWhoseEventAlreadyCameIsAnsweredAtOnce) {
  PendingCalls calls(10, 2);
  calls.complete("c", "retried", "{first}");  // nobody waited: its call had been answered
  Outcome retry;
  EXPECT_EQ(calls.add("c", "retried", Clock::now() + std::chrono::hours(1), recorder(retry)),
            PendingCalls::Added::answered);
  EXPECT_EQ(retry.finished, 1);
  EXPECT_EQ(retry.event, "{first}");
  EXPECT_EQ(calls.size(), 0U);
  // Only the latest two are kept.
  calls.complete("c", "second", "{second}");
  calls.complete("c", "third", "{third}");
  Outcome too_late;
  EXPECT_EQ(calls.add("c", "retried", Clock::now() + std::chrono::hours(1), recorder(too_late)),
            PendingCalls::Added::waiting);
  EXPECT_EQ(too_late.finished, 0);
}

TEST(PendingCallsTest, TheExpiryThreadWakesForACallThatArrivesWithAnEarlierDeadline) {
  PendingCalls calls(10);
  std::atomic<bool> late_done{false};
  std::atomic<bool> early_done{false};
  calls.add("c", "late", Clock::now() + std::chrono::hours(1),
            [&](const std::string*) { late_done = true; });
  std::jthread expirer([&](const std::stop_token& stop) { calls.expire_until(stop); });
  std::this_thread::sleep_for(milliseconds(50));  // the thread now sleeps towards the hour
  calls.add("c", "early", Clock::now() + milliseconds(30),
            [&](const std::string*) { early_done = true; });
  const auto until = Clock::now() + std::chrono::seconds(20);
  while (!early_done && Clock::now() < until) std::this_thread::sleep_for(milliseconds(5));
  EXPECT_TRUE(early_done);
  EXPECT_FALSE(late_done);
  expirer.request_stop();
}

}  // namespace
}  // namespace tastesync
