#include "app/commands.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <stop_token>
#include <thread>

#include "app/dev/dev_broker_services.hpp"
#include "app/dev/generator.hpp"
#include "app/dev/mock_cluster.hpp"
#include "app/logging.hpp"
#include "app/signals.hpp"
#include "common/clock.hpp"
#include "common/thread_name.hpp"
#include "http/metrics_server.hpp"
#include "kafka/topic_admin.hpp"
#include "pipeline/metrics.hpp"
#include "pipeline/output_producer.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/topic_check.hpp"
#include "registry/learned_levels.hpp"
#include "registry/registry_source.hpp"
#include "registry/registry_watcher.hpp"
#include "rpc/grpc_front_door.hpp"
#include "sinks/sinks.hpp"

namespace tastesync {
namespace {

constexpr int kDefaultDevPartitions = 6;

// Written whole under a fresh name, then renamed over `path`: a reader polling for the file
// never sees half of it, and nothing planted beside it (a symlink at path.tmp, say) is followed
// or overwritten: mkstemp creates a new file (O_EXCL, mode 0600), and rename replaces a symlink
// at `path` rather than writing through it.
void write_file_atomically(const std::string& path, const std::string& contents) {
  const std::filesystem::path target(path);
  // Appended, not ".." + ...: GCC 12 at -O3 warns (-Wrestrict, a false positive) on a literal +
  // std::string&&.
  std::string temporary =
      (target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path()) /
      std::string(".").append(target.filename().string()).append(".XXXXXX");
  const int fd = mkstemp(temporary.data());
  if (fd < 0) {
    throw std::runtime_error("--bootstrap-file " + path +
                             ": cannot create a file beside it: " + std::strerror(errno));
  }
  const bool written =
      ::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size());
  const bool closed = ::close(fd) == 0;
  std::error_code error;
  if (written && closed) std::filesystem::rename(temporary, target, error);
  if (!written || !closed || error) {
    std::filesystem::remove(temporary, error);
    throw std::runtime_error("--bootstrap-file " + path + ": cannot write it");
  }
}

std::string make_temporary_state_dir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "tastesync-embedded-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("cannot create a temporary state dir in " +
                             std::filesystem::temp_directory_path().string());
  }
  return pattern;
}

}  // namespace

std::shared_ptr<const Registry> load_start_registry(const Config& config, const SignalGate& gate) {
  auto registry =
      config.registry.source == kRegistryFromPostgres
          ? load_registry_at_start(config.postgres.dsn,
                                   std::chrono::milliseconds(config.registry.start_timeout_ms),
                                   [&gate] { return gate.stop_pending(); })
          : load_registry(config.registry.source);
  spdlog::info("registry: {} beacons, {} QR codes, {} locations", registry->beacons().size(),
               registry->qr_codes().size(), registry->locations().size());
  return registry;
}

namespace {

// The embedded default (docs/contract.md#embedded-default): with no kafka.brokers, an in-process
// mock cluster with the topics, assign mode, printed events and a temporary state dir.
struct EmbeddedKafka {
  std::unique_ptr<MockCluster> mock;
  std::string temporary_state_dir;  // "" when state.dir was set

