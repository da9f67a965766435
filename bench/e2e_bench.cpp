#include <prometheus/registry.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "app/dev/mock_cluster.hpp"
#include "bench/bench_common.hpp"
#include "kafka/kafka.hpp"
#include "pipeline/input_consumer.hpp"
#include "pipeline/offset_tracker.hpp"
#include "pipeline/output_producer.hpp"
#include "pipeline/pipeline.hpp"

namespace tastesync::bench {
namespace {

constexpr char kInput[] = "bench-in";
constexpr char kPassthroughOut[] = "bench-out-passthrough";
constexpr char kPipelineOut[] = "bench-out-pipeline";
constexpr char kPipelineEosOut[] = "bench-out-pipeline-eos";
constexpr char kDlq[] = "bench-dlq";

Config bench_config(const std::string& brokers, const std::string& group,
                    const std::string& output_topic) {
  Config config;
  config.kafka.brokers = brokers;
  config.kafka.group_id = group;
  config.kafka.consumer_mode = ConsumerMode::assign;
  config.kafka.input_topic = kInput;
  config.kafka.output_topic = output_topic;
  config.kafka.dlq_topic = kDlq;
  // Commit often so neither side's end is hidden behind the 1 s auto-commit interval.
  config.kafka.properties.insert_or_assign("auto.commit.interval.ms", std::string("100"));
  config.kafka.properties.insert_or_assign("statistics.interval.ms", std::string("0"));
  return config;
}

std::vector<std::int64_t> end_offsets(rd_kafka_t* rk, int partitions,
                                      const std::string& topic = kInput) {
  std::vector<std::int64_t> ends;
  for (int p = 0; p < partitions; ++p) {
    std::int64_t low = 0;
    std::int64_t high = 0;
    if (rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low, &high, 10000) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("watermarks of " + topic);
    }
    ends.push_back(high);
  }
  return ends;
}

// Watches a group's committed offsets from outside (OffsetFetch), the same way for both runs.
class CommitObserver {
 public:
  CommitObserver(const std::string& brokers, const std::string& group, std::string topic = kInput)
      : topic_(std::move(topic)),
        handle_(make_kafka_handle(
            RD_KAFKA_CONSUMER,
            make_kafka_conf({{"bootstrap.servers", brokers}, {"group.id", group}}, "observer"))) {}

  // Total committed so far (for the message when a run never catches up).
  std::int64_t committed_total() const { return committed_total_; }

  bool caught_up(const std::vector<std::int64_t>& ends) {
    const TopicPartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(ends.size())));
    for (std::size_t p = 0; p < ends.size(); ++p) {
      rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), static_cast<std::int32_t>(p));
    }
    if (rd_kafka_committed(handle_.get(), list.get(), 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return false;
    }
    committed_total_ = 0;
    for (int i = 0; i < list->cnt; ++i)
      committed_total_ += std::max<std::int64_t>(0, list->elems[i].offset);
    for (int i = 0; i < list->cnt; ++i) {
      if (list->elems[i].offset < ends[static_cast<std::size_t>(list->elems[i].partition)]) {
        return false;
      }
    }
    return true;
  }

 private:
  std::string topic_;
  KafkaHandle handle_;
  std::int64_t committed_total_ = 0;
};

constexpr auto kRunDeadline = std::chrono::minutes(3);

void check_deadline(std::chrono::steady_clock::time_point started, const CommitObserver& observer,
                    const char* what) {
  if (std::chrono::steady_clock::now() - started > kRunDeadline) {
    throw std::runtime_error(std::string(what) + " did not catch up within 3 minutes (" +
                             std::to_string(observer.committed_total()) + " offsets committed)");
  }
}

// The passthrough, the ceiling the pipeline is compared with, as plain librdkafka (like the one
// issue 17 was measured against): consume -> produce the same key and value, no headers, the
// pipeline's own consumer and producer properties (idempotent producer, offsets stored only after
// delivery, auto-commit), each input offset stored once every output before it in its partition is
// delivered.
class Passthrough {
 public:
  explicit Passthrough(const Config& config) : config_(config) {}

