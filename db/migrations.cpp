#include "db/migrations.hpp"

#include <spdlog/spdlog.h>

#include <ctime>
#include <string>

namespace tastesync {
namespace {

// An arbitrary constant shared by every instance: the lock serialises concurrent migrations.
constexpr long long kMigrationLock = 0x7461737465;  // "taste"

std::string sql_time(EpochMs ms) {
  return format_canonical_string(ms);
}

}  // namespace

MigrateReport migrate(pqxx::connection& connection, EpochMs now) {
  MigrateReport report;
  {
    pqxx::work setup(connection, "migrate setup");
    setup.exec(
        "CREATE TABLE IF NOT EXISTS tastesync_schema_migrations ("
        " version integer PRIMARY KEY, name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    setup.commit();
  }
  for (const Migration& migration : migrations()) {
    pqxx::work work(connection, "migrate");
    work.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLock) + ")");
    const auto done = work.exec_params(
        "SELECT 1 FROM tastesync_schema_migrations WHERE version = $1", migration.version);
    if (!done.empty()) continue;
    work.exec(std::string(migration.sql));
    work.exec_params("INSERT INTO tastesync_schema_migrations (version, name) VALUES ($1, $2)",
                     migration.version, std::string(migration.name));
    work.commit();
    spdlog::info("db migrate: applied {}", migration.name);
    report.applied.push_back(migration.version);
  }
  report.partitions_created = ensure_partitions(connection, now, kPartitionMonthsAhead);
  return report;
}

int ensure_partitions(pqxx::connection& connection, EpochMs from, int months) {
  pqxx::work work(connection, "ensure partitions");
  const auto row = work.exec_params1("SELECT tastesync_ensure_partitions($1::timestamptz, $2)",
                                     sql_time(from), months);
  work.commit();
  const int created = row[0].as<int>();
  if (created > 0) {
    spdlog::info("customer_identities: created {} monthly partition(s) from {}", created,
                 sql_time(from).substr(0, 7));
  }
  return created;
}

EpochMs retention_start(EpochMs now, int years) {
  const std::time_t seconds = static_cast<std::time_t>(now / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  utc.tm_year -= years;
  // Feb 29 minus a year: timegm normalises it to Mar 1, which is what "5 years ago" means here.
  return static_cast<EpochMs>(timegm(&utc)) * 1000 + now % 1000;
}

int drop_expired_partitions(pqxx::connection& connection, EpochMs now, int years) {
  pqxx::work work(connection, "retention");
  const auto row = work.exec_params1("SELECT tastesync_drop_partitions_before($1::timestamptz)",
                                     sql_time(retention_start(now, years)));
  work.commit();
  return row[0].as<int>();
}

}  // namespace tastesync
