// OutputProducer::hold / release_held (docs/contract.md#delivery): the real producer against the
// in-process mock cluster.
#include "pipeline/output_producer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <stop_token>
#include <string>
#include <vector>

#include "app/dev/mock_cluster.hpp"
#include "kafka/kafka.hpp"

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

  // Records produced to raw-beacons and consumed back: real librdkafka messages, which is what
  // a dead letter is made of (their headers and timestamps are read through librdkafka).
  std::vector<KafkaMessage> consumed_records(const std::vector<std::string>& values) {
    cluster_.create_topic("raw-beacons", 1);
    const KafkaHandle producer = make_kafka_handle(
        RD_KAFKA_PRODUCER,
        make_kafka_conf({{"bootstrap.servers", cluster_.bootstrap_servers()}}, "the test"));
    for (const std::string& value : values) {
      EXPECT_EQ(rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC("raw-beacons"),
                                  RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_KEY("k", 1),
                                  RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                  RD_KAFKA_V_END),
                RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    EXPECT_EQ(rd_kafka_flush(producer.get(), kWaitMs), RD_KAFKA_RESP_ERR_NO_ERROR);
    KafkaHandle consumer = make_kafka_handle(
        RD_KAFKA_CONSUMER, make_kafka_conf({{"bootstrap.servers", cluster_.bootstrap_servers()},
                                            {"group.id", "output-producer-test-reader"},
                                            {"auto.offset.reset", "earliest"}},
                                           "the test"));
    const TopicPartitionList partitions(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(partitions.get(), "raw-beacons", 0)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    EXPECT_EQ(rd_kafka_assign(consumer.get(), partitions.get()), RD_KAFKA_RESP_ERR_NO_ERROR);
    std::vector<KafkaMessage> records;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kWaitMs);
    while (records.size() < values.size() && std::chrono::steady_clock::now() < deadline) {
      KafkaMessage message(rd_kafka_consumer_poll(consumer.get(), 100));
      if (message && message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        records.push_back(std::move(message));
      }
    }
    // A consumer handle is destroyed only after its messages: the fixture keeps it.
    consumers_.push_back(std::move(consumer));
    return records;
  }

  MockCluster cluster_;
  std::vector<KafkaHandle> consumers_;  // after cluster_: destroyed first
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

// The contract of release_held (output_producer.hpp): the first result that is not `queued` is
// returned and the rest are dropped, not kept. Their records never complete, so no checkpoint
// passes them and they are consumed again after the restart the pipeline goes on to. What was
// handed to librdkafka before the stop is delivered, in order; nothing is reordered or resent.
TEST_F(OutputProducerTest, AReleaseStoppedByAFullQueueHandsOverWhatFitsInOrderAndDropsTheRest) {
  // Room for two messages: librdkafka frees a slot only when poll() serves its delivery report,
  // which release_held never does once the stop is requested.
  config_.kafka.properties["queue.buffering.max.messages"] = "2";
  OutputProducer producer(config_, listener_);
  producer.hold();
  for (std::int64_t offset = 10; offset < 15; ++offset) {
    ASSERT_EQ(producer
                  .produce_event("c" + std::to_string(offset), "{}", "e" + std::to_string(offset),
                                 {0, offset, OutputKind::event}, never_)
                  .status,
              ProduceStatus::queued);
  }
  ASSERT_EQ(producer.held(), 5u);

  std::stop_source stopping;
  stopping.request_stop();  // a shutdown signal while the batch is processed
  const ProduceResult result = producer.release_held(stopping.get_token());
  EXPECT_EQ(result.status, ProduceStatus::stopped);
  EXPECT_EQ(result.error, RD_KAFKA_RESP_ERR__QUEUE_FULL);
  EXPECT_EQ(producer.held(), 0u) << "what did not fit is dropped, not kept for a later release";

  ASSERT_TRUE(producer.flush(kWaitMs));
  ASSERT_EQ(listener_.delivered.size(), 2u);
  EXPECT_EQ(listener_.delivered[0].offset, 10);
  EXPECT_EQ(listener_.delivered[0].key, "c10");
  EXPECT_EQ(listener_.delivered[1].offset, 11);
  EXPECT_EQ(listener_.delivered[1].key, "c11");
  EXPECT_EQ(listener_.failed, 0);

  // The producer no longer holds: a later event goes to librdkafka at once, after the
  // delivered ones, and a second release finds nothing of the dropped ones to send.
  ASSERT_EQ(producer.produce_event("c20", "{}", "e20", {0, 20, OutputKind::event}, never_).status,
            ProduceStatus::queued);
  EXPECT_EQ(producer.held(), 0u);
  EXPECT_EQ(producer.release_held(never_).status, ProduceStatus::queued);
  ASSERT_TRUE(producer.flush(kWaitMs));
  ASSERT_EQ(listener_.delivered.size(), 3u) << "offsets 12 to 14 never reach Kafka";
  EXPECT_EQ(listener_.delivered[2].offset, 20);
  EXPECT_TRUE(listener_.failures.empty());
}

// The stop token is consulted only while librdkafka's queue is full: a stop requested while there
// is room hands every held event over, so a shutdown drops no more than it must.
TEST_F(OutputProducerTest, AStopRequestedWhileTheQueueHasRoomStillHandsOverEveryHeldEvent) {
  OutputProducer producer(config_, listener_);
  producer.hold();
  for (std::int64_t offset = 0; offset < 3; ++offset) {
    ASSERT_EQ(producer
                  .produce_event("c", "{}", "e" + std::to_string(offset),
                                 {0, offset, OutputKind::event}, never_)
                  .status,
              ProduceStatus::queued);
  }
  std::stop_source stopping;
  stopping.request_stop();
  EXPECT_EQ(producer.release_held(stopping.get_token()).status, ProduceStatus::queued);
  EXPECT_EQ(producer.held(), 0u);
  ASSERT_TRUE(producer.flush(kWaitMs));
  ASSERT_EQ(listener_.delivered.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(listener_.delivered[i].offset, static_cast<std::int64_t>(i));
  }
}

// A held event librdkafka refuses outright (larger than message.max.bytes) fails the release
// there: the events before it are delivered in order, it and the rest are dropped, and the
// error is the caller's to act on (the pipeline stops, exit 2).
TEST_F(OutputProducerTest, AHeldEventLibrdkafkaRefusesFailsTheReleaseThereAndDropsTheRest) {
  config_.kafka.properties["message.max.bytes"] = "4096";
  OutputProducer producer(config_, listener_);
  producer.hold();
  const std::string too_large(8192, 'x');
  ASSERT_EQ(producer.produce_event("a", "{}", "e1", {0, 1, OutputKind::event}, never_).status,
            ProduceStatus::queued);
  ASSERT_EQ(producer.produce_event("b", too_large, "e2", {0, 2, OutputKind::event}, never_).status,
            ProduceStatus::queued)
      << "a held event is only looked at when released";
  ASSERT_EQ(producer.produce_event("c", "{}", "e3", {0, 3, OutputKind::event}, never_).status,
            ProduceStatus::queued);

  const ProduceResult result = producer.release_held(never_);
  EXPECT_EQ(result.status, ProduceStatus::failed);
  EXPECT_EQ(result.error, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  EXPECT_EQ(producer.held(), 0u);
  ASSERT_TRUE(producer.flush(kWaitMs));
  ASSERT_EQ(listener_.delivered.size(), 1u) << "the event after the refused one is not sent";
  EXPECT_EQ(listener_.delivered[0].offset, 1);
  EXPECT_EQ(listener_.delivered[0].key, "a");
  EXPECT_EQ(listener_.failed, 0) << "refused at the call: no delivery report";
}

// Dead letters are held too, and go to librdkafka after the batch's events when released, in
// their order; one of a record near message.max.bytes is cut to fit, as when dead letters went
// at once.
TEST_F(OutputProducerTest, HeldDeadLettersGoOnReleaseAfterTheEventsInTheirOrder) {
  config_.kafka.properties["message.max.bytes"] = "4096";
  std::vector<KafkaMessage> records =
      consumed_records({"not json 1", std::string(3900, 'x'), "not json 3"});
  ASSERT_EQ(records.size(), 3u);
  OutputProducer producer(config_, listener_);
  producer.hold();
  const ParseError error{ParseErrorCode::invalid_json, "not JSON"};
  for (std::int64_t i = 0; i < 3; ++i) {
    const rd_kafka_message_t& record = *records[static_cast<std::size_t>(i)];
    ASSERT_EQ(
        producer
            .produce_dead_letter(record, error, {0, record.offset, OutputKind::dead_letter}, never_)
            .status,
        ProduceStatus::queued);
  }
  ASSERT_EQ(producer.produce_event("c", "{}", "e1", {0, 7, OutputKind::event}, never_).status,
            ProduceStatus::queued);
  EXPECT_EQ(producer.held(), 4u);
  EXPECT_EQ(producer.outstanding(), 0) << "nothing reaches librdkafka before the release";

  EXPECT_EQ(producer.release_held(never_).status, ProduceStatus::queued);
  EXPECT_EQ(producer.held(), 0u);
  ASSERT_TRUE(producer.flush(kWaitMs));
  ASSERT_EQ(listener_.delivered.size(), 4u);
  // Delivery reports of two topics come in either order; each topic's come in its own order.
  std::vector<RecordedDeliveries::Delivery> letters;
  std::vector<RecordedDeliveries::Delivery> events;
  for (const auto& delivery : listener_.delivered) {
    (delivery.kind == OutputKind::dead_letter ? letters : events).push_back(delivery);
  }
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].offset, 7);
  ASSERT_EQ(letters.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(letters[i].offset, records[i]->offset);
  EXPECT_EQ(letters[0].value, "not json 1");
  EXPECT_EQ(letters[2].value, "not json 3");
  EXPECT_LT(letters[1].value.size(), 3900u) << "cut to fit with its dlq.* headers";
  EXPECT_EQ(letters[1].value, std::string(letters[1].value.size(), 'x'));
  EXPECT_EQ(listener_.failed, 0);
  EXPECT_TRUE(listener_.failures.empty());
}

}  // namespace
}  // namespace tastesync
