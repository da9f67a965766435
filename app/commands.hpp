#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace tastesync {

struct RunArguments {
  std::optional<std::string> config_path;
  std::vector<std::pair<std::string, std::string>> overrides;  // from flags
};

struct DevBrokerArguments {
  int partitions = 6;
  int brokers = 1;
  std::optional<std::string> bootstrap_file;
  std::optional<std::string> control_path;  // --control: a named pipe taking down/up/rtt lines
  std::vector<std::string> topics = {"raw-beacons", "customer-events", "raw-beacons-dlq",
                                     "tastesync-state-changelog"};
};

struct GenArguments {
  std::string brokers;
  std::string topic = "raw-beacons";
  std::string registry;  // "" = built-in
  double rate_per_s = 100.0;
  std::int64_t count = -1;
  int customers = 50;
  std::uint64_t seed = 1;
  double bad_ratio = 0.01;
  std::optional<std::string> start_time;  // RFC 3339; reproducible event times
};

class SignalGate;
class Registry;

// The registry a command starts with: a file (or the built-in one), or PostgreSQL, waited for up
// to registry.start_timeout_ms (docs/contract.md#registry-sources); a stop signal ends the wait.
std::shared_ptr<const Registry> load_start_registry(const Config& config, const SignalGate& gate);

// Runs `body` and returns its exit code; an exception leaving it is thrown again with every
// secret of `redactor` masked in its message (a ConfigError stays a ConfigError), so what main
// prints at exit is as redacted as the log (docs/design.md "Secrets").
int with_redacted_errors(const Redactor& redactor, const std::function<int()>& body);

// Each returns the process exit code. Signals (SIGINT/SIGTERM) are handled inside: the first
// asks for a clean stop, a second exits at once.
int run_command(const RunArguments& arguments);
// `tastesync sink postgres|redis`: one sink alone, reading customer-events of kafka.brokers.
int sink_command(const RunArguments& arguments, const std::string& kind);
int dev_broker_command(const DevBrokerArguments& arguments);
// `tastesync topics create`: every topic of the configuration, idempotent
// (docs/contract.md#topics).
int topics_create_command(const RunArguments& arguments);
int gen_command(const GenArguments& arguments);

}  // namespace tastesync