  void run(int partitions, const std::vector<std::int64_t>& ends, CommitObserver& observer,
           E2eFigures& figures) {
    auto properties = consumer_properties(config_);
    // Plain librdkafka has no FetchWaker, and 2.0.2's fetcher stops for up to 1 s once the queue
    // holds queued.min.messages records: the passthrough keeps the deep prefetch it had before
    // the pipeline got the waker (docs/design.md#fetch-wake), the faster of the two for it.
    properties["queued.min.messages"] = "300000";
    consumer_ = make_kafka_handle(RD_KAFKA_CONSUMER, make_kafka_conf(properties, "passthrough"));
    rd_kafka_poll_set_consumer(consumer_.get());
    KafkaConf producer_conf = make_kafka_conf(producer_properties(config_), "passthrough");
    rd_kafka_conf_set_dr_msg_cb(producer_conf.get(), &Passthrough::on_delivery);
    rd_kafka_conf_set_opaque(producer_conf.get(), this);
    producer_ = make_kafka_handle(RD_KAFKA_PRODUCER, std::move(producer_conf));
    output_ = rd_kafka_topic_new(producer_.get(), config_.kafka.output_topic.c_str(), nullptr);
    trackers_.resize(static_cast<std::size_t>(partitions));
    const std::string& input = config_.kafka.input_topic;
    const TopicPartitionList assignment(rd_kafka_topic_partition_list_new(partitions));
    for (int p = 0; p < partitions; ++p) {
      rd_kafka_topic_partition_list_add(assignment.get(), input.c_str(), p)->offset =
          RD_KAFKA_OFFSET_INVALID;
    }
    const auto started = std::chrono::steady_clock::now();
    rd_kafka_assign(consumer_.get(), assignment.get());
    std::optional<std::chrono::steady_clock::time_point> first;
    rusage at_first{};
    std::vector<ThreadCpu> threads_at_first;
    auto next_check = started;
    while (true) {
      // Up to 1 000 records per round, each one forwarded: a record polled is never dropped (one
      // dropped at a partition's end kept its offset from ever being committed).
      int n = 0;
      for (; n < 1000; ++n) {
        rd_kafka_message_t* raw = rd_kafka_consumer_poll(consumer_.get(), n > 0            ? 0
                                                                          : in_flight_ > 0 ? 1
                                                                                           : 50);
        if (raw == nullptr) break;
        const KafkaMessage message(raw);
        if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          if (!first) {
            first = std::chrono::steady_clock::now();
            figures.passthrough_startup_s = std::chrono::duration<double>(*first - started).count();
            (void)getrusage(RUSAGE_SELF, &at_first);
            threads_at_first = thread_cpu_now();
          }
          forward(*message);
        }
      }
      rd_kafka_poll(producer_.get(), 0);
      // The pipeline's rule for the commit once caught up (docs/contract.md#delivery), so that
      // neither end waits for its auto-commit timer while the other does not.
      stored_since_commit_ = store_offsets() || stored_since_commit_;
      if (stored_since_commit_ && n == 0 && in_flight_ == 0) commit_caught_up();
      if (std::chrono::steady_clock::now() >= next_check) {
        next_check = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
        if (first && observer.caught_up(ends)) break;
        check_deadline(started, observer, "the passthrough");
      }
    }
    figures.passthrough_s = seconds_since(*first);
    figures.passthrough_forwarded = forwarded_;
    rusage usage{};
    (void)getrusage(RUSAGE_SELF, &usage);
    const auto cpu_s = [](const rusage& u) {
      return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
             static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
    };
    figures.passthrough_cpu_s = cpu_s(usage) - cpu_s(at_first);
    figures.passthrough_voluntary_switches = usage.ru_nvcsw - at_first.ru_nvcsw;
    figures.passthrough_involuntary_switches = usage.ru_nivcsw - at_first.ru_nivcsw;
    figures.passthrough_threads = thread_cpu_since(threads_at_first, thread_cpu_now());
    rd_kafka_consumer_close(consumer_.get());
    rd_kafka_topic_destroy(output_);
  }

 private:
  // The input partition and offset travel as the message's opaque: 16 bits and 48 bits.
  static void* pack(std::int32_t partition, std::int64_t offset) {
    return reinterpret_cast<void*>(static_cast<std::uintptr_t>(partition) << 48 |
                                   static_cast<std::uintptr_t>(offset));
  }

  void forward(const rd_kafka_message_t& message) {
    trackers_[static_cast<std::size_t>(message.partition)].offer(message.offset, 0, {});
    while (rd_kafka_produce(output_, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, message.payload,
                            message.len, message.key, message.key_len,
                            pack(message.partition, message.offset)) != 0) {
      if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        throw std::runtime_error(std::string("passthrough produce: ") +
                                 rd_kafka_err2str(rd_kafka_last_error()));
      }
      rd_kafka_poll(producer_.get(), 10);
    }
    ++in_flight_;
    ++forwarded_;
  }

  static void on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message, void* opaque) {
    auto* self = static_cast<Passthrough*>(opaque);
    --self->in_flight_;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "passthrough delivery failed: %s\n", rd_kafka_err2str(message->err));
      std::_Exit(1);
    }
    const auto packed = reinterpret_cast<std::uintptr_t>(message->_private);
    (void)self->trackers_[packed >> 48].complete(
        static_cast<std::int64_t>(packed & ((std::uintptr_t{1} << 48) - 1)));
  }

  // Whether any offset was stored.
  bool store_offsets() {
    bool stored = false;
    for (std::size_t p = 0; p < trackers_.size(); ++p) {
      if (const auto position = trackers_[p].advance()) {
        stored = true;
        const TopicPartitionList list(rd_kafka_topic_partition_list_new(1));
        rd_kafka_topic_partition_list_add(list.get(), config_.kafka.input_topic.c_str(),
                                          static_cast<std::int32_t>(p))
            ->offset = position->next_offset;
        rd_kafka_offsets_store(consumer_.get(), list.get());
      }
    }
    return stored;
  }

  // At most once per auto.commit.interval.ms, as InputConsumer::commit_caught_up.
  void commit_caught_up() {
    char value[32] = {};
    std::size_t size = sizeof(value);
    std::int64_t interval_ms = 5000;
    if (rd_kafka_conf_get(rd_kafka_conf(consumer_.get()), "auto.commit.interval.ms", value,
                          &size) == RD_KAFKA_CONF_OK) {
      interval_ms = std::strtoll(value, nullptr, 10);
    }
    const auto now = std::chrono::steady_clock::now();
    if (last_caught_up_commit_ &&
        now - *last_caught_up_commit_ < std::chrono::milliseconds(interval_ms)) {
      return;
    }
    last_caught_up_commit_ = now;
    stored_since_commit_ = false;
    (void)rd_kafka_commit(consumer_.get(), nullptr, 1);
  }

  Config config_;
  KafkaHandle consumer_;
  KafkaHandle producer_;
  rd_kafka_topic_t* output_ = nullptr;
  std::vector<OffsetTracker> trackers_;
  std::int64_t in_flight_ = 0;
  std::int64_t forwarded_ = 0;
  std::optional<std::chrono::steady_clock::time_point> last_caught_up_commit_;
  bool stored_since_commit_ = false;
};

