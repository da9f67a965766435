#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <queue>
#include <stdexcept>
#include <thread>

#include "bench/bench_common.hpp"
#include "common/clock.hpp"
#include "pipeline/cadence.hpp"
#include "stages/topology.hpp"
#include "state/pending_writes.hpp"
#include "state/state_store.hpp"

namespace tastesync::bench {
namespace {

constexpr int kPasses = 3;  // best of: the machine is shared

// When the state path checkpoints: cadence::checkpoint_due after every poll. The runtime's
// cadence (pipeline/cadence.hpp): polls of up to 4 000 records, one batch of the pending writes
// from the first poll after a checkpoint, a checkpoint every 100 ms or once a partition holds
// 25 000 records. The issue's (17, item 2), and the bench's before docs/bench.md#issue-17-17: a
// checkpoint after every poll of 1 000.
struct Cadence {
  std::size_t records_per_poll = 0;
  std::int64_t interval_ns = 0;  // 0: a checkpoint after every poll
};
constexpr Cadence kRuntimeCadence{cadence::kMaxBatch, cadence::kCheckpointIntervalNs};
constexpr Cadence kEveryPoll{1000, 0};

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
std::vector<std::size_t> partition_of_records(const std::vector<GeneratedRecord>& records,
                                              int partition_count) {
  std::vector<std::size_t> partitions;
  partitions.reserve(records.size());
  for (const GeneratedRecord& record : records) {
    partitions.push_back(std::hash<std::string>{}(record.key.value_or("")) %
                         static_cast<std::size_t>(partition_count));
  }
  return partitions;
}

// The parse stage alone over the same records, best of a few passes: the share of the stages
// that runs on the parse thread end to end (docs/design.md#parse-ahead).
double parse_alone(const std::vector<GeneratedRecord>& records, const ParseOptions& options) {
  std::vector<RecordView> views;
  views.reserve(records.size());
  for (const GeneratedRecord& record : records) views.push_back(view(record, 0));
  SightingParser parser(options);
  double best = 0;
  for (int pass = 0; pass < kPasses; ++pass) {
    std::size_t valid = 0;
    const auto start = std::chrono::steady_clock::now();
    for (const RecordView& record : views) valid += parser.parse(record).ok();
    const double elapsed = seconds_since(start);
    best = std::max(best, static_cast<double>(views.size()) / elapsed);
    if (pass == 0) std::printf("  parse: %zu records -> %zu valid\n", views.size(), valid);
  }
  return best;
}

double stages_alone(const std::shared_ptr<const Registry>& registry,
                    const std::vector<GeneratedRecord>& records, const TopologyOptions& options,
                    int partition_count) {
  const std::vector<std::size_t> partition_of = partition_of_records(records, partition_count);
  std::vector<RecordView> views;
  views.reserve(records.size());
  std::vector<std::int64_t> next_offset(static_cast<std::size_t>(partition_count), 0);
  for (std::size_t i = 0; i < records.size(); ++i) {
    views.push_back(view(records[i], next_offset[partition_of[i]]++));
  }
  const EpochMs now_ms = processing_time(records);
  double best = 0;
  for (int pass = 0; pass < kPasses; ++pass) {
    Topology topology(registry, options);
    std::vector<PartitionState> partitions(static_cast<std::size_t>(partition_count));
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

// One run of the state path (below), its store and state kept for what the sweep measures after.
struct StatePathRun {
  StateStoreOptions options;
  std::unique_ptr<StateStore> store;
  std::vector<PartitionState> partitions;
  std::size_t events = 0;
  std::size_t evicted = 0;  // Outcome::evicted_customers: forgotten by the customer cap
  double seconds = 0;
};

// The same plus the durable state path as the pipeline runs it: changes pending from one
// checkpoint to the next (a customer changed twice in one batch takes no snapshot:
// docs/design.md#checkpoint-cuts), then one WriteBatch for every partition with its offset (as if
// every output were delivered at once), at `cadence`.
StatePathRun run_state_path(const std::shared_ptr<const Registry>& registry,
                            const std::vector<GeneratedRecord>& records,
                            const TopologyOptions& topology_options, int partition_count,
                            const Cadence& cadence) {
  StatePathRun run;
  run.options.dir = "/tmp/tastesync-bench-state-" + std::to_string(::getpid());
  run.options.input_topic = "bench";
  auto store = StateStore::open(run.options);
  if (!store) throw std::runtime_error(store.error().message);
  run.store = std::move(*store);
  Topology topology(registry, topology_options);
  const auto partition_total = static_cast<std::size_t>(partition_count);
  run.partitions.resize(partition_total);
  std::vector<PartitionState>& partitions = run.partitions;
  std::vector<PendingWrites> pending(partition_total);
  std::vector<std::int64_t> next_offset(partition_total, 0);
  std::vector<std::int64_t> checkpointed(partition_total, 0);  // each partition's last cut
  StateStore::Batch batch;
  const std::vector<std::size_t> partition_of = partition_of_records(records, partition_count);
  const EpochMs now_ms = processing_time(records);
  const auto start = std::chrono::steady_clock::now();
  std::int64_t due_ns = steady_ns() + cadence.interval_ns;
  bool begin = true;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (begin) {
      for (PendingWrites& partition_pending : pending) partition_pending.begin_batch();
      begin = false;
    }
    const std::size_t p = partition_of[i];
    const Outcome outcome =
        topology.process(view(records[i], next_offset[p]), partitions[p], now_ms, &pending[p]);
    if (outcome.touched != nullptr) {
      pending[p].changed(next_offset[p], outcome.customer_id, *outcome.touched, outcome.remembered,
                         outcome.learned_levels, &partitions[p].room());
    }
    run.events += outcome.kind == Outcome::Kind::event;
    run.evicted += outcome.evicted_customers;
    ++next_offset[p];
    const bool poll_ends = (i + 1) % cadence.records_per_poll == 0 || i + 1 == records.size();
    if (!poll_ends) continue;
    std::size_t most_in_flight = 0;
    for (std::size_t q = 0; q < partition_total; ++q) {
      most_in_flight =
          std::max(most_in_flight, static_cast<std::size_t>(next_offset[q] - checkpointed[q]));
    }
    const std::int64_t now_ns = steady_ns();
    if (cadence::checkpoint_due(i + 1 == records.size(), now_ns, due_ns, most_in_flight)) {
      for (int q = 0; q < partition_count; ++q) {
        const auto index = static_cast<std::size_t>(q);
        pending[index].drain_before(next_offset[index], q, partitions[index], batch);
        batch.set_checkpoint(q,
                             PartitionCheckpoint{next_offset[index], partitions[index].progress()});
      }
      if (auto written = run.store->write(batch); !written)
        throw std::runtime_error(written.error().message);
      checkpointed = next_offset;
      due_ns = now_ns + cadence.interval_ns;
      begin = true;
    }
  }
  run.seconds = seconds_since(start);
  return run;
}

// Best of a few passes, each into a store of its own, as stages_alone is: the first pass pays
// for memory no pass before it touched.
double with_state_path(const std::shared_ptr<const Registry>& registry,
                       const std::vector<GeneratedRecord>& records,
                       const TopologyOptions& topology_options, int partition_count,
                       const Cadence& cadence) {
  double best = 0;
  for (int pass = 0; pass < kPasses; ++pass) {
    StatePathRun run =
        run_state_path(registry, records, topology_options, partition_count, cadence);
    if (pass == 0) {
      std::printf("  state path: RocksDB holds ~%llu keys, %.1f MiB\n",
                  static_cast<unsigned long long>(run.store->estimated_keys()),
                  static_cast<double>(run.store->approximate_size_bytes()) / (1 << 20));
    }
    run.store.reset();
    std::filesystem::remove_all(run.options.dir);
    best = std::max(best, static_cast<double>(records.size()) / run.seconds);
  }
  return best;
}

// The sweep's records (bench/sweep.py). The generator picks each scan's customer by a pass over
// all of its customers: fine for the thousands of the other benchmarks, hours for a million. So
// up to kCustomersPerGenerator customers this is make_records itself, and above it the records
// of several generators of at most that many customers each (seeds 42, 43, ...), merged in
// timestamp order, the customer ids of the second and later tagged with its index
// ("cust0042" -> "cust3-0042"). Each generator simulates about 1 000 sightings/s, so a customer
// is seen as often, and the records span as much event time, whatever the customer count.
constexpr int kCustomersPerGenerator = 10000;

void tag_customer(GeneratedRecord& record, int generator) {
  if (generator == 0) return;
  const std::string tag = std::to_string(generator) + "-";
  constexpr std::string_view kIdStart = "cust";
  if (record.key && record.key->starts_with(kIdStart)) record.key->insert(kIdStart.size(), tag);
  constexpr std::string_view kField = R"("customer_id":"cust)";
  if (const auto at = record.value.find(kField); at != std::string::npos) {
    record.value.insert(at + kField.size(), tag);
  }
}

std::vector<GeneratedRecord> make_sweep_records(const std::shared_ptr<const Registry>& registry,
                                                std::int64_t count, int customers) {
  const int generators = (customers + kCustomersPerGenerator - 1) / kCustomersPerGenerator;
  if (generators <= 1) return make_records(registry, count, customers);
  std::vector<std::unique_ptr<SightingGenerator>> sources;
  std::vector<GeneratedRecord> heads;  // each generator's next record
  using Head = std::pair<EpochMs, int>;
  std::priority_queue<Head, std::vector<Head>, std::greater<>> earliest;
  for (int g = 0; g < generators; ++g) {
    const int share = customers / generators + (g < customers % generators ? 1 : 0);
    sources.push_back(std::make_unique<SightingGenerator>(
        registry, generator_options(share, 42 + static_cast<std::uint64_t>(g))));
    heads.push_back(sources.back()->next(0));
    earliest.emplace(heads.back().timestamp_ms, g);
  }
  std::vector<GeneratedRecord> records;
  records.reserve(static_cast<std::size_t>(count));
  while (static_cast<std::int64_t>(records.size()) < count) {
    const int g = earliest.top().second;
    earliest.pop();
    const auto index = static_cast<std::size_t>(g);
    tag_customer(heads[index], g);
    records.push_back(std::move(heads[index]));
    heads[index] = sources[index]->next(0);
    earliest.emplace(heads[index].timestamp_ms, g);
  }
  return records;
}

struct Resident {
  long rss_kib = 0;
  long hwm_kib = 0;
};

// VmRSS and VmHWM of this process (/proc/self/status).
Resident resident() {
  Resident figures;
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) figures.rss_kib = std::stol(line.substr(6));
    if (line.starts_with("VmHWM:")) figures.hwm_kib = std::stol(line.substr(6));
  }
  return figures;
}

