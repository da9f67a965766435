// processing.guarantee exactly_once (docs/contract.md#exactly-once): the parts of the pipeline
// loop that commit, abort and rewind its transactions. They share the partition slots with
// pipeline.cpp and run on the same thread.
#include <spdlog/spdlog.h>

#include "common/clock.hpp"
#include "pipeline/pipeline.hpp"

namespace tastesync {
namespace {

// Transactions aborted in a row before the pipeline stops: an output the broker refuses every
// time (e.g. larger than its message.max.bytes) would otherwise be retried forever, unseen.
constexpr int kMaxAbortsInARow = 5;

}  // namespace

void Pipeline::commit_transaction() {
  if (!transactions_ || !transactions_->open()) return;
  const std::int64_t started_ns = steady_ns();
  // A pipeline that failed commits nothing more.
  if (fatal_ && !doomed_) doomed_ = *fatal_;
  // A stop that came while an output waited for room in the queue: records after it have
  // outputs in this transaction but offsets behind it, and would come out twice after the
  // restart.
  if (undelivered_at_stop_ && !doomed_) doomed_ = "stopped before every output was produced";
  // Every delivery report first: the offsets sent must be of records whose outputs are all in
  // the log (a failed one dooms the transaction).
  if (!doomed_ && !producer_->flush(kTransactionTimeoutMs)) {
    doomed_ = "outputs not delivered within " + std::to_string(kTransactionTimeoutMs) + " ms";
  }
  TransactionResult result;
  if (!doomed_) {
    collect_checkpoints();
    if (learned_level_feed_) learned_ = batch_.room_levels();
    produce_changelog();
  }
  if (fatal_ && !doomed_) doomed_ = *fatal_;
  if (!doomed_) {
    const TopicPartitionList offsets(
        rd_kafka_topic_partition_list_new(static_cast<int>(advanced_.size())));
    for (const auto& [partition, next_offset] : advanced_) {
      rd_kafka_topic_partition_list_add(offsets.get(), config_.kafka.input_topic.c_str(), partition)
          ->offset = next_offset;
    }
    result = transactions_->commit(consumer_->handle(), *offsets);
  } else {
    result = transactions_->abort(*doomed_);
  }
  doomed_.reset();
  switch (result.outcome) {
    case TransactionOutcome::committed:
      aborts_in_a_row_ = 0;
      metrics_.transactions_committed.Increment();
      metrics_.transaction_commit.Observe(static_cast<double>(steady_ns() - started_ns) * 1e-9);
      // RocksDB follows the committed transaction. A crash before this write leaves RocksDB
      // behind the committed offsets; the next assignment restores from the changelog, which
      // the same transaction wrote (PartitionRestorer).
      if (auto written = store_->write(batch_); !written) {
        fail("state write failed: " + written.error().message);
        return;
      }
      publish_learned_levels();
      for (const auto& [partition, next_offset] : advanced_) {
        if (PartitionSlot* slot = slot_for(partition)) slot->committed_offset = next_offset;
        consumer_->store_offset(partition, next_offset);
      }
      for (const auto& [customer_id, value] : tapped_) tap_(customer_id, value);
      tapped_.clear();
      break;
    case TransactionOutcome::aborted:
      metrics_.transactions_aborted.Increment();
      batch_.clear();
      learned_.clear();
      tapped_.clear();
      if (++aborts_in_a_row_ >= kMaxAbortsInARow) {
        fail(std::to_string(aborts_in_a_row_) +
             " transactions aborted in a row; the last: " + result.reason);
        return;
      }
      if (!shutting_down_) rewind_to_last_commit();
      break;
    case TransactionOutcome::fatal:
      fail("exactly_once: " + result.reason);
      break;
  }
}

void Pipeline::rewind_to_last_commit() {
  // The aborted transaction's records are processed again from the state of the last commit,
  // which RocksDB holds, exactly as a restart would.
  const TopicPartitionList seek(rd_kafka_topic_partition_list_new(1));
  for (std::size_t p = 0; p < slots_.size(); ++p) {
    if (!slots_[p]) continue;
    const auto partition = static_cast<std::int32_t>(p);
    auto fresh = std::make_unique<PartitionSlot>();
    auto checkpoint = store_->restore(partition, fresh->state);
    if (!checkpoint) {
      fail("rewinding partition " + std::to_string(partition) + ": " + checkpoint.error().message);
      return;
    }
    topology_.normalize_restored(fresh->state);
    const std::int64_t offset =
        *checkpoint ? (*checkpoint)->next_offset : slots_[p]->committed_offset;
    fresh->committed_offset = offset;
    fresh->next_offset = offset;
    fresh->paused = slots_[p]->paused;
    slots_[p] = std::move(fresh);
    if (offset >= 0) {
      rd_kafka_topic_partition_list_add(seek.get(), config_.kafka.input_topic.c_str(), partition)
          ->offset = offset;
    }
  }
  if (seek->cnt == 0) return;
  KafkaError error(
      rd_kafka_seek_partitions(consumer_->handle(), seek.get(), kTransactionTimeoutMs));
  if (error) {
    fail(std::string("seeking back after an aborted transaction: ") +
         rd_kafka_error_string(error.get()));
    return;
  }
  for (int i = 0; i < seek->cnt; ++i) {
    if (seek->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      fail("seeking partition " + std::to_string(seek->elems[i].partition) +
           " back after an aborted transaction: " + rd_kafka_err2str(seek->elems[i].err));
      return;
    }
  }
  spdlog::info("rewound {} partitions to their last committed offsets", seek->cnt);
}

void Pipeline::fail_or_abort(std::string reason) {
  // With exactly_once, a failed output only dooms its transaction: the records are processed
  // again after the abort. A fatal producer error (fenced) still stops the pipeline.
  if (transactions_ && transactions_->open() && !producer_->fatal_error()) {
    if (!doomed_) doomed_ = std::move(reason);
    return;
  }
  fail(std::move(reason));
}

}  // namespace tastesync
