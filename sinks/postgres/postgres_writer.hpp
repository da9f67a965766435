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
// (docs/contract.md#postgres). A batch is one transaction: COPY into a session-local staging table,
// then INSERT ... ON CONFLICT DO NOTHING, so a redelivered event inserts nothing. Events older than
// the retention are skipped; a month without a partition gets one and the batch is retried; rows
// the database refuses for their content are pinned down by bisection and rejected one by one.
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

 private:
  struct TransactionError {
    DbErrorKind kind;
    std::string message;
  };
  struct Batch;

  std::optional<std::string> connect();
  std::optional<std::string> keep_partitions_ahead(EpochMs now_ms);
  std::optional<std::string> store(Batch& batch, std::span<const std::size_t> indices);
  std::optional<TransactionError> store_in_one_transaction(Batch& batch,
                                                           std::span<const std::size_t> indices);
  std::optional<std::string> create_partitions(const Batch& batch);

  std::string dsn_;
  std::unique_ptr<pqxx::connection> connection_;
  // The UTC month (year * 12 + month) of the wall clock for which the partitions ahead were last
  // made sure of on this connection.
  std::optional<int> checked_month_;
};

}  // namespace tastesync
