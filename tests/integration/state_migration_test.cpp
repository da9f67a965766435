// State follows a partition to another instance (docs/contract.md#changelog, #scale-out),
// through the state changelog.
#include <gtest/gtest.h>

#include "tests/support/broker_test.hpp"

namespace tastesync::testing {
namespace {

constexpr const char* kMoveGroup = "tastesync-it-move";
constexpr const char* kMovingCustomer = "cust-moving";

class StateMigration : public BrokerTest {
 protected:
  PipelineOptions member(const std::string& name) const {
    // Its own state dir: the second instance has nothing local to restore from.
    PipelineOptions options = pipeline_options(name, name);
    options.consumer_mode = "group";
    options.group_id = kMoveGroup;
    return options;
  }
};

TEST_F(StateMigration, AnotherInstanceContinuesFromTheChangelog) {
  start_broker({"raw-beacons", "customer-events", "raw-beacons-dlq",
                std::string(kMoveGroup) + "-state-changelog"});
  {
    auto first = start_pipeline(member("instance-a"));
    produce_sighting(at_table_3(kMovingCustomer, "move-1", kT0));
    TopicReader events(brokers(), "customer-events");
    ASSERT_TRUE(events.read_until(
        [](const std::vector<Record>& records) {
          return event_of_sighting(records, "move-1") != nullptr;
        },
        kOutputTimeout));
    const ExitStatus stopped = first->stop();
    ASSERT_TRUE(stopped.exited_with(0)) << stopped.describe();
  }

  auto second = start_pipeline(member("instance-b"));
  produce_sighting(at_table_3(kMovingCustomer, "move-2", kT0 + 10000));
  const std::string sentinel = sentinel_in_partition_of(kMovingCustomer);
  produce_sighting(BeaconSighting{.sighting_id = "move-sentinel",
                                  .customer_id = sentinel,
                                  .minor = 11,
                                  .detected_at = canonical_time(kT0 + 10000)});
  produce_sighting(at_table_3(kMovingCustomer, "move-3", kT0 + 61000));

  TopicReader events(brokers(), "customer-events");
  ASSERT_TRUE(events.read_until(
      [](const std::vector<Record>& records) {
        return event_of_sighting(records, "move-3") != nullptr &&
               event_of_sighting(records, "move-sentinel") != nullptr;
      },
      kOutputTimeout));
  // With the state lost, move-2 would be a new arrival and move-3 would not be still_here.
  EXPECT_EQ(event_of_sighting(events.records(), "move-2"), nullptr)
      << "the second instance did not know the customer was identified 10 s earlier";
  EXPECT_EQ(json_string(parse_json(event_of_sighting(events.records(), "move-3")->value),
                        "/data/identification"),
            "still_here");
  const ExitStatus stopped = second->stop();
  EXPECT_TRUE(stopped.exited_with(0)) << stopped.describe();
}

}  // namespace
}  // namespace tastesync::testing
