// A sink that dies inside `run` (docs/design.md, "Failures that show"): the real sink runner and
// librdkafka against the in-process mock cluster, with writers that break as a database client
// can only be made to break on purpose — by throwing out of write().
#include "sinks/sinks.hpp"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "app/dev/mock_cluster.hpp"
#include "kafka/kafka.hpp"

namespace tastesync {
namespace {

constexpr auto kWait = std::chrono::seconds(60);

// The example event of docs/contract.md#customer-identified.
const std::string kEvent =
    R"({"event_id":"10ef298c-1c10-55df-9149-b492e3cf5787","event_type":"CustomerIdentified",)"
    R"("timestamp":"2025-03-02T12:00:00.140Z","version":"v1","data":{"customer_id":"cust123",)"
    R"("location":"Table 3","confidence":0.95,"beacon":{"uuid":)"
    R"("550e8400-e29b-41d4-a716-446655440000","major":100,"minor":13,"rssi":-50},)"
    R"("detected_at":"2025-03-02T12:00:00.123Z","store_id":"store100","location_type":"table",)"
    R"("source":"beacon","beacon_id":"bc0c82d4-d881-5fe0-a68c-3ed7c3562715",)"
    R"("sighting_id":"0b7c7f4e-4b8e-4a51-9d0c-2f1f5d3e9a10","identification":"arrival"}})";

// What the writers of one sink share across its restarts.
struct Ledger {
  std::mutex mutex;
  int throws_left = 0;
  std::exception_ptr error;  // thrown while throws_left > 0
  std::vector<std::string> written;
};

class BreakingWriter : public SinkWriter {
 public:
  explicit BreakingWriter(std::shared_ptr<Ledger> ledger) : ledger_(std::move(ledger)) {}
  std::string_view name() const override { return "redis"; }
  Result<SinkWriteResult, SinkError> write(std::span<const SinkEvent> events,
                                           EpochMs /*now_ms*/) override {
    const std::lock_guard lock(ledger_->mutex);
    if (ledger_->throws_left > 0) {
      --ledger_->throws_left;
      std::rethrow_exception(ledger_->error);
    }
    for (const SinkEvent& event : events) ledger_->written.push_back(event.event_id);
    return SinkWriteResult{};
  }

 private:
  std::shared_ptr<Ledger> ledger_;
};

class SinkSupervision : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.create_topic("customer-events", 3);
    cluster_.create_topic("customer-events-sink-dlq", 3);
    config_.kafka.brokers = cluster_.bootstrap_servers();
    config_.kafka.group_id = "supervision";
    config_.sink.batch_max_wait_ms = 10;
    health_->set_ready(true);
    produce("cust123", kEvent);
  }

