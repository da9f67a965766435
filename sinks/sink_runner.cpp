#include "sinks/sink_runner.hpp"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <system_error>
#include <thread>
#include <vector>

#include "common/backoff.hpp"
#include "common/clock.hpp"
#include "common/config_error.hpp"
#include "kafka/dead_letter.hpp"
#include "kafka/kafka.hpp"

namespace tastesync {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kLagInterval = std::chrono::seconds(1);
constexpr int kWatermarkTimeoutMs = 500;
constexpr int kDlqFlushTimeoutMs = 30000;

std::string_view payload(const rd_kafka_message_t& message) {
  if (message.payload == nullptr) return {};
  return {static_cast<const char*>(message.payload), message.len};
}

}  // namespace

SinkMetricFamilies::SinkMetricFamilies(prometheus::Registry& registry)
    : lag(prometheus::BuildGauge()
              .Name("tastesync_sink_lag_records")
              .Help("Records of customer-events not yet durable in the sink's database")
              .Register(registry)),
      retries(prometheus::BuildCounter()
                  .Name("tastesync_sink_retries_total")
                  .Help("Batch writes retried after a failure")
                  .Register(registry)),
      errors(prometheus::BuildCounter()
                 .Name("tastesync_sink_errors_total")
                 .Help("Failed batch writes and records that could not be read")
                 .Register(registry)),
      written(prometheus::BuildCounter()
                  .Name("tastesync_sink_written_total")
                  .Help("Events written (or found already written) by the sink")
                  .Register(registry)),
      dlq(prometheus::BuildCounter()
              .Name("tastesync_sink_dlq_total")
              .Help("Records sent to the sink's dead-letter topic")
              .Register(registry)),
      skipped(prometheus::BuildCounter()
                  .Name("tastesync_sink_skipped_total")
                  .Help("Events deliberately not stored (older than the retention)")
                  .Register(registry)),
      last_success(prometheus::BuildGauge()
                       .Name("tastesync_sink_last_success_timestamp_seconds")
                       .Help("Wall-clock time of the sink's last successful write")
                       .Register(registry)),
      restarts(prometheus::BuildCounter()
                   .Name("tastesync_sink_restarts_total")
                   .Help("Sink threads that stopped by themselves and were started again")
                   .Register(registry)) {}

class SinkRunner::Impl {
 public:
  Impl(SinkRunnerOptions options, std::unique_ptr<SinkWriter> writer, SinkMetricFamilies& families)
      : options_(std::move(options)),
        writer_(std::move(writer)),
        label_({{"sink", std::string(writer_->name())}}),
        lag_(families.lag.Add(label_)),
        retries_(families.retries.Add(label_)),
        errors_(families.errors.Add(label_)),
        written_(families.written.Add(label_)),
        dlq_(families.dlq.Add(label_)),
        skipped_(families.skipped.Add(label_)),
        last_success_(families.last_success.Add(label_)),
        backoff_(options_.backoff_initial, options_.backoff_max) {}

  void run(const std::stop_token& stop) {
    open_clients();
    spdlog::info("sink {}: consuming {} as group {}", writer_->name(), options_.topic,
                 options_.group_id);
    while (!stop.stop_requested()) {
      poll_batch(stop);
      if (!messages_.empty()) deliver_batch(stop);
      update_lag();
    }
    // Whatever was polled and not written stays uncommitted: the group redelivers it.
    rd_kafka_consumer_close(consumer_.get());
    spdlog::info("sink {}: stopped", writer_->name());
  }

 private:
  void open_clients() {
    std::map<std::string, std::string> consumer = {
        {"bootstrap.servers", options_.brokers},
        {"group.id", options_.group_id},
        {"client.id", options_.group_id},
        // Offsets are committed by hand, after the write is durable.
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        // A new sink group stores everything customer-events still holds.
        {"auto.offset.reset", "earliest"},
        {"enable.partition.eof", "false"},
        // Events of an aborted transaction (processing.guarantee exactly_once) never reach the
        // databases (docs/contract.md#exactly-once).
        {"isolation.level", "read_committed"},
        {"session.timeout.ms", std::to_string(options_.session_timeout_ms)},
        {"heartbeat.interval.ms", std::to_string(options_.heartbeat_interval_ms)},
        // A database outage keeps the sink from polling; it must not cost it the group while
        // it waits (it rejoins if it does, and rewrites idempotently).
        {"max.poll.interval.ms", "3600000"},
    };
    for (const auto& [name, value] : options_.kafka_properties) consumer[name] = value;
    consumer_ = make_kafka_handle(RD_KAFKA_CONSUMER,
                                  make_kafka_conf(consumer, "kafka.properties (sink consumer)"));
    rd_kafka_poll_set_consumer(consumer_.get());
    TopicPartitionList topics(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(topics.get(), options_.topic.c_str(), RD_KAFKA_PARTITION_UA);
    if (const auto err = rd_kafka_subscribe(consumer_.get(), topics.get()); err) {
      throw std::runtime_error("sink " + std::string(writer_->name()) + ": subscribe to " +
                               options_.topic + ": " + rd_kafka_err2str(err));
    }

    std::map<std::string, std::string> producer = {
        {"bootstrap.servers", options_.brokers},
        {"enable.idempotence", "true"},
        {"client.id", options_.group_id + "-dlq"},
        {"linger.ms", "5"},
    };
    for (const auto& [name, value] : options_.kafka_properties) producer[name] = value;
    max_message_bytes_ = max_message_bytes(producer);
    KafkaConf conf = make_kafka_conf(producer, "kafka.properties (sink dead-letter producer)");
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &Impl::on_dlq_delivery);
    producer_ = make_kafka_handle(RD_KAFKA_PRODUCER, std::move(conf));
  }

