#include "sinks/postgres/postgres_writer.hpp"

#include <gtest/gtest.h>

#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/erasure.hpp"
#include "tests/support/postgres_test_support.hpp"
#include "tests/support/sink_events.hpp"

namespace tastesync::testing {
namespace {

using PostgresWriterTest = PostgresSinkTest;

// Stores the erasure of `customer_id` at `at_ms`, as the sink does on meeting its tombstone.
void record_erasure(PostgresWriter& writer, const std::string& customer_id, EpochMs at_ms) {
  ASSERT_TRUE(writer.write(std::vector<SinkEvent>{erasure(customer_id, at_ms)}, at(kNow)).ok());
}

TEST_F(PostgresWriterTest, NameIsTheMetricsLabel) {
  PostgresWriter writer(dsn());
  EXPECT_EQ(writer.name(), "postgres");
}

TEST_F(PostgresWriterTest, StoresBeaconAndQrEventsWithEveryColumn) {
  PostgresWriter writer(dsn());
  const std::vector<SinkEvent> events = {
      beacon_event("cust123", "store100", "Table 3", at("2026-11-15T11:59:58.123Z")),
      qr_event("cust456", "store100", "Counter", at("2026-11-15T11:59:59.007Z")),
  };

  const auto result = writer.write(events, at(kNow));

  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_TRUE(result->rejected.empty());
  EXPECT_EQ(result->skipped, 0U);
  EXPECT_EQ(writer.paths_taken().direct, 1U) << "new events go straight into the table";
  EXPECT_EQ(writer.paths_taken().staging, 0U);
  const auto rows = identities();
  ASSERT_EQ(rows.size(), 2U);
  const StoredIdentity& beacon = rows[0];
  EXPECT_EQ(beacon.event_id, events[0].event_id);
  EXPECT_EQ(beacon.customer_id, "cust123");
  EXPECT_EQ(beacon.beacon_id, std::optional<std::string>("bc0c82d4-d881-5fe0-a68c-3ed7c3562715"));
  EXPECT_EQ(beacon.qr_code, std::nullopt);
  EXPECT_EQ(beacon.source, "beacon");
  EXPECT_EQ(beacon.sighting_id, events[0].sighting_id);
  EXPECT_EQ(beacon.location, "Table 3");
  EXPECT_EQ(beacon.location_type, "table");
  EXPECT_EQ(beacon.store_id, "store100");
  EXPECT_EQ(beacon.confidence, "0.950");
  EXPECT_EQ(beacon.identification, "arrival");
  EXPECT_EQ(beacon.detected_at, "2026-11-15T11:59:58.123Z");
  EXPECT_EQ(beacon.detected_at_ms, events[0].detected_at_ms);
  const StoredIdentity& qr = rows[1];
  EXPECT_EQ(qr.event_id, events[1].event_id);
  EXPECT_EQ(qr.customer_id, "cust456");
  EXPECT_EQ(qr.beacon_id, std::nullopt);
  EXPECT_EQ(qr.qr_code, std::optional<std::string>("QR-COUNTER-1"));
  EXPECT_EQ(qr.source, "qr");
  EXPECT_EQ(qr.location, "Counter");
  EXPECT_EQ(qr.location_type, "counter");
  EXPECT_EQ(qr.confidence, "0.950");
  EXPECT_EQ(qr.detected_at, "2026-11-15T11:59:59.007Z");
  EXPECT_EQ(qr.detected_at_ms, events[1].detected_at_ms);
}

// docs/operations.md#forget: the tombstone deletes the customer's rows of before the request,
// and no replay of those events, in a later batch or the same one, stores them again; a visit
// after the request is stored, and the hash is all that is kept of the id.
TEST_F(PostgresWriterTest, AnErasureDeletesTheCustomersRowsAndNoReplayBringsThemBack) {
  PostgresWriter writer(dsn());
  const std::vector<SinkEvent> before = {
      beacon_event("gone", "store100", "Table 3", at("2026-11-15T10:00:00.000Z")),
      qr_event("gone", "store100", "Counter", at("2026-11-15T10:05:00.000Z")),
      beacon_event("kept", "store100", "Table 4", at("2026-11-15T10:06:00.000Z")),
  };
  ASSERT_TRUE(writer.write(before, at(kNow)).ok());
  ASSERT_EQ(count("SELECT count(*) FROM customers WHERE customer_id = 'gone'"), 1);

  const std::vector<SinkEvent> request = {erasure("gone", at("2026-11-15T11:00:00.000Z"))};
  const auto erased = writer.write(request, at(kNow));
  ASSERT_TRUE(erased.ok()) << erased.error().message;
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities WHERE customer_id = 'gone'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE customer_id = 'gone'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities WHERE customer_id = 'kept'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM forgotten_customers WHERE customer_hash = "
                  "'" +
                  customer_hash("gone") + "' AND request_id = 'req-1'"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM forgotten_customers WHERE customer_hash LIKE '%gone%'"), 0);

  // A replay of the old events, and the same request again: nothing comes back.
  const auto replayed = writer.write(before, at(kNow));
  ASSERT_TRUE(replayed.ok()) << replayed.error().message;
  EXPECT_EQ(replayed->skipped, 2U);
  ASSERT_TRUE(writer.write(request, at(kNow)).ok());
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities WHERE customer_id = 'gone'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE customer_id = 'gone'"), 0);

  // Old events, the request and a later visit in one batch: only the visit is stored.
  std::vector<SinkEvent> mixed = before;
  mixed.push_back(erasure("gone", at("2026-11-15T11:00:00.000Z"), "req-2"));
  mixed.push_back(beacon_event("gone", "store100", "Table 1", at("2026-11-15T11:30:00.000Z")));
  ASSERT_TRUE(writer.write(mixed, at(kNow)).ok());
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities WHERE customer_id = 'gone'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities WHERE customer_id = 'gone' AND "
                  "detected_at = '2026-11-15T11:30:00Z'"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE customer_id = 'gone'"), 1);

  // The tombstone delivered again after the visit leaves the visit alone.
  ASSERT_TRUE(writer.write(request, at(kNow)).ok());
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities WHERE customer_id = 'gone'"), 1);
}

// A batch of rows never stored, without an erasure in it, still drops the events of a customer
// erased earlier that were detected at or before the erasure, and counts them as skipped; the
// customer's later visit and everyone else are stored (docs/operations.md#forget).
TEST_F(PostgresWriterTest, NewRowsOfACustomerErasedEarlierAreDroppedUpToTheErasure) {
  PostgresWriter writer(dsn());
  ASSERT_NO_FATAL_FAILURE(record_erasure(writer, "gone", at("2026-11-15T11:00:00.000Z")));
  const std::vector<SinkEvent> batch = {
      beacon_event("gone", "store100", "Table 3", at("2026-11-15T10:00:00.000Z")),
      beacon_event("other", "store100", "Table 4", at("2026-11-15T10:30:00.000Z")),
      beacon_event("gone", "store100", "Table 1", at("2026-11-15T11:00:00.000Z")),
      qr_event("gone", "store100", "Counter", at("2026-11-15T11:30:00.000Z")),
  };
  const auto stored = writer.write(batch, at(kNow));
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_EQ(stored->skipped, 2U) << "detected before and at the erasure";
  EXPECT_TRUE(stored->rejected.empty());
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities WHERE customer_id = 'gone' AND "
                  "detected_at = '2026-11-15T11:30:00Z'"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE customer_id = 'gone' AND "
                  "last_seen = '2026-11-15T11:30:00Z'"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE customer_id = 'other'"), 1);
  EXPECT_EQ(writer.paths_taken().direct, 0U) << "an erasure, then a batch of a customer erased";
  EXPECT_EQ(writer.paths_taken().staging, 2U);
}

TEST_F(PostgresWriterTest, AnErasedCustomersEventAtTheErasureOrOutOfOrderTakesTheStagingPath) {
  PostgresWriter writer(dsn());
  ASSERT_NO_FATAL_FAILURE(record_erasure(writer, "gone", at("2026-11-15T11:00:00.000Z")));
  const std::vector<SinkEvent> at_the_erasure = {
      beacon_event("other", "store100", "Table 4", at("2026-11-15T10:00:00.000Z")),
      beacon_event("gone", "store100", "Table 3", at("2026-11-15T11:00:00.000Z")),
  };
  const std::vector<SinkEvent> out_of_order = {
      qr_event("gone", "store100", "Counter", at("2026-11-15T11:30:00.000Z")),
      beacon_event("gone", "store100", "Table 1", at("2026-11-15T10:00:00.000Z")),
  };

  const auto first = writer.write(at_the_erasure, at(kNow));
  const auto second = writer.write(out_of_order, at(kNow));

  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(first->skipped, 1U) << "detected at the erasure";
  EXPECT_EQ(second->skipped, 1U) << "detected before the erasure, after a later event";
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities WHERE customer_id = 'gone'"), 1);
  EXPECT_EQ(last_seen("gone"), at("2026-11-15T11:30:00.000Z"));
  EXPECT_EQ(writer.paths_taken().direct, 0U);
  EXPECT_EQ(writer.paths_taken().staging, 3U);
}

// varchar(64) cuts a longer value whose excess is all spaces (docs/platform.md#postgres-traps).
TEST_F(PostgresWriterTest, IdsTheColumnCutsToOneAreOneCustomerAndOneErasure) {
  PostgresWriter writer(dsn());
  const std::string id(64, 'x');
  const std::vector<SinkEvent> twins = {
      beacon_event(id, "store100", "Table 3", at("2026-11-15T10:05:00.000Z")),
      beacon_event(id + "  ", "store100", "Table 3", at("2026-11-15T10:00:00.000Z")),
  };

  const auto stored = writer.write(twins, at(kNow));

  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_TRUE(stored->rejected.empty());
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities WHERE customer_id = '" + id + "'"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM customers"), 1);
  EXPECT_EQ(last_seen(id), at("2026-11-15T10:05:00.000Z"));
  EXPECT_EQ(writer.paths_taken().direct, 1U);

