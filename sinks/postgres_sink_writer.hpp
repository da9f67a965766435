#pragma once

#include <memory>
#include <string>

#include "sinks/event/sink_writer.hpp"

namespace tastesync {

// The PostgreSQL sink's writer (docs/contract.md#postgres) for the database at `dsn`; connects on
// first use.
std::unique_ptr<SinkWriter> make_postgres_sink_writer(const std::string& dsn);

}  // namespace tastesync
