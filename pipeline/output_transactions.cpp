#include "pipeline/output_transactions.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

namespace tastesync {
namespace {

std::string describe(const rd_kafka_error_t* error) {
  return std::string(rd_kafka_error_name(error)) + ": " + rd_kafka_error_string(error);
}

}  // namespace

template <typename Call>
KafkaError OutputTransactions::retrying(Call call) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
  while (true) {
    KafkaError error(call());
    if (!error || !rd_kafka_error_is_retriable(error.get()) ||
        std::chrono::steady_clock::now() >= deadline) {
      return error;
    }
    // librdkafka's advice for a retriable error: call again (the same call is idempotent).
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::optional<std::string> OutputTransactions::init() {
  KafkaError error = retrying([&] { return rd_kafka_init_transactions(producer_, timeout_ms_); });
  if (!error) return std::nullopt;
  return "initialising transactions: " + describe(error.get());
}

std::optional<std::string> OutputTransactions::begin() {
  KafkaError error(rd_kafka_begin_transaction(producer_));
  if (error) return "beginning a transaction: " + describe(error.get());
  open_ = true;
  return std::nullopt;
}

TransactionResult OutputTransactions::commit(rd_kafka_t* consumer,
                                             const rd_kafka_topic_partition_list_t& offsets) {
  if (!open_) return {};
  if (offsets.cnt > 0) {
    // The group's generation travels with the offsets: a member the group has moved on from
    // cannot commit them (KIP-447 fencing on a real broker).
    const GroupMetadata group(rd_kafka_consumer_group_metadata(consumer));
    KafkaError error = retrying([&] {
      return rd_kafka_send_offsets_to_transaction(producer_, &offsets, group.get(), timeout_ms_);
    });
    if (error) return failed(std::move(error), "sending the offsets");
  }
  KafkaError error = retrying([&] { return rd_kafka_commit_transaction(producer_, timeout_ms_); });
  if (error) return failed(std::move(error), "committing");
  open_ = false;
  return {};
}

TransactionResult OutputTransactions::failed(KafkaError error, const char* what) {
  std::string reason = std::string(what) + " the transaction: " + describe(error.get());
  if (rd_kafka_error_is_fatal(error.get())) {
    open_ = false;
    return {TransactionOutcome::fatal, std::move(reason)};
  }
  // Abortable, or retriable past the timeout: either way these outputs must never count.
  return abort(reason);
}

TransactionResult OutputTransactions::abort(const std::string& reason) {
  if (!open_) return {TransactionOutcome::aborted, reason};
  KafkaError error = retrying([&] { return rd_kafka_abort_transaction(producer_, timeout_ms_); });
  open_ = false;
  if (error) {
    // An abort that cannot finish leaves the producer unusable: a restart's InitProducerId
    // aborts the transaction instead.
    return {TransactionOutcome::fatal, reason + "; aborting it: " + describe(error.get())};
  }
  spdlog::warn("transaction aborted ({}); its records are processed again", reason);
  return {TransactionOutcome::aborted, reason};
}

}  // namespace tastesync
