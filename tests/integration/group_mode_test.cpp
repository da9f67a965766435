// Consumer-group mode (the scale-out mode, docs/contract.md#scale-out) works end to end on the
// dev broker.
#include <gtest/gtest.h>

#include "kafka/topic_admin.hpp"
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

// Issue 15: a newcomer's `tastesync dev-broker` then `tastesync run --brokers ... --group-id
// myapp` failed at start (the mock made myapp-state-changelog with 4 partitions). Now run has
// the dev broker create it with the input's partitions (docs/contract.md#topics).
TEST_F(GroupMode, AnyGroupIdRunsWithNoExtraStep) {
  start_broker({"raw-beacons", "customer-events", "raw-beacons-dlq"});
  PipelineOptions options = pipeline_options("pipeline-myapp", "myapp");
  options.consumer_mode = "group";
  options.group_id = "myapp";
  auto pipeline = start_pipeline(options);
  produce_sighting(BeaconSighting{.sighting_id = "myapp-1",
                                  .customer_id = "cust-myapp",
                                  .detected_at = "2025-03-02T12:00:00.000Z"});
  TopicReader events(brokers(), "customer-events");
  ASSERT_TRUE(events.read_until(
      [](const std::vector<Record>& records) {
        return event_of_sighting(records, "myapp-1") != nullptr;
      },
      kOutputTimeout))
      << pipeline->process().stderr_text();
  const TopicAdmin admin({{"bootstrap.servers", brokers()}}, 5000);
  EXPECT_EQ(admin.list().at("myapp-state-changelog"), 6);
  const ExitStatus stopped = pipeline->stop();
  EXPECT_TRUE(stopped.exited_with(0)) << stopped.describe();
  EXPECT_NE(pipeline->process().stderr_text().find(
                "created the changelog topic myapp-state-changelog (6 partitions"),
            std::string::npos);
}

TEST_F(GroupMode, TopicsCreateMakesEveryTopicOnceAndSaysSo) {
  start_broker({"raw-beacons"});
  const std::vector<std::string> arguments = {"topics",     "create", "--brokers",    brokers(),
                                              "--group-id", "app2",   "--partitions", "3"};
  const RunResult first = run_tastesync(dir(), "topics-create-1", arguments);
  ASSERT_TRUE(first.status.exited_with(0)) << first.status.describe() << first.stderr_text;
  const std::string& said = first.stdout_text;
  EXPECT_NE(said.find("exists  raw-beacons (kafka.input_topic): 6 partitions"), std::string::npos)
      << said;
  for (const char* created :
       {"created customer-events (kafka.output_topic): 3 partitions",
        "created raw-beacons-dlq (kafka.dlq_topic): 3 partitions",
        "created customer-events-sink-dlq (sink.dlq_topic): 3 partitions",
        "created app2-state-changelog (state.changelog_topic): 6 partitions"}) {
    EXPECT_NE(said.find(created), std::string::npos) << created << " not in:\n" << said;
  }
  EXPECT_NE(said.find("cleanup.policy=compact,delete"), std::string::npos) << said;
  const TopicAdmin admin({{"bootstrap.servers", brokers()}}, 5000);
  const auto topics = admin.list();
  EXPECT_EQ(topics.at("customer-events"), 3);
  EXPECT_EQ(topics.at("app2-state-changelog"), 6);

  // Idempotent: the second time everything exists and nothing changes.
  const RunResult second = run_tastesync(dir(), "topics-create-2", arguments);
  ASSERT_TRUE(second.status.exited_with(0)) << second.status.describe() << second.stderr_text;
  EXPECT_EQ(second.stdout_text.find("created"), std::string::npos) << second.stdout_text;
  EXPECT_NE(second.stdout_text.find("exists  app2-state-changelog (state.changelog_topic): 6"),
            std::string::npos)
      << second.stdout_text;
  EXPECT_EQ(admin.list(), topics);
}

}  // namespace
}  // namespace tastesync::testing