  ASSERT_NO_FATAL_FAILURE(record_erasure(writer, id, at("2026-11-15T11:00:00.000Z")));
  const auto replayed =
      writer.write(std::vector<SinkEvent>{qr_event(id + " ", "store100", "Counter",
                                                   at("2026-11-15T10:30:00.000Z"))},
                   at(kNow));

  ASSERT_TRUE(replayed.ok()) << replayed.error().message;
  EXPECT_EQ(replayed->skipped, 1U) << "the cut id is the erased one";
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities"), 0);
  EXPECT_EQ(writer.paths_taken().direct, 1U);
}

TEST_F(PostgresWriterTest, ACustomerErasedBeforeAllTheirEventsInTheBatchGoesStraightIn) {
  PostgresWriter writer(dsn());
  ASSERT_NO_FATAL_FAILURE(record_erasure(writer, "back", at("2026-11-15T10:00:00.000Z")));
  const std::vector<SinkEvent> batch = {
      beacon_event("back", "store100", "Table 3", at("2026-11-15T10:00:00.001Z")),
      beacon_event("other", "store100", "Table 4", at("2026-11-15T09:30:00.000Z")),
      qr_event("back", "store100", "Counter", at("2026-11-15T11:30:00.000Z")),
  };

  const auto stored = writer.write(batch, at(kNow));

  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_EQ(stored->skipped, 0U);
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities"), 3);
  EXPECT_EQ(last_seen("back"), at("2026-11-15T11:30:00.000Z"));
  EXPECT_EQ(writer.paths_taken().direct, 1U);
}

