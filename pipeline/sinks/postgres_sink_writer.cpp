#include "postgres_sink_writer.hpp"

#include "postgres_writer.hpp"

namespace tastesync {

std::unique_ptr<SinkWriter> make_postgres_sink_writer(const std::string& dsn) {
  return std::make_unique<PostgresWriter>(dsn);
}

}  // namespace tastesync
