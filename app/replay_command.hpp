#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/commands.hpp"

namespace tastesync {

// `tastesync replay` (docs/operations.md#replay). Configuration keys (--brokers, --input-topic,
// --registry, --postgres, --group-id, --config) as `run` reads them; the rest is the replay's.
struct ReplayArguments {
  RunArguments run;
  std::string output_topic;
  std::string dlq_topic;
  bool from_beginning = false;
  std::optional<std::string> from_timestamp;
  std::optional<std::string> to_timestamp;
  std::optional<std::string> warmup;
  std::vector<std::string> customers;
  bool dry_run = false;
  bool allow_live_output = false;
};

CLI::App* add_replay_subcommand(CLI::App& app, ReplayArguments& arguments);
int replay_command(const ReplayArguments& arguments);

// `tastesync reset` (docs/operations.md#reset).
struct ResetArguments {
  RunArguments run;
  bool to_earliest = false;
  std::optional<std::string> to_timestamp;
};

CLI::App* add_reset_subcommand(CLI::App& app, ResetArguments& arguments);
int reset_command(const ResetArguments& arguments);

}  // namespace tastesync
