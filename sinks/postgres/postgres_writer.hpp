#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <pqxx/connection>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/event_time.hpp"
#include "common/result.hpp"
#include "db/postgres.hpp"
#include "sinks/event/sink_event.hpp"
#include "sinks/event/sink_writer.hpp"

namespace tastesync {

// Stores CustomerIdentified events in customer_identities and moves customers.last_seen forward
// (docs/contract.md#postgres). A batch is one transaction. Normally that is a COPY straight into
// customer_identities; a batch it cannot take (an event already stored, an erased customer, a
// refused row) goes through a session-local staging table and INSERT ... ON CONFLICT DO NOTHING,
// so a redelivered event inserts nothing. Events older than the retention are skipped; a month
// without a partition gets one and the batch is retried; rows the database refuses for their
// content are pinned down by bisection and rejected one by one.
//
// Connects on the first write. After a connection or server error the connection is dropped and
// the next write() opens a new one (libpqxx's own reactivation would lose the staging table).
// Not thread-safe: one writer per sink thread.
class PostgresWriter final : public SinkWriter {
 public:
  explicit PostgresWriter(std::string dsn);

  std::string_view name() const override { return "postgres"; }
  Result<SinkWriteResult, SinkError> write(std::span<const SinkEvent> events,
                                           EpochMs now_ms) override;

  // How many write() calls went straight into customer_identities and how many through the
  // staging table (docs/storage.md#sinks), for the tests and the sink bench.
  struct PathsTaken {
    std::size_t direct = 0;
    std::size_t staging = 0;
  };
  const PathsTaken& paths_taken() const { return paths_taken_; }

 private:
  struct TransactionError {
    DbErrorKind kind;
    std::string message;
  };
  struct Batch;
  enum class DirectOutcome { stored, declined, failed };

  std::optional<std::string> connect();
  std::optional<std::string> keep_partitions_ahead(EpochMs now_ms);
  DirectOutcome store_directly(Batch& batch);
  std::optional<std::string> store(Batch& batch, std::span<const std::size_t> indices);
  std::optional<TransactionError> store_in_one_transaction(Batch& batch,
                                                           std::span<const std::size_t> indices);
  std::optional<std::string> create_partitions(const Batch& batch);

  std::string dsn_;
  std::unique_ptr<pqxx::connection> connection_;
  // The UTC month (year * 12 + month) of the wall clock for which the partitions ahead were last
  // made sure of on this connection.
  std::optional<int> checked_month_;
  // Whether the next batch tries the direct path first (store_directly).
  bool direct_ = true;
  PathsTaken paths_taken_;
};

}  // namespace tastesync
