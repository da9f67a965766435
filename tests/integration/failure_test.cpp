// The failure behaviour of docs/contract.md#delivery, driven in-process so the mock cluster's
// fault injection reaches the broker: a failed event delivery stops the pipeline with nothing
// committed past it, a dead letter Kafka refuses holds only its own partition, and a missing topic
// fails the start.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <thread>

#include "app/dev/mock_cluster.hpp"
#include "pipeline/pipeline.hpp"
#include "registry/registry_source.hpp"
#include "state/state_store.hpp"
#include "tests/support/broker_test.hpp"

namespace tastesync::testing {
namespace {

constexpr std::int16_t kProduceApiKey = 0;
constexpr auto kWait = std::chrono::seconds(60);

class Failure : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* topic : {"raw-beacons", "customer-events", "raw-beacons-dlq"}) {
      mock_.create_topic(topic, kPartitions);
    }
    config_.kafka.brokers = mock_.bootstrap_servers();
    config_.kafka.group_id = "failure-test";
    config_.kafka.consumer_mode = ConsumerMode::assign;
    config_.kafka.properties.insert_or_assign("auto.commit.interval.ms", std::string("200"));
    config_.state.dir = (dir_.path() / "state").string();
    config_.shutdown.timeout_ms = 5000;
  }

  // Runs the pipeline on its own thread; the future holds Pipeline::run's exit code.
  std::future<int> start() {
    pipeline_ = std::make_unique<Pipeline>(config_, builtin_registry(),
                                           std::make_shared<prometheus::Registry>(),
                                           std::make_shared<Health>(), nullptr);
    std::promise<int> exit_code;
    auto result = exit_code.get_future();
    worker_ =
        std::jthread([this, promise = std::move(exit_code)](const std::stop_token& stop) mutable {
          try {
            promise.set_value(pipeline_->run(stop));
          } catch (...) {
            promise.set_exception(std::current_exception());
          }
        });
    return result;
  }

  void stop() {
    worker_.request_stop();
    worker_.join();
  }

  Delivery produce(const std::string& key, const std::string& value, std::int64_t timestamp_ms) {
    return producer_.produce(
        "raw-beacons", OutgoingRecord{.key = key, .value = value, .timestamp_ms = timestamp_ms});
  }

  // The group's committed offset of a partition (negative: none).
  std::int64_t committed(std::int32_t partition) {
    const KafkaHandle reader(
        make_kafka_handle(RD_KAFKA_CONSUMER,
                          make_kafka_conf({{"bootstrap.servers", mock_.bootstrap_servers()},
                                           {"group.id", config_.kafka.group_id}},
                                          "test"))
            .release());
    const TopicPartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), "raw-beacons", partition);
    EXPECT_EQ(rd_kafka_committed(reader.get(), list.get(), 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    return list->elems[0].offset;
  }

  static constexpr int kPartitions = 2;
  MockCluster mock_;
  TempDir dir_;
  Config config_;
  TestProducer producer_{mock_.bootstrap_servers()};
  std::unique_ptr<Pipeline> pipeline_;
  std::jthread worker_;
};

std::string sighting(const std::string& id, const std::string& customer,
                     std::int64_t detected_at_ms = kT0) {
  return to_json(BeaconSighting{.sighting_id = id,
                                .customer_id = customer,
                                .minor = 13,
                                .detected_at = canonical_time(detected_at_ms)});
}

