// `tastesync reset` (issue 15, docs/operations.md#reset): refuses while an instance runs, then
// moves the group's offsets to the start, removes the local state and marks the changelog so that
// nothing before the reset is ever restored: the group's next run is a fresh one.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "tests/support/broker_test.hpp"

namespace tastesync::testing {
namespace {

std::map<std::string, int> id_counts(const std::vector<Record>& events) {
  std::map<std::string, int> counts;
  for (const Record& event : events) ++counts[event.header_text("event_id")];
  return counts;
}

class Reset : public BrokerTest {};

TEST_F(Reset, RefusedWhileRunningThenTheNextRunStartsOverWithNoState) {
  start_broker({"raw-beacons", "customer-events", "raw-beacons-dlq"});
  GenOptions gen;
  gen.count = 6000;
  auto generator = start_gen("gen", gen);
  const auto generated = generator->wait_for_exit(kCatchUpTimeout);
  ASSERT_TRUE(generated && generated->exited_with(0));

  PipelineOptions options = pipeline_options("pipeline-first", "resettable");
  options.group_id = "resettable";
  options.consumer_mode = "group";
  auto first = start_pipeline(options);
  wait_caught_up(options.group_id, "raw-beacons", *first);
  ASSERT_FALSE(HasFatalFailure());
  const std::vector<Record> first_events = read_all("customer-events");
  ASSERT_GT(first_events.size(), 20u);

  KafkaInspector inspector(brokers());
  const auto end = inspector.high_watermarks("raw-beacons");
  const std::vector<std::string> reset = {"reset",
                                          "--brokers",
                                          brokers(),
                                          "--group-id",
                                          "resettable",
                                          "--state-dir",
                                          options.state_dir.string()};
  // Running: the state dir is open (RocksDB's lock says by whom) ...
  const RunResult locked = run_tastesync(dir(), "reset-locked", reset);
  EXPECT_TRUE(locked.status.exited_with(2)) << locked.status.describe();
  EXPECT_NE(locked.stdout_text.find("refusing: process " + std::to_string(first->process().pid()) +
                                    " has the state dir"),
            std::string::npos)
      << locked.stdout_text << locked.stderr_text;
  // ... and from another host (another state dir) the group has a member.
  const RunResult member =
      run_tastesync(dir(), "reset-member",
                    {"reset", "--brokers", brokers(), "--group-id", "resettable", "--state-dir",
                     (dir() / "elsewhere").string()});
  EXPECT_TRUE(member.status.exited_with(2)) << member.status.describe();
  EXPECT_NE(member.stdout_text.find("refusing: group resettable has active members"),
            std::string::npos)
      << member.stdout_text << member.stderr_text;
  EXPECT_EQ(inspector.committed_offsets("resettable", "raw-beacons"), end) << "a refusal moved";
  EXPECT_TRUE(std::filesystem::exists(options.state_dir));

  ASSERT_TRUE(first->stop().exited_with(0));
  const RunResult done = run_tastesync(dir(), "reset", reset);
  ASSERT_TRUE(done.status.exited_with(0)) << done.stdout_text << done.stderr_text;
  EXPECT_NE(done.stdout_text.find("committed offsets of group resettable on raw-beacons "
                                  "(earliest), partition:offset 0:0 1:0 2:0 3:0 4:0 5:0"),
            std::string::npos)
      << done.stdout_text;
  EXPECT_NE(done.stdout_text.find("removed the local state " + options.state_dir.string()),
            std::string::npos)
      << done.stdout_text;
  EXPECT_NE(done.stdout_text.find("wrote a reset marker to each of the 6 partitions of "
                                  "resettable-state-changelog"),
            std::string::npos)
      << done.stdout_text;
  EXPECT_FALSE(std::filesystem::exists(options.state_dir));
  EXPECT_EQ(inspector.committed_offsets("resettable", "raw-beacons"),
            std::vector<std::int64_t>(end.size(), 0));

  // The next run reads the changelog (no local state), meets the markers, and starts from
  // nothing at offset 0: it emits every event of the first run again, with the same ids. Had it
  // restored the old state, customers would be "still here" rather than arriving, and the ids
  // would differ.
  options.name = "pipeline-second";
  auto second = start_pipeline(options);
  wait_caught_up(options.group_id, "raw-beacons", *second);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_TRUE(second->stop().exited_with(0));
  const auto counts = id_counts(read_all("customer-events"));
  const auto first_counts = id_counts(first_events);
  EXPECT_EQ(counts.size(), first_counts.size());
  for (const auto& [id, count] : first_counts) {
    EXPECT_EQ(counts.count(id) == 1 ? counts.at(id) : 0, 2 * count) << id;
  }
  EXPECT_NE(second->process().stderr_text().find("state from the changelog"), std::string::npos);
}

}  // namespace
}  // namespace tastesync::testing
