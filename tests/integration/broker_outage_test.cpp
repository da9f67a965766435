// Issue 15, item 6: every broker down for 20 s in the middle of a stream, then back
// (docs/platform.md#mock-outages). Nothing is lost, no event changes, the pipeline catches up,
// and /readyz says 503 for as long as Kafka does not answer.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <set>
#include <thread>

#include "tests/support/broker_test.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_client.hpp"

namespace tastesync::testing {
namespace {

constexpr auto kOutage = std::chrono::seconds(20);

int status(int port, const std::string& path) {
  const auto response = http_request(port, path, {});
  return response ? response->status : 0;
}

class BrokerOutage : public BrokerTest {};

TEST_F(BrokerOutage, TwentySecondsWithoutAnyBrokerLoseNothingAndChangeNoEvent) {
  start_broker(
      {"raw-beacons", "customer-events", "raw-beacons-dlq", "events-reference", "dlq-reference"});
  const int port = free_loopback_port();
  PipelineOptions options = pipeline_options("pipeline-outage", "outage");
  options.extra_arguments = {"--metrics-port", std::to_string(port)};
  auto pipeline = start_pipeline(options);
  ASSERT_TRUE(wait_until([&] { return status(port, "/readyz") == 200; }, kOutputTimeout))
      << pipeline->process().stderr_text();

  // 10 s of sightings at 2 000/s from 200 customers: the outage begins in the middle of them, and
  // the generator's producer holds the rest until the brokers are back, so after the outage the
  // pipeline has a backlog to catch up on.
  GenOptions gen_options;
  gen_options.count = 20000;
  gen_options.rate_per_s = 2000;
  gen_options.customers = 200;
  auto gen = start_gen("gen", gen_options);
  TopicReader events(brokers(), "customer-events");
  ASSERT_TRUE(events.read_at_least(20, kOutputTimeout)) << pipeline->process().stderr_text();

  broker().control("down all");
  const auto down_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_until([&] { return status(port, "/readyz") == 503; }, kOutage))
      << "/readyz still 200 with every broker down";
  // For the rest of the outage /readyz keeps saying so, and /healthz stays 200 (the process is
  // alive: restarting it would not bring Kafka back).
  int ready_answers = 0;
  int probes = 0;
  int unhealthy = 0;
  while (std::chrono::steady_clock::now() < down_at + kOutage) {
    ++probes;
    if (status(port, "/readyz") != 503) ++ready_answers;
    if (status(port, "/healthz") != 200) ++unhealthy;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_GT(probes, 10);
  EXPECT_EQ(ready_answers, 0) << "of " << probes << " probes during the outage";
  EXPECT_EQ(unhealthy, 0) << "of " << probes << " probes during the outage";

  broker().control("up all");
  const auto up_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_until([&] { return status(port, "/readyz") == 200; }, kOutputTimeout))
      << "not ready again after the brokers came back";
  const auto ready_again = std::chrono::steady_clock::now();
  const auto generated = gen->wait_for_exit(kCatchUpTimeout);
  ASSERT_TRUE(generated && generated->exited_with(0)) << gen->stderr_text();
  wait_caught_up(options.group_id, "raw-beacons", *pipeline);
  ASSERT_FALSE(HasFatalFailure());
  const auto caught_up = std::chrono::steady_clock::now();
  const auto seconds = [](auto d) { return std::chrono::duration<double>(d).count(); };
  // Reported, not asserted (speed is measured, never timed in a test).
  std::cout << "[ outage   ] ready again " << seconds(ready_again - up_at)
            << " s after the brokers came back; caught up after " << seconds(caught_up - up_at)
            << " s (backlog included)\n";
  RecordProperty("ready_again_s", std::to_string(seconds(ready_again - up_at)));
  RecordProperty("caught_up_s", std::to_string(seconds(caught_up - up_at)));
  const ExitStatus stopped = pipeline->stop();
  EXPECT_TRUE(stopped.exited_with(0)) << stopped.describe();

  // The same input through a fresh instance that saw no outage.
  run_reference();
  ASSERT_FALSE(HasFatalFailure());
  const auto outage_events = read_all("customer-events");
  const auto reference_events = read_all("events-reference");
  const auto outage_ids = event_ids_of(outage_events);
  ASSERT_GT(reference_events.size(), 100u) << "too few events for the comparison to mean anything";
  // Duplicates only as the same event_id (at-least-once); the same events, none lost or changed.
  EXPECT_EQ(event_id_difference(outage_events, reference_events), "");
  std::cout << "[ outage   ] " << distinct_ids(outage_ids).size() << " distinct events, "
            << outage_ids.size() - distinct_ids(outage_ids).size() << " delivered twice\n";
  // Every bad record reached the dead letters, as in the run without an outage.
  const auto outage_letters = dead_letter_sources(read_all("raw-beacons-dlq"));
  EXPECT_FALSE(outage_letters.empty());
  EXPECT_EQ(outage_letters, dead_letter_sources(read_all("dlq-reference")));
}

}  // namespace
}  // namespace tastesync::testing
