#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "app/commands.hpp"

namespace tastesync {

struct ForgetArguments {
  RunArguments run;
  std::string customer_id;
  std::string request_id;  // "" = a new random one
  int timeout_s = 60;
  bool no_wait = false;
};

// `tastesync forget CUSTOMER_ID` (docs/operations.md#forget): puts an erasure request on the
// input topic, keyed by the customer, so the instance that owns their partition erases them in
// order with their sightings; then waits until the pipeline's tombstone is on customer-events
// and every sink configured has committed past it. Exit 0 when all of that happened, 1 when the
// wait timed out (the request stays queued in Kafka and is applied whenever the pipeline runs),
// 2 on a bad id or configuration.
CLI::App* add_forget_subcommand(CLI::App& app, ForgetArguments& arguments);
int forget_command(const ForgetArguments& arguments);

}  // namespace tastesync
