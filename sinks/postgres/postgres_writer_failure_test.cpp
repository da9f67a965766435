#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "db/postgres.hpp"
#include "sinks/postgres/postgres_writer.hpp"
#include "tests/support/postgres_test_support.hpp"
#include "tests/support/sink_events.hpp"

namespace tastesync::testing {
namespace {

using PostgresWriterFailureTest = PostgresSinkTest;
using ::testing::HasSubstr;

std::vector<std::size_t> rejected_indices(const SinkWriteResult& result) {
  std::vector<std::size_t> indices;
  for (const auto& rejection : result.rejected) indices.push_back(rejection.index);
  return indices;
}

std::vector<SinkEvent> good_events(int count) {
  std::vector<SinkEvent> events;
  events.reserve(static_cast<std::size_t>(count));
  for (int number = 0; number < count; ++number) {
    events.push_back(beacon_event("cust" + std::to_string(number), "store100", "Table 3",
                                  at("2026-11-15T10:00:00Z")));
  }
  return events;
}

TEST_F(PostgresWriterFailureTest, EventInAMonthWithoutPartitionCreatesItAndLands) {
  PostgresWriter writer(dsn());
  const std::vector<SinkEvent> events = {
      beacon_event("cust1", "store100", "Table 3", at("2026-11-15T10:00:00.000Z")),
      beacon_event("cust2", "store100", "Table 3", at("2027-06-02T08:30:00.250Z")),
  };

  const auto result = writer.write(events, at(kNow));

  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_TRUE(result->rejected.empty());
  const std::vector<std::string> expected = {
      "customer_identities_2026_11", "customer_identities_2026_12", "customer_identities_2027_01",
      "customer_identities_2027_06"};
  EXPECT_EQ(partitions(), expected);
  const auto stored = identity(events[1].event_id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->detected_at, "2027-06-02T08:30:00.250Z");
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities_2027_06"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities"), 2);
  EXPECT_EQ(writer.paths_taken().staging, 1U) << "the direct COPY found no partition";

  ASSERT_TRUE(writer
                  .write(std::vector<SinkEvent>{beacon_event("cust3", "store100", "Table 3",
                                                             at("2027-06-03T08:30:00.000Z"))},
                         at(kNow))
                  .ok());
  EXPECT_EQ(writer.paths_taken().direct, 1U) << "a missing partition does not turn it off";
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities_2027_06"), 2);
}

// SinkEvent allows a location of up to 128 bytes; the column is varchar(32).
TEST_F(PostgresWriterFailureTest, LocationLongerThanItsColumnIsRejectedAndTheOthersStored) {
  PostgresWriter writer(dsn());
  std::vector<SinkEvent> events = good_events(5);
  events[2].location = std::string(40, 'L');

  const auto result = writer.write(events, at(kNow));

  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_EQ(result->rejected.size(), 1U);
  EXPECT_EQ(result->rejected[0].index, 2U);
  EXPECT_THAT(result->rejected[0].reason,
              HasSubstr("value too long for type character varying(32)"));
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities"), 4);
  EXPECT_FALSE(identity(events[2].event_id).has_value());
  EXPECT_FALSE(customer_row_exists("cust2"));
  EXPECT_TRUE(customer_row_exists("cust4"));
}

// JSON can carry a NUL ("\u0000") into any string the parser reads; PostgreSQL's text types
// cannot hold one, in the direct path's binary COPY or the staging path's text COPY.
TEST_F(PostgresWriterFailureTest, ANulByteInATextIsRejectedAndTheOthersStored) {
  PostgresWriter writer(dsn());
  std::vector<SinkEvent> events = good_events(3);
  events[1].location = std::string("Table\0 3", 8);

  const auto result = writer.write(events, at(kNow));

  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(rejected_indices(*result), std::vector<std::size_t>{1});
  EXPECT_THAT(result->rejected[0].reason, HasSubstr("0x00"));
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities"), 2);
  EXPECT_EQ(writer.paths_taken().staging, 1U);
}

TEST_F(PostgresWriterFailureTest, CustomerIdLongerThanItsColumnIsRejected) {
  PostgresWriter writer(dsn());
  std::vector<SinkEvent> events = good_events(3);
  events[0].customer_id = std::string(65, 'c');

  const auto result = writer.write(events, at(kNow));

  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(rejected_indices(*result), std::vector<std::size_t>{0});
  EXPECT_THAT(result->rejected[0].reason, HasSubstr("character varying(64)"));
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM customers"), 2);
  EXPECT_EQ(writer.paths_taken().direct, 0U) << "refused rows are pinned down by bisection";
  EXPECT_EQ(writer.paths_taken().staging, 1U);
}

