#pragma once

#include <exception>
#include <memory>
#include <pqxx/pqxx>
#include <string>

namespace tastesync {

// Opens a connection (libpq's DSN or URI). pqxx::connection is itself the RAII handle around
// PGconn; this names the application so the connections show up in pg_stat_activity.
std::unique_ptr<pqxx::connection> connect_postgres(const std::string& dsn,
                                                   const std::string& application_name);

// What a failed database call means to the caller.
enum class DbErrorKind {
  // Retry later: the connection broke, the server is starting or shutting down, a deadlock...
  transient,
  // SQLSTATE 23514 "no partition of relation ... found for row": create it and retry.
  missing_partition,
  // The database rejects the row itself (data exception, constraint violation): retrying
  // cannot help, the row goes to the dead-letter topic.
  content,
};

DbErrorKind classify_db_error(const std::exception& error);

}  // namespace tastesync
