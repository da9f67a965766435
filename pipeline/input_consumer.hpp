#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "kafka/kafka.hpp"
#include "pipeline/fetch_waker.hpp"

namespace tastesync {

// The librdkafka properties of the input consumer: our defaults, then kafka.properties.
std::map<std::string, std::string> consumer_properties(const Config& config);

// Whether librdkafka's statistics JSON shows a broker (not a bootstrap entry) UP: during an outage
// none is, and that marks it when librdkafka's "all brokers are down" does not come
// (docs/contract.md#health). False for anything that is not such statistics.
bool statistics_show_a_broker_up(const char* json, std::size_t size);

// The exit code when a librdkafka callback failed and not even that could be reported.
inline constexpr int kExitCallbackFailed = 3;

// The pipeline's side of a rebalance. Called on the consuming thread, from consume().
class AssignmentListener {
 public:
  virtual ~AssignmentListener() = default;
  // Restore each partition and set its start offset in `partitions` (RD_KAFKA_OFFSET_INVALID:
  // the group's committed offset, else earliest).
  virtual void on_assigned(rd_kafka_topic_partition_list_t& partitions) = 0;
  // Finish the partitions' in-flight work, checkpoint and store their offsets (the consumer
  // commits right after). `lost`: another member may own them already; write nothing.
  virtual void on_revoked(const rd_kafka_topic_partition_list_t& partitions, bool lost) = 0;
  // Something threw inside a librdkafka callback (rebalance, statistics): it never unwinds into
  // C; the consumer reports it here, and the pipeline stops.
  virtual void on_callback_failed(const std::string& reason) = 0;
};

// The input side: `group` mode subscribes (cooperative-sticky, auto-commit of stored offsets);
// `assign` mode takes every partition of the input topic and commits under the group id
// without joining (one instance only: restarts in ~1 s on the mock,
// docs/platform.md#manual-assignment).
class InputConsumer {
 public:
  InputConsumer(const Config& config, AssignmentListener& listener,
                std::function<void(const char*, std::size_t)> on_statistics);
  ~InputConsumer();
  InputConsumer(const InputConsumer&) = delete;
  InputConsumer& operator=(const InputConsumer&) = delete;

  // Subscribes, or assigns the input's `partition_count` partitions.
  void start(int partition_count);

  // Up to `max` records: waits up to `timeout_ms` for the first, then takes what is ready.
  // Also serves rebalances and statistics. Caller owns the returned messages.
  std::size_t consume(std::vector<KafkaMessage>& out, std::size_t max, int timeout_ms);

  // Marks offsets (next to read) as processed; auto-commit sends them. With exactly_once the
  // output transaction has committed them already and nothing sends them: they only keep
  // librdkafka's lag statistics (tastesync_consumer_lag_records) true.
  void store_offset(std::int32_t partition, std::int64_t next_offset);
  // Commits stored offsets now (exactly_once: does nothing, the transactions commit them), waiting
  // at most `timeout_ms` for the answer (a coordinator that is gone must not hold a shutdown or a
  // rebalance). Returns librdkafka's error, or RD_KAFKA_RESP_ERR__TIMED_OUT.
  rd_kafka_resp_err_t commit_within(int timeout_ms);
  // The input is caught up and every record consumed has its offset stored: sends them now
  // instead of at the auto-commit timer's next tick, at most once per auto.commit.interval.ms
  // (once a second when it is 0, the timer off), without waiting for the answer (a failed commit
  // is the timer's to repeat). Returns whether it sent one. Assign mode only: in group mode a
  // commit made during a rebalance, which librdkafka's own timer holds back, can make librdkafka
  // treat the assignment as lost (docs/contract.md#caught-up-commit). exactly_once: never.
  bool commit_caught_up(std::int64_t steady_ns);
  // Leaves the group (serving the final revoke) within `timeout_ms`. Returns whether the close
  // completed; when it did not, the client is abandoned (the group notices after its session
  // timeout) and the process should exit without waiting for it. Idempotent.
  bool close_within(int timeout_ms);
  // Destroys the client without leaving the group (the group notices after its session
  // timeout). Only for the one case close() would abort in: before the first assignment.
  void abandon();

  rd_kafka_t* handle() const { return handle_.get(); }
  const std::string& topic() const { return topic_; }
  // From librdkafka's "all brokers are down", or statistics with no broker UP, until a broker
  // answers again (a record fetched after the outage began, or a broker UP in the statistics):
  // what /readyz says during an outage (docs/contract.md#health).
  bool brokers_down() const { return brokers_down_; }
  bool cooperative() const;
  // Requests the FetchWaker sent (docs/design.md#fetch-wake).
  std::uint64_t fetch_wakes() const { return waker_ ? waker_->wakes() : 0; }

 private:
  static void rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* partitions, void* opaque);
  // What a revoke's commit may wait before the partitions go (RocksDB holds the offsets anyway).
  static constexpr int kRevokeCommitTimeoutMs = 5000;
  static int statistics(rd_kafka_t* rk, char* json, std::size_t json_len, void* opaque);
  static void error(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  // Runs `body` inside a librdkafka callback: nothing it throws may unwind into C.
  void guarded(const char* what, const std::function<void()>& body) noexcept;
  void report_failure(const std::string& reason) noexcept;
  // Starts the FetchWaker with the client's own queued.min.messages.
  void start_waker();
  // The client's value of an integer property, or `fallback` when it has none.
  std::int64_t integer_property(const char* name, std::int64_t fallback) const;
  void mark_brokers_down(const char* seen_in);
  void mark_brokers_up(const char* seen_in);

  AssignmentListener& listener_;
  std::function<void(const char*, std::size_t)> on_statistics_;
  ConsumerMode mode_;
  bool transactional_;
  std::string topic_;
  KafkaHandle handle_;
  bool closed_ = false;
  bool abandoned_ = false;
  bool brokers_down_ = false;
  // Records already in the consumer queue when the outage was noticed: fetched before it, so
  // consuming them proves no broker answers.
  std::size_t fetched_before_down_ = 0;
  std::int64_t auto_commit_interval_ns_ = 0;
  std::optional<std::int64_t> caught_up_commit_ns_;  // when commit_caught_up last sent one
  // After handle_: stopped before the client it wakes is closed or destroyed.
  std::unique_ptr<FetchWaker> waker_;
};

}  // namespace tastesync
