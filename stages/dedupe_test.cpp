#include "stages/dedupe.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "stages/stages_test_support.hpp"

namespace tastesync {
namespace {

const Location kTable3{"store100", "Table 3", LocationType::table};
const Location kTable4{"store100", "Table 4", LocationType::table};
const Location kOtherStoreTable3{"store200", "Table 3", LocationType::table};

using stage_testing::kT0;

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

// What the topology does: the customer's last activity includes the record before admit().
std::optional<SeenSighting> admit(const Dedupe& dedupe, CustomerState& state, const std::string& id,
                                  EpochMs t_ms) {
  state.last_activity_ms = std::max(state.last_activity_ms, t_ms);
  return dedupe.admit(state, id, t_ms);
}

TEST(Dedupe, SameSightingIdWithinTheWindowIsADuplicate) {
  const Dedupe dedupe;
  CustomerState state;
  const auto first = admit(dedupe, state, "s-1", kT0);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->id_hash, sighting_id_hash("s-1"));
  EXPECT_EQ(first->t_ms, kT0);
  EXPECT_FALSE(admit(dedupe, state, "s-1", kT0).has_value());
  EXPECT_FALSE(admit(dedupe, state, "s-1", kT0 + 120000).has_value());
  EXPECT_TRUE(admit(dedupe, state, "s-2", kT0).has_value());
}

TEST(Dedupe, SightingIdsAreForgottenAfterTheWindow) {
  const Dedupe dedupe;
  CustomerState state;
  EXPECT_TRUE(admit(dedupe, state, "s-1", kT0).has_value());
  EXPECT_TRUE(admit(dedupe, state, "s-2", kT0 + 120001).has_value());  // prunes s-1
  EXPECT_TRUE(admit(dedupe, state, "s-1", kT0 + 120002).has_value());
  EXPECT_EQ(state.seen.size(), 2u);
}

TEST(Dedupe, AnIdPastTheWindowIsIgnoredEvenIfStillPresent) {
  const Dedupe dedupe;
  CustomerState state;
  state.last_activity_ms = kT0 + 200000;
  state.seen.push_back({sighting_id_hash("old"), kT0});  // as a restore may bring it back
  EXPECT_TRUE(dedupe.admit(state, "old", kT0).has_value());
}

TEST(Dedupe, RememberedSightingIdsAreBoundedKeepingTheNewest) {
  const Dedupe dedupe;
  CustomerState state;
  const std::size_t total = CustomerState::kMaxSeen + 100;
  for (std::size_t i = 0; i < total; ++i) {
    EXPECT_TRUE(admit(dedupe, state, "s-" + std::to_string(i), kT0 + static_cast<EpochMs>(i)));
  }
  EXPECT_EQ(state.seen.size(), CustomerState::kMaxSeen);
  EXPECT_FALSE(admit(dedupe, state, "s-" + std::to_string(total - 1), kT0 + total - 1));
  EXPECT_TRUE(admit(dedupe, state, "s-0", kT0));  // evicted, so no longer a duplicate
}

TEST(Dedupe, NormalizingARestoredSupersetGivesTheLiveList) {
  const Dedupe dedupe;
  CustomerState live;
  std::vector<SeenSighting> everything_admitted;
  for (int i = 0; i < 900; ++i) {
    // Out of order and with ties, as phones deliver them.
    const EpochMs t = kT0 + (i * 7919) % 200000;
    if (const auto remembered = admit(dedupe, live, "s-" + std::to_string(i), t)) {
      everything_admitted.push_back(*remembered);
    }
  }
  CustomerState restored;
  restored.last_activity_ms = live.last_activity_ms;
  restored.seen = everything_admitted;  // RocksDB keeps every admitted id until compaction
  // ... and holds some twice: two checkpoints' groups overlapping after a crash re-processed
  // their records (docs/design.md#remembered-ids).
  restored.seen.insert(restored.seen.end(), everything_admitted.end() - 300,
                       everything_admitted.end());
  dedupe.normalize(restored);
  const auto order = [](const SeenSighting& a, const SeenSighting& b) {
    return a.t_ms != b.t_ms ? a.t_ms < b.t_ms : a.id_hash < b.id_hash;
  };
  std::sort(live.seen.begin(), live.seen.end(), order);
  std::sort(restored.seen.begin(), restored.seen.end(), order);
  ASSERT_EQ(live.seen.size(), restored.seen.size());
  for (std::size_t i = 0; i < live.seen.size(); ++i) {
    EXPECT_EQ(live.seen[i].id_hash, restored.seen[i].id_hash);
    EXPECT_EQ(live.seen[i].t_ms, restored.seen[i].t_ms);
  }
}

}  // namespace
}  // namespace tastesync
