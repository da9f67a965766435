#include "sinks/postgres_sink_writer.hpp"

#include "sinks/postgres/postgres_writer.hpp"

namespace tastesync {

std::unique_ptr<SinkWriter> make_postgres_sink_writer(const std::string& dsn) {
  return std::make_unique<PostgresWriter>(dsn);
}

}  // namespace tastesync
