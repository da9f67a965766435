#pragma once

#include <librdkafka/rdkafka.h>

#include <optional>
#include <string>

#include "kafka/kafka.hpp"

namespace tastesync {

// What became of a transaction: committed; aborted (its outputs never become visible to
// read_committed consumers, and the caller processes its records again); or a fatal error (this
// producer was fenced by a newer one with the same transactional.id, or the broker refused it
// for good): the process must stop.
enum class TransactionOutcome { committed, aborted, fatal };
struct TransactionResult {
  TransactionOutcome outcome = TransactionOutcome::committed;
  std::string reason;  // why it was aborted or is fatal
};

// The transactional side of the output producer (docs/contract.md#exactly-once): one transaction
// at a time, holding the outputs, the changelog records and the input offsets of everything
// processed since it began. librdkafka's error classes decide: retriable errors are retried
// within the timeout, "requires abort" aborts, fatal is fatal.
class OutputTransactions {
 public:
  OutputTransactions(rd_kafka_t* producer, int timeout_ms)
      : producer_(producer), timeout_ms_(timeout_ms) {}

  // InitProducerId: fences any earlier producer with this transactional.id and aborts what it
  // left open. An error is a start error.
  std::optional<std::string> init();
  // Nothing may be produced before begin(); a failure is fatal (librdkafka only fails it on a
  // fatal error or a misuse).
  std::optional<std::string> begin();
  bool open() const { return open_; }
  // Sends `offsets` (the input partitions' next offsets; may be empty) under the consumer's
  // group metadata, then commits. A commit that cannot succeed is aborted here.
  TransactionResult commit(rd_kafka_t* consumer, const rd_kafka_topic_partition_list_t& offsets);
  // Aborts the open transaction (nothing to do when none is open).
  TransactionResult abort(const std::string& reason);

 private:
  // Runs `call` until it succeeds, fails for good, or the timeout passes.
  template <typename Call>
  KafkaError retrying(Call call);
  TransactionResult failed(KafkaError error, const char* what);

  rd_kafka_t* producer_;
  int timeout_ms_;
  bool open_ = false;
};

}  // namespace tastesync
