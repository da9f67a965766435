#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "app/cli_flags.hpp"
#include "app/commands.hpp"
#include "app/db_commands.hpp"
#include "app/forget_command.hpp"
#include "app/logging.hpp"
#include "app/replay_command.hpp"
#include "app/status_command.hpp"
#include "config/config.hpp"
#include "tools/sim/sim_command.hpp"

#if defined(__SANITIZE_ADDRESS__)
// libpqxx 6.4.5 leaks one libpq result when a statement meets a broken connection (fixed in
// jtv/libpqxx#500, 7.x): once per database outage. Sanitized test builds would fail every outage
// test on it at exit. Matched on the libpq frame: libpq has no frame pointers, so LeakSanitizer's
// fast unwinder stops there.
// NOLINTNEXTLINE(bugprone-reserved-identifier,readability-identifier-naming)
extern "C" const char* __lsan_default_suppressions() {
  return "leak:PQmakeEmptyPGresult\n";
}
#endif

namespace {

using tastesync::key_flag;
using tastesync::RunArguments;

// Once a command has set up logging (log.json may be on), its last words go through the log
// too; before that (a configuration error), plainly to stderr.
void report_error(const char* kind, const char* what) {
  if (tastesync::logging_is_set_up()) {
    spdlog::error("{}: {}", kind, what);
    spdlog::default_logger()->flush();
  } else {
    std::fprintf(stderr, "tastesync: %s: %s\n", kind, what);
  }
}

CLI::App* add_run_subcommand(CLI::App& app, RunArguments& run) {
  CLI::App* run_app = app.add_subcommand(
      "run", "Run the pipeline (embedded default when no brokers are configured)");
  run_app->add_option_function<std::string>(
      "--config", [&run](const std::string& path) { run.config_path = path; },
      "YAML config file (defaults < file < TASTESYNC_* environment < flags)");
  key_flag(*run_app, run, "--brokers", "kafka.brokers", "Kafka bootstrap servers");
  key_flag(*run_app, run, "--registry", "registry.source",
           "Registry JSON file, or 'postgres' for the database of --postgres");
  key_flag(*run_app, run, "--postgres", "postgres.dsn",
           "PostgreSQL DSN: the registry with --registry postgres, and the PostgreSQL sink");
  key_flag(*run_app, run, "--redis", "redis.address", "Redis host:port: the Redis sink");
  key_flag(*run_app, run, "--state-dir", "state.dir", "RocksDB state directory");
  key_flag(*run_app, run, "--group-id", "kafka.group_id", "Consumer group id");
  key_flag(*run_app, run, "--input-topic", "kafka.input_topic", "Sightings topic");
  key_flag(*run_app, run, "--output-topic", "kafka.output_topic", "CustomerIdentified topic");
  key_flag(*run_app, run, "--dlq-topic", "kafka.dlq_topic", "Dead-letter topic");
  key_flag(*run_app, run, "--metrics-port", "metrics.port",
           "HTTP port for /metrics, /healthz, /readyz (0: any free)");
  key_flag(*run_app, run, "--consumer-mode", "kafka.consumer_mode", "group or assign");
  key_flag(*run_app, run, "--grpc-port", "grpc.port",
           "gRPC port of IdentifyCustomer and the floor queries (0: off; docs/grpc.md)");
  run_app->add_flag_callback(
      "--floor-mask-ids", [&run] { run.overrides.emplace_back("floor.mask_ids", "true"); },
      "Show customer ids on /floor as their first and last two characters only");
  key_flag(*run_app, run, "--processing-guarantee", "processing.guarantee",
           "at_least_once, or exactly_once (Kafka transactions)");
  key_flag(*run_app, run, "--log-level", "log.level", "trace, debug, info, warn, error");
  run_app->add_flag_callback(
      "--print-events", [&run] { run.overrides.emplace_back("output.print_events", "true"); },
      "Print each delivered event as a JSON line on stdout (config key output.print_events)");
  run_app->add_flag_callback(
      "--quiet", [&run] { run.overrides.emplace_back("output.quiet", "true"); },
      "Do not print events on stdout (config key output.quiet)");

  return run_app;
}

CLI::App* add_sink_subcommand(CLI::App& app, RunArguments& sink, std::string& sink_kind) {
  CLI::App* sink_app = app.add_subcommand(
      "sink",
      "Run one sink alone: customer-events into PostgreSQL or Redis (docs/contract.md#sinks)");
  sink_app->add_option("kind", sink_kind, "postgres or redis")
      ->required()
      ->check(CLI::IsMember({"postgres", "redis"}));
  sink_app->add_option_function<std::string>(
      "--config", [&sink](const std::string& path) { sink.config_path = path; },
      "YAML config file (defaults < file < TASTESYNC_* environment < flags)");
  key_flag(*sink_app, sink, "--brokers", "kafka.brokers", "Kafka bootstrap servers");
  key_flag(*sink_app, sink, "--postgres", "postgres.dsn", "PostgreSQL DSN");
  key_flag(*sink_app, sink, "--redis", "redis.address", "Redis host:port");
  key_flag(*sink_app, sink, "--group-id", "kafka.group_id",
           "Pipeline group id; the sink's group is <group-id>-sink-<kind>");
  key_flag(*sink_app, sink, "--output-topic", "kafka.output_topic", "CustomerIdentified topic");
  key_flag(*sink_app, sink, "--metrics-port", "metrics.port",
           "HTTP port for /metrics, /healthz, /readyz (0: any free)");
  key_flag(*sink_app, sink, "--log-level", "log.level", "trace, debug, info, warn, error");

  return sink_app;
}

CLI::App* add_dev_broker_subcommand(CLI::App& app, tastesync::DevBrokerArguments& broker) {
  CLI::App* broker_app = app.add_subcommand(
      "dev-broker", "Serve librdkafka's mock cluster as a local Kafka for development and tests");
  broker_app->add_option("--partitions", broker.partitions, "Partitions per topic")
      ->check(CLI::Range(1, 1000));
  broker_app->add_option("--brokers", broker.brokers, "Number of mock brokers")
      ->check(CLI::Range(1, 10));
  broker_app->add_option_function<std::string>(
      "--bootstrap-file", [&broker](const std::string& path) { broker.bootstrap_file = path; },
      "Also write the bootstrap.servers line to this file");
  broker_app->add_option("--topic", broker.topics, "Topics to create (repeatable)")
      ->capture_default_str();
  broker_app->add_option_function<std::string>(
      "--control", [&broker](const std::string& path) { broker.control_path = path; },
      "Named pipe (created 0600) taking 'down N', 'up N', 'rtt N MS' lines (N a broker id or "
      "all) and 'fail REQUEST ERROR [COUNT]' (e.g. fail EndTxn PRODUCER_FENCED)");

  return broker_app;
}

CLI::App* add_topics_subcommand(CLI::App& app, RunArguments& topics) {
  CLI::App* topics_app = app.add_subcommand("topics", "Kafka topics of the configuration");
  topics_app->require_subcommand(1);
  CLI::App* create = topics_app->add_subcommand(
      "create",
      "Create every topic of the configuration (input, output, dead letters, the changelog); "
      "idempotent");
  create->add_option_function<std::string>(
      "--config", [&topics](const std::string& path) { topics.config_path = path; },
      "YAML config file (defaults < file < TASTESYNC_* environment < flags)");
  key_flag(*create, topics, "--brokers", "kafka.brokers", "Kafka bootstrap servers");
  key_flag(*create, topics, "--group-id", "kafka.group_id",
           "Consumer group id (names the changelog)");
  key_flag(*create, topics, "--input-topic", "kafka.input_topic", "Sightings topic");
  key_flag(*create, topics, "--output-topic", "kafka.output_topic", "CustomerIdentified topic");
  key_flag(*create, topics, "--dlq-topic", "kafka.dlq_topic", "Dead-letter topic");
  key_flag(*create, topics, "--changelog-topic", "state.changelog_topic", "State changelog topic");
  key_flag(*create, topics, "--consumer-mode", "kafka.consumer_mode",
           "group or assign (assign has no changelog unless state.changelog is on)");
  key_flag(*create, topics, "--processing-guarantee", "processing.guarantee",
           "at_least_once or exactly_once (exactly_once has a changelog in assign mode too)");
  key_flag(*create, topics, "--partitions", "topics.partitions", "Partitions of new topics");
  key_flag(*create, topics, "--replication-factor", "topics.replication_factor",
           "Replicas of new topics (-1: the broker's default)");
  key_flag(*create, topics, "--log-level", "log.level", "trace, debug, info, warn, error");
  return create;
}

CLI::App* add_gen_subcommand(CLI::App& app, tastesync::GenArguments& gen) {
  CLI::App* gen_app = app.add_subcommand("gen", "Produce realistic synthetic sightings");
  gen_app->add_option("--brokers", gen.brokers, "Kafka bootstrap servers")->required();
  gen_app->add_option("--topic", gen.topic, "Topic to produce to")->capture_default_str();
  gen_app->add_option("--rate", gen.rate_per_s, "Sightings per second (0: as fast as possible)")
      ->check(CLI::Range(0.0, 10e6))
      ->capture_default_str();
  gen_app->add_option("--count", gen.count, "Stop after this many records (-1: until stopped)")
      ->capture_default_str();
  gen_app->add_option("--customers", gen.customers, "Simulated customers")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  gen_app->add_option("--registry", gen.registry, "Registry JSON file (default: built-in)");
  gen_app->add_option("--seed", gen.seed, "Random seed")->capture_default_str();
  gen_app->add_option("--bad-ratio", gen.bad_ratio, "Share of deliberately malformed records")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  gen_app->add_option_function<std::string>(
      "--start-time", [&gen](const std::string& t) { gen.start_time = t; },
      "Simulated clock start (RFC 3339): reproducible event times instead of the wall clock");

  return gen_app;
}

}  // namespace

