// The exactly-once call flow (docs/contract.md#exactly-once) with the real librdkafka producer
// against the in-process mock cluster. The mock accepts transactions without enforcing them
// (docs/platform.md#mock-transactions): these tests prove the calls and how each class of broker
// error ends a transaction, never that aborted records are hidden.
#include "pipeline/output_transactions.hpp"

#include <gtest/gtest.h>

#include <string>

#include "app/dev/mock_cluster.hpp"
#include "kafka/kafka.hpp"

namespace tastesync {
namespace {

// Kafka protocol API keys of the transactional requests.
constexpr std::int16_t kAddPartitionsToTxn = 24;
constexpr std::int16_t kEndTxn = 26;

class OutputTransactionsTest : public ::testing::Test {
 protected:
  OutputTransactionsTest() {
    cluster_.create_topic("out", 2);
    cluster_.create_topic("in", 2);
    producer_ = make_kafka_handle(
        RD_KAFKA_PRODUCER, make_kafka_conf({{"bootstrap.servers", cluster_.bootstrap_servers()},
                                            {"transactional.id", "tastesync-test"},
                                            {"linger.ms", "1"}},
                                           "test"));
    consumer_ = make_kafka_handle(
        RD_KAFKA_CONSUMER, make_kafka_conf({{"bootstrap.servers", cluster_.bootstrap_servers()},
                                            {"group.id", "tastesync-test"}},
                                           "test"));
  }

  void produce(const std::string& value) {
    ASSERT_EQ(rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC("out"),
                                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  TopicPartitionList offsets(std::int64_t next_offset) {
    TopicPartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), "in", 0)->offset = next_offset;
    return list;
  }

  MockCluster cluster_;
  KafkaHandle producer_;
  KafkaHandle consumer_;
};

TEST_F(OutputTransactionsTest, OutputsAndOffsetsCommitInOneTransaction) {
  OutputTransactions transactions(producer_.get(), 10000);
  ASSERT_EQ(transactions.init(), std::nullopt);
  EXPECT_FALSE(transactions.open());
  ASSERT_EQ(transactions.begin(), std::nullopt);
  EXPECT_TRUE(transactions.open());
  produce("a");
  produce("b");
  const TransactionResult result = transactions.commit(consumer_.get(), *offsets(2));
  EXPECT_EQ(result.outcome, TransactionOutcome::committed) << result.reason;
  EXPECT_FALSE(transactions.open());
  EXPECT_EQ(rd_kafka_outq_len(producer_.get()), 0);  // commit flushed the outputs

  // The next transaction starts on the same producer.
  ASSERT_EQ(transactions.begin(), std::nullopt);
  produce("c");
  EXPECT_EQ(transactions.commit(consumer_.get(), *offsets(3)).outcome,
            TransactionOutcome::committed);
}

TEST_F(OutputTransactionsTest, AnAbortableErrorAbortsAndTheProducerGoesOn) {
  OutputTransactions transactions(producer_.get(), 10000);
  ASSERT_EQ(transactions.init(), std::nullopt);
  // Adding the output partition to the transaction is refused: librdkafka classes it abortable.
  cluster_.push_request_errors(kAddPartitionsToTxn, {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED});
  ASSERT_EQ(transactions.begin(), std::nullopt);
  produce("a");
  const TransactionResult result = transactions.commit(consumer_.get(), *offsets(1));
  EXPECT_EQ(result.outcome, TransactionOutcome::aborted);
  EXPECT_NE(result.reason.find("TOPIC_AUTHORIZATION_FAILED"), std::string::npos) << result.reason;
  EXPECT_FALSE(transactions.open());

  ASSERT_EQ(transactions.begin(), std::nullopt);
  produce("a");
  EXPECT_EQ(transactions.commit(consumer_.get(), *offsets(1)).outcome,
            TransactionOutcome::committed);
}

TEST_F(OutputTransactionsTest, AFencedProducerIsFatal) {
  OutputTransactions transactions(producer_.get(), 10000);
  ASSERT_EQ(transactions.init(), std::nullopt);
  // A newer producer with the same transactional.id took over (what a real broker answers the
  // zombie; the mock never fences by itself).
  cluster_.push_request_errors(kEndTxn, {RD_KAFKA_RESP_ERR_PRODUCER_FENCED});
  ASSERT_EQ(transactions.begin(), std::nullopt);
  produce("a");
  const TransactionResult result = transactions.commit(consumer_.get(), *offsets(1));
  EXPECT_EQ(result.outcome, TransactionOutcome::fatal);
  EXPECT_NE(result.reason.find("fenced"), std::string::npos) << result.reason;
  char reason[256];
  EXPECT_NE(rd_kafka_fatal_error(producer_.get(), reason, sizeof(reason)),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  // Nothing more goes through this producer.
  EXPECT_NE(transactions.begin(), std::nullopt);
}

TEST_F(OutputTransactionsTest, ARetriableCommitErrorIsRetried) {
  OutputTransactions transactions(producer_.get(), 10000);
  ASSERT_EQ(transactions.init(), std::nullopt);
  cluster_.push_request_errors(kEndTxn, {RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
                                         RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS});
  ASSERT_EQ(transactions.begin(), std::nullopt);
  produce("a");
  const TransactionResult result = transactions.commit(consumer_.get(), *offsets(1));
  EXPECT_EQ(result.outcome, TransactionOutcome::committed) << result.reason;
}

TEST_F(OutputTransactionsTest, AbortingWithNothingOpenIsANoOp) {
  OutputTransactions transactions(producer_.get(), 10000);
  ASSERT_EQ(transactions.init(), std::nullopt);
  EXPECT_EQ(transactions.abort("nothing").outcome, TransactionOutcome::aborted);
  EXPECT_EQ(transactions.commit(consumer_.get(), *offsets(0)).outcome,
            TransactionOutcome::committed);
}

}  // namespace
}  // namespace tastesync
