// Several `tastesync run` processes in one consumer group on the dev broker (issue 15, item 4;
// docs/contract.md#scale-out): a member killed with SIGKILL mid-stream, and a group scaled
// 1 -> 3 -> 1 while sightings flow. Every sighting is processed, and the set of event_ids is a
// single instance's over the same input: a moved partition's state follows it through the
// changelog, and what is processed twice comes out with the same event_id.
#include <gtest/gtest.h>

#include <iostream>
#include <regex>
#include <set>

#include "tests/support/broker_test.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_get.hpp"

namespace tastesync::testing {
namespace {

// Whether `instance` has been given partitions of the input (its log says so).
bool has_partitions(PipelineProcess& instance) {
  return std::regex_search(instance.process().stderr_text(),
                           std::regex("assigned partitions \\[[0-9]"));
}

// Whether `instance` restored a moved partition's state from the changelog (records, not none);
// the restores are printed (their time is reported, never asserted).
bool restored_state(PipelineProcess& instance) {
  const std::string log = instance.process().stderr_text();
  const std::regex restore(
      "partition [0-9]+: state from the changelog \\([1-9][0-9]* records[^\n]*");
  bool any = false;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), restore);
       it != std::sregex_iterator(); ++it) {
    std::cout << "[ restore  ] " << instance.process().name() << ": " << it->str() << "\n";
    any = true;
  }
  return any;
}

class ScaleOut : public BrokerTest {
 protected:
  void SetUp() override {
    start_broker(
        {"raw-beacons", "customer-events", "raw-beacons-dlq", "events-reference", "dlq-reference"});
  }

  PipelineOptions member(const std::string& name) const {
    PipelineOptions options = pipeline_options("member-" + name, name);
    options.group_id = "scaled";
    options.consumer_mode = "group";
    return options;
  }

  // 20 s of sightings from 200 customers at 1 500/s.
  std::unique_ptr<Subprocess> start_stream() const {
    GenOptions gen;
    gen.count = 30000;
    gen.rate_per_s = 1500;
    gen.customers = 200;
    return start_gen("gen", gen);
  }

  void wait_for_stream(Subprocess& gen) {
    const auto generated = gen.wait_for_exit(kCatchUpTimeout);
    ASSERT_TRUE(generated && generated->exited_with(0)) << gen.stderr_text();
  }

  // The group's events against one fresh instance's over the same input.
  void expect_the_events_of_a_single_instance(const std::string& what) {
    run_reference();
    ASSERT_FALSE(HasFatalFailure());
    const auto group_events = read_all("customer-events");
    const auto single_events = read_all("events-reference");
    const auto group_ids = event_ids_of(group_events);
    ASSERT_GT(single_events.size(), 200u) << "too few events for the comparison to mean anything";
    EXPECT_EQ(event_id_difference(group_events, single_events), "");
    std::cout << "[ " << what << " ] " << distinct_ids(group_ids).size() << " distinct events, "
              << group_ids.size() - distinct_ids(group_ids).size()
              << " delivered again with the same event_id\n";
  }
};

TEST_F(ScaleOut, ThreeInstancesOneKilledMidStreamProcessEverySightingOnce) {
  PipelineOptions options_a = member("a");
  const int port_a = free_loopback_port();
  options_a.extra_arguments = {"--metrics-port", std::to_string(port_a)};
  auto a = start_pipeline(options_a);
  auto b = start_pipeline(member("b"));
  auto c = start_pipeline(member("c"));
  // Every member holds partitions before one dies.
  for (auto* instance : {a.get(), b.get(), c.get()}) {
    ASSERT_TRUE(wait_until([&] { return has_partitions(*instance); }, kOutputTimeout))
        << instance->process().stderr_text();
  }
  auto gen = start_stream();
  TopicReader events(brokers(), "customer-events");
  ASSERT_TRUE(events.read_at_least(100, kOutputTimeout)) << a->process().stderr_text();
  const ExitStatus killed = b->crash();
  EXPECT_FALSE(killed.exited_with(0));
  wait_for_stream(*gen);
  // Its partitions go to a and c after the session timeout; both commit everything.
  wait_caught_up("scaled", "raw-beacons", *a);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_TRUE(c->process().running());
  // Restores and the changelog's unacknowledged records, as metrics.
  const auto page = http_get(port_a, "/metrics");
  ASSERT_TRUE(page);
  EXPECT_GE(metric_value(*page, "tastesync_partition_restore_seconds_count").value_or(0), 1.0);
  EXPECT_TRUE(metric_value(*page, "tastesync_changelog_lag_records")) << *page;
  EXPECT_TRUE(a->stop().exited_with(0));
  EXPECT_TRUE(c->stop().exited_with(0));
  // b's partitions came to a and c with the state b had written to the changelog.
  EXPECT_TRUE(restored_state(*a) || restored_state(*c))
      << a->process().stderr_text() << c->process().stderr_text();
  expect_the_events_of_a_single_instance("kill -9");
}

TEST_F(ScaleOut, OneThenThreeThenOneWhileSightingsFlow) {
  auto a = start_pipeline(member("a"));
  auto gen = start_stream();
  TopicReader events(brokers(), "customer-events");
  ASSERT_TRUE(events.read_at_least(50, kOutputTimeout)) << a->process().stderr_text();
  auto b = start_pipeline(member("b"));
  auto c = start_pipeline(member("c"));
  for (auto* instance : {b.get(), c.get()}) {
    ASSERT_TRUE(wait_until([&] { return has_partitions(*instance); }, kOutputTimeout))
        << instance->process().stderr_text();
  }
  ASSERT_TRUE(events.read_at_least(events.records().size() + 100, kOutputTimeout));
  EXPECT_TRUE(b->stop().exited_with(0));
  EXPECT_TRUE(c->stop().exited_with(0));
  wait_for_stream(*gen);
  wait_caught_up("scaled", "raw-beacons", *a);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_TRUE(a->stop().exited_with(0));
  EXPECT_TRUE(restored_state(*a)) << a->process().stderr_text();
  expect_the_events_of_a_single_instance("1 -> 3 -> 1");
}

}  // namespace
}  // namespace tastesync::testing
