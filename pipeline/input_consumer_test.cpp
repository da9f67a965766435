// InputConsumer's view of a broker outage (docs/contract.md#health): the real consumer against
// the in-process mock cluster, with librdkafka's statistics every 100 ms.
#include "pipeline/input_consumer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "app/dev/mock_cluster.hpp"

namespace tastesync {
namespace {

constexpr auto kOutageWait = std::chrono::seconds(60);

class NoAssignments : public AssignmentListener {
 public:
  void on_assigned(rd_kafka_topic_partition_list_t& /*partitions*/) override {}
  void on_revoked(const rd_kafka_topic_partition_list_t& /*partitions*/, bool /*lost*/) override {}
  void on_callback_failed(const std::string& reason) override { failures.push_back(reason); }

  std::vector<std::string> failures;
};

class InputConsumerOutage : public ::testing::Test {
 protected:
  InputConsumerOutage() {
    cluster_.create_topic("raw-beacons", 1);
    config_.kafka.brokers = cluster_.bootstrap_servers();
    config_.kafka.group_id = "input-consumer-test";
    config_.kafka.consumer_mode = ConsumerMode::assign;
    config_.kafka.properties["statistics.interval.ms"] = "100";
  }

  // Consumes until `done()` or the wait runs out; returns whether `done()` came true.
  template <typename Done>
  bool consume_until(InputConsumer& consumer, Done done) {
    std::vector<KafkaMessage> messages;
    const auto deadline = std::chrono::steady_clock::now() + kOutageWait;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      consumer.consume(messages, 100, 50);
      messages.clear();
    }
    return done();
  }

  MockCluster cluster_;
  Config config_;
  NoAssignments listener_;
};

// The topic is empty, so no record is ever fetched: only the statistics can say that a broker
// answers again.
TEST_F(InputConsumerOutage, AnIdleConsumerIsMarkedDownByTheOutageAndUpAgainByTheStatistics) {
  std::string latest;
  InputConsumer consumer(config_, listener_,
                         [&](const char* json, std::size_t size) { latest.assign(json, size); });
  consumer.start(1);
  ASSERT_TRUE(consume_until(consumer, [&] {
    return statistics_show_a_broker_up(latest.data(), latest.size());
  })) << "no statistics with the broker UP";
  EXPECT_FALSE(consumer.brokers_down());

  cluster_.set_broker_down(1);
  ASSERT_TRUE(consume_until(consumer, [&] { return consumer.brokers_down(); }))
      << "the outage was never noticed";
  cluster_.set_broker_up(1);
  ASSERT_TRUE(consume_until(consumer, [&] { return !consumer.brokers_down(); }))
      << "the broker's return was never noticed without a record";
  EXPECT_TRUE(listener_.failures.empty());
}

// The statistics librdkafka itself writes, before and during an outage.
TEST_F(InputConsumerOutage, StatisticsShowABrokerUpOnlyWhileOneIs) {
  std::vector<std::string> statistics;
  InputConsumer consumer(config_, listener_, [&](const char* json, std::size_t size) {
    statistics.emplace_back(json, size);
  });
  consumer.start(1);
  const auto latest_shows_up = [&] {
    return !statistics.empty() &&
           statistics_show_a_broker_up(statistics.back().data(), statistics.back().size());
  };
  ASSERT_TRUE(consume_until(consumer, latest_shows_up)) << "no statistics with the broker UP";

  cluster_.set_broker_down(1);
  ASSERT_TRUE(consume_until(consumer, [&] { return !latest_shows_up(); }))
      << "statistics kept showing a broker UP through the outage: "
      << (statistics.empty() ? "" : statistics.back().substr(0, 2000));
  EXPECT_TRUE(consumer.brokers_down());
}

TEST(BrokerStatistics, AnythingButStatisticsWithABrokerUpShowsNone) {
  const auto shows_up = [](const std::string& json) {
    return statistics_show_a_broker_up(json.data(), json.size());
  };
  EXPECT_TRUE(shows_up(R"({"brokers":{"b:9092/1":{"nodeid":1,"state":"UP"}}})"));
  // A bootstrap entry (nodeid -1) connected is no broker of the cluster answering.
  EXPECT_FALSE(shows_up(R"({"brokers":{"b:9092/bootstrap":{"nodeid":-1,"state":"UP"}}})"));
  EXPECT_FALSE(shows_up(R"({"brokers":{"b:9092/1":{"nodeid":1,"state":"TRY_CONNECT"}}})"));
  EXPECT_FALSE(shows_up(R"({"brokers":{}})"));
  EXPECT_FALSE(shows_up(R"({"brokers":[]})"));
  EXPECT_FALSE(shows_up(R"({"brokers":{"b":{"nodeid":"1","state":"UP"}}})"));
  EXPECT_FALSE(shows_up("not json"));
  EXPECT_FALSE(shows_up(""));
}

}  // namespace
}  // namespace tastesync
