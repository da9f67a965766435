#include "app/replay_command.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <ctime>
#include <thread>

#include "app/cli_flags.hpp"
#include "app/logging.hpp"
#include "app/signals.hpp"
#include "common/clock.hpp"
#include "common/event_time.hpp"
#include "replay/group_reset.hpp"
#include "replay/replayer.hpp"

namespace tastesync {
namespace {

EpochMs timestamp_flag(const std::string& flag, const std::string& text) {
  const auto parsed = parse_rfc3339(text);
  if (!parsed) throw ConfigError(flag + ": '" + text + "' is not an RFC 3339 time");
  return *parsed;
}

// The replay's start, in its group id: 20261205T001500Z.
std::string start_stamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

ReplayOptions replay_options(const ReplayArguments& arguments, const Config& config) {
  ReplayOptions options;
  options.output_topic = arguments.output_topic;
  options.dlq_topic = arguments.dlq_topic;
  options.customers = {arguments.customers.begin(), arguments.customers.end()};
  options.dry_run = arguments.dry_run;
  options.allow_live_output = arguments.allow_live_output;
  options.started_at = start_stamp();
  if (arguments.from_beginning == arguments.from_timestamp.has_value()) {
    throw ConfigError("give exactly one of --from-beginning and --from-timestamp");
  }
  if (arguments.from_timestamp) {
    options.range.from_ms = timestamp_flag("--from-timestamp", *arguments.from_timestamp);
  }
  if (arguments.to_timestamp) {
    options.range.to_ms = timestamp_flag("--to-timestamp", *arguments.to_timestamp);
    if (options.range.from_ms && *options.range.to_ms <= *options.range.from_ms) {
      throw ConfigError("--to-timestamp must be after --from-timestamp");
    }
  }
  // By default the warm-up is the state's memory: what is older was forgotten live too.
  options.range.warmup_ms = config.state.retention_ms;
  if (arguments.warmup) {
    const auto warmup = parse_duration_ms(*arguments.warmup);
    if (!warmup) {
      throw ConfigError("--warmup: '" + *arguments.warmup +
                        "' is not a duration (500ms, 90s, 15m, 1h, 2d)");
    }
    options.range.warmup_ms = *warmup;
  }
  return options;
}

int replay_loaded(const Config& config, const ReplayArguments& arguments, const SignalGate& gate) {
  if (config.kafka.brokers.empty()) {
    throw ConfigError("tastesync replay needs kafka.brokers (--brokers, TASTESYNC_KAFKA__BROKERS)");
  }
  ReplayOptions options = replay_options(arguments, config);
  const auto registry = load_start_registry(config, gate);
  Replayer replayer(config, registry, std::move(options));
  std::optional<ReplaySummary> summary;
  std::optional<std::string> failure;
  std::jthread worker([&](const std::stop_token& stop) {
    try {
      summary = replayer.run(stop);
    } catch (const ConfigError& e) {
      failure = std::string("configuration error: ") + e.what();
    } catch (const std::exception& e) {
      failure = e.what();
    }
    gate.wake_main();
  });
  supervise(gate, worker, {});
  worker.join();
  if (failure) {
    spdlog::error("replay: {}", *failure);
    return 2;
  }
  std::printf("%s\n", summary->to_json().c_str());
  std::fflush(stdout);
  return summary->interrupted ? 1 : 0;
}

int reset_loaded(const Config& config, const ResetArguments& arguments) {
  if (config.kafka.brokers.empty()) {
    throw ConfigError("tastesync reset needs kafka.brokers (--brokers, TASTESYNC_KAFKA__BROKERS)");
  }
  if (arguments.to_earliest && arguments.to_timestamp) {
    throw ConfigError("give at most one of --to-earliest and --to-timestamp");
  }
  ResetOptions options;
  if (arguments.to_timestamp) {
    options.to_ms = timestamp_flag("--to-timestamp", *arguments.to_timestamp);
  }
  try {
    for (const std::string& line : GroupReset(config, options).run()) {
      std::printf("%s\n", line.c_str());
    }
  } catch (const ConfigError& e) {
    // A refusal changed nothing: said on stdout with what was done (nothing), and exit 2.
    std::printf("%s\n", e.what());
    std::fflush(stdout);
    return 2;
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

CLI::App* add_reset_subcommand(CLI::App& app, ResetArguments& arguments) {
  CLI::App* reset = app.add_subcommand(
      "reset",
      "Start a group over: move its committed offsets, wipe the local state, mark the changelog "
      "(docs/operations.md#reset)");
  RunArguments& run = arguments.run;
  reset->add_option_function<std::string>(
      "--config", [&run](const std::string& path) { run.config_path = path; },
      "YAML config file (defaults < file < TASTESYNC_* environment < flags)");
  key_flag(*reset, run, "--brokers", "kafka.brokers", "Kafka bootstrap servers");
  key_flag(*reset, run, "--group-id", "kafka.group_id", "The group to reset");
  key_flag(*reset, run, "--input-topic", "kafka.input_topic", "Sightings topic");
  key_flag(*reset, run, "--state-dir", "state.dir",
           "The local RocksDB state to remove (default ./tastesync-state/<group>)");
  key_flag(*reset, run, "--changelog-topic", "state.changelog_topic", "State changelog topic");
  key_flag(*reset, run, "--log-level", "log.level", "trace, debug, info, warn, error");
  reset->add_flag("--to-earliest", arguments.to_earliest, "Offsets to the start (the default)");
  reset->add_option_function<std::string>(
      "--to-timestamp", [&arguments](const std::string& t) { arguments.to_timestamp = t; },
      "Offsets to the first record at or after this time (RFC 3339)");
  // The group is the whole point: never the default one by accident.
  reset->get_option("--group-id")->required();
  return reset;
}

int reset_command(const ResetArguments& arguments) {
  const Config config =
      load_config({arguments.run.config_path, process_environment(), arguments.run.overrides});
  const Redactor redactor = redactor_for(config);
  setup_logging(config.log, redactor);
  return with_redacted_errors(redactor, [&] { return reset_loaded(config, arguments); });
}

CLI::App* add_replay_subcommand(CLI::App& app, ReplayArguments& arguments) {
  CLI::App* replay = app.add_subcommand(
      "replay",
      "Reprocess a time range of the input with the live stages and a fresh state, into a topic "
      "of your choosing (docs/operations.md#replay)");
  RunArguments& run = arguments.run;
  replay->add_option_function<std::string>(
      "--config", [&run](const std::string& path) { run.config_path = path; },
      "YAML config file (defaults < file < TASTESYNC_* environment < flags)");
  key_flag(*replay, run, "--brokers", "kafka.brokers", "Kafka bootstrap servers");
  key_flag(*replay, run, "--input-topic", "kafka.input_topic", "Sightings topic to replay");
  key_flag(*replay, run, "--registry", "registry.source",
           "Registry JSON file, or 'postgres' for the database of --postgres");
  key_flag(*replay, run, "--postgres", "postgres.dsn", "PostgreSQL DSN (--registry postgres)");
  key_flag(*replay, run, "--group-id", "kafka.group_id",
           "The live group id: names the replay's own group, <group>-replay-<start>");
  key_flag(*replay, run, "--log-level", "log.level", "trace, debug, info, warn, error");
  replay->add_option("--output-topic", arguments.output_topic, "Where the events go")->required();
  replay->add_option("--dlq-topic", arguments.dlq_topic,
                     "Where dead letters go (default: <output-topic>-dlq)");
  replay->add_flag("--from-beginning", arguments.from_beginning, "From the start of the input");
  replay->add_option_function<std::string>(
      "--from-timestamp", [&arguments](const std::string& t) { arguments.from_timestamp = t; },
      "From this record time (RFC 3339)");
  replay->add_option_function<std::string>(
      "--to-timestamp", [&arguments](const std::string& t) { arguments.to_timestamp = t; },
      "Up to this record time, exclusive (RFC 3339; default: the end when the replay starts)");
  replay->add_option_function<std::string>(
      "--warmup", [&arguments](const std::string& d) { arguments.warmup = d; },
      "Records before --from-timestamp fed to the state only (default: state.retention_ms)");
  replay->add_option("--customer", arguments.customers,
                     "Only this customer's outputs (repeatable)");
  replay->add_flag("--dry-run", arguments.dry_run, "Print the summary, produce nothing");
  replay->add_flag("--allow-live-output", arguments.allow_live_output,
                   "Allow writing into the live output or dead-letter topic");
  return replay;
}

int replay_command(const ReplayArguments& arguments) {
  const SignalGate gate;
  const Config config =
      load_config({arguments.run.config_path, process_environment(), arguments.run.overrides});
  const Redactor redactor = redactor_for(config);
  setup_logging(config.log, redactor);
  return with_redacted_errors(redactor, [&] { return replay_loaded(config, arguments, gate); });
}

}  // namespace tastesync
