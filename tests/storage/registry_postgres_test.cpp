// registry.source = postgres (docs/contract.md#registry-sources, #registry-reload): the registry
// comes from the database at start and follows its changes while running, without a restart.
#include <gtest/gtest.h>

#include <chrono>

#include "common/event_time.hpp"
#include "db/migrations.hpp"
#include "db/postgres.hpp"
#include "registry/registry_store.hpp"
#include "tests/support/broker_test.hpp"
#include "tests/support/postgres_server.hpp"

namespace tastesync::testing {
namespace {

class RegistryFromPostgres : public BrokerTest {
 protected:
  void SetUp() override {
    dsn_ = postgres_.dsn();
    connection_ = connect_postgres(dsn_, "registry_postgres_test");
    (void)migrate(*connection_, *parse_rfc3339("2026-11-25T12:00:00Z"));
    auto registry = Registry::from_json(read_file(fixtures_dir() / "registry.json"));
    ASSERT_TRUE(registry) << registry.error();
    (void)import_registry(*connection_, **registry);
  }

  PostgresServer postgres_;
  std::string dsn_;
  std::unique_ptr<pqxx::connection> connection_;
};

BeaconSighting at_minor_17(const std::string& sighting_id, std::int64_t detected_at_ms) {
  return beacon_sighting(sighting_id, "cust-pg-table", 17, detected_at_ms);
}

TEST_F(RegistryFromPostgres, ABeaconInsertedInTheDatabaseIdentifiesWithoutARestart) {
  start_broker();
  PipelineOptions options = pipeline_options("pipeline", "main");
  options.extra_arguments = {"--registry", "postgres", "--postgres", dsn_};
  auto pipeline = start_pipeline(options);

  // Loaded from the database at start: a registered beacon identifies.
  const std::int64_t t0 = 1740916800000;
  produce_sighting(BeaconSighting{.sighting_id = "pg-known",
                                  .customer_id = "cust-pg-known",
                                  .minor = 11,
                                  .detected_at = canonical_time(t0)});
  // Minor 17 is nobody's yet; a sentinel in its partition proves it was processed.
  produce_sighting(at_minor_17("pg-unknown-17", t0));
  const std::string sentinel = sentinel_in_partition_of("cust-pg-table");
  produce_sighting(beacon_sighting("pg-sentinel", sentinel, 11, t0));
  TopicReader events(brokers(), "customer-events");
  ASSERT_TRUE(events.read_until(
      [](const std::vector<Record>& records) {
        return event_of_sighting(records, "pg-sentinel") != nullptr &&
               event_of_sighting(records, "pg-known") != nullptr;
      },
      kOutputTimeout));
  EXPECT_EQ(event_of_sighting(events.records(), "pg-unknown-17"), nullptr);

  // Table 7 is installed, in the database only.
  const auto installed = std::chrono::steady_clock::now();
  {
    pqxx::work work(*connection_);
    work.exec(
        "INSERT INTO beacons (beacon_id, uuid, major, minor, store_id, location, location_type,"
        " status, tx_power) VALUES ('5d0b8c71-3a44-5b1a-9c0e-0d4f0a7c1e17',"
        " '550e8400-e29b-41d4-a716-446655440000', 100, 17, 'store100', 'Table 7', 'table',"
        " 'active', -59)");
    work.commit();
  }
  const auto event = produce_until_identified(
      events, [t0](int i) { return at_minor_17("pg-table7-" + std::to_string(i), t0 + i * 1000); },
      std::chrono::seconds(10));
  ASSERT_TRUE(event) << "the beacon inserted in PostgreSQL never identified anyone";
  EXPECT_EQ(json_string(parse_json(event->value), "/data/location"), "Table 7");
  // "Within a few seconds": NOTIFY, not the 60 s periodic reload, brought it.
  EXPECT_LT(std::chrono::steady_clock::now() - installed, std::chrono::seconds(10));
  EXPECT_EQ(pipeline->stop().code, 0);
}

TEST_F(RegistryFromPostgres, AnUnreachableDatabaseAtStartExitsNamingTheSetting) {
  TempDir dir;
  const RunResult result = run_tastesync(
      dir.path(), "run",
      {"run", "--brokers", "127.0.0.1:9", "--metrics-port", "0", "--state-dir",
       (dir.path() / "state").string(), "--registry", "postgres", "--postgres",
       "postgresql://tastesync@127.0.0.1:" + std::to_string(free_loopback_port()) + "/x"},
      {{"TASTESYNC_REGISTRY__START_TIMEOUT_MS", "1500"}});
  EXPECT_TRUE(result.status.exited_with(2)) << result.status.describe();
  EXPECT_NE(result.stderr_text.find("registry.source=postgres"), std::string::npos)
      << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("registry.start_timeout_ms"), std::string::npos);
}

TEST_F(RegistryFromPostgres, RegistryPostgresWithoutADsnIsAStartError) {
  TempDir dir;
  const RunResult result =
      run_tastesync(dir.path(), "run",
                    {"run", "--brokers", "127.0.0.1:9", "--metrics-port", "0", "--registry",
                     "postgres", "--state-dir", (dir.path() / "state").string()});
  EXPECT_TRUE(result.status.exited_with(2)) << result.status.describe();
  EXPECT_NE(result.stderr_text.find("postgres.dsn"), std::string::npos) << result.stderr_text;
}

}  // namespace
}  // namespace tastesync::testing
