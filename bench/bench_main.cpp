#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/bench_common.hpp"
#include "registry/registry_source.hpp"

// Prints the figures docs/contract.md#targets asks for. Timing is measured here, never asserted
// in tests.
int main(int argc, char** argv) {
  CLI::App app{"tastesync benchmarks: stages alone, the RocksDB state path, end to end"};
  std::int64_t stage_records = 300000;
  std::int64_t e2e_records = 200000;
  int customers = 5000;
  int partitions = 24;
  bool skip_e2e = false;
  int repeats = 3;
  double latency_rate = 10000;
  double latency_seconds = 10;
  std::string score_model = "filter";  // the default (docs/scoring.md)
  app.add_option("--stage-records", stage_records, "Records for the in-memory benchmarks")
      ->capture_default_str();
  app.add_option("--e2e-records", e2e_records,
                 "Records for the end-to-end run (fit the mock's 5 MiB per partition)")
      ->capture_default_str();
  app.add_option("--customers", customers, "Simulated customers")->capture_default_str();
  app.add_option("--partitions", partitions, "Input partitions for the end-to-end run")
      ->capture_default_str();
  app.add_flag("--skip-e2e", skip_e2e, "Only the in-memory benchmarks");
  bool exactly_once = false;
  app.add_flag("--exactly-once", exactly_once,
               "End to end also with processing.guarantee exactly_once (same records)");
  app.add_option("--repeats", repeats, "End-to-end runs (the median ratio is reported)")
      ->capture_default_str();
  app.add_option("--latency-rate", latency_rate, "Sightings/s of the paced latency run (0: skip)")
      ->capture_default_str();
  app.add_option("--latency-seconds", latency_seconds, "Duration of the paced latency run")
      ->capture_default_str();
  app.add_option("--score-model", score_model,
                 "The stages' location model: filter (the default) or radius")
      ->check(CLI::IsMember({"radius", "filter"}))
      ->capture_default_str();
  int stage_partitions = 6;
  app.add_option("--stage-partitions", stage_partitions,
                 "Partitions the in-memory benchmarks spread the records over")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  std::size_t max_customers = tastesync::TopologyOptions{}.max_customers_per_partition;
  app.add_option("--max-customers-per-partition", max_customers,
                 "The in-memory benchmarks' state.max_customers_per_partition")
      ->capture_default_str();
  std::string sweep_cadence = "pipeline";
  app.add_option("--sweep-cadence", sweep_cadence,
                 "With --sweep-json: checkpoints as the pipeline takes them (every 100 ms or "
                 "25 000 records of a partition) or after every poll of 1 000 records")
      ->check(CLI::IsMember({"pipeline", "every-poll"}))
      ->capture_default_str();
  bool sweep_json = false;
  app.add_flag("--sweep-json", sweep_json,
               "Only the state path, once, --stage-records records of --customers customers in "
               "--stage-partitions partitions, then its memory, RocksDB size and restore time; "
               "one JSON line (bench/sweep.py)");
  std::string passthrough_brokers;
  std::string input_topic = "raw-beacons";
  std::string output_topic = "passthrough-out";
  std::string group = "passthrough";
  app.add_option("--passthrough-only", passthrough_brokers,
                 "Only the C passthrough, against these brokers (bench/headline.py)");
  app.add_option("--input-topic", input_topic, "With --passthrough-only")->capture_default_str();
  app.add_option("--output-topic", output_topic, "With --passthrough-only")->capture_default_str();
  app.add_option("--group", group, "With --passthrough-only or --observe-commits")
      ->capture_default_str();
  std::string observe_brokers;
  app.add_option("--observe-commits", observe_brokers,
                 "Only wait until --group has committed all of --input-topic on these brokers; "
                 "print when, on the monotonic clock (bench/headline.py)");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // figures appear as they are measured

  if (!observe_brokers.empty()) {
    const double at =
        tastesync::bench::wait_until_committed(observe_brokers, input_topic, group, partitions);
    std::printf("{\"caught_up_monotonic_s\":%.6f}\n", at);
    return 0;
  }
  if (!passthrough_brokers.empty()) {
    // One JSON line: what bench/headline.py reads.
    const auto figures = tastesync::bench::run_external_passthrough(
        passthrough_brokers, input_topic, output_topic, group, partitions);
    std::string threads;
    for (const auto& thread : figures.passthrough_threads) {
      // Thread names are librdkafka's and the bench's own ("rdk:broker1"): nothing to escape.
      threads += (threads.empty() ? "" : ",") + std::string("{\"tid\":") +
                 std::to_string(thread.tid) + ",\"name\":\"" + thread.name +
                 "\",\"cpu_s\":" + std::to_string(thread.cpu_s) +
                 ",\"minflt\":" + std::to_string(thread.minor_faults) + "}";
    }
    std::printf(
        "{\"records\":%lld,\"forwarded\":%lld,\"seconds\":%.6f,\"startup_s\":%.6f,\"cpu_s\":%.6f,"
        "\"voluntary_switches\":%ld,\"involuntary_switches\":%ld,\"threads\":[%s]}\n",
        static_cast<long long>(figures.records),
        static_cast<long long>(figures.passthrough_forwarded), figures.passthrough_s,
        figures.passthrough_startup_s, figures.passthrough_cpu_s,
        figures.passthrough_voluntary_switches, figures.passthrough_involuntary_switches,
        threads.c_str());
    return 0;
  }

  const auto registry = tastesync::builtin_registry();
  tastesync::TopologyOptions stage_options;
  stage_options.score.model =
      score_model == "filter" ? tastesync::ScoreModel::filter : tastesync::ScoreModel::radius;
  stage_options.max_customers_per_partition = max_customers;
  if (sweep_json) {
    const auto point =
        tastesync::bench::run_sweep_point(registry, stage_records, customers, stage_partitions,
                                          stage_options, sweep_cadence == "every-poll");
    std::printf(
        "{\"customers\":%d,\"partitions\":%d,\"records\":%lld,\"score_model\":\"%s\","
        "\"cadence\":\"%s\","
        "\"max_customers_per_partition\":%zu,\"generate_s\":%.3f,\"state_path_s\":%.3f,"
        "\"sightings_per_s\":%.0f,\"events\":%zu,\"evicted\":%zu,\"customers_held\":%zu,"
        "\"rss_start_kib\":%ld,\"rss_records_kib\":%ld,\"rss_after_kib\":%ld,"
        "\"hwm_after_kib\":%ld,\"rss_state_kib\":%ld,\"rocksdb_dir_bytes\":%llu,"
        "\"rocksdb_sst_bytes\":%llu,\"rocksdb_live_bytes\":%llu,\"rocksdb_keys\":%llu,"
        "\"rocksdb_bytes_per_customer\":%.1f,\"reopen_s\":%.3f,\"restore_s\":%.3f,"
        "\"customers_restored\":%zu,\"rocksdb_compacted_sst_bytes\":%llu,"
        "\"rocksdb_compacted_keys\":%llu}\n",
        customers, stage_partitions, static_cast<long long>(point.records), score_model.c_str(),
        sweep_cadence.c_str(), max_customers, point.generate_s, point.state_path_s,
        static_cast<double>(point.records) / point.state_path_s, point.events, point.evicted,
        point.customers_held, point.rss_start_kib, point.rss_records_kib, point.rss_after_kib,
        point.hwm_after_kib, point.rss_state_kib,
        static_cast<unsigned long long>(point.rocksdb_dir_bytes),
        static_cast<unsigned long long>(point.rocksdb_sst_bytes),
        static_cast<unsigned long long>(point.rocksdb_live_bytes),
        static_cast<unsigned long long>(point.rocksdb_keys),
        point.customers_held > 0 ? static_cast<double>(point.rocksdb_dir_bytes) /
                                       static_cast<double>(point.customers_held)
                                 : 0.0,
        point.reopen_s, point.restore_s, point.customers_restored,
        static_cast<unsigned long long>(point.rocksdb_compacted_sst_bytes),
        static_cast<unsigned long long>(point.rocksdb_compacted_keys));
    return 0;
  }
  std::printf("stages (one core, in-memory state, %lld records, %d customers)\n",
              static_cast<long long>(stage_records), customers);
  std::printf("  score.model %s\n", score_model.c_str());
  const auto stages = tastesync::bench::run_stage_benchmarks(registry, stage_records, customers,
                                                             stage_options, stage_partitions);
  std::printf("  parse alone:            %10.0f sightings/s  (%.3f us each)\n", stages.parse_per_s,
              1e6 / stages.parse_per_s);
  std::printf("  stages alone:           %10.0f sightings/s\n", stages.stages_per_s);
  std::printf(
      "  with RocksDB state path: %9.0f sightings/s  (%.2f of stages alone; checkpoints as the "
      "pipeline: 100 ms or 25 000 records of a partition)\n",
      stages.state_path_per_s, stages.state_path_per_s / stages.stages_per_s);
  std::printf(
      "  ... a checkpoint a poll: %9.0f sightings/s  (%.2f of stages alone; every 1 000 records, "
      "as issue 17 item 2 words it)\n",
      stages.state_path_every_poll_per_s, stages.state_path_every_poll_per_s / stages.stages_per_s);
  if (skip_e2e) return 0;

  std::printf(
      "end to end through librdkafka's mock cluster (%lld records, %d partitions, %d runs)\n",
      static_cast<long long>(e2e_records), partitions, repeats);
  std::vector<double> ratios;
  std::vector<double> eos_ratios;
  for (int run = 0; run < repeats; ++run) {
    const auto e2e = tastesync::bench::run_e2e_benchmark(registry, e2e_records, customers,
                                                         partitions, exactly_once);
    const double passthrough_rate = static_cast<double>(e2e.records) / e2e.passthrough_s;
    const double pipeline_rate = static_cast<double>(e2e.records) / e2e.pipeline_s;
    ratios.push_back(pipeline_rate / passthrough_rate);
    std::printf(
        "  run %d: passthrough %7.0f rec/s (%.3f s, start-up %.3f s); pipeline %7.0f rec/s "
        "(%.3f s, start-up %.3f s); ratio %.2f; flood latency p50 %.1f ms p99 %.1f ms\n",
        run + 1, passthrough_rate, e2e.passthrough_s, e2e.passthrough_startup_s, pipeline_rate,
        e2e.pipeline_s, e2e.pipeline_startup_s, ratios.back(), e2e.latency_p50_ms,
        e2e.latency_p99_ms);
    if (exactly_once) {
      const double eos_rate = static_cast<double>(e2e.records) / e2e.pipeline_eos_s;
      eos_ratios.push_back(eos_rate / pipeline_rate);
      std::printf(
          "         exactly_once %7.0f rec/s (%.3f s, start-up %.3f s); %.2f of at_least_once, "
          "%.2f of the passthrough; flood latency p99 %.1f ms\n",
          eos_rate, e2e.pipeline_eos_s, e2e.pipeline_eos_startup_s, eos_ratios.back(),
          eos_rate / passthrough_rate, e2e.eos_latency_p99_ms);
    }
  }
  if (!ratios.empty()) {
    std::sort(ratios.begin(), ratios.end());
    std::printf("  pipeline / passthrough, median of %d: %.2f\n", repeats,
                ratios[ratios.size() / 2]);
  }
  if (!eos_ratios.empty()) {
    std::sort(eos_ratios.begin(), eos_ratios.end());
    std::printf("  exactly_once / at_least_once, median of %d: %.2f\n", repeats,
                eos_ratios[eos_ratios.size() / 2]);
  }

  if (latency_rate > 0) {
    // The mock keeps Nagle on and answers late when a client has several requests in flight
    // (docs/platform.md#mock-latency): measured once with the producer's defaults and once with
    // one request in flight, which is what the embedded default uses.
    const std::pair<const char*, std::map<std::string, std::string>> settings[] = {
        {"producer defaults", {}}, {"max.in.flight=1", {{"max.in.flight", "1"}}}};
    for (const auto& [label, properties] : settings) {
      const auto latency = tastesync::bench::run_latency_benchmark(
          registry, latency_rate, latency_seconds, customers, properties);
      std::printf(
          "paced load (%s): %lld sightings at %.0f/s (asked %.0f/s) -> %lld events; "
          "pipeline_latency p50 %.2f ms, p99 %.2f ms\n",
          label, static_cast<long long>(latency.records), latency.achieved_rate_per_s, latency_rate,
          static_cast<long long>(latency.outputs), latency.p50_ms, latency.p99_ms);
    }
  }
  return 0;
}
