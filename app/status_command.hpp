#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "app/commands.hpp"

namespace tastesync {

struct StatusArguments {
  RunArguments run;
  std::vector<std::string> instances;  // http://host:port of running instances' metrics port
  bool json = false;
};

// `tastesync status` (docs/operations.md#status): the group's lag per input partition and the
// sinks' on customer-events, from Kafka; each running instance's readiness, partitions, state
// size, customers, last event and sink lag, from its /metrics.
CLI::App* add_status_subcommand(CLI::App& app, StatusArguments& arguments);
int status_command(const StatusArguments& arguments);

}  // namespace tastesync
