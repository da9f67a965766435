// OutputProducer::hold / release_held (docs/contract.md#delivery): the real producer against the
// in-process mock cluster.
#include "pipeline/output_producer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stop_token>
#include <string>
#include <vector>

#include "app/dev/mock_cluster.hpp"

namespace tastesync {
namespace {

constexpr int kWaitMs = 60000;

class RecordedDeliveries : public DeliveryListener {
 public:
  struct Delivery {
    OutputKind kind;
    std::int64_t offset;
    std::string key;
    bool has_value;
    std::string value;
  };

  void on_delivered(const OutputOrigin& origin, const rd_kafka_message_t& message) override {
    delivered.push_back(
        {origin.kind, origin.offset,
         message.key == nullptr
             ? ""
             : std::string(static_cast<const char*>(message.key), message.key_len),
         message.payload != nullptr,
         message.payload == nullptr
             ? ""
             : std::string(static_cast<const char*>(message.payload), message.len)});
  }
  void on_failed(const OutputOrigin& /*origin*/, const rd_kafka_message_t& /*message*/) override {
    ++failed;
  }
  void on_dead_letter_retry(const OutputOrigin& /*origin*/) override {}
  void on_callback_failed(const std::string& reason) override { failures.push_back(reason); }

  std::vector<Delivery> delivered;
  int failed = 0;
  std::vector<std::string> failures;
};

class OutputProducerTest : public ::testing::Test {
 protected:
  OutputProducerTest() {
    cluster_.create_topic("customer-events", 1);
    cluster_.create_topic("raw-beacons-dlq", 1);
    config_.kafka.brokers = cluster_.bootstrap_servers();
    config_.kafka.group_id = "output-producer-test";
  }

  MockCluster cluster_;
  Config config_;
  RecordedDeliveries listener_;
  const std::stop_token never_;
};

TEST_F(OutputProducerTest, HeldEventsReachKafkaOnlyOnReleaseInTheirOrderKeysValuesAndTombstones) {
  OutputProducer producer(config_, listener_);
  producer.hold();
  // The caller's buffer is reused right after each call, as EventWriter's is.
  std::string value = "{\"n\":1}";
  ASSERT_EQ(producer.produce_event("a", value, "e1", {0, 10, OutputKind::event}, never_).status,
            ProduceStatus::queued);
  value = "{\"n\":2}";
  ASSERT_EQ(producer.produce_event("b", value, "e2", {0, 11, OutputKind::event}, never_).status,
            ProduceStatus::queued);
  ASSERT_EQ(producer.produce_forget("a", "req-1", 1000, {0, 12, OutputKind::event}, never_).status,
            ProduceStatus::queued);
  EXPECT_EQ(producer.held(), 3u);
  EXPECT_EQ(producer.outstanding(), 0) << "nothing reaches librdkafka before the release";
  ASSERT_TRUE(producer.flush(kWaitMs));
  EXPECT_TRUE(listener_.delivered.empty());

  EXPECT_EQ(producer.release_held(never_).status, ProduceStatus::queued);
  EXPECT_EQ(producer.held(), 0u);
  ASSERT_TRUE(producer.flush(kWaitMs));
  ASSERT_EQ(listener_.delivered.size(), 3u);
  EXPECT_EQ(listener_.delivered[0].offset, 10);
  EXPECT_EQ(listener_.delivered[0].key, "a");
  EXPECT_EQ(listener_.delivered[0].value, "{\"n\":1}");
  EXPECT_EQ(listener_.delivered[1].offset, 11);
  EXPECT_EQ(listener_.delivered[1].key, "b");
  EXPECT_EQ(listener_.delivered[1].value, "{\"n\":2}");
  EXPECT_EQ(listener_.delivered[2].offset, 12);
  EXPECT_EQ(listener_.delivered[2].key, "a");
  EXPECT_FALSE(listener_.delivered[2].has_value) << "a tombstone stays a tombstone";
  EXPECT_EQ(listener_.failed, 0);
  EXPECT_TRUE(listener_.failures.empty());

  // After the release, produce calls go straight to librdkafka again.
  ASSERT_EQ(producer.produce_event("c", "{}", "e3", {0, 13, OutputKind::event}, never_).status,
            ProduceStatus::queued);
  EXPECT_EQ(producer.held(), 0u);
  ASSERT_TRUE(producer.flush(kWaitMs));
  ASSERT_EQ(listener_.delivered.size(), 4u);
  EXPECT_EQ(listener_.delivered[3].key, "c");
}

}  // namespace
}  // namespace tastesync
