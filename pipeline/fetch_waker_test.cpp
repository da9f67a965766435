// FetchWaker (docs/design.md#fetch-wake): a real consumer whose queue limit is far below the
// backlog, against the in-process mock cluster. Without a wake, librdkafka 2.0.2's fetcher waits
// up to 1 s each time the queue was full; these tests assert what the waker does and that no
// record is lost or reordered, never how fast.
#include "pipeline/fetch_waker.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "app/dev/mock_cluster.hpp"
#include "config/config.hpp"
#include "pipeline/input_consumer.hpp"
#include "tests/support/kafka_client.hpp"

namespace tastesync {
namespace {

constexpr int kPartitions = 4;
constexpr std::size_t kQueueLimit = 300;
constexpr std::size_t kTake = 50;
constexpr auto kDeadline = std::chrono::seconds(120);

KafkaHandle limited_consumer(const std::string& brokers, const std::string& group,
                             std::size_t queue_limit) {
  KafkaConf conf = make_kafka_conf(
      {
          {"bootstrap.servers", brokers},
          {"group.id", group},
          {"enable.auto.commit", "false"},
          {"auto.offset.reset", "earliest"},
          {"queued.min.messages", std::to_string(queue_limit)},
          {"fetch.wait.max.ms", "10"},
      },
      "fetch waker test");
  KafkaHandle handle = make_kafka_handle(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(handle.get());
  return handle;
}

void assign_all(rd_kafka_t* consumer, const std::string& topic) {
  const TopicPartitionList partitions(rd_kafka_topic_partition_list_new(kPartitions));
  for (int p = 0; p < kPartitions; ++p) {
    rd_kafka_topic_partition_list_add(partitions.get(), topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  ASSERT_EQ(rd_kafka_assign(consumer, partitions.get()), RD_KAFKA_RESP_ERR_NO_ERROR);
}

class FetchWakerBacklog : public ::testing::Test {
 protected:
  FetchWakerBacklog() {
    cluster_.create_topic("raw-beacons", kPartitions);
    testing::TestProducer producer(cluster_.bootstrap_servers());
    // In chunks: the mock answers a fetch with one produced batch per partition, so small
    // batches make a fetch bring ~kChunk records and the backlog take many fetches.
    for (int first = 0; first < kRecords; first += kChunk) {
      std::vector<testing::OutgoingRecord> records;
      for (int i = first; i < first + kChunk; ++i) {
        records.push_back({.key = std::to_string(i / kPartitions),
                           .value = "record-" + std::to_string(i),
                           .partition = i % kPartitions});
      }
      producer.produce_all("raw-beacons", records);
    }
  }

  static constexpr int kRecords = 6000;
  static constexpr int kChunk = 200;
  MockCluster cluster_;
};

// Every record, each partition in offset order, once, with the fetcher stopped by the full queue
// again and again and woken.
TEST_F(FetchWakerBacklog, WakesTheFetcherEachTimeTheQueueWasFullAndLosesNothing) {
  const KafkaHandle consumer = limited_consumer(cluster_.bootstrap_servers(), "waker", kQueueLimit);
  assign_all(consumer.get(), "raw-beacons");
  FetchWaker waker(consumer.get(), {.queue_limit = kQueueLimit});

  std::map<std::int32_t, std::int64_t> next_offset;
  int consumed = 0;
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (consumed < kRecords && std::chrono::steady_clock::now() < deadline) {
    waker.before_take(kTake);
    for (std::size_t taken = 0; taken < kTake; ++taken) {
      const KafkaMessage message(rd_kafka_consumer_poll(consumer.get(), taken == 0 ? 100 : 0));
      if (!message) break;
      ASSERT_EQ(message->err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_message_errstr(message.get());
      ASSERT_EQ(message->offset, next_offset[message->partition])
          << "partition " << message->partition;
      next_offset[message->partition] = message->offset + 1;
      ++consumed;
    }
    // Slower than the fetcher, so the queue fills to the limit between takes.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(consumed, kRecords);
  for (int p = 0; p < kPartitions; ++p) {
    EXPECT_EQ(next_offset[p], kRecords / kPartitions) << "partition " << p;
  }
  EXPECT_GT(waker.wakes(), 0u);
  RecordProperty("wakes", static_cast<int>(waker.wakes()));
}

// A consumer that keeps up never fills its queue: nothing to wake, no request sent.
TEST(FetchWaker, NeverWakesAConsumerWhoseQueueStaysShort) {
  MockCluster cluster;
  cluster.create_topic("raw-beacons", kPartitions);
  const KafkaHandle consumer = limited_consumer(cluster.bootstrap_servers(), "idle", kQueueLimit);
  assign_all(consumer.get(), "raw-beacons");
  FetchWaker waker(consumer.get(), {.queue_limit = kQueueLimit});
  testing::TestProducer producer(cluster.bootstrap_servers());
  int consumed = 0;
  for (int i = 0; i < 20; ++i) {
    producer.produce("raw-beacons", {.key = "k", .value = "v", .partition = i % kPartitions});
    waker.before_take(kTake);
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (consumed <= i && std::chrono::steady_clock::now() < deadline) {
      const KafkaMessage message(rd_kafka_consumer_poll(consumer.get(), 100));
      if (message && message->err == RD_KAFKA_RESP_ERR_NO_ERROR) ++consumed;
    }
  }
  EXPECT_EQ(consumed, 20);
  EXPECT_EQ(waker.wakes(), 0u);
}

// The pipeline's own consumer: its queued.min.messages (here overridden far below a backlog)
// drives the waker it starts, and it reads the whole backlog in order.
TEST_F(FetchWakerBacklog, TheInputConsumerReadsABacklogFarAboveItsQueueLimit) {
  class Listener : public AssignmentListener {
   public:
    void on_assigned(rd_kafka_topic_partition_list_t& /*partitions*/) override {}
    void on_revoked(const rd_kafka_topic_partition_list_t& /*partitions*/, bool /*lost*/) override {
    }
    void on_callback_failed(const std::string& /*reason*/) override {}
  } listener;
  Config config;
  config.kafka.brokers = cluster_.bootstrap_servers();
  config.kafka.group_id = "input-consumer-waker";
  config.kafka.consumer_mode = ConsumerMode::assign;
  config.kafka.properties["queued.min.messages"] = std::to_string(kQueueLimit);
  InputConsumer consumer(config, listener, nullptr);
  consumer.start(kPartitions);

  std::map<std::int32_t, std::int64_t> next_offset;
  int consumed = 0;
  std::vector<KafkaMessage> batch;
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (consumed < kRecords && std::chrono::steady_clock::now() < deadline) {
    batch.clear();
    consumer.consume(batch, kTake, 100);
    for (const auto& message : batch) {
      ASSERT_EQ(message->err, RD_KAFKA_RESP_ERR_NO_ERROR);
      ASSERT_EQ(message->offset, next_offset[message->partition]);
      next_offset[message->partition] = message->offset + 1;
      ++consumed;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(consumed, kRecords);
  EXPECT_GT(consumer.fetch_wakes(), 0u);
  EXPECT_TRUE(consumer.close_within(10000));
}

}  // namespace
}  // namespace tastesync
