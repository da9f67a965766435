// Once the input is caught up and everything consumed is stored, the offsets are committed at
// once, not at the auto-commit timer's next tick; and such commits come at most once per
// auto.commit.interval.ms (docs/contract.md#caught-up-commit). Each input is one record produced
// before the pipeline sees it, so that one catch-up covers it all: a second within the hour
// would wait for the stop.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "tests/support/broker_test.hpp"

namespace tastesync::testing {
namespace {

class CaughtUpCommit : public BrokerTest {
 protected:
  // A pipeline whose auto-commit timer would first fire an hour after its start.
  std::unique_ptr<PipelineProcess> start_with_an_hourly_timer() {
    const auto config = dir() / "hourly-commit.yaml";
    std::ofstream(config) << "kafka:\n  properties:\n    auto.commit.interval.ms: \"3600000\"\n";
    PipelineOptions options = pipeline_options("pipeline", "main");
    options.extra_arguments = {"--config", config.string()};
    return start_pipeline(options);
  }

  // Waits for the event of the arrival `sighting_id`.
  void wait_for_event(const std::string& sighting_id) {
    TopicReader events(brokers(), "customer-events");
    ASSERT_TRUE(events.read_until(
        [&](const std::vector<Record>& records) {
          return event_of_sighting(records, sighting_id) != nullptr;
        },
        kOutputTimeout));
  }

  std::vector<std::int64_t> committed() {
    return KafkaInspector(brokers()).committed_offsets(kGroup, "raw-beacons");
  }

  const std::string kGroup = PipelineOptions{}.group_id;
};

TEST_F(CaughtUpCommit, ACaughtUpInputIsCommittedWithoutWaitingForTheTimer) {
  start_broker();
  produce_sighting(at_table_3("cust-commit", "commit-1", kT0));
  auto pipeline = start_with_an_hourly_timer();
  ASSERT_NO_FATAL_FAILURE(wait_for_event("commit-1"));
  // Without the commit once caught up, nothing is committed before the hour or the stop.
  wait_caught_up(kGroup, "raw-beacons", *pipeline);
  const ExitStatus stopped = pipeline->stop();
  EXPECT_TRUE(stopped.exited_with(0)) << stopped.describe();
}

TEST_F(CaughtUpCommit, ASecondCatchUpWithinTheIntervalWaitsForTheTimerOrTheStop) {
  start_broker();
  produce_sighting(at_table_3("cust-first", "first-1", kT0));
  auto pipeline = start_with_an_hourly_timer();
  wait_caught_up(kGroup, "raw-beacons", *pipeline);
  if (HasFatalFailure()) return;
  const std::vector<std::int64_t> first_commit = committed();

  produce_sighting(at_table_3("cust-second", "second-1", kT0));
  ASSERT_NO_FATAL_FAILURE(wait_for_event("second-1"));
  // Delivered; stored within a checkpoint interval (20 ms) of that. An early commit would have
  // gone out right after; a second allowed within the hour would show here.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(committed(), first_commit) << "a second early commit within auto.commit.interval.ms";

  // What was stored is committed by the stop.
  const ExitStatus stopped = pipeline->stop();
  EXPECT_TRUE(stopped.exited_with(0)) << stopped.describe();
  EXPECT_TRUE(KafkaInspector(brokers()).caught_up(kGroup, "raw-beacons"));
  EXPECT_NE(committed(), first_commit);
}

}  // namespace
}  // namespace tastesync::testing