TEST_F(PostgresWriterTest, SameBatchAgainInsertsNothing) {
  PostgresWriter writer(dsn());
  const std::vector<SinkEvent> events = {
      beacon_event("cust1", "store100", "Table 3", at("2026-11-15T10:00:00.000Z")),
      qr_event("cust2", "store100", "Counter", at("2026-11-15T10:00:01.000Z")),
  };
  ASSERT_TRUE(writer.write(events, at(kNow)).ok());
  const std::int64_t xmin_sum_before =
      count("SELECT sum(xmin::text::bigint) FROM customer_identities");

  const auto again = writer.write(events, at(kNow));

  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->rejected.empty());
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities"), 2);
  // Untouched, not deleted and inserted again: the rows still carry the first transaction's id.
  EXPECT_EQ(count("SELECT sum(xmin::text::bigint) FROM customer_identities"), xmin_sum_before);
  EXPECT_EQ(writer.paths_taken().direct, 1U);
  EXPECT_EQ(writer.paths_taken().staging, 1U) << "the direct COPY met the stored events";
}

TEST_F(PostgresWriterTest, AfterARedeliveryBatchesTakeTheStagingPathUntilOneConflictsWithNothing) {
  PostgresWriter writer(dsn());
  const auto event = [](const std::string& customer, const char* detected_at) {
    return beacon_event(customer, "store100", "Table 3", at(detected_at));
  };
  const std::vector<SinkEvent> first = {event("cust1", "2026-11-15T10:00:00.000Z"),
                                        event("cust2", "2026-11-15T10:00:01.000Z")};
  const std::vector<SinkEvent> redelivered_and_new = {first[0], first[1],
                                                      event("cust3", "2026-11-15T10:00:02.000Z")};
  const std::vector<SinkEvent> all_new = {event("cust1", "2026-11-15T10:00:03.000Z"),
                                          event("cust4", "2026-11-15T10:00:04.000Z")};
  const std::vector<SinkEvent> all_new_again = {event("cust2", "2026-11-15T10:00:05.000Z")};

  ASSERT_TRUE(writer.write(first, at(kNow)).ok());
  ASSERT_TRUE(writer.write(redelivered_and_new, at(kNow)).ok());
  EXPECT_EQ(writer.paths_taken().direct, 1U);
  EXPECT_EQ(writer.paths_taken().staging, 1U);
  ASSERT_TRUE(writer.write(all_new, at(kNow)).ok());
  EXPECT_EQ(writer.paths_taken().direct, 1U) << "still off after a batch with conflicts";
  EXPECT_EQ(writer.paths_taken().staging, 2U);
  ASSERT_TRUE(writer.write(all_new_again, at(kNow)).ok());
  EXPECT_EQ(writer.paths_taken().direct, 2U) << "on again after a batch without";
  EXPECT_EQ(writer.paths_taken().staging, 2U);

  EXPECT_EQ(count("SELECT count(*) FROM customer_identities"), 6);
  EXPECT_EQ(count("SELECT count(DISTINCT event_id) FROM customer_identities"), 6);
  EXPECT_EQ(last_seen("cust1"), at("2026-11-15T10:00:03.000Z"));
  EXPECT_EQ(last_seen("cust2"), at("2026-11-15T10:00:05.000Z"));
  EXPECT_EQ(last_seen("cust3"), at("2026-11-15T10:00:02.000Z"));
  EXPECT_EQ(last_seen("cust4"), at("2026-11-15T10:00:04.000Z"));
}

