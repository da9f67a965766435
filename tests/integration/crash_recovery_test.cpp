// kill -9 in the middle of a burst, then a restart from the same state dir and group: nothing is
// lost and a re-emitted event keeps its event_id (docs/contract.md#delivery).
#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <numeric>
#include <set>
#include <tuple>

#include "tests/support/broker_test.hpp"

namespace tastesync::testing {
namespace {

// Sighting records arrive at this rate while the pipelines run, 15 s of them.
const GenOptions kBurst{.topic = "",
                        .seed = 7,
                        .count = 30000,
                        .rate_per_s = 2000,
                        .customers = 500,
                        .bad_ratio = 0.01,
                        .start_time = "2025-03-02T12:00:00Z"};

std::set<std::string> event_ids(const std::vector<Record>& events) {
  std::set<std::string> ids;
  for (const Record& event : events) ids.insert(event.header_text("event_id"));
  return ids;
}

std::int64_t total(const std::vector<std::int64_t>& offsets) {
  return std::accumulate(offsets.begin(), offsets.end(), std::int64_t{0});
}

// Dead letters as content: (key, value, code), once per source record even when re-sent.
std::multiset<std::tuple<std::string, std::string, std::string>> dead_letter_contents(
    const std::vector<Record>& dead_letters) {
  std::set<std::pair<std::string, std::string>> sources;
  std::multiset<std::tuple<std::string, std::string, std::string>> contents;
  for (const Record& dead : dead_letters) {
    if (!sources
             .emplace(dead.header_text("dlq.source.partition"),
                      dead.header_text("dlq.source.offset"))
             .second) {
      continue;
    }
    contents.emplace(dead.key.value_or("<null>"), dead.value.value_or("<null>"),
                     dead.header_text("dlq.error.code"));
  }
  return contents;
}

class CrashRecovery : public BrokerTest {
 protected:
  PipelineOptions options_for(const std::string& run, const std::string& name) const {
    PipelineOptions options = pipeline_options(name, run);
    options.group_id = "crash-" + run;
    options.input_topic = "raw-" + run;
    options.output_topic = "events-" + run;
    options.dlq_topic = "dlq-" + run;
    return options;
  }
};

TEST_F(CrashRecovery, KillNineDuringABurstLosesNothingAndKeepsEventIds) {
  start_broker({"raw-reference", "events-reference", "dlq-reference", "raw-crashed",
                "events-crashed", "dlq-crashed"});
  // The same burst into two topics: one pipeline runs through it undisturbed (the reference),
  // the other is killed in the middle of it and restarted.
  GenOptions burst = kBurst;
  burst.topic = "raw-reference";
  auto gen_reference = start_gen("gen-reference", burst);
  burst.topic = "raw-crashed";
  auto gen_crashed = start_gen("gen-crashed", burst);
  auto reference = start_pipeline(options_for("reference", "pipeline-reference"));
  auto crashed = start_pipeline(options_for("crashed", "pipeline-crashed"));

  KafkaInspector inspector(brokers());
  // Mid-burst: a third of the input is written and the pipeline has delivered events from it.
  ASSERT_TRUE(wait_until(
      [&] {
        return !crashed->process().running() ||
               (total(inspector.high_watermarks("raw-crashed")) >= kBurst.count / 3 &&
                total(inspector.high_watermarks("events-crashed")) > 0);
      },
      kOutputTimeout, std::chrono::milliseconds(20)));
  ASSERT_EQ(crashed->crash().signal, SIGKILL) << "the pipeline ended before it was killed";
  const std::set<std::string> before_crash = event_ids(read_all("events-crashed"));
  auto restarted = start_pipeline(options_for("crashed", "pipeline-crashed-restarted"));

  for (Subprocess* gen : {gen_reference.get(), gen_crashed.get()}) {
    const auto generated = gen->wait_for_exit(kCatchUpTimeout);
    ASSERT_TRUE(generated && generated->exited_with(0)) << gen->name();
  }
  ASSERT_NO_FATAL_FAILURE(wait_caught_up("crash-reference", "raw-reference", *reference));
  ASSERT_NO_FATAL_FAILURE(wait_caught_up("crash-crashed", "raw-crashed", *restarted));
  const std::vector<Record> expected = read_all("events-reference");
  const std::vector<Record> actual = read_all("events-crashed");
  const std::vector<Record> expected_dead = read_all("dlq-reference");
  const std::vector<Record> actual_dead = read_all("dlq-crashed");
  EXPECT_TRUE(reference->stop().exited_with(0));
  EXPECT_TRUE(restarted->stop().exited_with(0));

  const std::set<std::string> expected_ids = event_ids(expected);
  ASSERT_GT(expected_ids.size(), 100u) << "too small a burst to mean anything";
  ASSERT_LT(before_crash.size(), expected_ids.size())
      << "the kill came after the pipeline had finished: nothing was left to recover";

  // Nothing lost, nothing new: the same event ids as the undisturbed run.
  const std::set<std::string> actual_ids = event_ids(actual);
  std::vector<std::string> missing;
  std::vector<std::string> unexpected;
  std::set_difference(expected_ids.begin(), expected_ids.end(), actual_ids.begin(),
                      actual_ids.end(), std::back_inserter(missing));
  std::set_difference(actual_ids.begin(), actual_ids.end(), expected_ids.begin(),
                      expected_ids.end(), std::back_inserter(unexpected));
  EXPECT_TRUE(missing.empty()) << missing.size() << " events lost, e.g. " << missing.front();
  EXPECT_TRUE(unexpected.empty()) << unexpected.size() << " events the reference run has not, e.g. "
                                  << unexpected.front();

  // Every copy of an event, duplicates included, is the reference's event but for `timestamp`.
  std::map<std::string, std::string> expected_value;
  for (const Record& event : expected) {
    expected_value[event.header_text("event_id")] = without_timestamp(event.value);
  }
  std::size_t duplicates = 0;
  std::size_t different = 0;
  std::string first_different;
  std::set<std::string> seen;
  for (const Record& event : actual) {
    const std::string id = event.header_text("event_id");
    if (!seen.insert(id).second) ++duplicates;
    const auto found = expected_value.find(id);
    if (found == expected_value.end() || without_timestamp(event.value) == found->second) continue;
    if (different++ == 0) {
      first_different = without_timestamp(event.value) + "\n instead of\n" + found->second;
    }
  }
  EXPECT_EQ(different, 0u) << "events that differ from the reference's, e.g.\n" << first_different;
  std::cout << "events: " << expected.size() << " in the reference run; " << before_crash.size()
            << " before the kill; " << actual.size() << " after the restart, " << duplicates
            << " of them duplicates\n";

  // Every bad record reached the DLQ; a re-sent dead letter is a duplicate of the same record.
  EXPECT_EQ(dead_letter_contents(actual_dead), dead_letter_contents(expected_dead));
  EXPECT_GE(actual_dead.size(), expected_dead.size());
}

}  // namespace
}  // namespace tastesync::testing