int main(int argc, char** argv) try {
  // Everything this process creates (RocksDB state with customer ids, the dev broker's bootstrap
  // file, temporary state dirs) is its user's alone (docs/design.md, "Files").
  umask(S_IRWXG | S_IRWXO);
  CLI::App app{"tastesync: tells restaurants which customer is where, from beacon sightings"};
  app.require_subcommand(1);

  RunArguments run;
  CLI::App* run_app = add_run_subcommand(app, run);
  RunArguments sink;
  std::string sink_kind;
  CLI::App* sink_app = add_sink_subcommand(app, sink, sink_kind);
  tastesync::DevBrokerArguments broker;
  CLI::App* broker_app = add_dev_broker_subcommand(app, broker);
  RunArguments topics;
  CLI::App* topics_create_app = add_topics_subcommand(app, topics);
  tastesync::ReplayArguments replay;
  CLI::App* replay_app = tastesync::add_replay_subcommand(app, replay);
  tastesync::ResetArguments reset;
  CLI::App* reset_app = tastesync::add_reset_subcommand(app, reset);
  tastesync::GenArguments gen;
  CLI::App* gen_app = add_gen_subcommand(app, gen);
  tastesync::SimArguments sim;
  CLI::App* sim_app = tastesync::add_sim_subcommand(app, sim);

  tastesync::StatusArguments status;
  CLI::App* status_app = tastesync::add_status_subcommand(app, status);
  tastesync::ForgetArguments forget;
  CLI::App* forget_app = tastesync::add_forget_subcommand(app, forget);

  tastesync::DbArguments db;
  const tastesync::DbCommands db_commands = tastesync::add_db_subcommands(app, db);

  CLI11_PARSE(app, argc, argv);

  try {
    if (run_app->parsed()) return tastesync::run_command(run);
    if (sink_app->parsed()) return tastesync::sink_command(sink, sink_kind);
    if (broker_app->parsed()) return tastesync::dev_broker_command(broker);
    if (topics_create_app->parsed()) return tastesync::topics_create_command(topics);
    if (replay_app->parsed()) return tastesync::replay_command(replay);
    if (reset_app->parsed()) return tastesync::reset_command(reset);
    if (gen_app->parsed()) return tastesync::gen_command(gen);
    if (status_app->parsed()) return tastesync::status_command(status);
    if (forget_app->parsed()) return tastesync::forget_command(forget);
    if (sim_app->parsed()) return tastesync::sim_command(sim);
    if (const int code = tastesync::run_db_command(db_commands, db); code >= 0) return code;
  } catch (const tastesync::ConfigError& e) {
    report_error("configuration error", e.what());
    return 2;
  } catch (const std::exception& e) {
    report_error("error", e.what());
    return 2;
  }
  return 2;
} catch (const std::exception& e) {
  // Anything CLI11 or start-up throws before the commands' own handlers.
  std::fprintf(stderr, "tastesync: error: %s\n", e.what());
  return 2;
}
