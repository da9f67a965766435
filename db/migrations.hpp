#pragma once

#include <pqxx/pqxx>
#include <span>
#include <string_view>
#include <vector>

#include "common/event_time.hpp"

namespace tastesync {

// One file of schemas/postgres/, compiled in (see CMakeLists.txt).
struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// In version order.
std::span<const Migration> migrations();

// Monthly partitions exist for the current month and the next two (docs/contract.md#postgres).
inline constexpr int kPartitionMonthsAhead = 3;
inline constexpr int kRetentionYears = 5;

struct MigrateReport {
  std::vector<int> applied;  // versions applied by this run; empty when it was up to date
  int partitions_created = 0;
};

// Applies the migrations the database lacks, each in its own transaction recorded in
// tastesync_schema_migrations, under an advisory lock so that two instances starting at once
// do not race; then makes sure the partitions for `now` and the months ahead exist. Running it
// again changes nothing.
MigrateReport migrate(pqxx::connection& connection, EpochMs now);

// Creates the monthly partitions covering [month of `from`, + months); returns how many it made.
int ensure_partitions(pqxx::connection& connection, EpochMs from, int months);

// Drops the partitions wholly older than `years` before `now`; returns how many.
int drop_expired_partitions(pqxx::connection& connection, EpochMs now, int years);

// The start of the retention window: events detected before it are not stored.
EpochMs retention_start(EpochMs now, int years);

}  // namespace tastesync
