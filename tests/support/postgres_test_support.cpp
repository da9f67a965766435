#include "tests/support/postgres_test_support.hpp"

#include <pqxx/pqxx>
#include <stdexcept>
#include <utility>

#include "db/migrations.hpp"
#include "db/postgres.hpp"

namespace tastesync::testing {
namespace {

constexpr const char* kIdentityColumns =
    "SELECT event_id::text, customer_id, beacon_id::text, qr_code, source, sighting_id, location,"
    " location_type, store_id, confidence::text, identification,"
    " to_char(detected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " (extract(epoch FROM detected_at) * 1000)::bigint FROM customer_identities";

StoredIdentity to_identity(const pqxx::row& row) {
  StoredIdentity identity;
  identity.event_id = row[0].as<std::string>();
  identity.customer_id = row[1].as<std::string>();
  if (!row[2].is_null()) identity.beacon_id = row[2].as<std::string>();
  if (!row[3].is_null()) identity.qr_code = row[3].as<std::string>();
  identity.source = row[4].as<std::string>();
  identity.sighting_id = row[5].as<std::string>();
  identity.location = row[6].as<std::string>();
  identity.location_type = row[7].as<std::string>();
  identity.store_id = row[8].as<std::string>();
  identity.confidence = row[9].as<std::string>();
  identity.identification = row[10].as<std::string>();
  identity.detected_at = row[11].as<std::string>();
  identity.detected_at_ms = row[12].as<EpochMs>();
  return identity;
}

}  // namespace

EpochMs at(std::string_view rfc3339) {
  const auto ms = parse_rfc3339(rfc3339);
  if (!ms) throw std::invalid_argument("not an RFC 3339 time: " + std::string(rfc3339));
  return *ms;
}

void PostgresSinkTest::SetUpTestSuite() {
  if (!server_) server_ = std::make_unique<PostgresServer>();
}

void PostgresSinkTest::TearDownTestSuite() {
  server_.reset();
}

void PostgresSinkTest::SetUp() {
  if (!server_->running()) server_->start();
  dsn_ = server_->create_database();
  auto connection = connect_postgres(dsn_, "test-setup");
  migrate(*connection, at(kNow));
}

std::int64_t PostgresSinkTest::count(const std::string& sql) const {
  auto connection = connect_postgres(dsn_, "test-check");
  pqxx::nontransaction query(*connection);
  return query.exec1(sql)[0].as<std::int64_t>();
}

std::vector<StoredIdentity> PostgresSinkTest::identities() const {
  auto connection = connect_postgres(dsn_, "test-check");
  pqxx::nontransaction query(*connection);
  std::vector<StoredIdentity> rows;
  for (const auto& row : query.exec(std::string(kIdentityColumns) + " ORDER BY event_id")) {
    rows.push_back(to_identity(row));
  }
  return rows;
}

std::optional<StoredIdentity> PostgresSinkTest::identity(const std::string& event_id) const {
  auto connection = connect_postgres(dsn_, "test-check");
  pqxx::nontransaction query(*connection);
  const auto rows =
      query.exec_params(std::string(kIdentityColumns) + " WHERE event_id = $1::uuid", event_id);
  if (rows.empty()) return std::nullopt;
  return to_identity(rows[0]);
}

std::optional<EpochMs> PostgresSinkTest::last_seen(const std::string& customer_id) const {
  auto connection = connect_postgres(dsn_, "test-check");
  pqxx::nontransaction query(*connection);
  const auto rows = query.exec_params(
      "SELECT (extract(epoch FROM last_seen) * 1000)::bigint FROM customers"
      " WHERE customer_id = $1",
      customer_id);
  if (rows.empty() || rows[0][0].is_null()) return std::nullopt;
  return rows[0][0].as<EpochMs>();
}

bool PostgresSinkTest::customer_row_exists(const std::string& customer_id) const {
  auto connection = connect_postgres(dsn_, "test-check");
  pqxx::nontransaction query(*connection);
  return !query.exec_params("SELECT 1 FROM customers WHERE customer_id = $1", customer_id).empty();
}

std::vector<std::string> PostgresSinkTest::partitions() const {
  auto connection = connect_postgres(dsn_, "test-check");
  pqxx::nontransaction query(*connection);
  std::vector<std::string> names;
  for (const auto& row :
       query.exec("SELECT child.relname FROM pg_inherits"
                  " JOIN pg_class child ON child.oid = pg_inherits.inhrelid"
                  " JOIN pg_class parent ON parent.oid = pg_inherits.inhparent"
                  " WHERE parent.relname = 'customer_identities' ORDER BY child.relname")) {
    names.push_back(row[0].as<std::string>());
  }
  return names;
}

}  // namespace tastesync::testing
