// Issue 16, item 4: `tastesync forget` (docs/operations.md#forget) end to end, with the real
// binary, the dev broker, PostgreSQL and Redis: the customer leaves RocksDB, the changelog,
// PostgreSQL and Redis, a tombstone keyed by them is on customer-events, the audit lines name
// them by hash only, a replay of their history into the live topic brings nothing back, a visit
// after the request is a new customer, and the request is idempotent.
#include "common/erasure.hpp"

#include <gtest/gtest.h>

#include "db/migrations.hpp"
#include "db/postgres.hpp"
#include "state/state_store.hpp"
#include "tests/support/broker_test.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/redis_test_server.hpp"
#include "tests/support/redis_test_support.hpp"

namespace tastesync::testing {
namespace {

constexpr const char* kGroup = "tastesync-it-erasure";
constexpr const char* kChangelog = "tastesync-it-erasure-state-changelog";

class Erasure : public BrokerTest {
 protected:
  void SetUp() override {
    start_broker({"raw-beacons", "customer-events", "raw-beacons-dlq", "customer-events-sink-dlq",
                  kChangelog});
    connection_ = connect_postgres(postgres_.dsn(), "erasure_test");
    (void)migrate(*connection_, wall_clock_ms());
  }

  // Group mode, so the state also goes to the changelog another instance would restore.
  PipelineOptions options() const {
    PipelineOptions options = pipeline_options("pipeline", "erasure");
    options.consumer_mode = "group";
    options.group_id = kGroup;
    options.extra_arguments = {"--postgres", postgres_.dsn(), "--redis", redis_address()};
    return options;
  }
  std::string redis_address() const { return "127.0.0.1:" + std::to_string(redis_.port()); }

  RunResult forget(const std::string& name, const std::string& customer,
                   const std::string& request_id) {
    return run_tastesync(dir(), name,
                         {"forget", customer, "--brokers", brokers(), "--group-id", kGroup,
                          "--postgres", postgres_.dsn(), "--redis", redis_address(), "--request-id",
                          request_id, "--timeout", "90"});
  }

  std::int64_t count(const std::string& sql) {
    pqxx::read_transaction read(*connection_);
    return read.exec1(sql)[0].as<std::int64_t>();
  }
  std::int64_t rows_of(const std::string& customer) {
    return count("SELECT count(*) FROM customer_identities WHERE customer_id = '" + customer + "'");
  }
  long long redis_exists(const std::string& key) {
    RedisConnection redis(redis_.options());
    return integer(redis, {"EXISTS", key});
  }

  // Sightings `count` seconds apart, starting `start_ms`, until the customer's first event.
  void identify(TopicReader& events, const std::string& customer, int minor, EpochMs start_ms) {
    ASSERT_TRUE(produce_until_identified(
        events,
        [&](int i) {
          return beacon_sighting(customer + "-" + std::to_string(start_ms + i), customer, minor,
                                 start_ms + i * 1000);
        },
        kOutputTimeout));
  }