  void remove_temporary_state_dir() const {
    if (temporary_state_dir.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(temporary_state_dir, ignored);
  }
};

EmbeddedKafka start_embedded_kafka(Config& config) {
  EmbeddedKafka embedded;
  embedded.mock = std::make_unique<MockCluster>(1);
  for (const std::string* topic : {&config.kafka.input_topic, &config.kafka.output_topic,
                                   &config.kafka.dlq_topic, &config.sink.dlq_topic}) {
    embedded.mock->create_topic(*topic, kDefaultDevPartitions);
  }
  config.kafka.brokers = embedded.mock->bootstrap_servers();
  // One instance owns every partition: assign mode restarts in ~1 s on the mock.
  config.kafka.consumer_mode = ConsumerMode::assign;
  config.output.print_events = true;
  // The mock answers late when a client has several requests in flight (Nagle on its side):
  // one at a time keeps identification latency in milliseconds.
  config.kafka.properties.try_emplace("max.in.flight", "1");
  if (config.state.dir.empty()) {
    config.state.dir = embedded.temporary_state_dir = make_temporary_state_dir();
  }
  return embedded;
}

// Events printed on stdout as Kafka acknowledges them (output.print_events), or none.
EventTap printing_tap(const OutputConfig& output) {
  if (!output.print_events || output.quiet) return {};
  return [](std::string_view /*customer_id*/, std::string_view value) {
    if (value.empty()) return;  // an erasure's tombstone: stdout carries events only
    std::fwrite(value.data(), 1, value.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  };
}

// The embedded default's customers: 50 of them, 100 sightings/s, into the mock cluster.
std::jthread start_generator(const Config& config, std::shared_ptr<const Registry> registry) {
  spdlog::warn(
      "embedded mode: no kafka.brokers configured, so running an in-process Kafka "
      "(librdkafka mock cluster at {}), the built-in generator (50 customers) and "
      "printing events on stdout; set kafka.brokers for a real cluster",
      config.kafka.brokers);
  return std::jthread([&config, registry = std::move(registry)](const std::stop_token& stop) {
    GeneratorOptions options;
    options.customers = 50;
    options.rate_per_s = 100;
    options.seed = static_cast<std::uint64_t>(wall_clock_ms());
    try {
      publish_generated(config.kafka.brokers, config.kafka.input_topic, registry, options, stop);
    } catch (const std::exception& e) {
      spdlog::error("generator: {}", e.what());
    }
  });
}

// `tastesync run` once its configuration is loaded.
int run_loaded(Config config, const SignalGate& gate) {
  auto metrics_registry = std::make_shared<prometheus::Registry>();
  auto health = std::make_shared<Health>();
  std::optional<MetricsServer> server;
  const bool registry_from_postgres = config.registry.source == kRegistryFromPostgres;
  if (registry_from_postgres) {
    // Serve /readyz (503) while waiting for the database (docs/contract.md#registry-reload).
    server.emplace(config.metrics, metrics_registry, health);
  }
  const std::shared_ptr<const Registry> registry = load_start_registry(config, gate);

  const bool embedded = config.kafka.brokers.empty();
  EmbeddedKafka embedded_kafka;
  if (embedded) embedded_kafka = start_embedded_kafka(config);
  if (config.state.dir.empty()) config.state.dir = "./tastesync-state/" + config.kafka.group_id;

  spdlog::info("tastesync run, effective configuration:");
  for (const auto& [key, value] : describe_config(config)) spdlog::info("  {} = {}", key, value);

  if (!server) server.emplace(config.metrics, metrics_registry, health);
  spdlog::info("metrics on http://{}:{}/metrics (/healthz, /readyz, /floor){}",
               config.metrics.bind_address, server->port(),
               config.metrics.token.empty() ? "" : "; /metrics needs the bearer token");

  // The live floor view (docs/contract.md#floor): the registry's locations, then every delivered
  // event.
  std::vector<FloorLocation> floor_locations;
  for (const Location& location : registry->locations()) {
    floor_locations.push_back(FloorLocation{location.store_id, location.name,
                                            std::string(location_type_name(location.type))});
  }
  auto floor = std::make_shared<FloorState>(
      std::move(floor_locations), std::chrono::milliseconds(config.floor.presence_timeout_ms),
      config.floor.mask_ids);
  server->serve_floor(floor);
  // With gRPC on, its follower reads every instance's events into the floor (docs/grpc.md#replies);
  // without it, the floor shows what this instance delivers.
  const bool grpc_on = config.grpc.port != 0;
  EventTap tap = [floor, grpc_on, print = printing_tap(config.output)](std::string_view customer_id,
                                                                       std::string_view value) {
    if (!grpc_on) {
      if (value.empty()) {
        floor->forget(customer_id);
      } else {
        floor->apply(value, wall_clock_ms());
      }
    }
    if (print) print(customer_id, value);
  };
  Pipeline pipeline(config, registry, metrics_registry, health, std::move(tap));
  pipeline.set_embedded_mode(embedded);
  std::optional<PostgresRegistryWatcher> registry_watcher;
  if (registry_from_postgres) {
    auto feed = std::make_shared<RegistryFeed>();
    pipeline.set_registry_feed(feed);
    registry_watcher.emplace(config.postgres.dsn,
                             std::chrono::milliseconds(config.registry.reload_interval_ms), feed);
  }
  // The levels the location filter learns from QR scans go beside the installer's tx_power in
  // the registry's own tables (docs/scoring.md, "Learning the room from QR scans").
  std::optional<LearnedLevelExporter> learned_level_exporter;
  if (registry_from_postgres && config.score.model == ScoreModel::filter &&
      config.score.learn_from_qr) {
    auto feed = std::make_shared<LearnedLevelFeed>();
    pipeline.set_learned_level_feed(feed);
    learned_level_exporter.emplace(
        config.postgres.dsn, std::chrono::milliseconds(config.registry.learned_export_interval_ms),
        feed);
  }
  // Sinks read customer-events in their own groups: a database outage never slows the worker.
  // Made before the worker starts, so that credentials Redis refuses fail the start. A sink
  // stopped later by the same refusal (after a reconnect) stops the process: the worker drains
  // first, then run exits 2 (docs/design.md "Secrets"); a sink that dies of anything else is
  // started again (docs/design.md "Failures that show").
  std::atomic<bool> sink_failed{false};
  std::optional<Sinks> sinks;
  if (!config.postgres.dsn.empty() || !config.redis.address.empty()) {
    sinks.emplace(config, *metrics_registry, health, [&sink_failed, &gate] {
      sink_failed = true;
      gate.wake_main();
    });
  }

  std::optional<GrpcFrontDoor> grpc;
  if (grpc_on) grpc.emplace(config, registry, floor, *metrics_registry, health);

  int exit_code = kExitFailed;
  std::jthread worker([&](const std::stop_token& stop) {
    name_this_thread("pipeline");
    try {
      exit_code = pipeline.run(stop);
    } catch (const ConfigError& e) {
      // A start error the operator fixes (a missing topic, another topic's state.dir): said as
      // main says the others.
      spdlog::error("configuration error: {}", e.what());
      exit_code = kExitFailed;
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      exit_code = kExitFailed;
    }
    gate.wake_main();
  });
  std::jthread generator;
  if (embedded) generator = start_generator(config, registry);
  supervise(gate, worker, {&generator});
  // Woken by a failed sink, the worker is still running: it stops as on a signal.
  // Calls waiting for events are answered (PENDING) before the pipeline stops making them.
  grpc.reset();
  worker.request_stop();
  worker.join();
  if (generator.joinable()) generator.join();
  // The pipeline has delivered and committed; then the sinks commit what they wrote
  // (docs/contract.md#shutdown).
  if (sinks) sinks->stop();
  if (sink_failed && exit_code == 0) exit_code = kExitFailed;
  embedded_kafka.remove_temporary_state_dir();
  if (exit_code == kExitShutdownTimedOut) {
    // Past the shutdown timeout: what was delivered is in RocksDB (its WAL survives this like a
    // kill -9), and destroying the Kafka clients could wait for their unreachable brokers.
    spdlog::default_logger()->flush();
    std::fflush(stdout);
    std::_Exit(exit_code);
  }
  return exit_code;
}

std::string describe_configs(const TopicSpec& spec) {
  std::string text;
  for (const auto& [name, value] : spec.configs)
    text.append(", ").append(name).append("=").append(value);
  return text;
}

int create_topics(const Config& config) {
  if (config.kafka.brokers.empty()) {
    throw ConfigError(
        "tastesync topics create needs kafka.brokers (--brokers, TASTESYNC_KAFKA__BROKERS)");
  }
  TopicAdmin admin(producer_properties(config), config.kafka.topic_check_timeout_ms);
  const std::map<std::string, int> before = admin.list();
  // The changelog follows the input partition for partition (docs/contract.md#changelog).
  const auto input = before.find(config.kafka.input_topic);
  const int input_partitions = input != before.end() ? input->second : config.topics.partitions;
  int exit_code = 0;
  std::set<std::string> done;
  for (const ConfiguredTopic& topic : configured_topics(config, input_partitions)) {
    const TopicSpec& spec = topic.spec;
    if (!done.insert(spec.name).second) continue;  // two keys naming one topic
    try {
      if (admin.create(spec) == TopicCreation::created) {
        std::printf("created %s (%s): %d partitions, replication factor %s%s\n", spec.name.c_str(),
                    topic.key.c_str(), spec.partitions,
                    spec.replication_factor < 0 ? "of the broker's default"
                                                : std::to_string(spec.replication_factor).c_str(),
                    describe_configs(spec).c_str());
        continue;
      }
      const int partitions = admin.list().at(spec.name);
      std::printf("exists  %s (%s): %d partitions, left as it is\n", spec.name.c_str(),
                  topic.key.c_str(), partitions);
      if (topic.key == "state.changelog_topic" && partitions != input_partitions) {
        std::printf(
            "error   %s has %d partitions, the input topic %s %d: they must match; delete the "
            "changelog (run then rebuilds it from the input) or the input's extra partitions\n",
            spec.name.c_str(), partitions, config.kafka.input_topic.c_str(), input_partitions);
        exit_code = kExitFailed;
      }
    } catch (const std::exception& e) {
      std::printf("failed  %s (%s): %s\n", spec.name.c_str(), topic.key.c_str(), e.what());
      exit_code = kExitFailed;
    }
  }
  std::fflush(stdout);
  return exit_code;
}

int run_sink(const Config& config, const std::string& kind, const SignalGate& gate) {
  if (config.kafka.brokers.empty()) {
    throw ConfigError(
        "tastesync sink needs kafka.brokers (--brokers, TASTESYNC_KAFKA__BROKERS): "
        "it reads the customer-events of a running pipeline");
  }
  const SinkKind sink_kind = kind == "postgres" ? SinkKind::postgres : SinkKind::redis;
  auto metrics_registry = std::make_shared<prometheus::Registry>();
  auto health = std::make_shared<Health>();
  const MetricsServer server(config.metrics, metrics_registry, health);
  SinkMetricFamilies families(*metrics_registry);
  SinkRunner runner(sink_runner_options(config, sink_kind), make_sink_writer(config, sink_kind),
                    families);
  spdlog::info("tastesync sink {}: metrics on http://{}:{}/metrics{}", kind,
               config.metrics.bind_address, server.port(),
               config.metrics.token.empty() ? "" : " (needs the bearer token)");
  int exit_code = 0;
  std::jthread worker([&](const std::stop_token& stop) {
    name_this_thread("sink");
    try {
      health->set_ready(true);
      runner.run(stop);
    } catch (const std::exception& e) {
      spdlog::error("sink {}: {}", kind, e.what());
      exit_code = kExitFailed;
    }
    health->set_ready(false);
    gate.wake_main();
  });
  supervise(gate, worker, {});
  worker.join();
  return exit_code;
}

}  // namespace

int with_redacted_errors(const Redactor& redactor, const std::function<int()>& body) {
  try {
    return body();
  } catch (const ConfigError& e) {
    throw ConfigError(redactor.redact(e.what()));
  } catch (const std::exception& e) {
    throw std::runtime_error(redactor.redact(e.what()));
  }
}

int run_command(const RunArguments& arguments) {
  const SignalGate gate;
  Config config = load_config({arguments.config_path, process_environment(), arguments.overrides});
  const Redactor redactor = redactor_for(config);
  setup_logging(config.log, redactor);
  return with_redacted_errors(redactor, [&] { return run_loaded(std::move(config), gate); });
}

int sink_command(const RunArguments& arguments, const std::string& kind) {
  const SignalGate gate;
  const Config config =
      load_config({arguments.config_path, process_environment(), arguments.overrides});
  const Redactor redactor = redactor_for(config);
  setup_logging(config.log, redactor);
  return with_redacted_errors(redactor, [&] { return run_sink(config, kind, gate); });
}

int topics_create_command(const RunArguments& arguments) {
  const Config config =
      load_config({arguments.config_path, process_environment(), arguments.overrides});
  const Redactor redactor = redactor_for(config);
  setup_logging(config.log, redactor);
  return with_redacted_errors(redactor, [&] { return create_topics(config); });
}

int dev_broker_command(const DevBrokerArguments& arguments) {
  const SignalGate gate;
  setup_logging(LogConfig{});
  MockCluster cluster(arguments.brokers);
  for (const std::string& topic : arguments.topics)
    cluster.create_topic(topic, arguments.partitions);
  // Before the bootstrap line: a client that sees the broker sees where to ask for topics.
  cluster.create_topic(std::string(kDevBrokerAdminTopic), 1);
  const TopicRequestServer topic_requests(cluster);
  std::optional<ControlFifo> control;
  if (arguments.control_path) control.emplace(cluster, arguments.brokers, *arguments.control_path);
  const std::string line = "bootstrap.servers=" + cluster.bootstrap_servers();
  if (arguments.bootstrap_file) write_file_atomically(*arguments.bootstrap_file, line + "\n");
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
  spdlog::info(
      "dev broker serving {} with topics of {} partitions; SIGTERM stops it (its data "
      "lives in memory only)",
      cluster.bootstrap_servers(), arguments.partitions);
  while (true) {
    const int signal = gate.wait();
    if (signal == SIGINT || signal == SIGTERM) break;
  }
  return 0;
}

int gen_command(const GenArguments& arguments) {
  const SignalGate gate;
  setup_logging(LogConfig{});
  GeneratorOptions options;
  options.customers = arguments.customers;
  options.rate_per_s = arguments.rate_per_s;
  options.count = arguments.count;
  options.seed = arguments.seed;
  options.bad_ratio = arguments.bad_ratio;
  if (arguments.start_time) {
    options.start_time_ms = parse_rfc3339(*arguments.start_time);
    if (!options.start_time_ms) {
      throw ConfigError("--start-time: '" + *arguments.start_time + "' is not RFC 3339");
    }
  }
  const auto registry = load_registry(arguments.registry);
  std::int64_t delivered = 0;
  int exit_code = 0;
  std::jthread worker([&](const std::stop_token& stop) {
    try {
      delivered = publish_generated(arguments.brokers, arguments.topic, registry, options, stop);
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      exit_code = 1;
    }
    gate.wake_main();
  });
  supervise(gate, worker, {});
  worker.join();
  spdlog::info("gen: {} records delivered to {}", delivered, arguments.topic);
  return exit_code;
}

}  // namespace tastesync