// Two sinks writing the same events at once, as around a rebalance: each direct COPY waits on the
// other's uncommitted rows, and whichever commits second meets 23505 and goes the staging path. A
// write that fails (a deadlock between the two) is retried, as the sink runner does.
TEST_F(PostgresWriterTest, TwoWritersWithOverlappingBatchesAtOnceStoreEachEventOnce) {
  constexpr int kEvents = 4'000;
  constexpr int kCustomers = 100;
  std::vector<SinkEvent> events;
  events.reserve(kEvents);
  const EpochMs start_ms = at("2026-11-15T00:00:00.000Z");
  for (int number = 0; number < kEvents; ++number) {
    events.push_back(beacon_event("cust" + std::to_string(number % kCustomers), "store100",
                                  "Table 3", start_ms + EpochMs{number} * 1'000));
  }
  const auto write_until_stored = [&](std::span<const SinkEvent> batch, int& failures,
                                      std::size_t& staging) {
    PostgresWriter writer(dsn());
    for (std::size_t first = 0; first < batch.size(); first += 500) {
      const auto part = batch.subspan(first, std::min<std::size_t>(500, batch.size() - first));
      while (!writer.write(part, at(kNow)).ok()) {
        if (++failures > 20) return;
      }
    }
    staging = writer.paths_taken().staging;
  };
  int failures_a = 0;
  int failures_b = 0;
  std::size_t staging_a = 0;
  std::size_t staging_b = 0;

  std::thread a([&] { write_until_stored(std::span(events).first(3'000), failures_a, staging_a); });
  std::thread b(
      [&] { write_until_stored(std::span(events).subspan(1'000), failures_b, staging_b); });
  a.join();
  b.join();

  EXPECT_LE(failures_a, 20);
  EXPECT_LE(failures_b, 20);
  EXPECT_GE(staging_a + staging_b, 1U) << "the second to store a shared batch met the first's rows";
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities"), kEvents);
  EXPECT_EQ(count("SELECT count(DISTINCT event_id) FROM customer_identities"), kEvents);
  EXPECT_EQ(count("SELECT count(*) FROM customers"), kCustomers);
  EXPECT_EQ(last_seen("cust99"), events.back().detected_at_ms);
  EXPECT_EQ(last_seen("cust0"), events[kEvents - kCustomers].detected_at_ms);
}

TEST_F(PostgresWriterTest, EventTwiceInOneBatchIsStoredOnce) {
  PostgresWriter writer(dsn());
  const SinkEvent event =
      beacon_event("cust1", "store100", "Table 3", at("2026-11-15T10:00:00.000Z"));
  const std::vector<SinkEvent> events = {
      event, beacon_event("cust2", "store100", "Table 3", at("2026-11-15T10:00:00.000Z")), event};

  const auto result = writer.write(events, at(kNow));

  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_TRUE(result->rejected.empty());
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities WHERE customer_id = 'cust1'"), 1);
  EXPECT_EQ(writer.paths_taken().staging, 1U);
}

TEST_F(PostgresWriterTest, LastSeenIsTheNewestDetectionPerCustomer) {
  PostgresWriter writer(dsn());
  const std::vector<SinkEvent> events = {
      beacon_event("cust1", "store100", "Table 3", at("2026-11-15T10:00:00.100Z")),
      beacon_event("cust1", "store100", "Table 3", at("2026-11-15T10:05:00.200Z")),
      qr_event("cust1", "store100", "Counter", at("2026-11-15T10:01:00.300Z")),
      beacon_event("cust2", "store100", "Table 3", at("2026-11-15T09:00:00.400Z")),
  };

  ASSERT_TRUE(writer.write(events, at(kNow)).ok());

  EXPECT_EQ(last_seen("cust1"), at("2026-11-15T10:05:00.200Z"));
  EXPECT_EQ(last_seen("cust2"), at("2026-11-15T09:00:00.400Z"));
  EXPECT_EQ(count("SELECT count(*) FROM customers"), 2);
  EXPECT_EQ(writer.paths_taken().direct, 1U);
}

TEST_F(PostgresWriterTest, OlderBatchDoesNotMoveLastSeenBack) {
  PostgresWriter writer(dsn());
  const std::vector<SinkEvent> newer = {
      beacon_event("cust1", "store100", "Table 3", at("2026-11-15T10:05:00.000Z"))};
  const std::vector<SinkEvent> older = {
      beacon_event("cust1", "store100", "Table 3", at("2026-11-15T09:00:00.000Z"))};
  ASSERT_TRUE(writer.write(newer, at(kNow)).ok());

  const auto result = writer.write(older, at(kNow));

  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities"), 2);
  EXPECT_EQ(last_seen("cust1"), at("2026-11-15T10:05:00.000Z"));
  EXPECT_EQ(writer.paths_taken().direct, 2U);
}

// A customers row may have no last_seen (the column allows it: a row another tool made); the
// direct path's MERGE fills it in.
TEST_F(PostgresWriterTest, ACustomerWithoutLastSeenGetsOne) {
  pqxx::nontransaction(*connect_postgres(dsn(), "test-setup"))
      .exec0("INSERT INTO customers (customer_id) VALUES ('cust1')");
  PostgresWriter writer(dsn());

  ASSERT_TRUE(writer
                  .write(std::vector<SinkEvent>{beacon_event("cust1", "store100", "Table 3",
                                                             at("2026-11-15T09:00:00.000Z"))},
                         at(kNow))
                  .ok());

  EXPECT_EQ(last_seen("cust1"), at("2026-11-15T09:00:00.000Z"));
  EXPECT_EQ(writer.paths_taken().direct, 1U);
}

TEST_F(PostgresWriterTest, TabsBackslashesAndNonAsciiTextRoundTrips) {
  PostgresWriter writer(dsn());
  SinkEvent event =
      beacon_event("cust\\1\twith\ttabs", "store100", "Table 3", at("2026-11-15T10:00:00.000Z"));
  event.location = "Terrasse – Tisch 12 ☕";
  event.store_id = "Café Zürich\\Nord\r\n";

  ASSERT_TRUE(writer.write(std::vector<SinkEvent>{event}, at(kNow)).ok());

  const auto stored = identity(event.event_id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->customer_id, event.customer_id);
  EXPECT_EQ(stored->location, event.location);
  EXPECT_EQ(stored->store_id, event.store_id);
  EXPECT_EQ(last_seen(event.customer_id), event.detected_at_ms);
  EXPECT_EQ(writer.paths_taken().direct, 1U);
}

TEST_F(PostgresWriterTest, EventOlderThanTheRetentionIsSkippedAndCounted) {
  PostgresWriter writer(dsn());
  // The retention starts five years before kNow, to the millisecond.
  const std::vector<SinkEvent> events = {
      beacon_event("too-old", "store100", "Table 3", at("2021-11-15T11:59:59.999Z")),
      beacon_event("just-kept", "store100", "Table 3", at("2021-11-15T12:00:00.000Z")),
      beacon_event("recent", "store100", "Table 3", at("2026-11-15T10:00:00.000Z")),
  };

  const auto result = writer.write(events, at(kNow));

  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->skipped, 1U);
  EXPECT_TRUE(result->rejected.empty());
  EXPECT_FALSE(identity(events[0].event_id).has_value());
  EXPECT_TRUE(identity(events[1].event_id).has_value());
  EXPECT_TRUE(identity(events[2].event_id).has_value());
  EXPECT_FALSE(customer_row_exists("too-old"));
}

TEST_F(PostgresWriterTest, BatchWithNothingToStoreNeedsNoDatabase) {
  PostgresWriter writer("postgresql://tastesync@127.0.0.1:" + std::to_string(free_loopback_port()) +
                        "/nowhere");
  const std::vector<SinkEvent> too_old = {
      beacon_event("cust1", "store100", "Table 3", at("2020-01-01T00:00:00.000Z"))};

  const auto empty = writer.write({}, at(kNow));
  const auto skipped = writer.write(too_old, at(kNow));

  ASSERT_TRUE(empty.ok()) << empty.error().message;
  ASSERT_TRUE(skipped.ok()) << skipped.error().message;
  EXPECT_EQ(skipped->skipped, 1U);
}

TEST_F(PostgresWriterTest, KeepsThePartitionsAheadOfTheWallClock) {
  PostgresWriter writer(dsn());
  const std::vector<SinkEvent> events = {
      beacon_event("cust1", "store100", "Table 3", at("2027-03-10T09:00:00.000Z"))};

  ASSERT_TRUE(writer.write(events, at("2027-03-10T09:00:01.000Z")).ok());

  const std::vector<std::string> expected = {
      "customer_identities_2026_11", "customer_identities_2026_12", "customer_identities_2027_01",
      "customer_identities_2027_03", "customer_identities_2027_04", "customer_identities_2027_05",
  };
  EXPECT_EQ(partitions(), expected);
}

TEST_F(PostgresWriterTest, TenThousandEventsInOneWrite) {
  PostgresWriter writer(dsn());
  constexpr int kEvents = 10'000;
  constexpr int kCustomers = 1'000;
  std::vector<SinkEvent> events;
  events.reserve(kEvents);
  const EpochMs start_ms = at("2026-11-01T00:00:00.000Z");
  for (int number = 0; number < kEvents; ++number) {
    events.push_back(beacon_event("cust" + std::to_string(number % kCustomers), "store100",
                                  "Table 3", start_ms + EpochMs{number} * 1'000));
  }

  const auto result = writer.write(events, at(kNow));

  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_TRUE(result->rejected.empty());
  EXPECT_EQ(count("SELECT count(*) FROM customer_identities"), kEvents);
  EXPECT_EQ(count("SELECT count(*) FROM customers"), kCustomers);
  EXPECT_EQ(last_seen("cust7"), events[kEvents - kCustomers + 7].detected_at_ms);
  EXPECT_EQ(writer.paths_taken().direct, 1U);
}

}  // namespace
}  // namespace tastesync::testing
