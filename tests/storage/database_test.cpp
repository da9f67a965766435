#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <sstream>
#include <string>

#include "common/event_time.hpp"
#include "db/migrations.hpp"
#include "db/postgres.hpp"
#include "registry/registry_store.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/subprocess.hpp"

namespace tastesync {
namespace {

using testing::PostgresServer;

// 2026-11-25T12:00:00Z: a fixed "now" keeps partition names predictable.
const EpochMs kNow = *parse_rfc3339("2026-11-25T12:00:00Z");

class DatabaseTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<PostgresServer>(); }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    dsn_ = server_->create_database();
    connection_ = connect_postgres(dsn_, "database_test");
  }

  std::string schema_dump() {
    testing::TempDir dir;
    testing::Subprocess dump({"/usr/lib/postgresql/15/bin/pg_dump", "--schema-only", dsn_},
                             dir.path(), "pg_dump");
    const auto status = dump.wait_for_exit(std::chrono::seconds(60));
    EXPECT_TRUE(status && status->exited_with(0)) << dump.stderr_text();
    // pg_dump 15.18 writes a random \restrict key into every dump
    // (docs/platform.md#servers-as-root).
    std::istringstream lines(dump.stdout_text());
    std::string kept;
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("\\restrict") || line.starts_with("\\unrestrict")) continue;
      kept += line + "\n";
    }
    return kept;
  }

  std::vector<std::string> partitions() {
    pqxx::read_transaction read(*connection_);
    std::vector<std::string> names;
    for (const auto& row :
         read.exec("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                   "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'customer_identities' "
                   "ORDER BY 1")) {
      names.emplace_back(row[0].c_str());
    }
    return names;
  }

  void insert_identity(const std::string& event_id, const std::string& detected_at,
                       const std::string& confidence = "0.950") {
    pqxx::work work(*connection_);
    work.exec_params(
        "INSERT INTO customer_identities (event_id, customer_id, beacon_id, source, sighting_id,"
        " location, location_type, store_id, confidence, identification, detected_at)"
        " VALUES ($1, 'c1', '16a0a3a7-7a0a-558a-8314-95b5dcb6d404', 'beacon', 's1', 'Table 1',"
        " 'table', 'store100', $2::numeric, 'arrival', $3::timestamptz)",
        event_id, confidence, detected_at);
    work.commit();
  }

  static std::unique_ptr<PostgresServer> server_;
  std::string dsn_;
  std::unique_ptr<pqxx::connection> connection_;
};

std::unique_ptr<PostgresServer> DatabaseTest::server_;

TEST_F(DatabaseTest, MigrateAppliesEverythingOnceAndTheSecondRunChangesNothing) {
  const MigrateReport first = migrate(*connection_, kNow);
  EXPECT_EQ(first.applied.size(), migrations().size());
  EXPECT_EQ(first.partitions_created, 3);
  const std::string before = schema_dump();
  ASSERT_NE(before.find("CREATE TABLE public.customer_identities"), std::string::npos);

  const MigrateReport second = migrate(*connection_, kNow);
  EXPECT_TRUE(second.applied.empty());
  EXPECT_EQ(second.partitions_created, 0);
  EXPECT_EQ(schema_dump(), before);
}

TEST_F(DatabaseTest, PartitionsCoverThisMonthAndTheNextTwo) {
  (void)migrate(*connection_, kNow);
  EXPECT_EQ(partitions(),
            (std::vector<std::string>{"customer_identities_2026_11", "customer_identities_2026_12",
                                      "customer_identities_2027_01"}));
  // The upper bound of one month is the lower bound of the next: no gap at month ends.
  insert_identity("10ef298c-1c10-55df-9149-b492e3cf5787", "2026-11-30T23:59:59.999Z");
  insert_identity("20ef298c-1c10-55df-9149-b492e3cf5787", "2026-12-01T00:00:00.000Z");
  pqxx::read_transaction read(*connection_);
  EXPECT_EQ(read.exec1("SELECT count(*) FROM customer_identities_2026_12")[0].as<int>(), 1);
}

TEST_F(DatabaseTest, ARowForAMonthWithoutPartitionIsAMissingPartitionNotContent) {
  (void)migrate(*connection_, kNow);
  try {
    insert_identity("10ef298c-1c10-55df-9149-b492e3cf5787", "2027-06-15T10:00:00Z");
    FAIL() << "the insert should need a partition";
  } catch (const std::exception& e) {
    EXPECT_EQ(classify_db_error(e), DbErrorKind::missing_partition) << e.what();
  }
  EXPECT_EQ(ensure_partitions(*connection_, *parse_rfc3339("2027-06-15T10:00:00Z"), 1), 1);
  insert_identity("10ef298c-1c10-55df-9149-b492e3cf5787", "2027-06-15T10:00:00Z");
}

