#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tastesync {

struct SimArguments {
  std::string setting = "quiet";
  std::optional<std::string> layout;       // nullopt: the built-in layout (fixture stores)
  std::optional<std::string> registry;     // nullopt: registry.source of the configuration
  std::optional<std::string> config_path;  // the pipeline's configuration (scoring options)
  std::optional<int> customers;
  std::optional<std::uint64_t> seed;
  int seeds = 1;                     // runs seed, seed + 1, ..., seed + seeds - 1
  std::optional<std::string> model;  // "stages" (default) or "nearest"

  std::optional<std::string> store;
  std::vector<std::pair<std::string, double>> knobs;  // flag without "--", value; in order
  bool json = false;
  std::optional<std::string> events_csv;  // every emitted event with the truth at its time
};

// Registers `tastesync sim` and its flags on `app`; main() calls sim_command when it parsed.
CLI::App* add_sim_subcommand(CLI::App& app, SimArguments& arguments);

// Runs the floor-plan simulator through the real stages and prints its report. Returns the
// exit code; throws ConfigError (naming the flag, key or file) for bad input.
int sim_command(const SimArguments& arguments);

}  // namespace tastesync
