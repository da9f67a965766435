#include "tools/sim/identification_metrics.hpp"

#include <gtest/gtest.h>

namespace tastesync::sim {
namespace {

constexpr std::uint32_t kEntrance = 0;
constexpr std::uint32_t kTable1 = 1;
constexpr std::uint32_t kTable2 = 2;
constexpr std::uint32_t kCounter = 3;

const std::vector<LocationType> kTypes = {LocationType::entrance, LocationType::table,
                                          LocationType::table, LocationType::counter};

// Arrives at 0 s, at the entrance until 5 s, walks until 8 s, at Table 1 until 600 s.
CustomerTruth seated_at_table_1() {
  CustomerTruth customer;
  customer.customer_id = "c1";
  customer.truth.append(0, 5000, Place::at(kEntrance));
  customer.truth.append(5000, 8000, Place::walking());
  customer.truth.append(8000, 600000, Place::at(kTable1));
  customer.arrival_ms = 0;
  customer.first_reading_ms = 400;
  return customer;
}

EmittedEvent event(EpochMs t_ms, std::uint32_t location,
                   IdentificationKind kind = IdentificationKind::move) {
  return EmittedEvent{0, t_ms, location, kind, 0.9};
}

MetricsSummary summarize(const std::vector<CustomerTruth>& customers,
                         const std::vector<EmittedEvent>& events) {
  return IdentificationMetrics(kTypes).summarize(customers, events);
}

TEST(IdentificationMetrics, ShortDetourWhileSittingIsAFlap) {
  const auto summary = summarize(
      {seated_at_table_1()},
      {event(10000, kTable1), event(20000, kTable2), event(30000, kTable1), event(90000, kTable1)});
  EXPECT_EQ(summary.flaps, 1u);
  EXPECT_EQ(summary.wrong_location, 1u);
}

TEST(IdentificationMetrics, CorrectSequenceHasNoFlap) {
  const auto summary =
      summarize({seated_at_table_1()},
                {event(1000, kEntrance, IdentificationKind::arrival), event(9000, kTable1),
                 event(69000, kTable1, IdentificationKind::still_here)});
  EXPECT_EQ(summary.flaps, 0u);
  EXPECT_EQ(summary.correct, 3u);
  EXPECT_DOUBLE_EQ(summary.accuracy, 1.0);
}

TEST(IdentificationMetrics, DetourOfAtLeastTheWindowIsNotAFlap) {
  const auto summary = summarize(
      {seated_at_table_1()}, {event(10000, kTable1), event(20000, kTable2), event(80000, kTable1)});
  EXPECT_EQ(summary.flaps, 0u);
}

TEST(IdentificationMetrics, RealVisitToAnotherTableAndBackIsNotAFlap) {
  CustomerTruth customer;
  customer.truth.append(0, 20000, Place::at(kTable1));
  customer.truth.append(20000, 40000, Place::at(kTable2));
  customer.truth.append(40000, 100000, Place::at(kTable1));
  const auto summary =
      summarize({customer}, {event(10000, kTable1), event(25000, kTable2), event(45000, kTable1)});
  EXPECT_EQ(summary.flaps, 0u);
  EXPECT_EQ(summary.correct, 3u);
}

TEST(IdentificationMetrics, EventWhileWalkingIsWrong) {
  const auto summary = summarize(
      {seated_at_table_1()}, {event(1000, kEntrance), event(6000, kTable2), event(9000, kTable1)});
  EXPECT_EQ(summary.events, 3u);
  EXPECT_EQ(summary.correct, 2u);
  EXPECT_EQ(summary.while_walking, 1u);
  EXPECT_NEAR(summary.accuracy, 2.0 / 3.0, 1e-12);
  EXPECT_EQ(summary.events_by_type[1], 2u);
  EXPECT_EQ(summary.correct_by_type[1], 1u);
}

TEST(IdentificationMetrics, FirstIdentificationIsTimedFromArrivalAndFromFirstReading) {
  const auto summary = summarize({seated_at_table_1()}, {event(1200, kEntrance)});
  EXPECT_EQ(summary.visits, 1u);
  EXPECT_EQ(summary.first_id_from_arrival.count, 1u);
  EXPECT_DOUBLE_EQ(summary.first_id_from_arrival.p50_ms, 1200.0);
  EXPECT_DOUBLE_EQ(summary.first_id_from_first_reading.p95_ms, 800.0);
}

TEST(IdentificationMetrics, CustomerNeverIdentifiedIsCountedApart) {
  const auto summary = summarize({seated_at_table_1()}, {});
  EXPECT_EQ(summary.never_identified, 1u);
  EXPECT_EQ(summary.first_id_from_arrival.count, 0u);
  EXPECT_DOUBLE_EQ(summary.accuracy, 0.0);
}

TEST(IdentificationMetrics, StayWithoutACorrectEventIsMissed) {
  CustomerTruth customer = seated_at_table_1();
  customer.truth.append(600000, 602000, Place::walking());
  customer.truth.append(602000, 640000, Place::at(kCounter));  // 38 s: too short to count
  const auto missed = summarize({customer}, {event(1000, kEntrance), event(9000, kTable2)});
  EXPECT_EQ(missed.stays, 1u);
  EXPECT_EQ(missed.missed_stays, 1u);
  const auto found = summarize({customer}, {event(1000, kEntrance), event(500000, kTable1)});
  EXPECT_EQ(found.missed_stays, 0u);
}

// seated_at_table_1, who sits down at 10 s (entered the table's radius at 8 s) until 600 s.
CustomerTruth seated_at_table_1_from_10_s() {
  CustomerTruth customer = seated_at_table_1();
  customer.seated_stays = {SeatedStay{kTable1, 8000, 10000, 600000}};
  return customer;
}

TEST(IdentificationMetrics, FirstIdentificationAtTheTableIsTimedFromSittingDown) {
  const auto summary = summarize(
      {seated_at_table_1_from_10_s()},
      {event(1000, kEntrance), event(9000, kTable2), event(13500, kTable1), event(70000, kTable1)});
  EXPECT_EQ(summary.table_stays, 1u);
  EXPECT_EQ(summary.table_stays_identified, 1u);
  EXPECT_DOUBLE_EQ(summary.table_recall, 1.0);
  EXPECT_DOUBLE_EQ(summary.first_id_seated.p50_ms, 3500.0);
}

TEST(IdentificationMetrics, EventDuringTheApproachWithinTheRadiusCountsAsImmediate) {
  const auto summary =
      summarize({seated_at_table_1_from_10_s()}, {event(8500, kTable1), event(20000, kTable1)});
  EXPECT_EQ(summary.table_stays_identified, 1u);
  EXPECT_DOUBLE_EQ(summary.first_id_seated.p95_ms, 0.0);
}

TEST(IdentificationMetrics, EventBeforeEnteringTheTableRadiusDoesNotIdentifyTheStay) {
  const auto summary = summarize({seated_at_table_1_from_10_s()}, {event(7000, kTable1)});
  EXPECT_EQ(summary.table_stays, 1u);
  EXPECT_EQ(summary.table_stays_identified, 0u);
  EXPECT_DOUBLE_EQ(summary.table_recall, 0.0);
  EXPECT_EQ(summary.first_id_seated.count, 0u);
}

TEST(IdentificationMetrics, ShortSeatedStayIsNotCounted) {
  CustomerTruth customer = seated_at_table_1();
  customer.seated_stays = {SeatedStay{kTable1, 8000, 10000, 69999}};
  EXPECT_EQ(summarize({customer}, {}).table_stays, 0u);
}

TEST(IdentificationMetrics, PoolingSumsCountsAndTakesPercentilesOverAllStays) {
  MetricsSummary fast;
  fast.events = 10;
  fast.correct = 10;
  fast.flaps = 1;
  fast.table_stays = 2;
  fast.table_stays_identified = 2;
  fast.from_seated_ms = {0.0, 1000.0};
  MetricsSummary slow = fast;
  slow.correct = 8;
  slow.table_stays_identified = 1;
  slow.from_seated_ms = {9000.0};
  const MetricsSummary pooled = pool({fast, slow});
  EXPECT_DOUBLE_EQ(pooled.accuracy, 0.9);
  EXPECT_DOUBLE_EQ(pooled.table_recall, 0.75);
  EXPECT_EQ(pooled.flaps, 2u);
  EXPECT_EQ(pooled.first_id_seated.count, 3u);
  EXPECT_DOUBLE_EQ(pooled.first_id_seated.p50_ms, 1000.0);
  EXPECT_DOUBLE_EQ(pooled.first_id_seated.p95_ms, 9000.0);
}

TEST(Percentile, NearestRank) {
  std::vector<double> values;
  for (int i = 100; i >= 1; --i) values.push_back(i);
  EXPECT_DOUBLE_EQ(percentile(values, 0.95), 95.0);
  EXPECT_DOUBLE_EQ(percentile(values, 0.50), 50.0);
  EXPECT_DOUBLE_EQ(percentile({7.0}, 0.95), 7.0);
  EXPECT_DOUBLE_EQ(
      percentile({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, 0.95),
      19.0);
}

TEST(IdentificationMetrics, EveryReadingsBeliefIsBinnedByItsProbabilityAndScoredAgainstTheTruth) {
  const std::vector<ReadingBelief> beliefs = {
      {0, 9000, kTable1, 0.95},   // right
      {0, 9500, kTable2, 0.91},   // wrong table
      {0, 6000, kTable1, 0.85},   // walking: wrong
      {0, 2000, kEntrance, 0.3},  // right
      {0, 2500, kEntrance, 1.0},  // right, in the top bin
  };
  const auto summary = IdentificationMetrics(kTypes).summarize({seated_at_table_1()}, {}, beliefs);
  const Reliability& r = summary.reliability;
  EXPECT_EQ(r.readings[9], 3u);
  EXPECT_EQ(r.right[9], 2u);
  EXPECT_DOUBLE_EQ(r.stated[9], 0.95 + 0.91 + 1.0);
  EXPECT_EQ(r.readings[8], 1u);
  EXPECT_EQ(r.right[8], 0u);
  EXPECT_EQ(r.readings[3], 1u);
  EXPECT_EQ(r.right[3], 1u);
  const MetricsSummary pooled = pool({summary, summary});
  EXPECT_EQ(pooled.reliability.readings[9], 6u);
  EXPECT_EQ(pooled.reliability.right[9], 4u);
}

}  // namespace
}  // namespace tastesync::sim