TEST_F(DatabaseTest, ContentTheSchemaRefusesIsClassifiedAsContent) {
  (void)migrate(*connection_, kNow);
  try {
    insert_identity("10ef298c-1c10-55df-9149-b492e3cf5787", "2026-11-25T10:00:00Z", "1.5");
    FAIL() << "confidence 1.5 should be refused";
  } catch (const std::exception& e) {
    EXPECT_EQ(classify_db_error(e), DbErrorKind::content) << e.what();
  }
}

TEST_F(DatabaseTest, RedeliveryInsertsNothing) {
  (void)migrate(*connection_, kNow);
  insert_identity("10ef298c-1c10-55df-9149-b492e3cf5787", "2026-11-25T10:00:00Z");
  try {
    insert_identity("10ef298c-1c10-55df-9149-b492e3cf5787", "2026-11-25T10:00:00Z");
    FAIL() << "(event_id, detected_at) must be unique";
  } catch (const pqxx::unique_violation&) {
  }
}

// 004 rebuilds the unique key of a table that may already hold years of rows: they stay, the key
// still refuses a redelivered event, and detected_at stays indexed, by the key itself.
TEST_F(DatabaseTest, TheKeyByTimeMigrationKeepsTheRowsAndTheirUniqueness) {
  {
    // What migrate() left before 004.
    pqxx::work work(*connection_);
    work.exec(
        "CREATE TABLE tastesync_schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    for (const Migration& migration : migrations()) {
      if (migration.version >= 4) break;
      work.exec(std::string(migration.sql));
      work.exec_params("INSERT INTO tastesync_schema_migrations (version, name) VALUES ($1, $2)",
                       migration.version, std::string(migration.name));
    }
    work.exec("SELECT tastesync_ensure_partitions('2026-11-01T00:00:00Z', 3)");
    work.commit();
  }
  insert_identity("10ef298c-1c10-55df-9149-b492e3cf5787", "2026-11-25T10:00:00Z");
  insert_identity("20ef298c-1c10-55df-9149-b492e3cf5787", "2026-12-25T10:00:00Z");

  const MigrateReport report = migrate(*connection_, kNow);

  ASSERT_FALSE(report.applied.empty());
  EXPECT_EQ(report.applied.front(), 4) << "004 and the migrations after it";
  {
    pqxx::read_transaction read(*connection_);
    EXPECT_EQ(read.exec1("SELECT count(*) FROM customer_identities")[0].as<int>(), 2);
    std::vector<std::string> indexes;
    for (const auto& row :
         read.exec("SELECT indexname || ': ' || regexp_replace(indexdef, '.* USING ', '')"
                   " FROM pg_indexes WHERE tablename = 'customer_identities' ORDER BY 1")) {
      indexes.emplace_back(row[0].c_str());
    }
    EXPECT_EQ(indexes, (std::vector<std::string>{
                           "customer_identities_customer_id: btree (customer_id)",
                           "customer_identities_detected_at_event_id_key: btree (detected_at, "
                           "event_id)"}));
  }
  EXPECT_THROW(insert_identity("10ef298c-1c10-55df-9149-b492e3cf5787", "2026-11-25T10:00:00Z"),
               pqxx::unique_violation);
  // A partition made after it has the same two indexes.
  ASSERT_EQ(ensure_partitions(*connection_, *parse_rfc3339("2027-06-15T10:00:00Z"), 1), 1);
  pqxx::read_transaction read(*connection_);
  EXPECT_EQ(read.exec1("SELECT string_agg(regexp_replace(indexdef, '.* USING ', ''), '; '"
                       " ORDER BY indexdef) FROM pg_indexes"
                       " WHERE tablename = 'customer_identities_2027_06'")[0]
                .as<std::string>(),
            "btree (customer_id); btree (detected_at, event_id)");
}

// 005: customers rows are updated in place on every batch (docs/bench.md#issue-17-22).
TEST_F(DatabaseTest, CustomersPagesLeaveRoomForTheirRowsNextVersions) {
  (void)migrate(*connection_, kNow);
  pqxx::read_transaction read(*connection_);
  EXPECT_EQ(read.exec1("SELECT array_to_string(reloptions, ',') FROM pg_class"
                       " WHERE relname = 'customers'")[0]
                .as<std::string>(),
            "fillfactor=70");
}

TEST_F(DatabaseTest, RetentionDropsOnlyPartitionsWhollyOlderThanFiveYears) {
  (void)migrate(*connection_, kNow);
  // 2021-10 ends before 2021-11-25 (five years before kNow); 2021-11 does not.
  (void)ensure_partitions(*connection_, *parse_rfc3339("2021-10-01T00:00:00Z"), 2);
  EXPECT_EQ(drop_expired_partitions(*connection_, kNow, kRetentionYears), 1);
  const auto left = partitions();
  EXPECT_EQ(left.front(), "customer_identities_2021_11");
  EXPECT_EQ(left.size(), 4u);
  EXPECT_EQ(retention_start(kNow, 5), *parse_rfc3339("2021-11-25T12:00:00Z"));
  EXPECT_EQ(retention_start(*parse_rfc3339("2028-02-29T00:00:00Z"), 1),
            *parse_rfc3339("2027-03-01T00:00:00Z"));
}