// Bisection commits the halves one by one; a half without conflicts says nothing about the batch.
TEST_F(PostgresWriterFailureTest, ARedeliveredBatchWithARefusedRowKeepsTheDirectPathOff) {
  PostgresWriter writer(dsn());
  const std::vector<SinkEvent> first = good_events(1);
  ASSERT_TRUE(writer.write(first, at(kNow)).ok());
  std::vector<SinkEvent> redelivered = good_events(4);
  redelivered[3].location = std::string(40, 'L');
  const std::vector<SinkEvent> next = {
      beacon_event("cust9", "store100", "Table 3", at("2026-11-15T10:00:01Z"))};

  const auto result = writer.write(redelivered, at(kNow));
  ASSERT_TRUE(writer.write(next, at(kNow)).ok());

  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(rejected_indices(*result), std::vector<std::size_t>{3});
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities"), 4);
  EXPECT_EQ(writer.paths_taken().direct, 1U) << "only the first batch";
  EXPECT_EQ(writer.paths_taken().staging, 2U);
}

TEST_F(PostgresWriterFailureTest, EveryBadRowIsRejectedWithItsOwnReason) {
  PostgresWriter writer(dsn());
  std::vector<SinkEvent> events = good_events(20);
  events[0].confidence = "12.345";
  events[7].confidence = "1.500";
  events[11].event_id = "not-a-uuid";
  events[19].location_type = "kitchen";

  const auto result = writer.write(events, at(kNow));

  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_EQ(rejected_indices(*result), (std::vector<std::size_t>{0, 7, 11, 19}));
  EXPECT_THAT(result->rejected[0].reason, HasSubstr("numeric field overflow"));
  EXPECT_THAT(result->rejected[1].reason, HasSubstr("confidence_check"));
  EXPECT_THAT(result->rejected[2].reason, HasSubstr("invalid input syntax for type uuid"));
  EXPECT_THAT(result->rejected[3].reason, HasSubstr("location_type_check"));
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities"), 16);
}

TEST_F(PostgresWriterFailureTest, BadRowAndMissingPartitionInOneBatch) {
  PostgresWriter writer(dsn());
  std::vector<SinkEvent> events = good_events(3);
  events[0].detected_at_ms = at("2027-06-02T08:30:00.000Z");
  events[0].detected_at = format_canonical_string(events[0].detected_at_ms);
  events[1].location = std::string(40, 'L');

  const auto result = writer.write(events, at(kNow));

  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(rejected_indices(*result), std::vector<std::size_t>{1});
  EXPECT_TRUE(identity(events[0].event_id).has_value());
  EXPECT_TRUE(identity(events[2].event_id).has_value());
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities"), 2);
}

TEST_F(PostgresWriterFailureTest, DatabaseWithoutTheSchemaIsAFailureNotARejection) {
  PostgresWriter writer(server().create_database());

  const auto result = writer.write(good_events(2), at(kNow));

  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, HasSubstr("customer_identities"));
}

TEST_F(PostgresWriterFailureTest, StoppedServerFailsAndTheBatchLandsOnceAfterRestart) {
  PostgresWriter writer(dsn());
  const std::vector<SinkEvent> first = {
      beacon_event("cust1", "store100", "Table 3", at("2026-11-15T10:00:00.000Z"))};
  const std::vector<SinkEvent> second = {
      beacon_event("cust1", "store100", "Table 3", at("2026-11-15T10:01:00.000Z")),
      qr_event("cust2", "store100", "Counter", at("2026-11-15T10:02:00.000Z")),
  };
  ASSERT_TRUE(writer.write(first, at(kNow)).ok());

  server().stop(/*immediate=*/true);
  const auto while_down = writer.write(second, at(kNow));
  const auto still_down = writer.write(second, at(kNow));
  server().start();
  const auto after_restart = writer.write(second, at(kNow));
  const auto redelivered = writer.write(second, at(kNow));

  EXPECT_FALSE(while_down.ok());
  EXPECT_FALSE(still_down.ok());
  ASSERT_TRUE(after_restart.ok()) << after_restart.error().message;
  ASSERT_TRUE(redelivered.ok()) << redelivered.error().message;
  EXPECT_TRUE(after_restart->rejected.empty());
  EXPECT_TRUE(redelivered->rejected.empty());
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities"), 3);
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities WHERE event_id = '" +
                  second[0].event_id + "'"),
            1);
  EXPECT_EQ(last_seen("cust1"), at("2026-11-15T10:01:00.000Z"));
  EXPECT_EQ(last_seen("cust2"), at("2026-11-15T10:02:00.000Z"));
}

}  // namespace
}  // namespace tastesync::testing
