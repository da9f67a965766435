// Dedupe state lives in RocksDB and survives a clean restart (docs/contract.md#dedupe, #state,
// #delivery).
#include <gtest/gtest.h>

#include "tests/support/broker_test.hpp"

namespace tastesync::testing {
namespace {

constexpr const char* kReturningCustomer = "cust-restart";

class Restart : public BrokerTest {
 protected:
  // An arrival at Table 3, then a clean stop: the state to restart from.
  void arrive_and_stop() {
    start_broker();
    auto first = start_pipeline(pipeline_options("pipeline-1", "main"));
    produce_sighting(at_table_3(kReturningCustomer, "restart-1", kT0));
    TopicReader events(brokers(), "customer-events");
    ASSERT_TRUE(events.read_until(
        [](const std::vector<Record>& records) {
          return event_of_sighting(records, "restart-1") != nullptr;
        },
        kOutputTimeout));
    const ExitStatus stopped = first->stop();
    EXPECT_TRUE(stopped.exited_with(0)) << stopped.describe();
  }
};

TEST_F(Restart, SameLocationWithinTheMinuteAfterARestartEmitsNothing) {
  ASSERT_NO_FATAL_FAILURE(arrive_and_stop());
  auto second = start_pipeline(pipeline_options("pipeline-2", "main"));
  const Delivery suppressed =
      produce_sighting(at_table_3(kReturningCustomer, "restart-2", kT0 + 10000));
  const std::string sentinel = sentinel_in_partition_of(kReturningCustomer);
  const Delivery sentinel_sighting =
      produce_sighting(BeaconSighting{.sighting_id = "restart-sentinel",
                                      .customer_id = sentinel,
                                      .minor = 11,
                                      .detected_at = canonical_time(kT0 + 10000)});
  ASSERT_EQ(sentinel_sighting.partition, suppressed.partition);

  TopicReader events(brokers(), "customer-events");
  ASSERT_TRUE(events.read_until(
      [](const std::vector<Record>& records) {
        return event_of_sighting(records, "restart-sentinel") != nullptr;
      },
      kOutputTimeout));
  EXPECT_EQ(event_of_sighting(events.records(), "restart-2"), nullptr)
      << "a sighting 10 s after the arrival, at the same table, was identified again";
  EXPECT_EQ(events_of_customer(events.records(), kReturningCustomer).size(), 1u);
}

TEST_F(Restart, MinuteRunsFromTheEventBeforeTheRestart) {
  ASSERT_NO_FATAL_FAILURE(arrive_and_stop());
  auto second = start_pipeline(pipeline_options("pipeline-2", "main"));
  produce_sighting(at_table_3(kReturningCustomer, "restart-3", kT0 + 61000));

  TopicReader events(brokers(), "customer-events");
  ASSERT_TRUE(events.read_until(
      [](const std::vector<Record>& records) {
        return event_of_sighting(records, "restart-3") != nullptr;
      },
      kOutputTimeout));
  // With the state lost, the same sighting would be an arrival.
  EXPECT_EQ(json_string(parse_json(event_of_sighting(events.records(), "restart-3")->value),
                        "/data/identification"),
            "still_here");
  EXPECT_EQ(events_of_customer(events.records(), kReturningCustomer).size(), 2u);
}

}  // namespace
}  // namespace tastesync::testing
