#include "stages/location_filter.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "stages/scoring_test_fixture.hpp"

namespace tastesync {
namespace {

using LocationFilterTest = stage_testing::ScoringTest<LocationFilter>;
using stage_testing::kT0;

TEST_F(LocationFilterTest, ALouderReadingIsNeverLessEvidenceForItsLocation) {
  const double sigma = model_.evidence_sigma_db(CustomerState{});
  const auto ratio_at = [&](double level, double radius) {
    return model_.likelihood_ratio(level, radius, sigma);
  };
  double previous = 0.0;
  for (double level = -40.0; level <= 20.0; level += 0.5) {
    const double ratio = ratio_at(level, 1.0);
    EXPECT_GE(ratio, previous) << "at " << level << " dB";
    previous = ratio;
  }
  EXPECT_GT(ratio_at(6.0, 1.0), 5.0) << "0.5 m from a table's beacon";
  EXPECT_LT(ratio_at(-15.0, 1.0), 0.3) << "5.6 m from it";
  EXPECT_GT(ratio_at(-15.0, 1.0), 0.1)
      << "15 dB down may be a body in the way: one such reading never rules its location out";
  EXPECT_LT(ratio_at(-40.0, 1.0), 0.05) << "no body takes 40 dB off a beacon within a metre";
  EXPECT_GT(ratio_at(-6.0, 3.0), ratio_at(-6.0, 1.0))
      << "2 m is within an entrance's 3 m, not within a table's 1 m";
  EXPECT_GT(ratio_at(6.0, 1.0), model_.likelihood_ratio(6.0, 1.0, 2.0 * sigma))
      << "noisier readings say less";
}

TEST_F(LocationFilterTest, TheCustomersScatterIsLearntFromTheirReadings) {
  const double quiet = model_.evidence_sigma_db(state_);
  // A phone whose readings of one beacon jump by 8 dB either way.
  for (int s = 0; s < 200; ++s) (void)hear(13, s % 2 == 0 ? -52 : -68, kT0 + s * 500);
  EXPECT_GT(state_.reading_variance, 40.0F);
  EXPECT_GT(model_.evidence_sigma_db(state_), quiet + 2.0);
}

TEST_F(LocationFilterTest, BeliefsStayAProbabilityWhateverArrives) {
  // Readings of five beacons in any order and at any level, some out of order, a QR scan now
  // and then: every belief stays in [0, 1] and together they never exceed 1.
  std::uint32_t seed = 7;
  const auto next = [&seed](std::uint32_t range) {
    seed = seed * 1664525U + 1013904223U;
    return (seed >> 8) % range;
  };
  const std::uint16_t minors[] = {1, 13, 14, 15, 20};
  EpochMs t = kT0;
  for (int i = 0; i < 3000; ++i) {
    t += static_cast<EpochMs>(next(1500)) - 200;
    (void)hear(minors[next(5)], -40 - static_cast<int>(next(60)), t);
    if (next(100) == 0) {
      Sighting qr;
      qr.source = Source::qr;
      qr.qr_code = "TS-store100-T3";
      const auto resolved = Resolver(registry_).resolve(qr);
      ASSERT_TRUE(resolved.ok());
      EXPECT_EQ(model_.score_qr(state_, *resolved, *registry_).confidence, 1.0);
    }
    double total = 0.0;
    for (const BeaconTrack& track : state_.tracks) {
      ASSERT_GE(track.belief, 0.0F);
      ASSERT_LE(track.belief, 1.0F);
      total += track.belief;
    }
    ASSERT_LE(total, 1.0 + 1e-5) << "after reading " << i;
  }
}

TEST_F(LocationFilterTest, TheIssuesClearCaseIsIdentifiedWithinASecond) {
  // 0.7 m from Table 5's beacon (-56 dBm, calibrated -59), about 7 m from Table 6's (-76),
  // each read about three times a second.
  std::optional<EpochMs> identified_at;
  for (int i = 0; i < 10 && !identified_at; ++i) {
    const EpochMs t = kT0 + i * 330;
    const auto table_5 = hear(15, -56, t);
    if (table_5.ok() && table_5->location->name == "Table 5") identified_at = t;
    (void)hear(16, -76, t + 150);
  }
  ASSERT_TRUE(identified_at.has_value()) << "never identified";
  EXPECT_LE(*identified_at - kT0, 1000);
}

TEST_F(LocationFilterTest, EntranceThenTableThenCounterEachOnceAndPromptly) {
  // At the host stand (entrance -55 dBm, calibrated -62), a walk, seated at Table 3 for a
  // minute, a walk, then at the counter (-56, calibrated -61); every beacon read once a second,
  // the far ones weak.
  struct Phase {
    int seconds;
    int entrance, table_3, counter;
  };
  const Phase phases[] = {{5, -55, -75, -80},
                          {3, -68, -66, -78},
                          {60, -76, -52, -74},
                          {3, -78, -66, -68},
                          {30, -80, -74, -56}};
  std::vector<std::pair<std::string, EpochMs>> changes;
  std::vector<EpochMs> phase_start;
  EpochMs t = kT0;
  for (const Phase& phase : phases) {
    phase_start.push_back(t);
    for (int s = 0; s < phase.seconds; ++s, t += 1000) {
      for (const auto& [minor, rssi, offset] :
           {std::tuple{1, phase.entrance, 0}, std::tuple{13, phase.table_3, 250},
            std::tuple{20, phase.counter, 500}}) {
        const auto result = hear(static_cast<std::uint16_t>(minor), rssi, t + offset);
        if (!result.ok()) continue;
        if (changes.empty() || changes.back().first != result->location->name) {
          changes.emplace_back(result->location->name, t + offset);
        }
        emitted(*result, t + offset);
      }
    }
  }
  ASSERT_EQ(changes.size(), 3u) << "not entrance, table, counter: ends at " << changes.back().first;
  EXPECT_EQ(changes[0].first, "Entrance");
  EXPECT_EQ(changes[1].first, "Table 3");
  EXPECT_EQ(changes[2].first, "Counter");
  EXPECT_LE(changes[0].second - phase_start[0], 1000) << "the entrance at the first readings";
  EXPECT_LE(changes[1].second - phase_start[2], 3000) << "seated";
  EXPECT_LE(changes[2].second - phase_start[4], 5000) << "at the counter";
}

TEST_F(LocationFilterTest, AStillHereNeedsAReadingThatSpeaksForTheLocation) {
  // Seated at Table 3 for half a minute, and emitted there.
  for (int s = 0; s < 30; ++s) {
    const auto seated = hear(13, -52, kT0 + s * 1000);
    if (seated.ok()) emitted(*seated, kT0 + s * 1000);
  }
  ASSERT_TRUE(state_.last_emitted.has_value());
  // Walking off: the sticky belief still names Table 3, but a weak reading of its beacon, or a
  // reading of another beacon, confirms nothing (no heartbeat for a table just left).
  const auto weak = hear(13, -72, kT0 + 30000);
  ASSERT_FALSE(weak.ok());
  EXPECT_EQ(weak.error(), DropReason::suppressed);
  const auto elsewhere = hear(20, -62, kT0 + 30300);
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_EQ(elsewhere.error(), DropReason::suppressed);
  // Still there after all: its beacon read near confirms it.
  const auto near = hear(13, -52, kT0 + 31000);
  ASSERT_TRUE(near.ok()) << drop_reason_name(near.error());
  EXPECT_EQ(near->location->name, "Table 3");
}

TEST_F(LocationFilterTest, ReadingsCloserThanTheCorrelationTimeCountLessEach) {
  ScoreOptions independent;
  independent.evidence_corr_s = 0.0;
  const LocationFilter every_reading_alike(independent);
  // Table 3's belief after `count` readings 0.7 m from its beacon, `step_ms` apart.
  const auto belief_after = [&](const LocationFilter& model, EpochMs step_ms, int count = 4) {
    CustomerState state;
    for (int i = 0; i < count; ++i) {
      const Sighting sighting = reading(13, -56, kT0 + i * step_ms);
      const auto resolved = Resolver(registry_).resolve(sighting);
      EXPECT_TRUE(resolved.ok());
      (void)model.score_beacon(state, sighting, *resolved, *registry_);
    }
    const LocationBeliefs beliefs = LocationFilter::location_beliefs(state);
    const LocationBelief* best = beliefs.most_likely();
    EXPECT_NE(best, nullptr);
    return best == nullptr ? 0.0 : best->probability;
  };
  EXPECT_DOUBLE_EQ(belief_after(model_, 1000), belief_after(every_reading_alike, 1000))
      << "one reading a second counts score.evidence_weight, whatever score.evidence_corr_s";
  EXPECT_LT(belief_after(model_, 330), belief_after(every_reading_alike, 330))
      << "three a second repeat part of each other's error";
  EXPECT_GT(belief_after(model_, 330), belief_after(model_, 330, 1)) << "each still adds some";
}

TEST_F(LocationFilterTest, ReadingsASecondOrMoreApartCountFullyBitForBit) {
  // evidence_weight skips its expm1 from one second on, where the share it would give is capped
  // at 1 anyway: the beliefs must be exactly those of readings that all count fully.
  ScoreOptions independent;
  independent.evidence_corr_s = 0.0;
  const LocationFilter every_reading_alike(independent);
  const auto beliefs_after = [&](const LocationFilter& model, EpochMs step_ms) {
    CustomerState state;
    std::vector<float> beliefs;
    for (int i = 0; i < 6; ++i) {
      const Sighting sighting = reading(13, -60 + i % 3, kT0 + i * step_ms);
      const auto resolved = Resolver(registry_).resolve(sighting);
      EXPECT_TRUE(resolved.ok());
      (void)model.score_beacon(state, sighting, *resolved, *registry_);
      for (const BeaconTrack& track : state.tracks) beliefs.push_back(track.belief);
    }
    return beliefs;
  };
  for (const double corr_s : {1e-300, 0.001, 0.03, 0.25, 1.0, 3.0, 60.0, 3600.0}) {
    ScoreOptions options;
    options.evidence_corr_s = corr_s;
    const LocationFilter correlated(options);
    for (const EpochMs step_ms : {1000, 1001, 1999, 7000}) {
      EXPECT_EQ(beliefs_after(correlated, step_ms), beliefs_after(every_reading_alike, step_ms))
          << "evidence_corr_s " << corr_s << ", readings " << step_ms << " ms apart";
    }
  }
  ScoreOptions options;
  options.evidence_corr_s = 1.0;
  EXPECT_NE(beliefs_after(LocationFilter(options), 999), beliefs_after(every_reading_alike, 999))
      << "just under a second, a reading still counts less";
}

TEST_F(LocationFilterTest, AMoveToAnotherTableNeedsTheMoveConfidence) {
  // Seated at Table 3 and emitted there; then Table 4 reads near and Table 3 far.
  for (int s = 0; s < 30; ++s) {
    const auto seated = hear(13, -52, kT0 + s * 1000);
    if (seated.ok()) emitted(*seated, kT0 + s * 1000);
  }
  ASSERT_TRUE(state_.last_emitted.has_value());
  std::optional<EpochMs> moved_at;
  bool pending_between = false;
  for (int s = 30; s < 90 && !moved_at; ++s) {
    const EpochMs t = kT0 + s * 1000;
    (void)hear(13, -72, t);
    const auto table_4 = hear(14, -52, t + 300);
    const LocationBeliefs beliefs = LocationFilter::location_beliefs(state_);
    const LocationBelief* best = beliefs.most_likely();
    ASSERT_NE(best, nullptr);
    const double p = round_confidence(best->probability);
    if (table_4.ok()) {
      EXPECT_EQ(table_4->location->name, "Table 4");
      EXPECT_GE(table_4->confidence, ScoreOptions{}.move_min_confidence);
      moved_at = t;
    } else if (registry_->location(best->location_index).name == "Table 4" &&
               p >= ScoreOptions{}.min_confidence) {
      EXPECT_EQ(table_4.error(), DropReason::pending_move) << "at " << p;
      pending_between = true;
    }
  }
  ASSERT_TRUE(moved_at.has_value()) << "never moved";
  EXPECT_TRUE(pending_between) << "the posterior never sat between 0.8 and the move confidence";
  EXPECT_LE(*moved_at - (kT0 + 30000), 15000);
}

TEST_F(LocationFilterTest, HalfwayBetweenTwoTablesIsNeverIdentifiedAtEither) {
  // 1.15 m from each (-60 dBm), for two minutes.
  const auto names = alternate(13, -60, 14, -60, kT0, 120);
  EXPECT_TRUE(names.empty()) << names.front();
}

TEST_F(LocationFilterTest, ASeatedCustomerStaysThroughMissedAndBlockedReadings) {
  for (int s = 0; s < 30; ++s) (void)hear(13, -52, kT0 + s * 1000);
  const auto seated = hear(13, -52, kT0 + 30000);
  ASSERT_TRUE(seated.ok());
  emitted(*seated, kT0 + 30000);
  // Ten seconds in which Table 3 is not heard and then heard 15 dB down (a body in the way),
  // while Table 4 two metres off reads as usual.
  for (int s = 1; s <= 10; ++s) {
    const auto result = hear(14, -65, kT0 + 30000 + s * 1000);
    EXPECT_TRUE(!result.ok() || result->location->name == "Table 3") << "moved at " << s << " s";
  }
  for (int s = 11; s <= 16; ++s) {
    const auto result = hear(13, -67, kT0 + 30000 + s * 1000);
    EXPECT_TRUE(!result.ok() || result->location->name == "Table 3") << "moved at " << s << " s";
  }
}

TEST_F(LocationFilterTest, AQrScanPutsTheBeliefAtItsLocation) {
  for (int s = 0; s < 5; ++s) {
    (void)hear(13, -62, kT0 + s * 1000);  // 1.4 m from Table 3, 2 m from Table 4
    (void)hear(14, -65, kT0 + s * 1000 + 300);
  }
  Sighting qr;
  qr.source = Source::qr;
  qr.qr_code = "TS-store100-T4";
  const auto resolved = Resolver(registry_).resolve(qr);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(model_.score_qr(state_, *resolved, *registry_).location->name, "Table 4");
  const auto next = hear(13, -62, kT0 + 5500);
  ASSERT_TRUE(next.ok()) << "the scan said where the customer is";
  EXPECT_EQ(next->location->name, "Table 4");
}

TEST_F(LocationFilterTest, PlatformOffsetCorrectsAPhoneThatReadsLow) {
  model_ = LocationFilter(ScoreOptions{.rssi_offset_android_db = 12.0});
  EXPECT_FALSE(hear(13, -62, kT0, std::nullopt, "ios").ok());  // 1.4 m: not at the table
  state_ = CustomerState{};
  const auto android = hear(13, -62, kT0, std::nullopt, "android");  // -50 once corrected
  ASSERT_TRUE(android.ok());
  EXPECT_EQ(android->rssi_dbm, -62) << "the event reports the raw reading";
}

TEST_F(LocationFilterTest, ABeaconsOwnRadiusWinsOverItsLocationType) {
  auto registry = Registry::from_json(
      R"({"beacons":[{"beacon_id":"16a0a3a7-7a0a-558a-8314-95b5dcb6d404",)"
      R"("uuid":"550e8400-e29b-41d4-a716-446655440000","major":100,"minor":13,"tx_power":-59,)"
      R"("radius_m":4.0,"store_id":"store100","location":{"name":"Big table","type":"table"},)"
      R"("status":"active"}]})");
  ASSERT_TRUE(registry.ok()) << registry.error();
  registry_ = *registry;
  (void)hear(13, -62, kT0);
  EXPECT_TRUE(hear(13, -62, kT0 + 1000).ok()) << "1.4 m is well inside a 4 m radius";
}

// Learning the room from QR scans (docs/scoring.md, "Learning the room from QR scans").
class RoomLearningTest : public LocationFilterTest {
 protected:
  Result<Identification, DropReason> hear_in_room(std::uint16_t minor, int rssi, EpochMs t_ms) {
    const Sighting sighting = reading(minor, rssi, t_ms);
    const auto resolved = Resolver(registry_).resolve(sighting);
    EXPECT_TRUE(resolved.ok());
    state_.last_activity_ms = std::max(state_.last_activity_ms, t_ms);
    return model_.score_beacon(state_, sighting, *resolved, *registry_, 1, nullptr, &room_);
  }
  void scan(int table, EpochMs t_ms) {
    const std::string code = "TS-store100-T" + std::to_string(table);
    Sighting qr;
    qr.source = Source::qr;
    qr.qr_code = code;  // a view
    qr.detected_at_ms = t_ms;
    const auto resolved = Resolver(registry_).resolve(qr);
    ASSERT_TRUE(resolved.ok());
    (void)model_.score_qr(state_, *resolved, *registry_);
    model_.learn_from_scan(state_, resolved->location_index, t_ms, room_);
  }
  const BeaconEntry& beacon(std::uint16_t minor) const {
    return *Resolver(registry_).resolve(reading(minor, -60, kT0))->beacon;
  }
  const LearnedLevel* learnt(std::uint16_t minor) const {
    return room_.find(beacon(minor).beacon_id);
  }