  PostgresServer postgres_;
  RedisTestServer redis_;
  std::unique_ptr<pqxx::connection> connection_;
};

TEST_F(Erasure, ForgetRemovesTheCustomerEverywhereAndNoReplayBringsThemBack) {
  auto pipeline = start_pipeline(options());
  TopicReader events(brokers(), "customer-events");
  // Recent, so that Redis keeps what they identify (an hour after detected_at).
  const EpochMs start_ms = wall_clock_ms() - 5 * 60 * 1000;
  ASSERT_NO_FATAL_FAILURE(identify(events, "erase-me", 13, start_ms));
  ASSERT_NO_FATAL_FAILURE(identify(events, "keep-me", 14, start_ms));
  ASSERT_TRUE(wait_until([&] { return rows_of("erase-me") > 0 && rows_of("keep-me") > 0; },
                         kOutputTimeout));
  ASSERT_TRUE(wait_until([&] { return redis_exists("customer:erase-me") == 1; }, kOutputTimeout));

  const EpochMs requested_ms = wall_clock_ms();
  const RunResult erased = forget("forget", "erase-me", "ticket-42");
  ASSERT_TRUE(erased.status.exited_with(0)) << erased.stdout_text << erased.stderr_text;
  std::cout << "[ forget   ]\n" << erased.stdout_text;
  EXPECT_NE(erased.stdout_text.find("tombstone at customer-events["), std::string::npos);
  EXPECT_NE(erased.stdout_text.find("sink postgres applied it"), std::string::npos);
  EXPECT_NE(erased.stdout_text.find("sink redis applied it"), std::string::npos);
  EXPECT_EQ(erased.stdout_text.find("erase-me"), std::string::npos) << "the hash, not the id";

  // PostgreSQL and Redis: gone, and only the hash is kept; the other customer is untouched.
  EXPECT_EQ(rows_of("erase-me"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE customer_id = 'erase-me'"), 0);
  EXPECT_GT(rows_of("keep-me"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM forgotten_customers WHERE customer_hash = '" +
                  customer_hash("erase-me") + "' AND request_id = 'ticket-42'"),
            1);
  EXPECT_EQ(redis_exists("customer:erase-me"), 0);
  EXPECT_EQ(redis_exists("customer:keep-me"), 1);
  {
    RedisConnection redis(redis_.options());
    EXPECT_EQ(sorted_set(redis, "store:store100:present").count("erase-me"), 0u);
  }

  // The tombstone on customer-events, keyed by the customer.
  const auto output = read_all("customer-events");
  const auto theirs = events_of_customer(output, "erase-me");
  ASSERT_FALSE(theirs.empty());
  EXPECT_FALSE(theirs.back().value.has_value());
  EXPECT_EQ(theirs.back().header_text("tastesync-forget"), "ticket-42");
  EXPECT_EQ(theirs.back().header_text("event_type"), "CustomerForgotten");

  // The audit lines name the customer by hash only.
  const std::string log = pipeline->process().stderr_text();
  EXPECT_NE(log.find("erasure ticket-42: customer sha256:" + customer_hash_short("erase-me")),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("sink postgres: erasure ticket-42"), std::string::npos);
  EXPECT_NE(log.find("sink redis: erasure ticket-42"), std::string::npos);
  EXPECT_EQ(log.find("erase-me"), std::string::npos);

  // RocksDB and the changelog another instance would restore from.
  ASSERT_TRUE(pipeline->stop().exited_with(0));
  {
    StateStoreOptions store_options;
    store_options.dir = (dir() / "state-erasure").string();
    store_options.input_topic = "raw-beacons";
    auto store = StateStore::open(store_options);
    ASSERT_TRUE(store.ok()) << store.error().message;
    bool kept = false;
    for (int partition = 0; partition < 6; ++partition) {
      EXPECT_FALSE((*store)->contains_customer(partition, "erase-me")) << partition;
      kept = kept || (*store)->contains_customer(partition, "keep-me");
    }
    EXPECT_TRUE(kept);
  }
  std::optional<std::string> last_value = "none";
  for (const Record& record : read_all(kChangelog)) {
    if (record.key && record.key->ends_with("cerase-me")) last_value = record.value;
  }
  EXPECT_FALSE(last_value.has_value()) << "the changelog's last word on the customer: a tombstone";

  // A replay of everything before the request into the live topic: the sinks store none of it.
  pipeline = start_pipeline(options());
  const RunResult replay = run_tastesync(
      dir(), "replay",
      {"replay", "--brokers", brokers(), "--registry", (fixtures_dir() / "registry.json").string(),
       "--group-id", kGroup, "--output-topic", "customer-events", "--allow-live-output",
       "--from-beginning", "--to-timestamp", canonical_time(requested_ms)});
  ASSERT_TRUE(replay.status.exited_with(0)) << replay.stderr_text;
  const auto replayed = events_of_customer(read_all("customer-events"), "erase-me");
  ASSERT_GT(replayed.size(), theirs.size()) << "the replay re-emitted their old events";
  ASSERT_NO_FATAL_FAILURE(
      wait_caught_up(std::string(kGroup) + "-sink-postgres", "customer-events", *pipeline));
  ASSERT_NO_FATAL_FAILURE(
      wait_caught_up(std::string(kGroup) + "-sink-redis", "customer-events", *pipeline));
  EXPECT_EQ(rows_of("erase-me"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE customer_id = 'erase-me'"), 0);
  EXPECT_EQ(redis_exists("customer:erase-me"), 0);

  // A visit after the request is a new customer's first: stored as usual.
  // Detected after the first request (and well before the second below, which erases it too).
  events.read_to_end();
  const std::size_t earlier = events_of_customer(events.records(), "erase-me").size();
  identify(events, "erase-me", 15, requested_ms + 1000);
  ASSERT_TRUE(wait_until([&] { return rows_of("erase-me") >= 1; }, kOutputTimeout));
  const auto visit = events_of_customer(events.records(), "erase-me");
  ASSERT_GT(visit.size(), earlier);
  EXPECT_NE(visit[earlier].value.value_or("").find(R"("identification":"arrival")"),
            std::string::npos)
      << visit[earlier].value.value_or("(tombstone)");

  // Idempotent: the same request again erases the new visit too and fails nothing.
  const RunResult again = forget("forget-again", "erase-me", "ticket-42");
  EXPECT_TRUE(again.status.exited_with(0)) << again.stdout_text << again.stderr_text;
  std::cout << "[ again    ]\n" << again.stdout_text;
  EXPECT_EQ(rows_of("erase-me"), 0);
  EXPECT_EQ(redis_exists("customer:erase-me"), 0);
  EXPECT_TRUE(pipeline->stop().exited_with(0));
}

TEST_F(Erasure, AnIdThatIsNoCustomerIdIsRefusedAndNothingIsProduced) {
  const RunResult refused =
      run_tastesync(dir(), "forget-bad", {"forget", std::string(65, 'x'), "--brokers", brokers()});
  EXPECT_TRUE(refused.status.exited_with(2)) << refused.stderr_text;
  EXPECT_NE(refused.stderr_text.find("CUSTOMER_ID is not a customer id"), std::string::npos)
      << refused.stderr_text;
  EXPECT_TRUE(read_all("raw-beacons").empty());
}

}  // namespace
}  // namespace tastesync::testing
