// Bad input goes to the DLQ with its original bytes, key and headers, plus the dlq.* headers
// (docs/contract.md#dead-letters, #sighting-errors), and never stops its partition.
#include <gtest/gtest.h>

#include <set>

#include "tests/support/broker_test.hpp"

namespace tastesync::testing {
namespace {

constexpr const char* kCustomer = "cust-dlq";
constexpr const char* kSourceTopic = "raw-beacons";

struct Produced {
  OutgoingRecord record;
  Delivery delivery;
};

class DeadLetterQueue : public BrokerTest {
 protected:
  void SetUp() override {
    start_broker();
    pipeline_ = start_pipeline(pipeline_options("pipeline", "main"));
    // Every record goes to the customer's partition, the keyless and mis-keyed ones explicitly,
    // so the good record produced last proves the partition kept flowing past all of them.
    partition_ = murmur2_partition(kCustomer, 6);
    not_json_ = send({.key = kCustomer, .value = std::string("not json \x01 at all")});
    std::string invalid_utf8 = valid_value("dlq-utf8");
    invalid_utf8.replace(invalid_utf8.find("dlq-utf8"), 8, std::string("dlq-\xff\xfe-utf8"));
    invalid_utf8_ = send({.key = kCustomer, .value = invalid_utf8});
    null_key_ = send({.key = std::nullopt, .value = valid_value("dlq-null-key")});
    key_mismatch_ = send({.key = "someone-else", .value = valid_value("dlq-mismatch")});
    with_headers_ = send({.key = kCustomer,
                          .value = std::string(R"({"sighting_id": )"),
                          .headers = {{"trace-id", "abc-123"},
                                      {"binary", std::string("\x00\x01\xff", 3)},
                                      {"null-header", std::nullopt},
                                      {"trace-id", "second"}}});
    null_value_ = send({.key = kCustomer, .value = std::nullopt});

    dead_letters_ = std::make_unique<TopicReader>(brokers(), "raw-beacons-dlq");
    ASSERT_TRUE(dead_letters_->read_at_least(6, kOutputTimeout))
        << dead_letters_->records().size() << " dead letters";
  }

  static std::string valid_value(const std::string& sighting_id) {
    return to_json(BeaconSighting{.sighting_id = sighting_id,
                                  .customer_id = kCustomer,
                                  .detected_at = "2025-03-02T12:00:00.000Z"});
  }

  Produced send(OutgoingRecord record) {
    record.partition = partition_;
    record.timestamp_ms = epoch_ms("2025-03-02T12:00:00.000Z") + 50 + sent_++;
    const Delivery delivery = producer().produce(kSourceTopic, record);
    return Produced{std::move(record), delivery};
  }

  // The dead letter whose dlq.source.* headers point at `sent`, or null.
  const Record* dead_letter_of(const Produced& sent) const {
    for (const Record& record : dead_letters_->records()) {
      if (record.header_text("dlq.source.partition") == std::to_string(sent.delivery.partition) &&
          record.header_text("dlq.source.offset") == std::to_string(sent.delivery.offset)) {
        return &record;
      }
    }
    return nullptr;
  }