TEST_F(Failure, AnEventKafkaRefusesStopsThePipelineWithNothingCommittedPastIt) {
  const Delivery first = produce("cust-a", sighting("fail-1", "cust-a"), kT0 + 50);
  mock_.push_request_errors(kProduceApiKey, std::vector<rd_kafka_resp_err_t>(
                                                20, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED));
  auto exit_code = start();
  ASSERT_EQ(exit_code.wait_for(kWait), std::future_status::ready) << "the pipeline kept running";
  EXPECT_EQ(exit_code.get(), kExitFailed);
  worker_.join();
  pipeline_.reset();

  EXPECT_LE(committed(first.partition), first.offset) << "committed past an undelivered event";
  StateStoreOptions options;
  options.dir = config_.state.dir;
  options.input_topic = "raw-beacons";
  auto store = StateStore::open(options);
  ASSERT_TRUE(store.ok()) << store.error().message;
  const auto checkpoint = (*store)->checkpoint(first.partition);
  ASSERT_TRUE(checkpoint.ok());
  if (checkpoint->has_value()) {
    EXPECT_LE((*checkpoint)->next_offset, first.offset);
  }
}

TEST_F(Failure, ADeadLetterKafkaRefusesHoldsOnlyItsOwnPartition) {
  const std::string key_0 = sentinel_in_partition_of("x", kPartitions);
  std::string key_1 = "cust-other";
  while (murmur2_partition(key_1, kPartitions) == murmur2_partition(key_0, kPartitions)) {
    key_1 += "+";
  }
  config_.kafka.properties.insert_or_assign("message.timeout.ms", std::string("2000"));
  auto exit_code = start();
  // Running (the start-up check would refuse the topic), then the DLQ becomes unwritable.
  produce(key_1, sighting("dlq-warm-up", key_1), kT0 + 10);
  TopicReader events(mock_.bootstrap_servers(), "customer-events");
  ASSERT_TRUE(events.read_until(
      [](const std::vector<Record>& records) {
        return event_of_sighting(records, "dlq-warm-up") != nullptr;
      },
      kWait));
  for (int partition = 0; partition < kPartitions; ++partition) {
    mock_.set_partition_leader("raw-beacons-dlq", partition, -1);
  }
  const Delivery bad = produce(key_0, "not json", kT0 + 50);
  const Delivery after_bad = produce(key_0, sighting("dlq-after", key_0), kT0 + 60);
  // A minute after the warm-up: a still_here, not a suppressed repeat.
  const Delivery other = produce(key_1, sighting("dlq-other", key_1, kT0 + 61000), kT0 + 61050);
  ASSERT_EQ(after_bad.partition, bad.partition);
  ASSERT_NE(other.partition, bad.partition);

  // Records keep being processed on both partitions...
  ASSERT_TRUE(events.read_until(
      [](const std::vector<Record>& records) {
        return event_of_sighting(records, "dlq-after") != nullptr &&
               event_of_sighting(records, "dlq-other") != nullptr;
      },
      kWait));
  // ...the other partition commits past its record; this one stays before its dead letter.
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (committed(other.partition) <= other.offset &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_GT(committed(other.partition), other.offset);
  std::this_thread::sleep_for(std::chrono::seconds(3));  // several failed retries
  EXPECT_LE(committed(bad.partition), bad.offset) << "committed past an undelivered dead letter";

  // Once Kafka takes the dead letter again, the partition catches up.
  for (int partition = 0; partition < kPartitions; ++partition) {
    mock_.set_partition_leader("raw-beacons-dlq", partition, 1);
  }
  while (committed(bad.partition) <= after_bad.offset &&
         std::chrono::steady_clock::now() < deadline + kWait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_GT(committed(bad.partition), after_bad.offset);
  TopicReader dead_letters(mock_.bootstrap_servers(), "raw-beacons-dlq");
  EXPECT_TRUE(dead_letters.read_at_least(1, kWait));
  EXPECT_EQ(dead_letters.records().front().value, std::optional<std::string>("not json"));
  stop();
  EXPECT_EQ(exit_code.get(), kExitClean);
}

TEST_F(Failure, ARecordTooLargeToForwardGoesToTheDlqTruncatedAndThePartitionFlows) {
  // Under librdkafka's 1 000 000-byte message limit, but not with the dlq.* headers added.
  const std::string huge(999800, 'x');
  const Delivery poison = produce("cust-huge", huge, kT0 + 50);
  const Delivery after = produce("cust-huge", sighting("after-huge", "cust-huge"), kT0 + 60);
  ASSERT_EQ(after.partition, poison.partition);
  auto exit_code = start();

  TopicReader events(mock_.bootstrap_servers(), "customer-events");
  ASSERT_TRUE(events.read_until(
      [](const std::vector<Record>& records) {
        return event_of_sighting(records, "after-huge") != nullptr;
      },
      kWait));
  TopicReader dead_letters(mock_.bootstrap_servers(), "raw-beacons-dlq");
  ASSERT_TRUE(dead_letters.read_at_least(1, kWait));
  const Record& dead_letter = dead_letters.records().front();
  EXPECT_EQ(dead_letter.header_text("dlq.error.code"), "too_large");
  EXPECT_EQ(dead_letter.header_text("dlq.truncated"), "value");
  EXPECT_EQ(dead_letter.header_text("dlq.original.value.bytes"), std::to_string(huge.size()));
  ASSERT_TRUE(dead_letter.value.has_value());
  // Cut only as much as the dlq.* headers need (docs/design.md, "Dead letters that always fit").
  EXPECT_LT(dead_letter.value->size(), huge.size());
  EXPECT_GT(dead_letter.value->size(), huge.size() - 8192);
  EXPECT_TRUE(huge.starts_with(*dead_letter.value)) << "not the beginning of the original";
  stop();
  EXPECT_EQ(exit_code.get(), kExitClean);
}

TEST_F(Failure, StaleLocalStateNeverRewindsTheGroup) {
  const auto run_until_caught_up = [&](const std::string& state, int first, int last) {
    config_.state.dir = (dir_.path() / state).string();
    auto exit_code = start();
    for (int i = first; i < last; ++i) {
      // One customer per record, so every record is an arrival: one event each.
      const std::string customer = "cust-" + std::to_string(i);
      const Delivery delivery =
          produce(customer, sighting("stale-" + std::to_string(i), customer), kT0 + 50);
      (void)delivery;
    }
    TopicReader events(mock_.bootstrap_servers(), "customer-events");
    const std::string last_id = "stale-" + std::to_string(last - 1);
    ASSERT_TRUE(events.read_until(
        [&](const std::vector<Record>& records) {
          return event_of_sighting(records, last_id) != nullptr;
        },
        kWait));
    std::this_thread::sleep_for(std::chrono::seconds(1));  // the commit trails delivery
    stop();
    EXPECT_EQ(exit_code.get(), kExitClean);
  };
  run_until_caught_up("instance-a", 0, 10);   // A's state stops here...
  run_until_caught_up("instance-b", 10, 20);  // ...the group moves on without it...
  run_until_caught_up("instance-a", 20, 30);  // ...and A comes back.

  TopicReader events(mock_.bootstrap_servers(), "customer-events");
  events.read_to_end();
  std::map<std::string, int> events_per_sighting;
  for (const Record& record : events.records()) {
    ++events_per_sighting[json_string(parse_json(record.value), "/data/sighting_id")];
  }
  EXPECT_EQ(events_per_sighting.size(), 30u);
  for (const auto& [sighting_id, count] : events_per_sighting) {
    EXPECT_EQ(count, 1) << sighting_id << " was emitted again: the group was rewound";
  }
}

TEST_F(Failure, AMissingOutputTopicFailsTheStartNamingIt) {
  mock_.set_topic_error("customer-events", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  pipeline_ = std::make_unique<Pipeline>(config_, builtin_registry(),
                                         std::make_shared<prometheus::Registry>(),
                                         std::make_shared<Health>(), nullptr);
  try {
    (void)pipeline_->run(std::stop_token{});
    FAIL() << "the pipeline started without its output topic";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("kafka.output_topic"), std::string::npos)
        << error.what();
    EXPECT_NE(std::string(error.what()).find("customer-events"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace tastesync::testing
