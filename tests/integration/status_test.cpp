// Issue 16, item 4: `tastesync status` (docs/operations.md#status) against a running pipeline on
// the dev broker: the group's lag per input partition and the sinks' groups from Kafka, the
// instance's readiness, partitions, customers, state and last event from its /metrics, behind
// the metrics token when one is set.
#include <gtest/gtest.h>

#include <iostream>

#include "tests/support/broker_test.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/http_get.hpp"

namespace tastesync::testing {
namespace {

class Status : public BrokerTest {
 protected:
  std::unique_ptr<PipelineProcess> start_ready(const Environment& environment) {
    start_broker();
    port_ = free_loopback_port();
    PipelineOptions options = pipeline_options("pipeline", "status");
    options.extra_arguments = {"--metrics-port", std::to_string(port_)};
    options.environment = environment;
    auto pipeline = start_pipeline(options);
    EXPECT_TRUE(wait_until(
        [&] {
          const auto answer = http_request(port_, "/readyz");
          return answer && answer->status == 200;
        },
        kOutputTimeout))
        << pipeline->process().stderr_text();
    return pipeline;
  }

  RunResult status(const std::vector<std::string>& extra, const Environment& environment = {}) {
    std::vector<std::string> arguments = {"status", "--brokers", brokers(), "--group-id",
                                          "tastesync-it"};
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    return run_tastesync(dir(), "status-" + std::to_string(++runs_), arguments, environment);
  }

  int port_ = 0;
  int runs_ = 0;
};

TEST_F(Status, ShowsLagPerPartitionAndTheInstancesStateAndLastEvent) {
  auto pipeline = start_ready({});
  ASSERT_FALSE(HasFailure());
  TopicReader events(brokers(), "customer-events");
  ASSERT_TRUE(produce_until_identified(
      events,
      [](int i) {
        return beacon_sighting("st-" + std::to_string(i), "status-guest", 13, kT0 + i * 1000);
      },
      kOutputTimeout));
  wait_caught_up("tastesync-it", "raw-beacons", *pipeline);
  ASSERT_FALSE(HasFailure());
  // The state's gauges are refreshed once a second; the commit comes as soon as the input is
  // caught up (docs/contract.md#caught-up-commit), which can be before that.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto answer = http_request(port_, "/metrics");
        const auto customers =
            answer ? metric_value(answer->body, "tastesync_state_customers") : std::nullopt;
        return customers && *customers >= 1;
      },
      kOutputTimeout));

  const std::string instance = "http://127.0.0.1:" + std::to_string(port_);
  const RunResult json = status({"--instance", instance, "--json"});
  ASSERT_TRUE(json.status.exited_with(0)) << json.stderr_text;
  const rapidjson::Document document = parse_json(json.stdout_text);
  ASSERT_FALSE(document.HasParseError()) << json.stdout_text;
  EXPECT_EQ(document["input"]["group"].GetString(), std::string("tastesync-it"));
  EXPECT_EQ(document["input"]["partitions"].Size(), 6u);
  EXPECT_EQ(document["input"]["lag"].GetInt64(), 0) << json.stdout_text;
  std::int64_t ends = 0;
  for (const auto& partition : document["input"]["partitions"].GetArray()) {
    ends += partition["end"].GetInt64();
  }
  EXPECT_GT(ends, 0);
  ASSERT_EQ(document["sinks"].Size(), 2u);
  EXPECT_EQ(document["sinks"][0]["group"].GetString(), std::string("tastesync-it-sink-postgres"));
  const auto& reported = document["instances"][0];
  EXPECT_TRUE(reported["reachable"].GetBool());
  EXPECT_TRUE(reported["ready"].GetBool());
  EXPECT_EQ(reported["partitions"].Size(), 6u);
  EXPECT_GE(reported["customers"].GetInt64(), 1);
  EXPECT_GT(reported["state_bytes"].GetInt64(), 0);
  ASSERT_TRUE(reported["last_event_at"].IsString()) << json.stdout_text;

  const RunResult table = status({"--instance", instance});
  ASSERT_TRUE(table.status.exited_with(0)) << table.stderr_text;
  std::cout << "[ status   ]\n" << table.stdout_text;
  EXPECT_NE(table.stdout_text.find("group tastesync-it on raw-beacons: 6 partitions, lag 0"),
            std::string::npos)
      << table.stdout_text;
  EXPECT_NE(table.stdout_text.find(": ready, 6 partitions [0,1,2,3,4,5]"), std::string::npos)
      << table.stdout_text;

  // An instance that does not answer is said so, and the exit code tells a script.
  const RunResult unreachable =
      status({"--instance", "http://127.0.0.1:" + std::to_string(free_loopback_port())});
  EXPECT_TRUE(unreachable.status.exited_with(1));
  EXPECT_NE(unreachable.stdout_text.find("unreachable"), std::string::npos);
  EXPECT_TRUE(pipeline->stop().exited_with(0));
}

TEST_F(Status, ReadsAGuardedInstanceWithTheMetricsTokenOnly) {
  const Environment token = {{"TASTESYNC_METRICS__TOKEN", "status-secret-token"}};
  auto pipeline = start_ready(token);
  ASSERT_FALSE(HasFailure());
  const std::string instance = "http://127.0.0.1:" + std::to_string(port_);
  const RunResult without = status({"--instance", instance});
  EXPECT_TRUE(without.status.exited_with(1));
  EXPECT_NE(without.stdout_text.find("answered 401"), std::string::npos) << without.stdout_text;
  const RunResult with = status({"--instance", instance}, token);
  EXPECT_TRUE(with.status.exited_with(0)) << with.stdout_text << with.stderr_text;
  EXPECT_EQ(with.stdout_text.find("status-secret-token"), std::string::npos);
  EXPECT_EQ(with.stderr_text.find("status-secret-token"), std::string::npos);
  EXPECT_TRUE(pipeline->stop().exited_with(0));
}

}  // namespace
}  // namespace tastesync::testing
