// Scoring and dedupe run on event time, never the wall clock: a fresh instance replaying the same
// topic reproduces every event, event_id included (docs/contract.md#score, #event-id).
#include <gtest/gtest.h>
#include <rapidjson/pointer.h>

#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "common/event_time.hpp"
#include "kafka/topic_admin.hpp"
#include "tests/support/broker_test.hpp"

namespace tastesync::testing {
namespace {

// The first difference between two event streams read in partition order, or "" when they
// carry the same events (all fields but `timestamp`) in the same order in every partition.
std::string first_difference(const std::vector<Record>& expected,
                             const std::vector<Record>& actual) {
  for (std::size_t i = 0; i < std::min(expected.size(), actual.size()); ++i) {
    const Record& e = expected[i];
    const Record& a = actual[i];
    const std::string where = "at #" + std::to_string(i) + " (partition " +
                              std::to_string(e.partition) + " vs " + std::to_string(a.partition) +
                              "): ";
    if (e.partition != a.partition) return where + "different partitions";
    if (e.header_text("event_id") != a.header_text("event_id")) {
      return where + "event_id " + e.header_text("event_id") + " vs " + a.header_text("event_id");
    }
    if (e.key != a.key)
      return where + "key " + e.key.value_or("null") + " vs " + a.key.value_or("null");
    if (without_timestamp(e.value) != without_timestamp(a.value)) {
      return where + without_timestamp(e.value) + "\n vs " + without_timestamp(a.value);
    }
  }
  if (expected.size() != actual.size()) {
    return std::to_string(expected.size()) + " events vs " + std::to_string(actual.size());
  }
  return "";
}

class Replay : public BrokerTest {
 protected:
  // Runs a fresh pipeline (own group, empty state) over raw-beacons to the end and returns its
  // events in partition order.
  std::vector<Record> run_fresh(const std::string& name) {
    PipelineOptions options = pipeline_options("pipeline-" + name, name);
    options.group_id = "replay-" + name;
    options.output_topic = "events-" + name;
    options.dlq_topic = "dlq-" + name;
    auto pipeline = start_pipeline(options);
    wait_caught_up(options.group_id, "raw-beacons", *pipeline);
    if (::testing::Test::HasFatalFailure()) return {};
    const ExitStatus stopped = pipeline->stop();
    EXPECT_TRUE(stopped.exited_with(0)) << name << ": " << stopped.describe();
    return read_all(options.output_topic);
  }
};

TEST_F(Replay, FreshInstanceReproducesEveryEventInTheSameOrder) {
  start_broker({"raw-beacons", "events-first", "events-replay", "dlq-first", "dlq-replay"});
  auto gen = start_gen("gen", GenOptions{});
  const auto generated = gen->wait_for_exit(kCatchUpTimeout);
  ASSERT_TRUE(generated && generated->exited_with(0));

  const std::vector<Record> first = run_fresh("first");
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_GT(first.size(), 50u) << "too few events for the comparison to mean anything";
  const std::vector<Record> replay = run_fresh("replay");
  ASSERT_FALSE(HasFatalFailure());

  // Input partition p and output partition p hold the same customers (murmur2, 6 partitions
  // each), so even the order within each output partition is reproduced.
  EXPECT_EQ(first_difference(first, replay), "");
}

// `tastesync replay` (issue 15, docs/operations.md#replay) against the events of a live run over
// the same input: one generated input, one live run, then replays of it.
class ReplayCommand : public BrokerTest {
 protected:
  void SetUp() override {
    start_broker({"raw-beacons", "customer-events", "raw-beacons-dlq"});
    GenOptions gen;
    gen.customers = 60;
    auto generator = start_gen("gen", gen);
    const auto generated = generator->wait_for_exit(kCatchUpTimeout);
    ASSERT_TRUE(generated && generated->exited_with(0)) << generator->stderr_text();
    PipelineOptions options = pipeline_options("pipeline-live", "live");
    options.group_id = "live";
    auto live = start_pipeline(options);
    wait_caught_up(options.group_id, "raw-beacons", *live);
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_TRUE(live->stop().exited_with(0));
    live_ = read_all("customer-events");
    live_dead_letters_ = read_all("raw-beacons-dlq");
    ASSERT_GT(live_.size(), 100u) << "too few events for the comparisons to mean anything";
    for (const Record& record : read_all("raw-beacons")) {
      if (!record.value) continue;
      const auto body = parse_json(record.value);
      if (!body.IsObject()) continue;
      const std::string id = json_string(body, "/sighting_id");
      auto [it, fresh] = sighting_times_.emplace(id, record.timestamp_ms);
      if (!fresh) it->second = std::min(it->second, record.timestamp_ms);
      first_ms_ = std::min(first_ms_, record.timestamp_ms);
      last_ms_ = std::max(last_ms_, record.timestamp_ms);
    }
  }

