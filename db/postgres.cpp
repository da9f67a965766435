#include "db/postgres.hpp"

#include <string_view>

namespace tastesync {

std::unique_ptr<pqxx::connection> connect_postgres(const std::string& dsn,
                                                   const std::string& application_name) {
  auto connection = std::make_unique<pqxx::connection>(dsn);
  pqxx::nontransaction setup(*connection);
  // Built by appending: GCC 12 at -O3 warns (-Wrestrict, a false positive) on the literal +
  // std::string&& inside pqxx's quote().
  std::string statement = "SET application_name = '";
  statement.append(setup.esc(application_name)).append("'");
  setup.exec(statement);
  // Times cross the wire in the canonical UTC form; make the session agree.
  setup.exec("SET TIME ZONE 'UTC'");
  return connection;
}

DbErrorKind classify_db_error(const std::exception& error) {
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&error);
  if (sql == nullptr) return DbErrorKind::transient;
  const std::string& state = sql->sqlstate();
  if (state == "23514" &&
      std::string_view(sql->what()).find("no partition of relation") != std::string_view::npos) {
    return DbErrorKind::missing_partition;
  }
  // Class 22: data exception (value too long, bad UUID text...); class 23: integrity
  // constraint violation. Everything else (connection, resources, operator intervention,
  // serialization) may pass.
  if (state.starts_with("22") || state.starts_with("23")) return DbErrorKind::content;
  return DbErrorKind::transient;
}

}  // namespace tastesync