double counter_value(prometheus::Registry& registry, const std::string& name) {
  for (const auto& family : registry.Collect()) {
    if (family.name == name && !family.metric.empty()) return family.metric[0].counter.value;
  }
  return 0;
}

// p-quantile from a Prometheus histogram's cumulative buckets, interpolated within the bucket.
double histogram_quantile(prometheus::Registry& registry, const std::string& name, double q) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name || family.metric.empty()) continue;
    const auto& histogram = family.metric[0].histogram;
    const double target = q * static_cast<double>(histogram.sample_count);
    double lower = 0;
    std::uint64_t below = 0;
    for (const auto& bucket : histogram.bucket) {
      if (static_cast<double>(bucket.cumulative_count) >= target) {
        if (std::isinf(bucket.upper_bound)) return lower;
        const double within = static_cast<double>(bucket.cumulative_count - below);
        const double share = within > 0 ? (target - static_cast<double>(below)) / within : 0;
        return lower + (bucket.upper_bound - lower) * share;
      }
      lower = bucket.upper_bound;
      below = bucket.cumulative_count;
    }
  }
  return 0;
}

struct PipelineRun {
  double seconds = 0;
  double startup_s = 0;
  double latency_p50_ms = 0;
  double latency_p99_ms = 0;
};

// Timed from the first record consumed to the end: at-least-once, when an outside observer sees
// every partition's committed offset at the end offset; exactly_once (whose offsets the mock
// drops: docs/platform.md#mock-transactions), when the first transaction that began after the
// last record was consumed has committed, so the last record's transaction has.
PipelineRun run_pipeline(const Config& config, const std::shared_ptr<const Registry>& registry,
                         const std::vector<std::int64_t>& ends, CommitObserver& observer) {
  const bool transactional = config.processing.guarantee == Guarantee::exactly_once;
  std::int64_t records = 0;
  for (const std::int64_t end : ends) records += end;
  PipelineRun figures;
  auto metrics = std::make_shared<prometheus::Registry>();
  Pipeline pipeline(config, registry, metrics, std::make_shared<Health>(), nullptr);
  const auto started = std::chrono::steady_clock::now();
  std::jthread worker([&](const std::stop_token& stop) { pipeline.run(stop); });
  while (counter_value(*metrics, "tastesync_records_consumed_total") == 0) {
    check_deadline(started, observer, "the pipeline");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto first = std::chrono::steady_clock::now();
  figures.startup_s = std::chrono::duration<double>(first - started).count();
  if (transactional) {
    while (counter_value(*metrics, "tastesync_records_consumed_total") <
           static_cast<double>(records)) {
      check_deadline(started, observer, "the pipeline");
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const double committed = counter_value(*metrics, "tastesync_transactions_committed_total");
    while (counter_value(*metrics, "tastesync_transactions_committed_total") < committed + 1) {
      check_deadline(started, observer, "the pipeline");
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  } else {
    while (!observer.caught_up(ends)) {
      check_deadline(started, observer, "the pipeline");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  figures.seconds = seconds_since(first);
  figures.latency_p50_ms =
      1000 * histogram_quantile(*metrics, "tastesync_pipeline_latency_seconds", 0.5);
  figures.latency_p99_ms =
      1000 * histogram_quantile(*metrics, "tastesync_pipeline_latency_seconds", 0.99);
  worker.request_stop();
  return figures;
}

}  // namespace

LatencyFigures run_latency_benchmark(const std::shared_ptr<const Registry>& registry,
                                     double rate_per_s, double seconds, int customers,
                                     const std::map<std::string, std::string>& extra_properties) {
  MockCluster mock(1);
  mock.create_topic(kInput, 6);
  for (const char* topic : {kPipelineOut, kDlq}) mock.create_topic(topic, 6);
  const std::string brokers = mock.bootstrap_servers();
  const std::string state_dir = "/tmp/tastesync-bench-latency-" + std::to_string(::getpid());
  Config config = bench_config(brokers, "bench-latency", kPipelineOut);
  for (const auto& [name, value] : extra_properties) {
    config.kafka.properties.insert_or_assign(name, value);
  }
  config.state.dir = state_dir;
  auto metrics = std::make_shared<prometheus::Registry>();
  LatencyFigures figures;
  {
    Pipeline pipeline(config, registry, metrics, std::make_shared<Health>(), nullptr);
    std::jthread worker([&](const std::stop_token& stop) { pipeline.run(stop); });
    GeneratorOptions options;
    options.customers = customers;
    options.rate_per_s = rate_per_s;
    options.count = static_cast<std::int64_t>(rate_per_s * seconds);
    options.seed = 7;
    const std::stop_token never;
    const auto started = std::chrono::steady_clock::now();
    figures.records = publish_generated(brokers, kInput, registry, options, never);
    figures.achieved_rate_per_s = static_cast<double>(figures.records) / seconds_since(started);
    std::this_thread::sleep_for(std::chrono::seconds(2));  // let the tail be delivered
    figures.p50_ms = 1000 * histogram_quantile(*metrics, "tastesync_pipeline_latency_seconds", 0.5);
    figures.p99_ms =
        1000 * histogram_quantile(*metrics, "tastesync_pipeline_latency_seconds", 0.99);
    figures.outputs =
        static_cast<std::int64_t>(counter_value(*metrics, "tastesync_events_delivered_total"));
    worker.request_stop();
  }
  std::filesystem::remove_all(state_dir);
  return figures;
}

std::vector<ThreadCpu> thread_cpu_now() {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::vector<ThreadCpu> threads;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream comm(task.path() / "comm");
    std::ifstream stat(task.path() / "stat");
    std::string name;
    std::string line;
    if (!std::getline(comm, name) || !std::getline(stat, line)) continue;  // it ended meanwhile
    // proc(5): minflt is the 10th field, utime and stime the 14th and 15th; the name (2nd) may
    // hold spaces and parentheses, so count from the last ')'.
    std::istringstream fields(line.substr(line.rfind(')') + 1));
    std::string field;
    std::int64_t minor_faults = 0;
    std::int64_t utime = 0;
    std::int64_t stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      if (i == 10) minor_faults = std::stoll(field);
      if (i == 14) utime = std::stoll(field);
      if (i == 15) stime = std::stoll(field);
    }
    threads.push_back(ThreadCpu{std::stoi(task.path().filename().string()), name,
                                static_cast<double>(utime + stime) / ticks, minor_faults});
  }
  return threads;
}

std::vector<ThreadCpu> thread_cpu_since(const std::vector<ThreadCpu>& first,
                                        const std::vector<ThreadCpu>& last) {
  std::vector<ThreadCpu> spent;
  for (const ThreadCpu& thread : last) {
    const auto before = std::find_if(first.begin(), first.end(),
                                     [&](const ThreadCpu& t) { return t.tid == thread.tid; });
    const bool started_since = before == first.end();
    spent.push_back(ThreadCpu{thread.tid, thread.name,
                              thread.cpu_s - (started_since ? 0.0 : before->cpu_s),
                              thread.minor_faults - (started_since ? 0 : before->minor_faults)});
  }
  return spent;
}

E2eFigures run_e2e_benchmark(const std::shared_ptr<const Registry>& registry, std::int64_t records,
                             int customers, int partitions, bool with_exactly_once) {
  MockCluster mock(1);
  mock.create_topic(kInput, partitions);
  for (const char* topic : {kPassthroughOut, kPipelineOut, kPipelineEosOut, kDlq}) {
    mock.create_topic(topic, 6);
  }
  const std::string brokers = mock.bootstrap_servers();

  GeneratorOptions options;
  options.customers = customers;
  options.rate_per_s = 0;
  options.count = records;
  options.seed = 42;
  options.start_time_ms = 1740916800000;
  const std::stop_token never;
  E2eFigures figures;
  figures.records = publish_generated(brokers, kInput, registry, options, never);

  const KafkaHandle probe = make_kafka_handle(
      RD_KAFKA_PRODUCER, make_kafka_conf({{"bootstrap.servers", brokers}}, "probe"));
  const auto ends = end_offsets(probe.get(), partitions);

  {
    const std::string state_dir = "/tmp/tastesync-bench-e2e-" + std::to_string(::getpid());
    Config config = bench_config(brokers, "bench-pipeline", kPipelineOut);
    config.state.dir = state_dir;
    CommitObserver observer(brokers, "bench-pipeline");
    const PipelineRun run = run_pipeline(config, registry, ends, observer);
    figures.pipeline_s = run.seconds;
    figures.pipeline_startup_s = run.startup_s;
    figures.latency_p50_ms = run.latency_p50_ms;
    figures.latency_p99_ms = run.latency_p99_ms;
    std::filesystem::remove_all(state_dir);
  }
  if (with_exactly_once) {
    const std::string state_dir = "/tmp/tastesync-bench-e2e-eos-" + std::to_string(::getpid());
    Config config = bench_config(brokers, "bench-pipeline-eos", kPipelineEosOut);
    config.state.dir = state_dir;
    config.processing.guarantee = Guarantee::exactly_once;
    // The changelog exactly_once needs (docs/contract.md#exactly-once); the mock has no
    // CreateTopics.
    mock.create_topic(changelog_topic(config), partitions);
    CommitObserver observer(brokers, "bench-pipeline-eos");
    const PipelineRun run = run_pipeline(config, registry, ends, observer);
    figures.pipeline_eos_s = run.seconds;
    figures.pipeline_eos_startup_s = run.startup_s;
    figures.eos_latency_p99_ms = run.latency_p99_ms;
    std::filesystem::remove_all(state_dir);
  }
  {
    CommitObserver observer(brokers, "bench-passthrough");
    Passthrough passthrough(bench_config(brokers, "bench-passthrough", kPassthroughOut));
    passthrough.run(partitions, ends, observer, figures);
  }
  return figures;
}

E2eFigures run_external_passthrough(const std::string& brokers, const std::string& input_topic,
                                    const std::string& output_topic, const std::string& group,
                                    int partitions) {
  const KafkaHandle probe = make_kafka_handle(
      RD_KAFKA_PRODUCER, make_kafka_conf({{"bootstrap.servers", brokers}}, "probe"));
  const auto ends = end_offsets(probe.get(), partitions, input_topic);
  E2eFigures figures;
  for (const std::int64_t end : ends) figures.records += end;
  Config config = bench_config(brokers, group, output_topic);
  config.kafka.input_topic = input_topic;
  CommitObserver observer(brokers, group, input_topic);
  Passthrough passthrough(config);
  passthrough.run(partitions, ends, observer, figures);
  return figures;
}

double wait_until_committed(const std::string& brokers, const std::string& input_topic,
                            const std::string& group, int partitions) {
  const KafkaHandle probe = make_kafka_handle(
      RD_KAFKA_PRODUCER, make_kafka_conf({{"bootstrap.servers", brokers}}, "probe"));
  const auto ends = end_offsets(probe.get(), partitions, input_topic);
  CommitObserver observer(brokers, group, input_topic);
  const auto started = std::chrono::steady_clock::now();
  while (!observer.caught_up(ends)) {
    check_deadline(started, observer, group.c_str());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace tastesync::bench
