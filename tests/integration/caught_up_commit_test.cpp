// Once the input is caught up and everything consumed is stored, the offsets are committed at
// once, not at the auto-commit timer's next tick; and such commits come at most once per
// auto.commit.interval.ms (docs/contract.md#delivery).
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

  // Produces one arrival per customer and waits for all of their events.
  void identify(const std::vector<std::string>& customers, const std::string& prefix) {
    for (const std::string& customer : customers) {
      produce_sighting(at_table_3(customer, prefix + customer, kT0));
    }
    TopicReader events(brokers(), "customer-events");
    ASSERT_TRUE(events.read_until(
        [&](const std::vector<Record>& records) {
          for (const std::string& customer : customers) {
            if (event_of_sighting(records, prefix + customer) == nullptr) return false;
          }
          return true;
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
  auto pipeline = start_with_an_hourly_timer();
  ASSERT_NO_FATAL_FAILURE(identify({"cust-commit-1", "cust-commit-2", "cust-commit-3"}, "a-"));
  // Without the commit once caught up, nothing is committed before the hour or the stop.
  wait_caught_up(kGroup, "raw-beacons", *pipeline);
  const ExitStatus stopped = pipeline->stop();
  EXPECT_TRUE(stopped.exited_with(0)) << stopped.describe();
}

TEST_F(CaughtUpCommit, ASecondCatchUpWithinTheIntervalWaitsForTheTimerOrTheStop) {
  start_broker();
  auto pipeline = start_with_an_hourly_timer();
  ASSERT_NO_FATAL_FAILURE(identify({"cust-first-1", "cust-first-2"}, "first-"));
  wait_caught_up(kGroup, "raw-beacons", *pipeline);
  if (HasFatalFailure()) return;
  const std::vector<std::int64_t> first_commit = committed();

  ASSERT_NO_FATAL_FAILURE(identify({"cust-second-1", "cust-second-2"}, "second-"));
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
