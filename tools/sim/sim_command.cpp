#include "tools/sim/sim_command.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "config/topology_options.hpp"
#include "registry/registry_source.hpp"
#include "tools/sim/floor_plan.hpp"
#include "tools/sim/identification_metrics.hpp"
#include "tools/sim/layout.hpp"
#include "tools/sim/report.hpp"
#include "tools/sim/settings.hpp"
#include "tools/sim/simulator.hpp"

namespace tastesync {
namespace {

using sim::SimSettings;

SimSettings settings_from(const SimArguments& arguments) {
  auto settings = sim::named_setting(arguments.setting);
  if (!settings) {
    throw ConfigError("--setting: '" + arguments.setting + "' is not one of " +
                      fmt::format("{}", fmt::join(sim::setting_names(), ", ")));
  }
  if (arguments.customers) settings->customers = *arguments.customers;
  if (arguments.seed) settings->seed = *arguments.seed;
  if (arguments.model) {
    const auto model = sim::model_named(*arguments.model);
    if (!model)
      throw ConfigError("--model: '" + *arguments.model + "' is neither stages nor nearest");
    settings->model = *model;
  }
  if (arguments.store) settings->store = *arguments.store;
  for (const auto& [flag, value] : arguments.knobs) {
    if (auto error = sim::set_knob(*settings, flag, value)) throw ConfigError(*error);
  }
  if (auto error = sim::validate(*settings)) throw ConfigError(*error);
  return *settings;
}

sim::Layout layout_from(const SimArguments& arguments) {
  auto layout = arguments.layout ? sim::Layout::load(*arguments.layout)
                                 : sim::Layout::parse(sim::builtin_layout_yaml());
  if (!layout) throw ConfigError(layout.error());
  return std::move(*layout);
}

void write_events_csv(const std::string& path, const Registry& registry,
                      const sim::SimulationResult& result) {
  std::ofstream out(path);
  if (!out) throw ConfigError("--events: cannot write '" + path + "'");
  out << "customer_id,detected_at,location,identification,confidence,truth\n";
  for (const sim::EmittedEvent& event : result.events) {
    const sim::CustomerTruth& customer = result.customers[event.customer];
    const sim::Place truth = customer.truth.place_at(event.detected_at_ms);
    const std::string truth_text =
        truth.kind == sim::Place::Kind::at        ? registry.location(truth.location_index).name
        : truth.kind == sim::Place::Kind::walking ? std::string("(walking)")
                                                  : std::string("(outside)");
    out << fmt::format("{},{},{},{},{:.3f},{}\n", customer.customer_id,
                       format_canonical_string(event.detected_at_ms),
                       registry.location(event.location_index).name,
                       identification_kind_name(event.kind), event.confidence, truth_text);
  }
}

}  // namespace

CLI::App* add_sim_subcommand(CLI::App& app, SimArguments& arguments) {
  CLI::App* sim_app = app.add_subcommand(
      "sim",
      "Simulate customers in a restaurant floor plan through the real stages and report "
      "identification accuracy, flaps, time to first identification and missed visits");
  sim_app->add_option("--setting", arguments.setting, "quiet, busy, noisy, floor5 or floor8")
      ->capture_default_str();
  sim_app->add_option_function<std::string>(
      "--layout", [&arguments](const std::string& path) { arguments.layout = path; },
      "Layout YAML (default: the built-in deploy/layouts/fixture-stores.yaml)");
  sim_app->add_option_function<std::string>(
      "--registry", [&arguments](const std::string& path) { arguments.registry = path; },
      "Registry JSON file (default: registry.source, else the built-in registry)");
  sim_app->add_option_function<std::string>(
      "--config", [&arguments](const std::string& path) { arguments.config_path = path; },
      "The pipeline's YAML config: the scoring runs with its options (and TASTESYNC_* ones)");
  sim_app->add_option_function<int>(
      "--customers", [&arguments](int n) { arguments.customers = n; }, "Customers");
  sim_app->add_option_function<std::uint64_t>(
      "--seed", [&arguments](std::uint64_t seed) { arguments.seed = seed; }, "Random seed");
  sim_app
      ->add_option("--seeds", arguments.seeds,
                   "Runs this many seeds from --seed on; prints each run's figures and them pooled")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  sim_app->add_option_function<std::string>(
      "--model", [&arguments](const std::string& model) { arguments.model = model; },
      "stages (the real stages, default) or nearest (the issue's nearest-beacon baseline)");
  sim_app->add_option_function<std::string>(
      "--store", [&arguments](const std::string& store) { arguments.store = store; },
      "Only this store of the layout (default: all, customers spread over them)");
  for (const sim::Knob& knob : sim::knobs()) {
    const std::string flag(knob.flag);
    sim_app
        ->add_option_function<double>(
            "--" + flag,
            [&arguments, flag](double value) { arguments.knobs.emplace_back(flag, value); },
            fmt::format("{} ({:g}..{:g})", knob.help, knob.min, knob.max))
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  }
  sim_app->add_flag("--json", arguments.json, "Print the report as one JSON object");
  sim_app->add_option_function<std::string>(
      "--events", [&arguments](const std::string& path) { arguments.events_csv = path; },
      "Also write every emitted event with the ground truth at its time to this CSV file");
  return sim_app;
}

namespace {

// One seeded run, timed.
sim::SimReport run_once(const SimArguments& arguments, const SimSettings& settings,
                        const Config& config, const std::shared_ptr<const Registry>& registry,
                        const std::string& registry_name, const sim::Layout& layout) {
  auto plan = sim::FloorPlan::build(layout, *registry);
  if (!plan) {
    throw ConfigError("layout " + arguments.layout.value_or("(built-in)") + ": " + plan.error());
  }
  const auto started = std::chrono::steady_clock::now();
  TopologyOptions options = topology_options(config);
  options.report_beliefs = true;  // the reliability plot
  sim::Simulator simulator(registry, std::move(*plan), options, settings);
  const sim::SimulationResult result = simulator.run();
  const sim::IdentificationMetrics metrics(sim::location_types(*registry));
  sim::SimReport report{settings,
                        arguments.layout.value_or("(built-in)"),
                        registry_name,
                        result.counts,
                        metrics.summarize(result.customers, result.events, result.beliefs),
                        std::nullopt};
  report.runtime_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (arguments.events_csv) write_events_csv(*arguments.events_csv, *registry, result);
  return report;
}

}  // namespace

int sim_command(const SimArguments& arguments) {
  const SimSettings settings = settings_from(arguments);
  const Config config = load_config({arguments.config_path, process_environment(), {}});
  const std::string registry_source = arguments.registry.value_or(config.registry.source);
  const auto registry = load_registry(registry_source);
  const std::string registry_name = registry_source.empty() ? "(built-in)" : registry_source;
  const sim::Layout layout = layout_from(arguments);
  if (arguments.seeds > 1 && arguments.events_csv) {
    throw ConfigError("--events: one seed at a time (without --seeds)");
  }

  std::vector<sim::SimReport> runs;
  for (int i = 0; i < arguments.seeds; ++i) {
    SimSettings seeded = settings;
    seeded.seed = settings.seed + static_cast<std::uint64_t>(i);
    runs.push_back(run_once(arguments, seeded, config, registry, registry_name, layout));
  }
  std::string text;
  if (runs.size() == 1) {
    text = arguments.json ? format_json(runs.front()) : format_text(runs.front());
  } else {
    std::vector<sim::MetricsSummary> summaries;
    summaries.reserve(runs.size());
    for (const sim::SimReport& run : runs) summaries.push_back(run.metrics);
    const sim::MetricsSummary pooled = sim::pool(summaries);
    text = arguments.json ? format_seeds_json(runs, pooled) : format_seeds_text(runs, pooled);
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace tastesync
