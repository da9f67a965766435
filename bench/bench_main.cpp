#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "bench_common.hpp"
#include "registry_source.hpp"

// Prints the figures SPEC §9 asks for. Timing is measured here, never asserted in tests.
int main(int argc, char** argv) {
  CLI::App app{"tastesync benchmarks: stages alone, the RocksDB state path, end to end"};
  std::int64_t stage_records = 300000;
  std::int64_t e2e_records = 100000;
  int customers = 5000;
  int partitions = 12;
  bool skip_e2e = false;
  app.add_option("--stage-records", stage_records, "Records for the in-memory benchmarks")
      ->capture_default_str();
  app.add_option("--e2e-records", e2e_records,
                 "Records for the end-to-end run (fit the mock's 5 MiB per partition)")
      ->capture_default_str();
  app.add_option("--customers", customers, "Simulated customers")->capture_default_str();
  app.add_option("--partitions", partitions, "Input partitions for the end-to-end run")
      ->capture_default_str();
  app.add_flag("--skip-e2e", skip_e2e, "Only the in-memory benchmarks");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  const auto registry = tastesync::builtin_registry();
  std::printf("stages (one core, in-memory state, %lld records, %d customers)\n",
              static_cast<long long>(stage_records), customers);
  const auto stages = tastesync::bench::run_stage_benchmarks(registry, stage_records, customers);
  std::printf("  stages alone:           %10.0f sightings/s\n", stages.stages_per_s);
  std::printf("  with RocksDB state path: %9.0f sightings/s  (%.2f of stages alone)\n",
              stages.state_path_per_s, stages.state_path_per_s / stages.stages_per_s);
  if (skip_e2e) return 0;

  std::printf("end to end through librdkafka's mock cluster (%lld records, %d partitions)\n",
              static_cast<long long>(e2e_records), partitions);
  const auto e2e =
      tastesync::bench::run_e2e_benchmark(registry, e2e_records, customers, partitions);
  const double passthrough_rate = static_cast<double>(e2e.records) / e2e.passthrough_s;
  const double pipeline_rate = static_cast<double>(e2e.records) / e2e.pipeline_s;
  std::printf("  passthrough: %8.3f s  %10.0f records/s  (start-up to first record %.3f s)\n",
              e2e.passthrough_s, passthrough_rate, e2e.passthrough_startup_s);
  std::printf("  pipeline:    %8.3f s  %10.0f records/s  (start-up to first record %.3f s)\n",
              e2e.pipeline_s, pipeline_rate, e2e.pipeline_startup_s);
  std::printf("  pipeline / passthrough: %.2f\n", pipeline_rate / passthrough_rate);
  std::printf("  pipeline_latency under this flood: p50 %.1f ms, p99 %.1f ms\n", e2e.latency_p50_ms,
              e2e.latency_p99_ms);
  return 0;
}
