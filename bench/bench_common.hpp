#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "app/dev/generator.hpp"
#include "stages/registry.hpp"
#include "stages/topology.hpp"

namespace tastesync::bench {

// The generator every benchmark uses; another seed for a second one (bench/sweep.py's records).
inline GeneratorOptions generator_options(int customers, std::uint64_t seed = 42) {
  GeneratorOptions options;
  options.customers = customers;
  options.rate_per_s = 0;
  options.seed = seed;
  options.bad_ratio = 0.01;
  options.start_time_ms = 1740916800000;  // 2025-03-02T12:00:00Z
  return options;
}

// Reproducible input for every benchmark: the product's own generator on a simulated clock.
inline std::vector<GeneratedRecord> make_records(const std::shared_ptr<const Registry>& registry,
                                                 std::int64_t count, int customers) {
  SightingGenerator generator(registry, generator_options(customers));
  std::vector<GeneratedRecord> records;
  records.reserve(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) records.push_back(generator.next(0));
  return records;
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct StageFigures {
  double parse_per_s = 0;  // the parse stage alone, a part of stages_per_s
  double stages_per_s = 0;
  double state_path_per_s = 0;  // checkpoints at the runtime's cadence (pipeline/cadence.hpp)
  double state_path_every_poll_per_s = 0;  // a checkpoint after every poll of 1 000 records
};

// `options` are the stages' (e.g. score.model); the state path's come from StateStoreOptions.
// `partitions`: the input partitions the records are spread over by key.
StageFigures run_stage_benchmarks(const std::shared_ptr<const Registry>& registry,
                                  std::int64_t records, int customers,
                                  const TopologyOptions& options = {}, int partitions = 6);

// One point of bench/sweep.py: the state path once over `records` sightings of `customers`
// customers in `partitions` partitions, then what that state costs. Memory in KiB from
// /proc/self/status.
struct SweepFigures {
  std::int64_t records = 0;
  double generate_s = 0;
  double state_path_s = 0;
  std::size_t events = 0;
  std::size_t evicted = 0;         // by the customer cap (max_customers_per_partition)
  std::size_t customers_held = 0;  // PartitionState::size, summed, after the run
  long rss_start_kib = 0;          // before the records were generated
  long rss_records_kib = 0;        // the records generated, no state yet
  long rss_after_kib = 0;          // after the run: records and state
  long hwm_after_kib = 0;
  long rss_state_kib = 0;  // after the run with the records freed: the state and RocksDB's memory
  std::uint64_t rocksdb_dir_bytes = 0;   // every file in the state dir, after a flush
  std::uint64_t rocksdb_sst_bytes = 0;   // its SST files
  std::uint64_t rocksdb_live_bytes = 0;  // StateStore::approximate_size_bytes
  std::uint64_t rocksdb_keys = 0;        // StateStore::estimated_keys
  double reopen_s = 0;                   // StateStore::open of the existing dir
  double restore_s = 0;                  // restore + normalize_restored of every partition
  std::size_t customers_restored = 0;
  // After the restore, a full compaction: only the live state, without the superseded versions
  // RocksDB keeps until a compaction reaches them (which ones, at a given moment, is chance).
  std::uint64_t rocksdb_compacted_sst_bytes = 0;
  std::uint64_t rocksdb_compacted_keys = 0;
};

// `every_poll`: a checkpoint after every poll of 1 000 records, not at the pipeline's cadence.
SweepFigures run_sweep_point(const std::shared_ptr<const Registry>& registry, std::int64_t records,
                             int customers, int partitions, const TopologyOptions& options,
                             bool every_poll = false);

// A thread of this process, the CPU seconds (user + system) it used and its minor page faults
// (each ~11 µs on the VM docs/bench.md#issue-17-6 measured).
struct ThreadCpu {
  int tid = 0;
  std::string name;
  double cpu_s = 0;
  std::int64_t minor_faults = 0;
};

// Every thread of this process now (/proc/self/task), by thread id.
std::vector<ThreadCpu> thread_cpu_now();

// `last` less `first`, thread by thread; a thread missing from `first` started in between.
std::vector<ThreadCpu> thread_cpu_since(const std::vector<ThreadCpu>& first,
                                        const std::vector<ThreadCpu>& last);

struct E2eFigures {
  std::int64_t records = 0;
  double passthrough_s = 0;
  double passthrough_startup_s = 0;
  double pipeline_s = 0;
  double pipeline_startup_s = 0;
  double latency_p50_ms = 0;
  double latency_p99_ms = 0;
  // The records the passthrough forwarded: what the broker held, which is fewer than `records`
  // (the offsets written) once the mock's retention dropped some (docs/platform.md#mock-retention).
  std::int64_t passthrough_forwarded = 0;
  // CPU seconds of the whole passthrough process (every thread) from its first record to its
  // end, and its context switches meanwhile (getrusage).
  double passthrough_cpu_s = 0;
  long passthrough_voluntary_switches = 0;
  long passthrough_involuntary_switches = 0;
  // The same CPU seconds thread by thread (threads alive at the end), so the passthrough's
  // librdkafka threads can be set beside the pipeline's (bench/headline.py).
  std::vector<ThreadCpu> passthrough_threads;
  // The same pipeline with processing.guarantee exactly_once (when asked for), same records.
  double pipeline_eos_s = 0;
  double pipeline_eos_startup_s = 0;
  double eos_latency_p99_ms = 0;
};

E2eFigures run_e2e_benchmark(const std::shared_ptr<const Registry>& registry, std::int64_t records,
                             int customers, int partitions, bool with_exactly_once);

// The C passthrough alone against a broker in another process (bench/headline.py): all of
// `input_topic` as it is now into `output_topic`, group `group`, until an outside observer sees
// every partition committed at its end.
E2eFigures run_external_passthrough(const std::string& brokers, const std::string& input_topic,
                                    const std::string& output_topic, const std::string& group,
                                    int partitions);

// Waits until `group` has committed every partition of `input_topic` at its end offset as of the
// call, watching every 20 ms from outside like the passthrough's observer; returns the moment on
// the monotonic clock (CLOCK_MONOTONIC: comparable with another process's), in seconds.
double wait_until_committed(const std::string& brokers, const std::string& input_topic,
                            const std::string& group, int partitions);

struct LatencyFigures {
  std::int64_t records = 0;
  double achieved_rate_per_s = 0;
  std::int64_t outputs = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

// A paced live load (the generator producing at `rate_per_s` into the same mock) and the
// pipeline_latency histogram it leaves: the "p99 at 10 k sightings/s" of docs/contract.md#targets.
LatencyFigures run_latency_benchmark(const std::shared_ptr<const Registry>& registry,
                                     double rate_per_s, double seconds, int customers,
                                     const std::map<std::string, std::string>& extra_properties);

}  // namespace tastesync::bench