  std::unique_ptr<PipelineProcess> pipeline_;
  std::int32_t partition_ = -1;
  int sent_ = 0;
  Produced not_json_, invalid_utf8_, null_key_, key_mismatch_, with_headers_, null_value_;
  std::unique_ptr<TopicReader> dead_letters_;
};

TEST_F(DeadLetterQueue, NotJsonGoesToTheDlqByteForByte) {
  const Record* dead = dead_letter_of(not_json_);
  ASSERT_NE(dead, nullptr);
  EXPECT_EQ(dead->key, not_json_.record.key);
  EXPECT_EQ(dead->value, not_json_.record.value);
  EXPECT_EQ(dead->header_text("dlq.error.code"), "invalid_json");
}

TEST_F(DeadLetterQueue, InvalidUtf8GoesToTheDlqByteForByte) {
  const Record* dead = dead_letter_of(invalid_utf8_);
  ASSERT_NE(dead, nullptr);
  EXPECT_EQ(dead->key, invalid_utf8_.record.key);
  EXPECT_EQ(dead->value, invalid_utf8_.record.value);
  EXPECT_EQ(dead->header_text("dlq.error.code"), "invalid_utf8");
}

TEST_F(DeadLetterQueue, NullKeyStaysNullInTheDlq) {
  const Record* dead = dead_letter_of(null_key_);
  ASSERT_NE(dead, nullptr);
  EXPECT_FALSE(dead->key.has_value()) << "key: " << dead->key.value_or("");
  EXPECT_EQ(dead->value, null_key_.record.value);
  EXPECT_EQ(dead->header_text("dlq.error.code"), "key_mismatch");
}

TEST_F(DeadLetterQueue, KeyMismatchKeepsTheRecordsOwnKey) {
  const Record* dead = dead_letter_of(key_mismatch_);
  ASSERT_NE(dead, nullptr);
  EXPECT_EQ(dead->key, "someone-else");
  EXPECT_EQ(dead->value, key_mismatch_.record.value);
  EXPECT_EQ(dead->header_text("dlq.error.code"), "key_mismatch");
}

TEST_F(DeadLetterQueue, NullValueStaysNullInTheDlq) {
  const Record* dead = dead_letter_of(null_value_);
  ASSERT_NE(dead, nullptr);
  EXPECT_FALSE(dead->value.has_value()) << "value: " << dead->value.value_or("");
  EXPECT_EQ(dead->key, kCustomer);
  EXPECT_EQ(dead->header_text("dlq.error.code"), "invalid_json");
}

TEST_F(DeadLetterQueue, OriginalHeadersAreKeptInOrderBeforeTheDlqHeaders) {
  const Record* dead = dead_letter_of(with_headers_);
  ASSERT_NE(dead, nullptr);
  const std::vector<Header>& original = with_headers_.record.headers;
  ASSERT_GE(dead->headers.size(), original.size());
  EXPECT_EQ(
      std::vector<Header>(dead->headers.begin(),
                          dead->headers.begin() + static_cast<std::ptrdiff_t>(original.size())),
      original);
  std::multiset<std::string> added;
  for (std::size_t i = original.size(); i < dead->headers.size(); ++i) {
    added.insert(dead->headers[i].name);
  }
  EXPECT_EQ(added, (std::multiset<std::string>{"dlq.error.code", "dlq.error.message",
                                               "dlq.source.topic", "dlq.source.partition",
                                               "dlq.source.offset", "dlq.source.timestamp"}));
  EXPECT_EQ(dead->value, with_headers_.record.value);
}

TEST_F(DeadLetterQueue, EveryDeadLetterNamesItsSourceRecordAndReason) {
  for (const Produced* sent :
       {&not_json_, &invalid_utf8_, &null_key_, &key_mismatch_, &with_headers_, &null_value_}) {
    const Record* dead = dead_letter_of(*sent);
    ASSERT_NE(dead, nullptr) << "offset " << sent->delivery.offset;
    EXPECT_EQ(dead->header_text("dlq.source.topic"), kSourceTopic);
    EXPECT_EQ(dead->header_text("dlq.source.partition"), std::to_string(partition_));
    EXPECT_EQ(dead->header_text("dlq.source.timestamp"),
              std::to_string(*sent->record.timestamp_ms));
    EXPECT_FALSE(dead->header_text("dlq.error.message").empty());
  }
  EXPECT_EQ(dead_letters_->records().size(), 6u) << "each bad record goes to the DLQ once";
}

TEST_F(DeadLetterQueue, PartitionKeepsFlowingAfterBadRecords) {
  const Delivery good = produce_sighting(BeaconSighting{.sighting_id = "dlq-good",
                                                        .customer_id = kCustomer,
                                                        .detected_at = "2025-03-02T12:00:10.000Z"});
  ASSERT_EQ(good.partition, partition_);
  ASSERT_GT(good.offset, null_value_.delivery.offset);
  TopicReader events(brokers(), "customer-events");
  EXPECT_TRUE(events.read_until(
      [](const std::vector<Record>& records) {
        return event_of_sighting(records, "dlq-good") != nullptr;
      },
      kOutputTimeout));
}

}  // namespace
}  // namespace tastesync::testing
