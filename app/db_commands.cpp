#include "app/db_commands.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "app/commands.hpp"
#include "app/logging.hpp"
#include "common/clock.hpp"
#include "config/config.hpp"
#include "db/migrations.hpp"
#include "db/postgres.hpp"
#include "registry/registry_store.hpp"

namespace tastesync {
namespace {

void postgres_option(CLI::App& command, DbArguments& arguments) {
  command
      .add_option_function<std::string>(
          "--postgres",
          [&arguments](const std::string& dsn) {
            arguments.overrides.emplace_back("postgres.dsn", dsn);
          },
          "PostgreSQL DSN or URI (config key postgres.dsn; also TASTESYNC_POSTGRES__DSN or "
          "postgres.dsn_file)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  command.add_option_function<std::string>(
      "--config", [&arguments](const std::string& path) { arguments.config_path = path; },
      "YAML config file (defaults < file < TASTESYNC_* environment < flags)");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("registry file " + path + " cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

DbCommands add_db_subcommands(CLI::App& app, DbArguments& arguments) {
  DbCommands commands;
  CLI::App* db = app.add_subcommand("db", "PostgreSQL schema: migrations and retention");
  db->require_subcommand(1);
  commands.migrate =
      db->add_subcommand("migrate",
                         "Apply the schema migrations the database lacks and create the partitions "
                         "ahead (idempotent)");
  postgres_option(*commands.migrate, arguments);
  commands.retention = db->add_subcommand(
      "retention", "Drop customer_identities partitions older than the retention");
  postgres_option(*commands.retention, arguments);
  commands.retention->add_option("--years", arguments.retention_years, "Retention in years")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();

  CLI::App* registry = app.add_subcommand("registry", "The beacon and QR registry in PostgreSQL");
  registry->require_subcommand(1);
  commands.registry_import = registry->add_subcommand(
      "import", "Upsert a registry JSON file (the fixtures' format) into the database");
  commands.registry_import->add_option("file", arguments.registry_file, "Registry JSON file")
      ->required();
  postgres_option(*commands.registry_import, arguments);
  commands.registry_export =
      registry->add_subcommand("export", "Print the database's registry as JSON");
  postgres_option(*commands.registry_export, arguments);
  return commands;
}

namespace {

// Runs whichever command was parsed, with its configuration loaded.
int run_parsed(const DbCommands& commands, const DbArguments& arguments, const Config& config) {
  const auto connect = [&config] { return connect_postgres(config.postgres.dsn, "tastesync-cli"); };
  if (commands.migrate->parsed()) {
    auto connection = connect();
    const MigrateReport report = migrate(*connection, wall_clock_ms());
    std::printf("db migrate: %zu migration(s) applied, %d partition(s) created\n",
                report.applied.size(), report.partitions_created);
    return 0;
  }
  if (commands.retention->parsed()) {
    auto connection = connect();
    const int dropped =
        drop_expired_partitions(*connection, wall_clock_ms(), arguments.retention_years);
    std::printf("db retention: %d partition(s) dropped\n", dropped);
    return 0;
  }
  if (commands.registry_import->parsed()) {
    auto registry = Registry::from_json(read_file(arguments.registry_file));
    if (!registry) {
      throw ConfigError("registry file " + arguments.registry_file + ": " + registry.error());
    }
    auto connection = connect();
    const ImportReport report = import_registry(*connection, **registry);
    std::printf("registry import: %zu beacon(s), %zu QR code(s) upserted\n", report.beacons,
                report.qr_codes);
    return 0;
  }
  if (commands.registry_export->parsed()) {
    auto connection = connect();
    const std::string json = export_registry_json(*connection);
    std::fwrite(json.data(), 1, json.size(), stdout);
    return 0;
  }
  return -1;
}

}  // namespace

int run_db_command(const DbCommands& commands, const DbArguments& arguments) {
  if (!commands.migrate->parsed() && !commands.retention->parsed() &&
      !commands.registry_import->parsed() && !commands.registry_export->parsed()) {
    return -1;
  }
  const Config config =
      load_config({arguments.config_path, process_environment(), arguments.overrides});
  if (config.postgres.dsn.empty()) {
    throw ConfigError(
        "this command needs postgres.dsn (--postgres, TASTESYNC_POSTGRES__DSN, or "
        "postgres.dsn_file)");
  }
  const Redactor redactor = redactor_for(config);
  setup_logging(config.log, redactor);
  return with_redacted_errors(redactor, [&] { return run_parsed(commands, arguments, config); });
}

}  // namespace tastesync
