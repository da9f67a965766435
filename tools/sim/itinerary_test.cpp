#include "tools/sim/itinerary.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace tastesync::sim {
namespace {

constexpr Radii kRadii = {3.0, 1.0, 1.5};
constexpr std::uint32_t kEntranceIndex = 10;  // registry indexes
constexpr std::uint32_t kTableIndex = 11;
constexpr std::uint32_t kOtherTableIndex = 12;

// A 10 m x 4 m room: door (0, 1), entrance (0, 1), tables at (5, 1) and (6.5, 1).
StorePlan small_store() {
  StorePlan store;
  store.layout.store_id = "s";
  store.layout.width_m = 10.0;
  store.layout.depth_m = 4.0;
  store.layout.door = Point{0.0, 1.0};
  store.locations = {{kEntranceIndex, Point{0.0, 1.0}, LocationType::entrance, true},
                     {kTableIndex, Point{5.0, 1.0}, LocationType::table, true},
                     {kOtherTableIndex, Point{6.5, 1.0}, LocationType::table, true}};
  store.entrance = 0;
  store.tables = {1};
  return store;
}

Leg walk(EpochMs begin, EpochMs end, Point from, Point to, std::optional<std::size_t> origin,
         std::optional<std::size_t> destination) {
  return Leg{begin, end, from, to, false, origin, destination};
}

Leg stay(EpochMs begin, EpochMs end, Point at, std::size_t location) {
  return Leg{begin, end, at, at, true, std::nullopt, location};
}

TEST(GroundTruth, EntranceThenWalkingThenTableThenOut) {
  const StorePlan store = small_store();
  // 1 m/s along y = 1: leaves the entrance's 3 m at x = 3 (t 8 s), enters the table's 1 m at
  // x = 4 (t 9 s); out again: leaves the table at x = 4 (t 71 s), enters no radius but the
  // entrance's (x = 3, t 72 s), which is being left towards the door, not visited.
  const Itinerary itinerary({walk(0, 0, {0, 1}, {0, 1}, std::nullopt, 0), stay(0, 5000, {0, 1}, 0),
                             walk(5000, 10000, {0, 1}, {5, 1}, 0, 1), stay(10000, 70000, {5, 1}, 1),
                             walk(70000, 75000, {5, 1}, {0, 1}, 1, std::nullopt)});
  const TruthTimeline truth = itinerary.truth(store, kRadii);
  ASSERT_EQ(truth.spans().size(), 4u);
  EXPECT_EQ(truth.place_at(-1), Place::outside());
  EXPECT_EQ(truth.place_at(0), Place::at(kEntranceIndex));
  EXPECT_EQ(truth.place_at(7999), Place::at(kEntranceIndex));
  EXPECT_EQ(truth.place_at(8000), Place::walking());
  EXPECT_EQ(truth.place_at(8999), Place::walking());
  EXPECT_EQ(truth.place_at(9000), Place::at(kTableIndex));
  EXPECT_EQ(truth.place_at(70999), Place::at(kTableIndex));
  EXPECT_EQ(truth.place_at(71000), Place::walking());
  EXPECT_EQ(truth.place_at(74999), Place::walking());
  EXPECT_EQ(truth.place_at(75000), Place::outside());
}

TEST(GroundTruth, WalkingPastAnotherTableIsWalking) {
  StorePlan store = small_store();
  store.locations[2].point = Point{7.0, 1.0};
  const Itinerary itinerary(
      {stay(0, 1000, {5, 1}, 1), walk(1000, 6000, {5, 1}, {10, 1}, 1, std::nullopt)});
  const TruthTimeline truth = itinerary.truth(store, kRadii);
  EXPECT_EQ(truth.place_at(3000), Place::walking());  // at x = 7, on the other table's point
}

TEST(GroundTruth, LocationWalkedToWinsWhereRadiiOverlap) {
  const StorePlan store = small_store();  // tables 1.5 m apart: their 1 m radii overlap
  const Itinerary itinerary({stay(0, 1000, {5, 1}, 1), walk(1000, 2500, {5, 1}, {6.5, 1}, 1, 2),
                             stay(2500, 9000, {6.5, 1}, 2)});
  const TruthTimeline truth = itinerary.truth(store, kRadii);
  // Within the second table's radius from x = 5.5 (t 1.5 s), though still within the first's.
  EXPECT_EQ(truth.place_at(1499), Place::at(kTableIndex));
  EXPECT_EQ(truth.place_at(1500), Place::at(kOtherTableIndex));
  EXPECT_EQ(truth.spans().size(), 2u);
}

TEST(GroundTruth, SpansOfOnePlaceMerge) {
  TruthTimeline truth;
  truth.append(0, 1000, Place::at(1));
  truth.append(1000, 2000, Place::at(1));
  truth.append(2000, 2000, Place::walking());  // empty: ignored
  truth.append(2000, 3000, Place::at(2));
  ASSERT_EQ(truth.spans().size(), 2u);
  EXPECT_EQ(truth.spans()[0].end_ms, 2000);
  EXPECT_EQ(truth.span_index_at(2500), 1u);
  EXPECT_EQ(truth.span_index_at(3000), TruthTimeline::npos);
}

TEST(Itinerary, PlannedVisitGoesFromTheDoorThroughEntranceAndTableBackToTheDoor) {
  const StorePlan store = small_store();
  VisitOptions options;
  options.table_min_s = 100.0;
  options.table_max_s = 100.0;
  Rng rng(11);
  const Itinerary itinerary = Itinerary::plan(store, options, kRadii, 5000, rng);
  EXPECT_EQ(itinerary.begin_ms(), 5000);
  const Point end = itinerary.position_at(itinerary.end_ms());
  EXPECT_DOUBLE_EQ(end.x_m, 0.0);
  EXPECT_DOUBLE_EQ(end.y_m, 1.0);

  const TruthTimeline truth = itinerary.truth(store, kRadii);
  // The door is within the entrance's radius: arrival is at the door.
  EXPECT_EQ(truth.first_time_at([](std::uint32_t i) { return i == kEntranceIndex; }), 5000);
  std::size_t table_spans = 0;
  for (const TruthSpan& span : truth.spans()) {
    if (span.place != Place::at(kTableIndex)) continue;
    ++table_spans;
    EXPECT_GE(span.end_ms - span.begin_ms, 100000);
  }
  EXPECT_EQ(table_spans, 1u);
  EXPECT_EQ(truth.spans().back().end_ms, itinerary.end_ms());
}

TEST(Itinerary, WalkingTakesDistanceOverSpeed) {
  StorePlan store = small_store();
  store.layout.min_speed_mps = 1.25;
  store.layout.max_speed_mps = 1.25;
  Rng rng(2);
  const Itinerary itinerary = Itinerary::plan(store, VisitOptions{}, kRadii, 0, rng);
  for (const Leg& leg : itinerary.legs()) {
    if (leg.stay) continue;
    EXPECT_NEAR(static_cast<double>(leg.end_ms - leg.begin_ms),
                distance_m(leg.from, leg.to) / 1.25 * 1000.0, 1.0);
  }
}

TEST(Itinerary, SeatsSpreadOverTheConfiguredRangeWithinTheTableRadius) {
  StorePlan store = small_store();
  store.layout.width_m = 20.0;  // no wall near the table
  store.layout.depth_m = 20.0;
  store.locations[1].point = Point{10.0, 10.0};
  VisitOptions options;
  options.table_seat_min_m = 0.3;
  options.table_seat_max_m = 1.4;  // beyond the 1 m radius: capped at it
  double farthest_m = 0.0;
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    Rng rng(seed);
    const Itinerary itinerary = Itinerary::plan(store, options, kRadii, 0, rng);
    for (const Leg& leg : itinerary.legs()) {
      if (!leg.seated) continue;
      const double seat_m = distance_m(leg.from, store.locations[1].point);
      EXPECT_GE(seat_m, 0.3 - 1e-9);
      EXPECT_LE(seat_m, 1.0);
      farthest_m = std::max(farthest_m, seat_m);
    }
  }
  EXPECT_GT(farthest_m, 0.95);
}

TEST(Itinerary, SeatedStayStartsWhereTheApproachEntersTheTableRadius) {
  const StorePlan store = small_store();
  // As EntranceThenWalkingThenTableThenOut: within the table's radius at 9 s, seated at 10 s.
  Leg seated = stay(10000, 70000, {5, 1}, 1);
  seated.seated = true;
  const Itinerary itinerary({stay(0, 5000, {0, 1}, 0), walk(5000, 10000, {0, 1}, {5, 1}, 0, 1),
                             seated, walk(70000, 75000, {5, 1}, {0, 1}, 1, std::nullopt)});
  const auto stays = itinerary.seated_stays(store, itinerary.truth(store, kRadii));
  ASSERT_EQ(stays.size(), 1u);
  EXPECT_EQ(stays[0].location_index, kTableIndex);
  EXPECT_EQ(stays[0].entered_ms, 9000);
  EXPECT_EQ(stays[0].seated_ms, 10000);
  EXPECT_EQ(stays[0].stood_up_ms, 70000);
}

}  // namespace
}  // namespace tastesync::sim