  void poll_batch(const std::stop_token& stop) {
    messages_.clear();
    const auto deadline = Clock::now() + options_.batch_max_wait;
    while (!stop.stop_requested() &&
           messages_.size() < static_cast<std::size_t>(options_.batch_max_records)) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      // The first record is waited for up to 100 ms (an idle sink does not spin); the rest of
      // the batch only until its deadline.
      const int timeout_ms =
          messages_.empty() ? 100 : static_cast<int>(std::max<std::int64_t>(0, left));
      KafkaMessage message(rd_kafka_consumer_poll(consumer_.get(), timeout_ms));
      if (!message) {
        if (messages_.empty() || Clock::now() >= deadline) return;
        continue;
      }
      if (message->err) {
        if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          spdlog::warn("sink {}: consumer: {}", writer_->name(),
                       rd_kafka_message_errstr(message.get()));
        }
        continue;
      }
      messages_.push_back(std::move(message));
    }
  }

  void deliver_batch(const std::stop_token& stop) {
    events_.clear();
    origins_.clear();
    dead_letters_.clear();
    for (std::size_t i = 0; i < messages_.size(); ++i) {
      if (const auto request = forget_request_of(*messages_[i])) {
        auto erasure = read_erasure(*messages_[i], *request);
        if (erasure) {
          events_.push_back(std::move(erasure.value()));
          origins_.push_back(i);
        } else {
          dead_letters_.push_back({i, "unreadable erasure tombstone: " + erasure.error()});
          errors_.Increment();
        }
        continue;
      }
      auto event = parser_.parse(payload(*messages_[i]));
      if (event) {
        events_.push_back(std::move(event.value()));
        origins_.push_back(i);
      } else {
        dead_letters_.push_back({i, "unreadable CustomerIdentified: " + event.error()});
        errors_.Increment();
      }
    }
    backoff_.reset();
    while (!stop.stop_requested()) {
      auto result = writer_->write(events_, wall_clock_ms());
      if (result) {
        for (const SinkRejection& rejected : result->rejected) {
          dead_letters_.push_back({origins_[rejected.index], rejected.reason});
        }
        const std::size_t stored = events_.size() - result->rejected.size() - result->skipped;
        if (!write_dead_letters(stop)) return;
        commit_batch();
        written_.Increment(static_cast<double>(stored));
        skipped_.Increment(static_cast<double>(result->skipped));
        last_success_.Set(static_cast<double>(wall_clock_ms()) / 1000.0);
        if (backoff_.attempts() > 0) {
          spdlog::info("sink {}: writing again after {} retries", writer_->name(),
                       backoff_.attempts());
        }
        return;
      }
      if (result.error().kind == SinkErrorKind::credentials_refused) {
        // Retrying cannot help: Sinks::supervise ends the process on a ConfigError.
        throw ConfigError(result.error().message);
      }
      errors_.Increment();
      retries_.Increment();
      const auto wait = backoff_.next();
      // One line per failure while the backoff grows, then one every capped wait: an outage
      // of minutes logs tens of lines, not thousands.
      spdlog::warn("sink {}: write of {} events failed ({}); retrying in {} ms", writer_->name(),
                   events_.size(), result.error().message, wait.count());
      update_lag();
      sleep_unless_stopped(wait, stop);
    }
  }

  // The pipeline's tombstone of an erasure (docs/operations.md#forget): the customer is the key,
  // the request's time the tastesync-forget-at header.
  static Result<SinkEvent, std::string> read_erasure(const rd_kafka_message_t& message,
                                                     std::string_view request) {
    constexpr std::size_t kMaxIdBytes = 256;  // 64 code points of UTF-8
    const std::string_view key =
        message.key == nullptr
            ? std::string_view()
            : std::string_view(static_cast<const char*>(message.key), message.key_len);
    // As the pipeline checks a request's key (a customer id): what the databases hash and
    // compare must be the same text in both.
    if (key.empty() || key.size() > kMaxIdBytes || !simdjson::validate_utf8(key) ||
        std::ranges::any_of(
            key, [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
      return Failure{std::string("no customer id in its key")};
    }
    const auto at = header_value(message, kForgetAtHeader);
    EpochMs at_ms = 0;
    constexpr EpochMs kDay = 24LL * 3600 * 1000;
    if (!at || at->empty()) {
      return Failure{std::string("no request time in its ") + kForgetAtHeader + " header"};
    }
    const auto [end, error] = std::from_chars(at->data(), at->data() + at->size(), at_ms);
    if (error != std::errc{} || end != at->data() + at->size() || at_ms <= 0 ||
        at_ms > wall_clock_ms() + kDay) {
      return Failure{std::string("its ") + kForgetAtHeader + " header is not a time"};
    }
    if (!valid_erasure_request_id(request)) {
      return Failure{std::string("its ") + kForgetHeader + " header is not a request id"};
    }
    SinkEvent erasure;
    erasure.customer_id.assign(key);
    erasure.detected_at_ms = at_ms;
    erasure.forget_request = std::string(request);
    return erasure;
  }

  // Dead letters must be in Kafka before the batch is committed, or they would be lost.
  bool write_dead_letters(const std::stop_token& stop) {
    if (dead_letters_.empty()) return true;
    refused_as_too_large_ = false;
    while (!stop.stop_requested()) {
      dlq_failures_ = 0;
      for (const auto& [index, reason] : dead_letters_)
        produce_dead_letter(*messages_[index], reason);
      rd_kafka_flush(producer_.get(), kDlqFlushTimeoutMs);
      if (dlq_failures_ == 0 && rd_kafka_outq_len(producer_.get()) == 0) {
        dlq_.Increment(static_cast<double>(dead_letters_.size()));
        for (const auto& [index, reason] : dead_letters_) {
          spdlog::warn("sink {}: offset {} of {} [{}] to {}: {}", writer_->name(),
                       messages_[index]->offset, options_.topic, messages_[index]->partition,
                       options_.dlq_topic, reason);
        }
        return true;
      }
      errors_.Increment();
      retries_.Increment();
      const auto wait = backoff_.next();
      spdlog::error("sink {}: dead letters not delivered to {}; retrying in {} ms", writer_->name(),
                    options_.dlq_topic, wait.count());
      sleep_unless_stopped(wait, stop);
    }
    return false;
  }

  // Cut to fit message.max.bytes like the pipeline's dead letters (docs/design.md); after the
  // broker refused one as too large even so, the batch's dead letters go as dlq.* headers only.
  void produce_dead_letter(const rd_kafka_message_t& original, const std::string& reason) {
    std::vector<Header> dlq_headers = {
        {"dlq.reason", bounded_reason(reason)},
        {"dlq.sink", std::string(writer_->name())},
        {"dlq.source.topic", options_.topic},
        {"dlq.source.partition", std::to_string(original.partition)},
        {"dlq.source.offset", std::to_string(original.offset)},
    };
    tastesync::DeadLetter letter =
        make_dead_letter(record_bytes(original), std::move(dlq_headers), max_message_bytes_);
    if (refused_as_too_large_) letter = metadata_only(letter);
    auto err = produce_letter(letter);
    if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) err = produce_letter(metadata_only(letter));
    if (err) ++dlq_failures_;
  }

  rd_kafka_resp_err_t produce_letter(const tastesync::DeadLetter& letter) {
    KafkaHeaders headers = kafka_headers(letter.headers);
    // A null key or value stays null. (Sizes in variables: the macros cast their arguments.)
    const char* key = letter.key ? letter.key->data() : nullptr;
    const std::size_t key_size = letter.key ? letter.key->size() : 0;
    char* value = letter.value ? const_cast<char*>(letter.value->data()) : nullptr;
    const std::size_t value_size = letter.value ? letter.value->size() : 0;
    const auto err =
        rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(options_.dlq_topic.c_str()),
                          RD_KAFKA_V_KEY(key, key_size), RD_KAFKA_V_VALUE(value, value_size),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_END);
    if (!err) (void)headers.release();  // librdkafka owns them once producev succeeded
    return err;
  }

  static void on_dlq_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message, void* opaque) {
    if (!message->err) return;
    auto& self = *static_cast<Impl*>(opaque);
    ++self.dlq_failures_;
    if (message->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
        message->err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE) {
      self.refused_as_too_large_ = true;
    }
  }

  void commit_batch() {
    std::map<std::int32_t, std::int64_t> next;
    for (const KafkaMessage& message : messages_) {
      auto& offset = next[message->partition];
      offset = std::max(offset, message->offset + 1);
    }
    TopicPartitionList offsets(rd_kafka_topic_partition_list_new(static_cast<int>(next.size())));
    for (const auto& [partition, offset] : next) {
      rd_kafka_topic_partition_list_add(offsets.get(), options_.topic.c_str(), partition)->offset =
          offset;
      committed_[partition] = offset;
    }
    // A failed commit (say the partition moved meanwhile) costs a rewrite of the same rows by
    // whoever reads them next, which the idempotent writers absorb.
    if (const auto err = rd_kafka_commit(consumer_.get(), offsets.get(), 0); err) {
      spdlog::warn("sink {}: commit failed: {}", writer_->name(), rd_kafka_err2str(err));
    }
  }

  void update_lag() {
    if (Clock::now() < next_lag_update_) return;
    next_lag_update_ = Clock::now() + kLagInterval;
    rd_kafka_topic_partition_list_t* raw = nullptr;
    if (rd_kafka_assignment(consumer_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    const TopicPartitionList assignment(raw);
    learn_committed_offsets(*assignment);
    std::int64_t lag = 0;
    for (int i = 0; i < assignment->cnt; ++i) {
      const auto& partition = assignment->elems[i];
      std::int64_t low = 0;
      std::int64_t high = 0;
      // Asked through the dead-letter producer's connections, not the consumer's: on those a
      // ListOffsets request waits behind the fetch the broker holds open while the topic is
      // quiet (answers on a connection come in order), up to fetch.wait.max.ms a partition,
      // and this thread is the one that writes (docs/storage.md#sinks).
      if (rd_kafka_query_watermark_offsets(producer_.get(), partition.topic, partition.partition,
                                           &low, &high, kWatermarkTimeoutMs) != 0) {
        return;  // the broker is not answering: keep the last figure
      }
      const auto done = committed_.find(partition.partition);
      lag += high - (done == committed_.end() ? low : std::max(low, done->second));
    }
    lag_.Set(static_cast<double>(lag));
  }

  // The group's committed offsets of partitions this sink has not committed yet (just assigned,
  // say after a restart), so that an idle partition does not count as lagging from its start.
  // Partitions that moved away are forgotten: another member commits them meanwhile.
  void learn_committed_offsets(const rd_kafka_topic_partition_list_t& assignment) {
    std::erase_if(committed_, [&assignment](const auto& entry) {
      for (int i = 0; i < assignment.cnt; ++i) {
        if (assignment.elems[i].partition == entry.first) return false;
      }
      return true;
    });
    TopicPartitionList unknown(rd_kafka_topic_partition_list_new(assignment.cnt));
    for (int i = 0; i < assignment.cnt; ++i) {
      if (!committed_.contains(assignment.elems[i].partition)) {
        rd_kafka_topic_partition_list_add(unknown.get(), assignment.elems[i].topic,
                                          assignment.elems[i].partition);
      }
    }
    if (unknown->cnt == 0) return;
    if (rd_kafka_committed(consumer_.get(), unknown.get(), kWatermarkTimeoutMs) != 0) return;
    for (int i = 0; i < unknown->cnt; ++i) {
      if (unknown->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR && unknown->elems[i].offset >= 0) {
        committed_[unknown->elems[i].partition] = unknown->elems[i].offset;
      }
    }
  }

  struct Rejection {
    std::size_t message_index;
    std::string reason;
  };

  SinkRunnerOptions options_;
  std::unique_ptr<SinkWriter> writer_;
  std::map<std::string, std::string> label_;
  prometheus::Gauge& lag_;
  prometheus::Counter& retries_;
  prometheus::Counter& errors_;
  prometheus::Counter& written_;
  prometheus::Counter& dlq_;
  prometheus::Counter& skipped_;
  prometheus::Gauge& last_success_;
  Backoff backoff_;
  KafkaHandle consumer_;
  KafkaHandle producer_;
  SinkEventParser parser_;
  std::vector<KafkaMessage> messages_;
  std::vector<SinkEvent> events_;
  std::vector<std::size_t> origins_;  // events_[i] came from messages_[origins_[i]]
  std::vector<Rejection> dead_letters_;
  std::map<std::int32_t, std::int64_t> committed_;
  int dlq_failures_ = 0;
  bool refused_as_too_large_ = false;
  std::size_t max_message_bytes_ = 0;
  Clock::time_point next_lag_update_{};
};

SinkRunner::SinkRunner(SinkRunnerOptions options, std::unique_ptr<SinkWriter> writer,
                       SinkMetricFamilies& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(writer), metrics)) {}

SinkRunner::~SinkRunner() = default;

void SinkRunner::run(const std::stop_token& stop) {
  impl_->run(stop);
}

}  // namespace tastesync