  RoomLevels room_;
};

TEST_F(RoomLearningTest, AScanTeachesWhatItsTablesBeaconReadsThereOnceItsWindowCloses) {
  for (int i = 0; i < 10; ++i) (void)hear_in_room(11, -65, kT0 + i * 500);
  scan(1, kT0 + 5000);
  for (int i = 11; i < 70; ++i) (void)hear_in_room(11, -65, kT0 + i * 500);
  EXPECT_EQ(learnt(11), nullptr) << "the window is open for 30 s after the scan";
  room_.forget_learnt();
  (void)hear_in_room(11, -65, kT0 + 35500);
  ASSERT_NE(learnt(11), nullptr);
  EXPECT_NEAR(learnt(11)->level_dbm, -65.0, 0.5);
  EXPECT_FLOAT_EQ(learnt(11)->samples, 1.0F) << "one scan is one sample, however many readings";
  EXPECT_EQ(learnt(11)->updated_ms, kT0 + 35500);
  ASSERT_EQ(room_.learnt().size(), 1u);
  EXPECT_EQ(room_.learnt()[0], beacon(11).beacon_id);
  EXPECT_FALSE(state_.scan_window.has_value());
}

TEST_F(RoomLearningTest, TheWindowClosesWhenTheCustomerIsMostLikelyElsewhere) {
  for (int i = 0; i < 10; ++i) (void)hear_in_room(11, -65, kT0 + i * 500);
  scan(1, kT0 + 5000);
  // They get up and sit at Table 3: its beacon loud, Table 1's faint.
  EpochMs t = kT0 + 5500;
  for (; t < kT0 + 30000 && learnt(11) == nullptr; t += 500) {
    (void)hear_in_room(13, -50, t);
    (void)hear_in_room(11, -85, t + 250);
  }
  ASSERT_NE(learnt(11), nullptr) << "learnt before the window's 30 s were up";
  EXPECT_LT(t, kT0 + 20000);
  EXPECT_NEAR(learnt(11)->level_dbm, -65.0, 0.5)
      << "what it read at its table: the readings after they left are 20 dB off its mean";
}

TEST_F(RoomLearningTest, ALearntLevelCountsAsMuchAsItsScansAgainstTheInstallersPower) {
  EXPECT_DOUBLE_EQ(model_.tx_power_dbm(beacon(11), BeaconTrack{}, *registry_, &room_), -59.0);
  room_.insert(beacon(11).beacon_id, LearnedLevel{-65.0F, 4.0F, kT0});
  // A table's level is taken at its 1 m radius: the learnt -65 is a power of -65 at 1 m,
  // weighed 4 against the installer's -59 counted as score.room_prior_scans (8) scans.
  EXPECT_DOUBLE_EQ(model_.tx_power_dbm(beacon(11), BeaconTrack{}, *registry_, &room_), -61.0);
  room_.insert(beacon(11).beacon_id, LearnedLevel{-65.0F, 24.0F, kT0});
  EXPECT_DOUBLE_EQ(model_.tx_power_dbm(beacon(11), BeaconTrack{}, *registry_, &room_), -63.5);
  EXPECT_DOUBLE_EQ(model_.tx_power_dbm(beacon(12), BeaconTrack{}, *registry_, &room_), -59.0)
      << "a beacon never scanned keeps the installer's power";
}

TEST_F(RoomLearningTest, ABeaconQuieterThanInstalledIsIdentifiedSoonerOnceTheRoomIsLearnt) {
  // Table 1's beacon really has -66 dBm at 1 m (the registry says -59): seated 0.7 m away a
  // phone reads -63, the next table's beacon -75.
  const auto seconds_to_identify = [&](RoomLevels room) {
    room_ = std::move(room);
    state_ = CustomerState{};
    for (int i = 0; i < 60; ++i) {
      const EpochMs t = kT0 + i * 333;
      const auto result = hear_in_room(i % 2 == 0 ? 11 : 12, i % 2 == 0 ? -63 : -75, t);
      if (result.ok() && result->location->name == "Table 1") return (t - kT0) / 1000.0;
    }
    return std::numeric_limits<double>::infinity();
  };
  RoomLevels learnt_room;
  learnt_room.insert(beacon(11).beacon_id, LearnedLevel{-66.0F, 40.0F, kT0});
  const double installed = seconds_to_identify(RoomLevels{});
  const double learnt = seconds_to_identify(learnt_room);
  EXPECT_LE(learnt, 1.0);
  EXPECT_GT(installed, learnt);
}

TEST_F(RoomLearningTest, NothingIsLearntWhenLearningIsOff) {
  model_ = LocationFilter(ScoreOptions{.learn_from_qr = false});
  for (int i = 0; i < 10; ++i) (void)hear_in_room(11, -65, kT0 + i * 500);
  scan(1, kT0 + 5000);
  for (int i = 11; i < 100; ++i) (void)hear_in_room(11, -65, kT0 + i * 500);
  EXPECT_TRUE(room_.empty());
  EXPECT_FALSE(state_.scan_window.has_value());
}

}  // namespace
}  // namespace tastesync