  // `tastesync replay` with the fixtures' registry; the summary line parsed.
  RunResult replay(const std::string& name, std::vector<std::string> arguments) {
    std::vector<std::string> all = {"replay", "--brokers", brokers(), "--registry",
                                    (fixtures_dir() / "registry.json").string()};
    all.insert(all.end(), arguments.begin(), arguments.end());
    return run_tastesync(dir(), name, all);
  }

  // The time of the input record that triggered `event` (its data.sighting_id).
  std::int64_t trigger_time(const Record& event) const {
    return sighting_times_.at(json_string(parse_json(event.value), "/data/sighting_id"));
  }

  std::vector<Record> live_;
  std::vector<Record> live_dead_letters_;
  std::map<std::string, std::int64_t> sighting_times_;  // sighting_id -> first record time
  std::int64_t first_ms_ = std::numeric_limits<std::int64_t>::max();
  std::int64_t last_ms_ = 0;
};

std::int64_t summary_count(const std::string& stdout_text, const char* pointer) {
  const auto summary = parse_json(stdout_text);
  const rapidjson::Value* value = rapidjson::Pointer(pointer).Get(summary);
  return value != nullptr && value->IsInt64() ? value->GetInt64() : -1;
}

TEST_F(ReplayCommand, FromTheBeginningItReproducesTheLiveEventsAndTwiceTheSame) {
  const RunResult first = replay("replay-1", {"--output-topic", "replayed", "--from-beginning"});
  ASSERT_TRUE(first.status.exited_with(0)) << first.status.describe() << first.stderr_text;
  const std::vector<Record> replayed = read_all("replayed");
  EXPECT_EQ(first_difference(live_, replayed), "");
  // The summary says what happened, as one JSON line on stdout.
  EXPECT_EQ(summary_count(first.stdout_text, "/records_read"), 30000) << first.stdout_text;
  EXPECT_EQ(summary_count(first.stdout_text, "/events"), static_cast<std::int64_t>(live_.size()));
  EXPECT_EQ(summary_count(first.stdout_text, "/dlq"),
            static_cast<std::int64_t>(live_dead_letters_.size()));
  EXPECT_GT(summary_count(first.stdout_text, "/dropped/suppressed"), 0);
  EXPECT_EQ(read_all("replayed-dlq").size(), live_dead_letters_.size());
  // Progress went to stderr.
  EXPECT_NE(first.stderr_text.find("replay: 30000 of 30000 records (100.0 %)"), std::string::npos)
      << first.stderr_text;

  const RunResult second = replay("replay-2", {"--output-topic", "replayed-again", "--dlq-topic",
                                               "replayed-again-dlq", "--from-beginning"});
  ASSERT_TRUE(second.status.exited_with(0)) << second.stderr_text;
  EXPECT_EQ(first_difference(replayed, read_all("replayed-again")), "");
}

TEST_F(ReplayCommand, ARangeReproducesTheLiveEventsTriggeredInsideIt) {
  const std::int64_t span = last_ms_ - first_ms_;
  ASSERT_GT(span, 20000) << "the input spans too little time for a range inside it";
  const std::int64_t from = first_ms_ + span * 4 / 10;
  const std::int64_t to = first_ms_ + span * 7 / 10;
  const RunResult result = replay(
      "replay-range", {"--output-topic", "range", "--from-timestamp", format_canonical_string(from),
                       "--to-timestamp", format_canonical_string(to)});
  ASSERT_TRUE(result.status.exited_with(0)) << result.stderr_text;
  std::vector<Record> expected;
  for (const Record& event : live_) {
    const std::int64_t t = trigger_time(event);
    if (t >= from && t < to) expected.push_back(event);
  }
  ASSERT_GT(expected.size(), 20u);
  EXPECT_EQ(event_ids_of(read_all("range")), event_ids_of(expected));
  // The default warm-up (state.retention_ms, 1 h) covered everything before the range.
  EXPECT_GT(summary_count(result.stdout_text, "/warmup_records"), 0) << result.stdout_text;
  EXPECT_GT(summary_count(result.stdout_text, "/skipped/outside_range"), 0);
}

TEST_F(ReplayCommand, OneCustomersEventsAreTheLiveOnesUnchanged) {
  std::map<std::string, int> per_customer;
  for (const Record& event : live_) ++per_customer[event.key.value_or("")];
  std::string customer;
  int most = 0;
  for (const auto& [id, count] : per_customer) {
    if (count > most) std::tie(customer, most) = std::pair(id, count);
  }
  ASSERT_GE(most, 2) << "no customer with several events";
  const RunResult result = replay(
      "replay-customer", {"--output-topic", "one", "--from-beginning", "--customer", customer});
  ASSERT_TRUE(result.status.exited_with(0)) << result.stderr_text;
  EXPECT_EQ(first_difference(events_of_customer(live_, customer), read_all("one")), "");
  // Only the customer's partition was read.
  EXPECT_LT(summary_count(result.stdout_text, "/records_read"), 30000);
  EXPECT_GT(summary_count(result.stdout_text, "/skipped/other_customers"), 0);
}

TEST_F(ReplayCommand, ADryRunProducesNothingLiveTopicsAreRefusedAndItEndsWhileProducersWrite) {
  const RunResult dry =
      replay("replay-dry", {"--output-topic", "dry", "--from-beginning", "--dry-run"});
  ASSERT_TRUE(dry.status.exited_with(0)) << dry.stderr_text;
  EXPECT_EQ(summary_count(dry.stdout_text, "/events"), static_cast<std::int64_t>(live_.size()));
  const TopicAdmin admin({{"bootstrap.servers", brokers()}}, 5000);
  EXPECT_FALSE(admin.list().contains("dry"));

  const std::size_t live_before = read_all("customer-events").size();
  for (const std::vector<std::string>& refused :
       {std::vector<std::string>{"--output-topic", "customer-events", "--from-beginning"},
        std::vector<std::string>{"--output-topic", "x", "--dlq-topic", "raw-beacons-dlq",
                                 "--from-beginning"}}) {
    const RunResult result = replay("replay-refused", refused);
    EXPECT_TRUE(result.status.exited_with(2)) << result.status.describe();
    EXPECT_NE(result.stderr_text.find("--allow-live-output"), std::string::npos)
        << result.stderr_text;
  }
  const RunResult no_start = replay("replay-no-start", {"--output-topic", "x"});
  EXPECT_TRUE(no_start.status.exited_with(2));
  EXPECT_NE(no_start.stderr_text.find("--from-beginning"), std::string::npos);
  EXPECT_EQ(read_all("customer-events").size(), live_before);

  // The end is fixed when a replay starts: it finishes while a producer keeps writing.
  GenOptions endless;
  endless.count = -1;
  endless.rate_per_s = 2000;
  endless.seed = 99;
  endless.start_time = "2025-03-02T14:00:00Z";
  auto writer = start_gen("gen-endless", endless);
  const RunResult result =
      replay("replay-moving", {"--output-topic", "moving", "--from-beginning", "--dry-run"});
  EXPECT_TRUE(result.status.exited_with(0)) << result.status.describe() << result.stderr_text;
  EXPECT_GE(summary_count(result.stdout_text, "/records_read"), 30000) << result.stdout_text;
  EXPECT_TRUE(writer->running()) << "the writer stopped: the replay's end proved nothing";
  writer->terminate(std::chrono::seconds(10));
}

}  // namespace
}  // namespace tastesync::testing
