#include "dedupe.hpp"

#include <gtest/gtest.h>

namespace tastesync {
namespace {

const Location kTable3{"store100", "Table 3", LocationType::table};
const Location kTable4{"store100", "Table 4", LocationType::table};
const Location kOtherStoreTable3{"store200", "Table 3", LocationType::table};

constexpr EpochMs kT0 = 1740916800000;  // 2025-03-02T12:00:00Z

TEST(Dedupe, FirstIdentificationIsAnArrival) {
  const Dedupe dedupe;
  const CustomerState state;
  const auto decision = dedupe.decide(state, kTable3, kT0);
  EXPECT_TRUE(decision.emit);
  EXPECT_EQ(decision.kind, IdentificationKind::arrival);
}

TEST(Dedupe, SameLocationWithinAMinuteIsSuppressed) {
  const Dedupe dedupe;
  CustomerState state;
  dedupe.record_emitted(state, kTable3, kT0);
  const auto decision = dedupe.decide(state, kTable3, kT0 + 59999);
  EXPECT_FALSE(decision.emit);
  EXPECT_EQ(decision.reason, DropReason::suppressed);
}

TEST(Dedupe, SameLocationAMinuteLaterIsStillHere) {
  const Dedupe dedupe;
  CustomerState state;
  dedupe.record_emitted(state, kTable3, kT0);
  const auto decision = dedupe.decide(state, kTable3, kT0 + 60000);
  EXPECT_TRUE(decision.emit);
  EXPECT_EQ(decision.kind, IdentificationKind::still_here);
}

TEST(Dedupe, SuppressedIdentificationsDoNotExtendTheMinute) {
  const Dedupe dedupe;
  CustomerState state;
  dedupe.record_emitted(state, kTable3, kT0);
  // Suppressed decisions are not recorded: the minute still runs from kT0.
  EXPECT_FALSE(dedupe.decide(state, kTable3, kT0 + 30000).emit);
  EXPECT_FALSE(dedupe.decide(state, kTable3, kT0 + 59000).emit);
  EXPECT_TRUE(dedupe.decide(state, kTable3, kT0 + 60000).emit);
}

TEST(Dedupe, MoveToAnotherTableWithinAMinuteEmitsAtOnce) {
  const Dedupe dedupe;
  CustomerState state;
  dedupe.record_emitted(state, kTable3, kT0);
  const auto decision = dedupe.decide(state, kTable4, kT0 + 1);
  EXPECT_TRUE(decision.emit);
  EXPECT_EQ(decision.kind, IdentificationKind::move);
}

TEST(Dedupe, ReturnToThePreviousTableIsANewEvent) {
  const Dedupe dedupe;
  CustomerState state;
  dedupe.record_emitted(state, kTable3, kT0);
  dedupe.record_emitted(state, kTable4, kT0 + 5000);
  const auto decision = dedupe.decide(state, kTable3, kT0 + 10000);
  EXPECT_TRUE(decision.emit);
  EXPECT_EQ(decision.kind, IdentificationKind::move);
}

TEST(Dedupe, AnotherStoreIsAnArrival) {
  const Dedupe dedupe;
  CustomerState state;
  dedupe.record_emitted(state, kTable3, kT0);
  const auto decision = dedupe.decide(state, kOtherStoreTable3, kT0 + 1000);
  EXPECT_TRUE(decision.emit);
  EXPECT_EQ(decision.kind, IdentificationKind::arrival);
}

TEST(Dedupe, EventTimeAtOrBeforeTheLastEmittedIsLate) {
  const Dedupe dedupe;
  CustomerState state;
  dedupe.record_emitted(state, kTable3, kT0);
  EXPECT_EQ(dedupe.decide(state, kTable4, kT0).reason, DropReason::late);
  EXPECT_FALSE(dedupe.decide(state, kTable4, kT0).emit);
  EXPECT_EQ(dedupe.decide(state, kTable3, kT0 - 70000).reason, DropReason::late);
}

TEST(Dedupe, IntervalIsConfigurable) {
  const Dedupe dedupe(DedupeOptions{.interval_ms = 1000, .duplicate_window_ms = 120000});
  CustomerState state;
  dedupe.record_emitted(state, kTable3, kT0);
  EXPECT_TRUE(dedupe.decide(state, kTable3, kT0 + 1000).emit);
}

TEST(Dedupe, SameSightingIdWithinTheWindowIsADuplicate) {
  const Dedupe dedupe;
  CustomerState state;
  EXPECT_FALSE(dedupe.is_duplicate(state, "s-1", kT0));
  EXPECT_TRUE(dedupe.is_duplicate(state, "s-1", kT0));
  EXPECT_TRUE(dedupe.is_duplicate(state, "s-1", kT0 + 120000));
  EXPECT_FALSE(dedupe.is_duplicate(state, "s-2", kT0));
}

TEST(Dedupe, SightingIdsAreForgottenAfterTheWindow) {
  const Dedupe dedupe;
  CustomerState state;
  EXPECT_FALSE(dedupe.is_duplicate(state, "s-1", kT0));
  EXPECT_FALSE(dedupe.is_duplicate(state, "s-2", kT0 + 120001));  // prunes s-1
  EXPECT_FALSE(dedupe.is_duplicate(state, "s-1", kT0 + 120002));
  EXPECT_EQ(state.seen.size(), 2u);
}

TEST(Dedupe, RememberedSightingIdsAreBounded) {
  const Dedupe dedupe;
  CustomerState state;
  for (std::size_t i = 0; i < CustomerState::kMaxSeen + 100; ++i) {
    EXPECT_FALSE(dedupe.is_duplicate(state, "s-" + std::to_string(i), kT0));
  }
  EXPECT_EQ(state.seen.size(), CustomerState::kMaxSeen);
  // The newest are kept.
  EXPECT_TRUE(dedupe.is_duplicate(state, "s-" + std::to_string(CustomerState::kMaxSeen + 99), kT0));
}

}  // namespace
}  // namespace tastesync
