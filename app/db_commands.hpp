#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tastesync {

// The database comes from the configuration like `run`'s (postgres.dsn: --postgres,
// TASTESYNC_POSTGRES__DSN, postgres.dsn_file, --config), so its password is read and redacted
// the same way.
struct DbArguments {
  std::optional<std::string> config_path;
  std::vector<std::pair<std::string, std::string>> overrides;  // --postgres
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