// The bytes of the files in `dir`: all of them, and the SST files alone.
std::pair<std::uint64_t, std::uint64_t> directory_bytes(const std::string& dir) {
  std::uint64_t all = 0;
  std::uint64_t sst = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code file_ec;  // a file a compaction deletes meanwhile is skipped
    if (!it->is_regular_file(file_ec)) continue;
    const std::uintmax_t size = it->file_size(file_ec);
    if (file_ec) continue;
    all += size;
    if (it->path().extension() == ".sst") sst += size;
  }
  return {all, sst};
}

}  // namespace

StageFigures run_stage_benchmarks(const std::shared_ptr<const Registry>& registry,
                                  std::int64_t count, int customers, const TopologyOptions& options,
                                  int partitions) {
  const auto records = make_records(registry, count, customers);
  StageFigures figures;
  figures.parse_per_s = parse_alone(records, options.parse);
  figures.stages_per_s = stages_alone(registry, records, options, partitions);
  figures.state_path_per_s =
      with_state_path(registry, records, options, partitions, kRuntimeCadence);
  figures.state_path_every_poll_per_s =
      with_state_path(registry, records, options, partitions, kEveryPoll);
  return figures;
}

SweepFigures run_sweep_point(const std::shared_ptr<const Registry>& registry, std::int64_t count,
                             int customers, int partitions, const TopologyOptions& options,
                             bool every_poll) {
  SweepFigures figures;
  figures.rss_start_kib = resident().rss_kib;
  const auto generating = std::chrono::steady_clock::now();
  auto records = make_sweep_records(registry, count, customers);
  figures.generate_s = seconds_since(generating);
  figures.records = static_cast<std::int64_t>(records.size());
  figures.rss_records_kib = resident().rss_kib;

  StatePathRun run = run_state_path(registry, records, options, partitions,
                                    every_poll ? kEveryPoll : kRuntimeCadence);
  figures.state_path_s = run.seconds;
  figures.events = run.events;
  figures.evicted = run.evicted;
  const Resident after = resident();
  figures.rss_after_kib = after.rss_kib;
  figures.hwm_after_kib = after.hwm_kib;
  for (const PartitionState& partition : run.partitions) figures.customers_held += partition.size();
  // The same without the records (freed, and their pages handed back): the state and RocksDB.
  records.clear();
  records.shrink_to_fit();
  ::malloc_trim(0);
  figures.rss_state_kib = resident().rss_kib;

  // On disk after a flush, once compactions have settled (the SST files unchanged for 1 s).
  if (auto flushed = run.store->flush(); !flushed) {
    throw std::runtime_error(flushed.error().message);
  }
  std::pair<std::uint64_t, std::uint64_t> bytes = directory_bytes(run.options.dir);
  for (int waited = 0; waited < 60; ++waited) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const auto now = directory_bytes(run.options.dir);
    if (now.second == bytes.second) break;
    bytes = now;
  }
  figures.rocksdb_dir_bytes = bytes.first;
  figures.rocksdb_sst_bytes = bytes.second;
  figures.rocksdb_live_bytes = run.store->approximate_size_bytes();
  figures.rocksdb_keys = run.store->estimated_keys();

  // A restart: the store closed and opened again, every partition restored into a fresh state as
  // Pipeline::on_assigned does (restore, then normalize_restored). The files were just written,
  // so they are in the page cache, and the flush left no WAL to replay: the best case.
  run.store.reset();
  run.partitions = std::vector<PartitionState>();
  ::malloc_trim(0);
  const auto reopening = std::chrono::steady_clock::now();
  auto store = StateStore::open(run.options);
  if (!store) throw std::runtime_error(store.error().message);
  figures.reopen_s = seconds_since(reopening);
  const Topology topology(registry, options);
  std::vector<PartitionState> restored(static_cast<std::size_t>(partitions));
  const auto restoring = std::chrono::steady_clock::now();
  for (int q = 0; q < partitions; ++q) {
    PartitionState& into = restored[static_cast<std::size_t>(q)];
    if (auto checkpoint = (*store)->restore(q, into); !checkpoint) {
      throw std::runtime_error(checkpoint.error().message);
    }
    topology.normalize_restored(into);
  }
  figures.restore_s = seconds_since(restoring);
  for (const PartitionState& partition : restored) figures.customers_restored += partition.size();
  if (auto compacted = (*store)->compact(); !compacted) {
    throw std::runtime_error(compacted.error().message);
  }
  figures.rocksdb_compacted_sst_bytes = directory_bytes(run.options.dir).second;
  figures.rocksdb_compacted_keys = (*store)->estimated_keys();
  store->reset();
  std::filesystem::remove_all(run.options.dir);
  return figures;
}

}  // namespace tastesync::bench
