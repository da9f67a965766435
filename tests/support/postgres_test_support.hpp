#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/event_time.hpp"
#include "sinks/event/sink_event.hpp"
#include "tests/support/postgres_server.hpp"

namespace tastesync::testing {

// The wall clock of every test: migrate() made the partitions 2026-11, 2026-12 and 2027-01, and
// the retention starts 2021-11-15T12:00:00Z.
inline constexpr std::string_view kNow = "2026-11-15T12:00:00.000Z";

EpochMs at(std::string_view rfc3339);

// A customer_identities row as text, the way the tests compare it.
struct StoredIdentity {
  std::string event_id;
  std::string customer_id;
  std::optional<std::string> beacon_id;
  std::optional<std::string> qr_code;
  std::string source;
  std::string sighting_id;
  std::string location;
  std::string location_type;
  std::string store_id;
  std::string confidence;
  std::string identification;
  std::string detected_at;  // canonical form, formatted by the database
  EpochMs detected_at_ms = 0;
};

// One PostgreSQL server per test suite (each ctest run is one test, so one per test there), a
// fresh migrated database per test.
class PostgresSinkTest : public ::testing::Test {
 public:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

 protected:
  void SetUp() override;

  static PostgresServer& server() { return *server_; }
  const std::string& dsn() const { return dsn_; }

  std::int64_t count(const std::string& sql) const;
  std::vector<StoredIdentity> identities() const;  // ordered by event_id
  std::optional<StoredIdentity> identity(const std::string& event_id) const;
  // NULL last_seen and no row both read as nullopt; customer_row_exists() tells them apart.
  std::optional<EpochMs> last_seen(const std::string& customer_id) const;
  bool customer_row_exists(const std::string& customer_id) const;
  std::vector<std::string> partitions() const;  // customer_identities_YYYY_MM, sorted

 private:
  static inline std::unique_ptr<PostgresServer> server_;
  std::string dsn_;
};

}  // namespace tastesync::testing
