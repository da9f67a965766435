#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <stdexcept>

#include "bench/bench_common.hpp"
#include "stages/topology.hpp"
#include "state/pending_writes.hpp"
#include "state/state_store.hpp"

namespace tastesync::bench {
namespace {

constexpr int kPasses = 3;                     // best of: the machine is shared
constexpr std::size_t kRecordsPerPoll = 1000;  // what one consumer poll hands the pipeline
constexpr int kPartitions = 6;

RecordView view(const GeneratedRecord& record, std::int64_t offset) {
  RecordView view;
  if (record.key) view.key = *record.key;
  view.value = record.value;
  view.timestamp_ms = record.timestamp_ms;
  view.offset = offset;
  return view;
}

// The wall clock the stages are handed: as if every record were processed as soon as the last
// was produced (none is ahead of it, so none is refused as too far in the future).
EpochMs processing_time(const std::vector<GeneratedRecord>& records) {
  EpochMs newest = 0;
  for (const GeneratedRecord& record : records) newest = std::max(newest, record.timestamp_ms);
  return newest;
}

// Stages alone (docs/contract.md#targets): parse -> resolve -> dedupe -> score -> emit
// serialisation (the order of docs/contract.md#shape) against the in-memory state, no Kafka, no
// RocksDB. Best of a few passes, each from empty state.
// Which of the partitions each record belongs to: Kafka's job, so done before timing.
std::vector<std::size_t> partition_of_records(const std::vector<GeneratedRecord>& records) {
  std::vector<std::size_t> partitions;
  partitions.reserve(records.size());
  for (const GeneratedRecord& record : records) {
    partitions.push_back(std::hash<std::string>{}(record.key.value_or("")) % kPartitions);
  }
  return partitions;
}

double stages_alone(const std::shared_ptr<const Registry>& registry,
                    const std::vector<GeneratedRecord>& records, const TopologyOptions& options) {
  const std::vector<std::size_t> partition_of = partition_of_records(records);
  std::vector<RecordView> views;
  views.reserve(records.size());
  std::vector<std::int64_t> next_offset(kPartitions, 0);
  for (std::size_t i = 0; i < records.size(); ++i) {
    views.push_back(view(records[i], next_offset[partition_of[i]]++));
  }
  const EpochMs now_ms = processing_time(records);
  double best = 0;
  for (int pass = 0; pass < kPasses; ++pass) {
    Topology topology(registry, options);
    std::vector<PartitionState> partitions(kPartitions);
    std::size_t events = 0;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < views.size(); ++i) {
      const Outcome outcome = topology.process(views[i], partitions[partition_of[i]], now_ms);
      events += outcome.kind == Outcome::Kind::event;
    }
    const double elapsed = seconds_since(start);
    best = std::max(best, static_cast<double>(records.size()) / elapsed);
    if (pass == 0) {
      std::printf("  stages: %zu records -> %zu events\n", records.size(), events);
    }
  }
  return best;
}

// The same plus the durable state path: a snapshot per record, and per poll one WriteBatch per
// partition with its offset (as if every output were delivered at once).
double with_state_path(const std::shared_ptr<const Registry>& registry,
                       const std::vector<GeneratedRecord>& records,
                       const TopologyOptions& topology_options) {
  const std::string dir = "/tmp/tastesync-bench-state-" + std::to_string(::getpid());
  StateStoreOptions options;
  options.dir = dir;
  options.input_topic = "bench";
  auto store = StateStore::open(options);
  if (!store) throw std::runtime_error(store.error().message);
  Topology topology(registry, topology_options);
  std::vector<PartitionState> partitions(kPartitions);
  std::vector<PendingWrites> pending(kPartitions);
  std::vector<std::int64_t> next_offset(kPartitions, 0);
  StateStore::Batch batch;
  const std::vector<std::size_t> partition_of = partition_of_records(records);
  const EpochMs now_ms = processing_time(records);
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::size_t p = partition_of[i];
    const Outcome outcome =
        topology.process(view(records[i], next_offset[p]), partitions[p], now_ms, &pending[p]);
    if (outcome.touched != nullptr) {
      pending[p].changed(next_offset[p], outcome.customer_id, *outcome.touched, outcome.remembered,
                         outcome.learned_levels, &partitions[p].room());
    }
    ++next_offset[p];
    if ((i + 1) % kRecordsPerPoll == 0 || i + 1 == records.size()) {
      for (int q = 0; q < kPartitions; ++q) {
        const auto index = static_cast<std::size_t>(q);
        pending[index].drain_before(next_offset[index], q, partitions[index], batch);
        batch.set_checkpoint(q,
                             PartitionCheckpoint{next_offset[index], partitions[index].progress()});
      }
      if (auto written = (*store)->write(batch); !written)
        throw std::runtime_error(written.error().message);
    }
  }
  const double elapsed = seconds_since(start);
  std::printf("  state path: RocksDB holds ~%llu keys, %.1f MiB\n",
              static_cast<unsigned long long>((*store)->estimated_keys()),
              static_cast<double>((*store)->approximate_size_bytes()) / (1 << 20));
  store->reset();
  std::filesystem::remove_all(dir);
  return static_cast<double>(records.size()) / elapsed;
}

}  // namespace

StageFigures run_stage_benchmarks(const std::shared_ptr<const Registry>& registry,
                                  std::int64_t count, int customers,
                                  const TopologyOptions& options) {
  const auto records = make_records(registry, count, customers);
  StageFigures figures;
  figures.stages_per_s = stages_alone(registry, records, options);
  figures.state_path_per_s = with_state_path(registry, records, options);
  return figures;
}

}  // namespace tastesync::bench
