// Consumer-group mode (the scale-out mode, docs/contract.md#scale-out) works end to end on the
// dev broker.
#include <gtest/gtest.h>

#include "tests/support/broker_test.hpp"

namespace tastesync::testing {
namespace {

class GroupMode : public BrokerTest {};

TEST_F(GroupMode, SingleMemberJoinsAndIdentifies) {
  // Group mode keeps a state changelog (state.changelog auto): its topic must exist.
  start_broker(
      {"raw-beacons", "customer-events", "raw-beacons-dlq", "tastesync-it-group-state-changelog"});
  PipelineOptions options = pipeline_options("pipeline-group", "group");
  options.consumer_mode = "group";
  options.group_id = "tastesync-it-group";
  auto pipeline = start_pipeline(options);
  produce_sighting(BeaconSighting{.sighting_id = "group-1",
                                  .customer_id = "cust-group",
                                  .detected_at = "2025-03-02T12:00:00.000Z"});

  TopicReader events(brokers(), "customer-events");
  // The mock delays the first join of an empty group by 3 s.
  ASSERT_TRUE(events.read_until(
      [](const std::vector<Record>& records) {
        return event_of_sighting(records, "group-1") != nullptr;
      },
      kOutputTimeout));
  EXPECT_EQ(json_string(parse_json(event_of_sighting(events.records(), "group-1")->value),
                        "/data/identification"),
            "arrival");
  const ExitStatus stopped = pipeline->stop();
  EXPECT_TRUE(stopped.exited_with(0)) << stopped.describe();
}

}  // namespace
}  // namespace tastesync::testing
