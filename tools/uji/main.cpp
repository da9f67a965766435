// tastesync_uji: calibrates the scoring model on the UJI BLE RSS measurements and replays every
// surveyed point through the real stages as a customer sitting there (tools/uji/README.md).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>
#include <iostream>

#include "config/config.hpp"
#include "tools/uji/evaluation.hpp"

namespace {

int run(int argc, char** argv) {
  using namespace tastesync;
  CLI::App app{"Calibrate and check the scoring model on the UJI BLE RSS measurements"};
  std::string data_dir = "/work/shared/data/uji-ble-rss";
  bool json = false;
  uji::EvaluationOptions options;
  ScoreOptions& score = options.topology.score;
  std::vector<std::string> models = {"default", "calibrated", "pooled-A"};
  app.add_option("--data", data_dir, "Directory with beacons.csv, scans.csv, readings.csv")
      ->capture_default_str();
  app.add_flag("--json", json, "Machine-readable output");
  app.add_option(
         "--model", models,
         "Models to run (repeatable): default (n of --score.path_loss_exponent), calibrated (the "
         "group's fitted n), pooled-A (one tx_power for all phones)")
      ->check(CLI::IsMember({"default", "calibrated", "pooled-A"}))
      ->capture_default_str();
  app.add_option("--exponent", options.fixed_exponents,
                 "Also run with this path-loss exponent for every group (repeatable)");
  // Every score.* key of the pipeline's config is a flag, named, bounded and defaulted by the
  // config table (config/config_keys.cpp): --score.min_confidence 0.7 means what it means in a
  // config file, and is refused with the same message when out of range.
  Config config;
  for (const KeyDescription& key : describe_keys()) {
    if (!key.key.starts_with("score.")) continue;
    app.add_option_function<std::string>(
           "--" + key.key,
           [&config, name = key.key](const std::string& value) {
             set_config_value(config, name, value);
           },
           key.accepts + " (default " + key.default_value + ")")
        ->type_name("VALUE");
  }
  CLI11_PARSE(app, argc, argv);
  score = config.score;
  const auto wanted = [&](const char* name) {
    return std::find(models.begin(), models.end(), name) != models.end();
  };
  options.default_model = wanted("default");
  options.calibrated_model = wanted("calibrated");
  options.pooled_model = wanted("pooled-A");

  auto dataset = uji::load_dataset(data_dir);
  if (!dataset) {
    std::cerr << "tastesync_uji: " << dataset.error() << "\n";
    return 1;
  }
  auto evaluation = uji::evaluate(*dataset, options);
  if (!evaluation) {
    std::cerr << "tastesync_uji: " << evaluation.error() << "\n";
    return 1;
  }
  const std::string out = json ? uji::format_json(evaluation->calibration, evaluation->runs)
                               : uji::format_text(evaluation->calibration, evaluation->runs);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "tastesync_uji: " << error.what() << "\n";
  } catch (...) {
    std::cerr << "tastesync_uji: unknown error\n";
  }
  return 1;
}
