// registry.source = postgres (docs/contract.md#registry-sources, #registry-reload): the registry
// comes from the database at start and follows its changes while running, without a restart.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "common/event_time.hpp"
#include "db/migrations.hpp"
#include "db/postgres.hpp"
#include "registry/learned_levels.hpp"
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

// The fixtures' store100 Table 1 beacon (major 100, minor 11).
constexpr std::string_view kTable1Beacon = "90867dfa-e3a8-50ed-a404-b237cd50cbb9";

// Counts the registry watchers' notifications on a connection of its own.
class RegistryNotifications : public pqxx::notification_receiver {
 public:
  explicit RegistryNotifications(pqxx::connection_base& connection)
      : pqxx::notification_receiver(connection, "tastesync_registry") {}
  void operator()(const std::string& /*payload*/, int /*backend_pid*/) override { ++count; }
  int count = 0;
};

TEST_F(RegistryFromPostgres, LearntLevelsGoBesideTheInstallersTxPowerAndWakeNoWatcher) {
  const Uuid table1 = *parse_uuid(kTable1Beacon);
  auto listening = connect_postgres(dsn_, "registry_postgres_test_listen");
  RegistryNotifications notifications(*listening);
  const EpochMs t = *parse_rfc3339("2026-11-25T12:00:00Z");
  const std::vector<LearnedLevelRow> rows = {
      {table1, 0, -63.0, 3.0, t},
      {table1, 4, -67.0, 1.0, t + 1000},
      {*parse_uuid("00000000-0000-4000-8000-000000000001"), 0, -60.0, 2.0, t},  // not a beacon
  };
  export_learned_levels(*connection_, rows);
  // An older row of partition 4 (another instance, late) changes nothing.
  export_learned_levels(*connection_, std::vector<LearnedLevelRow>{{table1, 4, -90.0, 9.0, t}});

  pqxx::work read(*connection_);
  const pqxx::row beacon = read.exec1(
      "SELECT tx_power, learned_tx_power, learned_scans,"
      " extract(epoch FROM learned_at) * 1000 FROM beacons WHERE beacon_id = '" +
      std::string(kTable1Beacon) + "'");
  EXPECT_EQ(beacon[0].as<int>(), -59) << "the installer's value stays";
  EXPECT_DOUBLE_EQ(beacon[1].as<double>(), -64.0) << "(3 x -63 + 1 x -67) / 4";
  EXPECT_DOUBLE_EQ(beacon[2].as<double>(), 4.0);
  EXPECT_DOUBLE_EQ(beacon[3].as<double>(), static_cast<double>(t + 1000));
  EXPECT_EQ(read.exec1("SELECT count(*) FROM beacon_learned_levels")[0].as<int>(), 2)
      << "a beacon the registry does not have is skipped";
  EXPECT_EQ(
      read.exec1("SELECT count(*) FROM beacons WHERE learned_tx_power IS NOT NULL")[0].as<int>(),
      1);
  read.commit();

  listening->await_notification(1, 0);
  EXPECT_EQ(notifications.count, 0) << "an export reloaded every registry watcher";
  {
    pqxx::work change(*connection_);
    change.exec("UPDATE beacons SET tx_power = -60 WHERE beacon_id = '" +
                std::string(kTable1Beacon) + "'");
    change.commit();
  }
  listening->await_notification(5, 0);
  EXPECT_GE(notifications.count, 1) << "a registry change still notifies";
}

TEST_F(RegistryFromPostgres, TheRunExportsWhatAQrScanTaughtOnceItIsCheckpointed) {
  start_broker();
  PipelineOptions options = pipeline_options("pipeline", "main");
  options.extra_arguments = {"--registry", "postgres", "--postgres", dsn_};
  options.environment = {{"TASTESYNC_SCORE__MODEL", "filter"},
                         {"TASTESYNC_REGISTRY__LEARNED_EXPORT_INTERVAL_MS", "200"}};
  auto pipeline = start_pipeline(options);

  // Seated at Table 1, its beacon at -66 dBm, scanning the table's code after 5 s; the readings
  // of the 30 s after the scan teach the room, the first one after them closes the window.
  const std::int64_t t0 = 1740916800000;
  std::vector<OutgoingRecord> records;
  for (int i = 0; i < 80; ++i) {
    const std::int64_t t = t0 + i * 500;
    const std::string id = "learn-" + std::to_string(i);
    BeaconSighting reading = beacon_sighting(id, "cust-learns", 11, t);
    reading.rssi_dbm = -66;
    records.push_back(OutgoingRecord{
        .key = "cust-learns",
        .value = i == 10 ? qr_sighting_json(id, "cust-learns", "TS-store100-T1", canonical_time(t))
                         : to_json(reading),
        .timestamp_ms = t + 50});
  }
  producer().produce_all("raw-beacons", records);

  std::optional<double> learned;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!learned && std::chrono::steady_clock::now() < deadline) {
    pqxx::work read(*connection_);
    const pqxx::row row = read.exec1("SELECT learned_tx_power FROM beacons WHERE beacon_id = '" +
                                     std::string(kTable1Beacon) + "'");
    read.commit();
    if (!row[0].is_null()) learned = row[0].as<double>();
    if (!learned) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(learned) << "nothing was exported to beacons.learned_tx_power";
  // A table's level is read at its 1 m radius: -66 dBm there is -66 at 1 m.
  EXPECT_NEAR(*learned, -66.0, 0.5);
  pqxx::work read(*connection_);
  const pqxx::row row =
      read.exec1("SELECT scans, count(*) OVER () FROM beacon_learned_levels WHERE beacon_id = '" +
                 std::string(kTable1Beacon) + "'");
  EXPECT_DOUBLE_EQ(row[0].as<double>(), 1.0) << "one scan";
  EXPECT_EQ(row[1].as<int>(), 1) << "one partition, the customer's";
  read.commit();
  EXPECT_EQ(pipeline->stop().code, 0);
}

}  // namespace
}  // namespace tastesync::testing