std::string fixture(const std::string& name) {
  return testing::read_file(std::string(TASTESYNC_FIXTURES_DIR) + "/" + name);
}

TEST_F(DatabaseTest, RegistryImportThenExportRoundTrips) {
  (void)migrate(*connection_, kNow);
  auto file_registry = Registry::from_json(fixture("registry.json"));
  ASSERT_TRUE(file_registry) << file_registry.error();
  const ImportReport report = import_registry(*connection_, **file_registry);
  EXPECT_EQ(report.beacons, (*file_registry)->beacons().size());
  EXPECT_EQ(report.qr_codes, (*file_registry)->qr_codes().size());
  const std::string exported = export_registry_json(*connection_);

  // Importing twice changes nothing, and the export reads back as the same registry.
  (void)import_registry(*connection_, **file_registry);
  EXPECT_EQ(export_registry_json(*connection_), exported);
  auto reread = Registry::from_json(exported);
  ASSERT_TRUE(reread) << reread.error();
  auto loaded = load_registry_from_postgres(*connection_);
  for (const auto* registry : {&**reread, loaded.get()}) {
    ASSERT_EQ(registry->beacons().size(), (*file_registry)->beacons().size());
    ASSERT_EQ(registry->qr_codes().size(), (*file_registry)->qr_codes().size());
    for (const BeaconEntry& beacon : (*file_registry)->beacons()) {
      const BeaconEntry* found = registry->find_beacon(beacon.uuid, beacon.major, beacon.minor);
      ASSERT_NE(found, nullptr);
      EXPECT_EQ(found->beacon_id, beacon.beacon_id);
      EXPECT_EQ(found->status, beacon.status);
      EXPECT_EQ(found->tx_power_dbm, beacon.tx_power_dbm);
      EXPECT_EQ(found->radius_m, beacon.radius_m);
      const Location& want = (*file_registry)->location(beacon.location_index);
      const Location& got = registry->location(found->location_index);
      EXPECT_EQ(got.store_id, want.store_id);
      EXPECT_EQ(got.name, want.name);
      EXPECT_EQ(got.type, want.type);
    }
    for (const QrEntry& qr : (*file_registry)->qr_codes()) {
      const QrEntry* found = registry->find_qr(qr.code);
      ASSERT_NE(found, nullptr) << qr.code;
      EXPECT_EQ(found->status, qr.status);
      EXPECT_EQ(registry->location(found->location_index).name,
                (*file_registry)->location(qr.location_index).name);
    }
  }
}

TEST_F(DatabaseTest, TheSchemaRefusesWhatARegistryMayNotHold) {
  (void)migrate(*connection_, kNow);
  const auto refused = [this](const std::string& sql) {
    try {
      pqxx::work work(*connection_);
      work.exec(sql);
      work.commit();
    } catch (const std::exception& e) {
      return classify_db_error(e) == DbErrorKind::content;
    }
    return false;
  };
  const std::string beacon =
      "INSERT INTO beacons (beacon_id, uuid, major, minor, store_id, location, location_type,"
      " status) VALUES ";
  EXPECT_TRUE(refused(beacon +
                      "(gen_random_uuid(), gen_random_uuid(), 1, 70000, 's', 'T', 'table', "
                      "'active')"));
  EXPECT_TRUE(refused(beacon +
                      "(gen_random_uuid(), gen_random_uuid(), 1, 1, 's', 'T', 'booth', 'active')"));
  EXPECT_TRUE(
      refused(beacon + "(gen_random_uuid(), gen_random_uuid(), 1, 1, 's', 'T', 'table', 'gone')"));
  EXPECT_TRUE(refused(beacon + "(gen_random_uuid(), gen_random_uuid(), 1, 1, 's', " +
                      "'A name longer than thirty-two characters', 'table', 'active')"));
  EXPECT_FALSE(refused(beacon + "('16a0a3a7-7a0a-558a-8314-95b5dcb6d404', "
                                "'550e8400-e29b-41d4-a716-446655440000', 1, 1, 's', 'T', 'table', "
                                "'active')"));
  // The iBeacon identity is unique.
  EXPECT_TRUE(refused(beacon +
                      "(gen_random_uuid(), '550e8400-e29b-41d4-a716-446655440000', 1, 1, 's', "
                      "'U', 'table', 'active')"));
}

}  // namespace
}  // namespace tastesync