  void produce(const std::string& key, const std::string& value) {
    const KafkaHandle producer = make_kafka_handle(
        RD_KAFKA_PRODUCER, make_kafka_conf({{"bootstrap.servers", cluster_.bootstrap_servers()},
                                            {"message.max.bytes", "4000000"}},
                                           "test producer"));
    ASSERT_EQ(rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC("customer-events"),
                                RD_KAFKA_V_PARTITION(0),
                                RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
                                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(rd_kafka_flush(producer.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  // The first record of the sink's dead-letter topic: its key size and headers.
  std::optional<std::pair<std::size_t, std::vector<std::pair<std::string, std::string>>>>
  first_dead_letter() {
    const KafkaHandle consumer = make_kafka_handle(
        RD_KAFKA_CONSUMER, make_kafka_conf({{"bootstrap.servers", cluster_.bootstrap_servers()},
                                            {"group.id", "dlq-reader"},
                                            {"enable.auto.commit", "false"}},
                                           "test consumer"));
    const TopicPartitionList partitions(rd_kafka_topic_partition_list_new(3));
    for (int p = 0; p < 3; ++p) {
      rd_kafka_topic_partition_list_add(partitions.get(), "customer-events-sink-dlq", p)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(consumer.get(), partitions.get());
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    std::optional<std::pair<std::size_t, std::vector<std::pair<std::string, std::string>>>> found;
    while (!found && std::chrono::steady_clock::now() < deadline) {
      const KafkaMessage message(rd_kafka_consumer_poll(consumer.get(), 200));
      if (!message || message->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      std::vector<std::pair<std::string, std::string>> headers;
      for (const HeaderView& header : record_bytes(*message).headers) {
        headers.emplace_back(header.name, header.value.value_or(""));
      }
      found = std::make_pair(message->key_len, headers);
    }
    rd_kafka_consumer_close(consumer.get());
    return found;
  }

  std::unique_ptr<Sinks> start(std::function<void()> on_failure = {}) {
    return std::make_unique<Sinks>(
        config_, std::vector<SinkKind>{SinkKind::redis},
        [ledger = ledger_](SinkKind) { return std::make_unique<BreakingWriter>(ledger); }, metrics_,
        health_, std::move(on_failure));
  }

  double restarts() {
    const std::string text = prometheus::TextSerializer().Serialize(metrics_.Collect());
    const std::string series = R"(tastesync_sink_restarts_total{sink="redis"} )";
    const auto at = text.find(series);
    return at == std::string::npos ? 0 : std::stod(text.substr(at + series.size()));
  }

  template <typename Condition>
  static bool eventually(Condition condition, std::chrono::milliseconds timeout = kWait) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  MockCluster cluster_;
  Config config_;
  prometheus::Registry metrics_;
  std::shared_ptr<Health> health_ = std::make_shared<Health>();
  std::shared_ptr<Ledger> ledger_ = std::make_shared<Ledger>();
};

TEST_F(SinkSupervision, ASinkThatDiesIsNotReadyCountedAndStartedAgain) {
  ledger_->throws_left = 1;
  ledger_->error = std::make_exception_ptr(std::runtime_error("the client library broke"));
  const auto sinks = start();
  // Down for the backoff (at least half a second): /readyz says so.
  ASSERT_TRUE(eventually([&] { return !health_->ready(); })) << "never reported down";
  EXPECT_EQ(restarts(), 1.0);
  // Started again, it writes the event the first one died on.
  ASSERT_TRUE(eventually([&] {
    const std::lock_guard lock(ledger_->mutex);
    return !ledger_->written.empty();
  }));
  EXPECT_TRUE(health_->ready());
  const std::lock_guard lock(ledger_->mutex);
  EXPECT_EQ(ledger_->written.front(), "10ef298c-1c10-55df-9149-b492e3cf5787");
}

TEST_F(SinkSupervision, ASinkStoppedByRefusedCredentialsEndsTheProcessInsteadOfRestarting) {
  ledger_->throws_left = 1;
  ledger_->error = std::make_exception_ptr(ConfigError("redis.password: refused"));
  std::atomic<bool> failed{false};
  const auto sinks = start([&failed] { failed = true; });
  ASSERT_TRUE(eventually([&] { return failed.load(); }));
  EXPECT_EQ(restarts(), 0.0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a restart would have written
  const std::lock_guard lock(ledger_->mutex);
  EXPECT_TRUE(ledger_->written.empty());
}

TEST_F(SinkSupervision, ARecordTooLargeToForwardReachesTheSinksDlqCutAndTheSinkGoesOn) {
  // Not an event at all, with a 1 MiB key: its dead letter must fit message.max.bytes.
  const std::string key(1 << 20, 'k');
  produce(key, "not an event");
  produce("cust123", kEvent);
  const auto sinks = start();
  ASSERT_TRUE(eventually([&] {
    const std::lock_guard lock(ledger_->mutex);
    return ledger_->written.size() >= 2;
  })) << "the sink stopped at the record it could not read";
  const auto letter = first_dead_letter();
  ASSERT_TRUE(letter.has_value());
  EXPECT_LT(letter->first, key.size());
  std::map<std::string, std::string> headers(letter->second.begin(), letter->second.end());
  EXPECT_EQ(headers["dlq.truncated"], "key");
  EXPECT_EQ(headers["dlq.original.key.bytes"], std::to_string(key.size()));
  EXPECT_NE(headers["dlq.reason"].find("unreadable"), std::string::npos) << headers["dlq.reason"];
  EXPECT_EQ(restarts(), 0.0);
}

}  // namespace
}  // namespace tastesync
