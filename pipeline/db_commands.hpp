#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace tastesync {

struct DbArguments {
  std::string postgres;  // DSN; --postgres or TASTESYNC_POSTGRES__DSN
  std::string registry_file;
  int retention_years = 5;
};

// `tastesync db migrate|retention` and `tastesync registry import|export`.
struct DbCommands {
  CLI::App* migrate = nullptr;
  CLI::App* retention = nullptr;
  CLI::App* registry_import = nullptr;
  CLI::App* registry_export = nullptr;
};

DbCommands add_db_subcommands(CLI::App& app, DbArguments& arguments);

// Runs whichever of `commands` was parsed; returns the exit code, or -1 when none was.
int run_db_command(const DbCommands& commands, const DbArguments& arguments);

}  // namespace tastesync
