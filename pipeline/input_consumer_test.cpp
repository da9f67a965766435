// InputConsumer's view of a broker outage (docs/contract.md#health), and its commit once caught
// up (docs/contract.md#caught-up-commit): the real consumer against the in-process mock cluster,
// with librdkafka's statistics every 100 ms.
#include "pipeline/input_consumer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "app/dev/mock_cluster.hpp"
#include "kafka/kafka.hpp"

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

// The group's committed offset of partition 0 of raw-beacons (negative: none), read by a client
// of its own.
std::int64_t committed_offset(const std::string& brokers, const std::string& group) {
  const KafkaHandle reader = make_kafka_handle(
      RD_KAFKA_CONSUMER,
      make_kafka_conf({{"bootstrap.servers", brokers}, {"group.id", group}}, "test"));
  const TopicPartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), "raw-beacons", 0);
  EXPECT_EQ(rd_kafka_committed(reader.get(), list.get(), 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  return list->elems[0].offset;
}

class InputConsumerCommit : public InputConsumerOutage {};

// docs/contract.md#caught-up-commit, with the clock handed in: at once, then not again within
// auto.commit.interval.ms (an hour here, so the timer never commits during the test).
TEST_F(InputConsumerCommit, ACaughtUpCommitGoesOutAtOnceAndAtMostOncePerInterval) {
  config_.kafka.properties["auto.commit.interval.ms"] = "3600000";
  InputConsumer consumer(config_, listener_, nullptr);
  consumer.start(1);
  const std::string brokers = cluster_.bootstrap_servers();
  const std::string group = config_.kafka.group_id;
  // A synchronous commit first: the coordinator is known from here on.
  consumer.store_offset(0, 1);
  ASSERT_EQ(consumer.commit_within(10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(committed_offset(brokers, group), 1);
  const auto committed_is = [&](std::int64_t offset) {
    const auto deadline = std::chrono::steady_clock::now() + kOutageWait;
    while (committed_offset(brokers, group) != offset &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return committed_offset(brokers, group) == offset;
  };

  constexpr std::int64_t kSecond = 1'000'000'000;
  consumer.store_offset(0, 3);
  EXPECT_TRUE(consumer.commit_caught_up(10 * kSecond));
  EXPECT_TRUE(committed_is(3)) << "the first caught-up commit did not go out";

  consumer.store_offset(0, 7);
  EXPECT_FALSE(consumer.commit_caught_up(10 * kSecond + 3599 * kSecond));  // within the hour
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(committed_offset(brokers, group), 3) << "a second caught-up commit within the interval";

  EXPECT_TRUE(consumer.commit_caught_up(10 * kSecond + 3600 * kSecond));  // an hour later
  EXPECT_TRUE(committed_is(7)) << "the caught-up commit an interval later did not go out";
  EXPECT_TRUE(listener_.failures.empty());
}

// In group mode only librdkafka's timer commits, as it holds back during a rebalance.
TEST_F(InputConsumerCommit, AGroupMemberLeavesTheCommitToTheTimer) {
  config_.kafka.consumer_mode = ConsumerMode::group;
  InputConsumer consumer(config_, listener_, nullptr);
  EXPECT_FALSE(consumer.commit_caught_up(0));
}

}  // namespace
}  // namespace tastesync
