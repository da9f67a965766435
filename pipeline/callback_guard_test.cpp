// Nothing thrown while librdkafka calls us back may unwind into its C code (docs/design.md,
// "Failures that show"): the real clients, against the in-process mock cluster, with listeners
// that throw.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "app/dev/mock_cluster.hpp"
#include "pipeline/input_consumer.hpp"
#include "pipeline/output_producer.hpp"

namespace tastesync {
namespace {

constexpr auto kWait = std::chrono::seconds(60);

Config config_for(const MockCluster& cluster) {
  Config config;
  config.kafka.brokers = cluster.bootstrap_servers();
  config.kafka.group_id = "callback-guard";
  config.kafka.session_timeout_ms = 6000;
  return config;
}

class ThrowingAssignments : public AssignmentListener {
 public:
  void on_assigned(rd_kafka_topic_partition_list_t& /*partitions*/) override {
    throw std::runtime_error("restoring a partition broke");
  }
  void on_revoked(const rd_kafka_topic_partition_list_t& /*partitions*/, bool /*lost*/) override {
    throw std::logic_error("checkpointing broke");
  }
  void on_callback_failed(const std::string& reason) override { failures.push_back(reason); }

  std::vector<std::string> failures;
};

TEST(CallbackGuard, AnExceptionInARebalanceIsReportedNotUnwoundIntoLibrdkafka) {
  MockCluster cluster;
  cluster.create_topic("raw-beacons", 2);
  ThrowingAssignments listener;
  InputConsumer consumer(config_for(cluster), listener, nullptr);
  consumer.start(2);
  std::vector<KafkaMessage> messages;
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (listener.failures.empty() && std::chrono::steady_clock::now() < deadline) {
    consumer.consume(messages, 10, 100);
  }
  ASSERT_FALSE(listener.failures.empty()) << "no rebalance within the wait";
  EXPECT_NE(listener.failures.front().find("restoring a partition broke"), std::string::npos)
      << listener.failures.front();
  // The final revoke throws too, and is reported the same way.
  EXPECT_TRUE(consumer.close_within(30000));
  EXPECT_NE(listener.failures.back().find("checkpointing broke"), std::string::npos)
      << listener.failures.back();
}

class ThrowingDeliveries : public DeliveryListener {
 public:
  void on_delivered(const OutputOrigin& /*origin*/,
                    const rd_kafka_message_t& /*message*/) override {
    throw std::runtime_error("the tap broke");
  }
  void on_failed(const OutputOrigin& /*origin*/, const rd_kafka_message_t& /*message*/) override {}
  void on_dead_letter_retry(const OutputOrigin& /*origin*/) override {}
  void on_callback_failed(const std::string& reason) override { failures.push_back(reason); }

  std::vector<std::string> failures;
};

TEST(CallbackGuard, AnExceptionInADeliveryReportIsReportedNotUnwoundIntoLibrdkafka) {
  MockCluster cluster;
  cluster.create_topic("customer-events", 3);
  cluster.create_topic("raw-beacons-dlq", 3);
  ThrowingDeliveries listener;
  OutputProducer producer(config_for(cluster), listener);
  const std::stop_token never;
  ASSERT_EQ(producer.produce_event("cust", "{}", "id", OutputOrigin{0, 1, OutputKind::event}, never)
                .status,
            ProduceStatus::queued);
  EXPECT_TRUE(producer.flush(static_cast<int>(kWait.count() * 1000)));
  ASSERT_EQ(listener.failures.size(), 1u);
  EXPECT_NE(listener.failures.front().find("the tap broke"), std::string::npos);
}

}  // namespace
}  // namespace tastesync
